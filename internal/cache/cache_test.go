package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type result struct{ at time.Time }

func (r *result) FetchedAt() time.Time { return r.at }

// clock is a settable clock for the cache.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// newTestCache returns a cache whose refreshes fail while *failing is
// set, and counts them.
func newTestCache(clk *clock, calls *atomic.Int32, failing *atomic.Bool, release <-chan struct{}) *Cache[*result] {
	return New(Options[*result]{
		Name: "q", TTL: time.Minute, MaxStale: 10 * time.Minute, Timeout: time.Minute, Now: clk.now, Parent: context.Background(),
		Refresh: func(context.Context, *result) (*result, error) {
			calls.Add(1)
			if release != nil {
				<-release
			}
			if failing.Load() {
				return nil, errors.New("API down")
			}
			return &result{at: clk.now()}, nil
		},
	})
}

func wait(ch <-chan struct{}) {
	if ch != nil {
		<-ch
	}
}

// TestSingleFlight: scrapes that arrive while a refresh runs wait for that
// one; none starts another.
func TestSingleFlight(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	var calls atomic.Int32
	var failing atomic.Bool
	release := make(chan struct{})
	c := newTestCache(clk, &calls, &failing, release)
	first, second := c.Start(), c.Start()
	if first == nil || first != second {
		t.Fatal("a second start during a refresh did not join it")
	}
	close(release)
	wait(first)
	if calls.Load() != 1 || !c.State().Up {
		t.Errorf("%d refreshes, up %v; want 1, true", calls.Load(), c.State().Up)
	}
}

// TestTTLAndMaxStale: a finished refresh, good or failed, is not repeated
// within the TTL; after a failure the last good data is served until it
// is max_stale old.
func TestTTLAndMaxStale(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	var calls atomic.Int32
	var failing atomic.Bool
	c := newTestCache(clk, &calls, &failing, nil)
	wait(c.Start())
	if c.Start() != nil || calls.Load() != 1 {
		t.Fatalf("fresh cache refreshed again: %d calls", calls.Load())
	}
	failing.Store(true)
	clk.advance(2 * time.Minute)
	wait(c.Start())
	if s := c.State(); s.Up || s.Data == nil {
		t.Errorf("after a failure: up %v, data %v; want false, the last good data", s.Up, s.Data)
	}
	if c.Start() != nil {
		t.Error("a failed refresh was retried within the TTL")
	}
	clk.advance(9 * time.Minute) // 11 minutes after the good refresh
	if s := c.State(); s.Data != nil || !s.Finished {
		t.Errorf("data older than max_stale still served (finished %v)", s.Finished)
	}
}

// TestTakeOver: a cache replacing another on reload serves its data with
// its age, and refreshes at once only when the rendering changed.
func TestTakeOver(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	var calls atomic.Int32
	var failing atomic.Bool
	old := newTestCache(clk, &calls, &failing, nil)
	wait(old.Start())
	same := newTestCache(clk, &calls, &failing, nil)
	same.TakeOver(old)
	if same.State().Data == nil || same.Start() != nil || !same.Ready() {
		t.Error("taken-over data not served, or refreshed again within the TTL")
	}
	renamed := newTestCache(clk, &calls, &failing, nil)
	renamed.o.Rendering = "other tag labels"
	renamed.TakeOver(old)
	if renamed.State().Data == nil {
		t.Error("data rendered otherwise is not served until the refresh")
	}
	wait(renamed.Start())
	if calls.Load() != 2 {
		t.Errorf("%d refreshes; want 2 (the first, and one for the new rendering)", calls.Load())
	}
}
