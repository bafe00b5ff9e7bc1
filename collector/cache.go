package collector

import (
	"context"
	"sync"
	"time"
)

// queryState is what one scrape serves for one query.
type queryState struct {
	bizRegion    string
	snap         *snapshot // nil: nothing to serve (no success yet, or older than max_stale)
	up           bool      // the newest finished refresh succeeded
	lastSuccess  time.Time // zero until a refresh succeeds
	lastDuration time.Duration
	finished     bool // at least one refresh has finished
}

// queryCache is the single-flight TTL cache of one query. At most one
// refresh runs at a time; scrapes that arrive meanwhile wait for it. A
// finished refresh, good or failed, is not repeated for cache_ttl, so an
// outage or throttling is not hammered by every scrape.
type queryCache struct {
	bizRegion string
	ttl       time.Duration
	maxStale  time.Duration
	timeout   time.Duration
	now       func() time.Time
	refresh   func(ctx context.Context, prev *snapshot) (*snapshot, error)
	onResult  func(bizRegion string, snap *snapshot, err error, took time.Duration, canceled bool)
	parent    context.Context // cancelled when the exporter is closed
	// identity is what the data depends on: endpoint, credentials, and the
	// request's parameters. Another query with the same identity may take
	// this one's data over on reload.
	identity string
	// rendering is what the stored series depend on besides the data (tag
	// labels, time zone): taken-over data rendered otherwise is refreshed
	// at once, and served as it is until then.
	rendering string

	mu           sync.Mutex
	good         *snapshot
	lastFinished time.Time
	lastOK       bool
	lastSuccess  time.Time
	lastDuration time.Duration
	due          bool          // refresh at the next start, whatever cache_ttl says
	inflight     chan struct{} // closed when the running refresh finishes
}

// start begins a refresh unless one is running or the newest finished one is
// younger than cache_ttl. It returns a channel closed when the refresh that
// will answer this scrape has finished, or nil when the cache is fresh.
func (c *queryCache) start() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight != nil {
		return c.inflight
	}
	if !c.due && !c.lastFinished.IsZero() && c.now().Sub(c.lastFinished) < c.ttl {
		return nil
	}
	done := make(chan struct{})
	c.inflight = done
	go c.run(done)
	return done
}

func (c *queryCache) run(done chan struct{}) {
	// The refresh is not tied to the scrape that started it: a scrape that
	// gives up early must not cancel the work other scrapes wait for.
	ctx, cancel := context.WithTimeout(c.parent, c.timeout)
	c.mu.Lock()
	prev := c.good
	c.mu.Unlock()
	began := time.Now()
	snap, err := c.refresh(ctx, prev)
	took := time.Since(began)
	cancel()

	c.mu.Lock()
	closed := c.parent.Err() != nil
	if !closed {
		// A refresh cut short because the exporter was closed (reload,
		// shutdown) says nothing about the API: it is not a result.
		c.lastFinished = c.now()
		c.lastDuration = took
		c.lastOK = err == nil
		c.due = false
		if err == nil {
			c.good = snap
			c.lastSuccess = snap.fetchedAt
		}
	}
	c.mu.Unlock()

	// Counted and logged before the scrapes waiting for it are let go, so
	// what they serve and what the log says agree.
	if c.onResult != nil {
		c.onResult(c.bizRegion, snap, err, took, closed)
	}
	c.mu.Lock()
	c.inflight = nil
	close(done)
	c.mu.Unlock()
}

// takeOver continues from prev, the same query of the exporter this one
// replaces: its data, its health and its cache age carry over, so a reload
// costs no API call and loses nothing, during an outage too. It must be
// called before start.
func (c *queryCache) takeOver(prev *queryCache) {
	prev.mu.Lock()
	defer prev.mu.Unlock()
	c.good = prev.good
	c.lastFinished = prev.lastFinished
	c.lastOK = prev.lastOK
	c.lastSuccess = prev.lastSuccess
	c.lastDuration = prev.lastDuration
	c.due = prev.due || prev.rendering != c.rendering
}

// state returns what to serve now. Last good data is served while the newest
// refresh succeeded, and after a failure until it is max_stale old; then it
// is dropped (and its memory freed).
func (c *queryCache) state() queryState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.good != nil && !c.lastOK && c.now().Sub(c.good.fetchedAt) > c.maxStale {
		c.good = nil
	}
	return queryState{
		bizRegion:    c.bizRegion,
		snap:         c.good,
		up:           c.lastOK,
		lastSuccess:  c.lastSuccess,
		lastDuration: c.lastDuration,
		finished:     !c.lastFinished.IsZero(),
	}
}

func (c *queryCache) ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.lastFinished.IsZero()
}
