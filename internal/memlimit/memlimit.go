// Package memlimit keeps the Go runtime's soft memory limit in step with
// what the exporter holds between refreshes.
//
// Between refreshes the heap holds the snapshots being served. A refresh
// holds about twice that for a moment (the previous snapshot, the one
// being built, the records of the families not yet stored, the pages
// being read), and Go's default GOGC=100 lets the heap grow to twice what
// it found live at each collection: left alone, a refresh's peak is about
// four times the live heap between refreshes, and more while scrapes
// are in flight. The limit is three times that live heap, plus room for
// goroutine stacks, the buffers of scrapes in flight and the runtime's
// own memory, so the collector works harder only at the top of a
// refresh's peak. If a refresh ever holds more than the limit (a fleet
// that doubled since the last one), the runtime lets the heap pass it
// rather than collect without end, and the limit is set anew after it.
//
// The live heap is read after each garbage collection that ran while no
// refresh did (the runtime measures it there for free), and the least
// since the newest refresh counts: what the snapshots hold, without the
// scrapes that happened to be in flight.
//
// An operator who sets GOMEMLIMIT (a size, or "off") keeps it: the
// exporter then never changes the limit.
package memlimit

import (
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

const (
	// liveFactor times the live heap between refreshes is what a
	// refresh's peak may reach before the collector works harder.
	liveFactor = 3
	// Headroom is added to the limit for what is not the live heap:
	// goroutine stacks, the buffers of scrapes in flight, the runtime's
	// own structures and heap pages not yet returned to the system.
	Headroom = 14 << 20
)

// Limit is the soft memory limit for a live heap of live bytes measured
// between refreshes.
func Limit(live uint64) int64 {
	if live > (math.MaxInt64-Headroom)/liveFactor {
		return math.MaxInt64
	}
	return int64(live)*liveFactor + Headroom
}

// Tuner sets the limit after garbage collections that ran between
// refreshes. A nil Tuner does nothing.
type Tuner struct {
	logger     *slog.Logger
	refreshing atomic.Int64 // refreshes running
	closed     atomic.Bool

	mu sync.Mutex
	// minLive is the least live heap a collection found since the
	// newest refresh ended: the snapshots alone, without the scrapes
	// that happened to be in flight at other collections.
	minLive uint64
	// refreshed: a refresh ended since the last collection measured.
	refreshed bool
}

// New returns a Tuner that sets the limit from now on, unless the
// environment's GOMEMLIMIT already does (then it returns nil).
func New(logger *slog.Logger) *Tuner {
	if _, operatorSet := os.LookupEnv("GOMEMLIMIT"); operatorSet {
		logger.Debug("GOMEMLIMIT is set: the exporter leaves the memory limit as it says", "limit_bytes", debug.SetMemoryLimit(-1))
		return nil
	}
	t := &Tuner{logger: logger}
	t.watch()
	return t
}

// Refreshing marks a refresh as running until the returned func is
// called: the collections meanwhile measure the refresh, not what the
// exporter holds between refreshes.
func (t *Tuner) Refreshing() (done func()) {
	if t == nil {
		return func() {}
	}
	t.refreshing.Add(1)
	return func() {
		t.mu.Lock()
		t.refreshed = true
		t.mu.Unlock()
		t.refreshing.Add(-1)
	}
}

// Close stops the Tuner; the limit stays as it was last set.
func (t *Tuner) Close() {
	if t != nil {
		t.closed.Store(true)
	}
}

// watch arranges for afterGC to run once the next garbage collection has
// finished: the sentinel is unreachable as soon as it is made, so the
// collection frees it and the runtime then runs its cleanup.
func (t *Tuner) watch() {
	runtime.AddCleanup(&sentinel{}, func(t *Tuner) { t.afterGC() }, t)
}

// sentinel holds a pointer so that it is not one of the tiny objects the
// runtime packs together, whose cleanups may never run.
type sentinel struct{ _ *byte }

// afterGC sets the limit and waits for the next collection.
func (t *Tuner) afterGC() {
	if t.closed.Load() {
		return
	}
	defer t.watch()
	t.measure()
}

// Refreshes is the number of refreshes running.
func (t *Tuner) Refreshes() int64 {
	if t == nil {
		return 0
	}
	return t.refreshing.Load()
}

// measure sets the limit from the live heap the newest collection found,
// unless a refresh is running.
func (t *Tuner) measure() {
	if t.refreshing.Load() > 0 {
		return
	}
	live, ok := liveHeap()
	if !ok {
		return
	}
	t.mu.Lock()
	if t.refreshed || t.minLive == 0 {
		t.minLive, t.refreshed = live, false
	}
	t.minLive = min(t.minLive, live)
	limit := Limit(t.minLive)
	t.mu.Unlock()
	if previous := debug.SetMemoryLimit(limit); previous != limit && !similar(previous, limit) {
		t.logger.Debug("memory limit set from the live heap between refreshes", "live_bytes", live, "limit_bytes", limit, "previous_bytes", previous)
	}
}

// similar tells whether two limits differ by less than an eighth: a
// fleet's live heap moves a little at every collection, not worth a log
// line each time.
func similar(a, b int64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d < b/8
}

// liveHeap is the heap the newest garbage collection found live; false
// where the runtime does not say.
func liveHeap() (uint64, bool) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0, false
	}
	return sample[0].Value.Uint64(), true
}
