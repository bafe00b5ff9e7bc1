package memlimit

import (
	"io"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
	"time"
)

// keepLimit restores the process's memory limit and GOMEMLIMIT after t.
func keepLimit(t *testing.T) {
	t.Helper()
	before := debug.SetMemoryLimit(-1)
	env, had := os.LookupEnv("GOMEMLIMIT")
	if err := os.Unsetenv("GOMEMLIMIT"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		debug.SetMemoryLimit(before)
		if had {
			_ = os.Setenv("GOMEMLIMIT", env)
		}
	})
}

func TestLimit(t *testing.T) {
	if got := Limit(0); got != Headroom {
		t.Errorf("Limit(0) = %d, want the headroom %d", got, Headroom)
	}
	if got, want := Limit(10<<20), int64(3*10<<20+Headroom); got != want {
		t.Errorf("Limit(10 MiB) = %d, want %d", got, want)
	}
	if got := Limit(math.MaxUint64 / 2); got != math.MaxInt64 {
		t.Errorf("a live heap beyond int64 gives %d, want no limit", got)
	}
}

// megabytes allocates n MiB that hold pointers, as a snapshot's groups do.
func megabytes(n int) [][]*int {
	held := make([][]*int, n)
	for i := range held {
		held[i] = make([]*int, (1<<20)/8)
	}
	return held
}

// TestLimitFollowsLiveHeapBetweenRefreshes measures the runtime's own live
// heap: the limit follows what is held between refreshes, ignores what a
// refresh holds, and takes the least since the newest refresh.
func TestLimitFollowsLiveHeapBetweenRefreshes(t *testing.T) {
	keepLimit(t)
	debug.SetMemoryLimit(math.MaxInt64)
	tu := &Tuner{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	limit := func() int64 { return debug.SetMemoryLimit(-1) }
	settle := func() {
		runtime.GC()
		tu.measure()
	}
	const slack = 16 << 20 // the test binary's own live heap

	snapshots := megabytes(64)
	settle()
	if got := limit(); got < Limit(64<<20) || got > Limit(64<<20+slack) {
		t.Fatalf("with 64 MiB held, limit %d MiB, want about %d MiB", got>>20, Limit(64<<20)>>20)
	}
	between := limit()
	runtime.KeepAlive(snapshots)

	done := tu.Refreshing()
	if tu.Refreshes() != 1 {
		t.Fatalf("Refreshes() = %d during a refresh, want 1", tu.Refreshes())
	}
	// What the refresh holds, after it let go of what it replaces: less
	// than before, at that moment, but not what is held between refreshes.
	snapshots = nil
	transient := megabytes(16)
	settle()
	if got := limit(); got != between {
		t.Errorf("a collection during a refresh set the limit to %d MiB; want it left at %d MiB", got>>20, between>>20)
	}
	runtime.KeepAlive(transient)

	// The refresh ends with a larger fleet: the limit rises with it, though
	// it is the least live heap since the refresh that counts.
	snapshots = megabytes(128)
	done()
	if tu.Refreshes() != 0 {
		t.Fatalf("Refreshes() = %d after the refresh, want 0", tu.Refreshes())
	}
	settle()
	if got := limit(); got < Limit(128<<20) || got > Limit(128<<20+slack) {
		t.Errorf("with 128 MiB held after a refresh, limit %d MiB, want about %d MiB", got>>20, Limit(128<<20)>>20)
	}
	grown := limit()

	// Between refreshes, more held for a moment (scrapes in flight) does
	// not raise it; less held lowers it.
	inFlight := megabytes(32)
	settle()
	if got := limit(); got != grown {
		t.Errorf("more held between refreshes moved the limit from %d to %d MiB; the least counts", grown>>20, got>>20)
	}
	runtime.KeepAlive(inFlight)
	snapshots = slices.Clone(snapshots[:32]) // the rest can go
	settle()
	if got := limit(); got < Limit(32<<20) || got > Limit(32<<20+slack) {
		t.Errorf("with 32 MiB held, limit %d MiB, want about %d MiB", got>>20, Limit(32<<20)>>20)
	}
	runtime.KeepAlive(snapshots)
}

// TestTunerWatchesCollections: a Tuner started by New sets the limit
// after a collection by itself, and stops when closed.
func TestTunerWatchesCollections(t *testing.T) {
	keepLimit(t)
	debug.SetMemoryLimit(math.MaxInt64)
	tu := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if tu == nil {
		t.Fatal("New returned nil without GOMEMLIMIT")
	}
	deadline := time.Now().Add(30 * time.Second)
	for debug.SetMemoryLimit(-1) == math.MaxInt64 {
		if time.Now().After(deadline) {
			t.Fatal("no limit set after collections for 30 s")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	tu.Close()
	// A cleanup already queued may still set it once: wait for that.
	for range 3 {
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	for range 5 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("a closed Tuner set the limit to %d", got)
	}
}

// TestOperatorsLimitIsKept: with GOMEMLIMIT set, there is no Tuner, and a
// nil Tuner's methods do nothing.
func TestOperatorsLimitIsKept(t *testing.T) {
	keepLimit(t)
	t.Setenv("GOMEMLIMIT", "off")
	tu := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if tu != nil {
		t.Fatal("New made a Tuner though GOMEMLIMIT is set")
	}
	done := tu.Refreshing()
	done()
	tu.Close()
	if tu.Refreshes() != 0 {
		t.Error("a nil Tuner counts refreshes")
	}
}
