// Package cache holds one query's data: a single-flight TTL cache that
// serves the last good result until it is max_stale old.
package cache

import (
	"context"
	"sync"
	"time"
)

// Data is what a cache holds: a refresh's result, stamped with the time
// it was fetched. T is a pointer type; its nil is "nothing".
type Data interface {
	comparable
	FetchedAt() time.Time
}

// State is what one scrape serves for one query.
type State[T Data] struct {
	Name         string
	Data         T         // nil: nothing to serve (no success yet, or older than max_stale)
	Up           bool      // the newest finished refresh succeeded
	LastSuccess  time.Time // zero until a refresh succeeds
	LastDuration time.Duration
	Finished     bool      // at least one refresh has finished
	LastFinished time.Time // when the newest refresh finished; zero until one has
	// LastError is the newest failed refresh's error and LastErrorAt when
	// it finished; kept after a later success, so the status page can say
	// what went wrong last (Up says whether it still does).
	LastError   error
	LastErrorAt time.Time
}

// Options are what a Cache is made of.
type Options[T Data] struct {
	Name     string // the query, for OnResult (its biz region)
	TTL      time.Duration
	MaxStale time.Duration
	Timeout  time.Duration // of one refresh
	Now      func() time.Time
	Refresh  func(ctx context.Context, prev T) (T, error)
	// OnResult is called when a refresh has finished, before the scrapes
	// waiting for it are let go. canceled: Parent ended meanwhile.
	OnResult func(name string, data T, err error, took time.Duration, canceled bool)
	Parent   context.Context // cancelled when the owner is closed
	// Identity is what the data depends on: endpoint, credentials, and the
	// request's parameters. Another cache with the same identity may take
	// this one's data over on reload.
	Identity string
	// Rendering is what the stored data depends on besides the answers (tag
	// labels, time zone): taken-over data rendered otherwise is refreshed
	// at once, and served as it is until then.
	Rendering string
}

// New returns a cache that has not refreshed yet.
func New[T Data](o Options[T]) *Cache[T] { return &Cache[T]{o: o} }

// Cache is the single-flight TTL cache of one query. At most one
// refresh runs at a time; scrapes that arrive meanwhile wait for it. A
// finished refresh, good or failed, is not repeated for cache_ttl, so an
// outage or throttling is not hammered by every scrape.
type Cache[T Data] struct {
	o Options[T]

	mu           sync.Mutex
	good         T
	lastFinished time.Time
	lastOK       bool
	lastSuccess  time.Time
	lastDuration time.Duration
	lastErr      error // of the newest failed refresh
	lastErrAt    time.Time
	due          bool          // refresh at the next start, whatever cache_ttl says
	inflight     chan struct{} // closed when the running refresh finishes
}

// Start begins a refresh unless one is running or the newest finished one is
// younger than cache_ttl. It returns a channel closed when the refresh that
// will answer this scrape has finished, or nil when the cache is fresh.
func (c *Cache[T]) Start() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight != nil {
		return c.inflight
	}
	if !c.due && !c.lastFinished.IsZero() && c.o.Now().Sub(c.lastFinished) < c.o.TTL {
		return nil
	}
	done := make(chan struct{})
	c.inflight = done
	go c.run(done)
	return done
}

func (c *Cache[T]) run(done chan struct{}) {
	// The refresh is not tied to the scrape that started it: a scrape that
	// gives up early must not cancel the work other scrapes wait for.
	ctx, cancel := context.WithTimeout(c.o.Parent, c.o.Timeout)
	c.mu.Lock()
	prev := c.good
	c.mu.Unlock()
	began := time.Now()
	data, err := c.o.Refresh(ctx, prev)
	took := time.Since(began)
	cancel()

	c.mu.Lock()
	closed := c.o.Parent.Err() != nil
	if !closed {
		// A refresh cut short because the exporter was closed (reload,
		// shutdown) says nothing about the API: it is not a result.
		c.lastFinished = c.o.Now()
		c.lastDuration = took
		c.lastOK = err == nil
		c.due = false
		if err == nil {
			c.good = data
			c.lastSuccess = data.FetchedAt()
		} else {
			c.lastErr, c.lastErrAt = err, c.lastFinished
		}
	}
	c.mu.Unlock()

	// Counted and logged before the scrapes waiting for it are let go, so
	// what they serve and what the log says agree.
	if c.o.OnResult != nil {
		c.o.OnResult(c.o.Name, data, err, took, closed)
	}
	c.mu.Lock()
	c.inflight = nil
	close(done)
	c.mu.Unlock()
}

// TakeOver continues from prev, the same query of the exporter this one
// replaces: its data, its health and its cache age carry over, so a reload
// costs no API call and loses nothing, during an outage too. It must be
// called before Start.
func (c *Cache[T]) TakeOver(prev *Cache[T]) {
	prev.mu.Lock()
	defer prev.mu.Unlock()
	c.good = prev.good
	c.lastFinished = prev.lastFinished
	c.lastOK = prev.lastOK
	c.lastSuccess = prev.lastSuccess
	c.lastDuration = prev.lastDuration
	c.lastErr, c.lastErrAt = prev.lastErr, prev.lastErrAt
	c.due = prev.due || prev.o.Rendering != c.o.Rendering
}

// State returns what to serve now. Last good data is served while the newest
// refresh succeeded, and after a failure until it is max_stale old; then it
// is dropped (and its memory freed).
func (c *Cache[T]) State() State[T] {
	c.mu.Lock()
	defer c.mu.Unlock()
	var none T
	if c.good != none && !c.lastOK && c.o.Now().Sub(c.good.FetchedAt()) > c.o.MaxStale {
		c.good = none
	}
	return State[T]{
		Name:         c.o.Name,
		Data:         c.good,
		Up:           c.lastOK,
		LastSuccess:  c.lastSuccess,
		LastDuration: c.lastDuration,
		Finished:     !c.lastFinished.IsZero(),
		LastFinished: c.lastFinished,
		LastError:    c.lastErr,
		LastErrorAt:  c.lastErrAt,
	}
}

// Ready reports whether a first refresh has finished, good or not.
func (c *Cache[T]) Ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.lastFinished.IsZero()
}

// Identity is what the cache's data depends on (Options.Identity).
func (c *Cache[T]) Identity() string { return c.o.Identity }
