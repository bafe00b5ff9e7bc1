package exporter

import (
	"context"
	"time"

	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
	"github.com/appstream-exporter/appstream_exporter/internal/cache"
)

// QueryStatus is one query's state as the landing page's status table
// shows it: enough to see why up is 0 without reading the log.
type QueryStatus struct {
	Account   string // "" in the single-account form
	BizRegion string // "" for the unfiltered query
	Data      string // what the query lists: "groups" or "app instances"
	Up        bool   // the newest finished refresh succeeded
	// LastRefresh is when the newest refresh finished; zero until one has.
	LastRefresh time.Time
	Duration    time.Duration // of the newest finished refresh
	// Served is whether there is data to serve; Groups, Pages and DataAge
	// describe it.
	Served  bool
	Groups  int
	Pages   int
	DataAge time.Duration
	// Error is the newest failed refresh, nil if none has failed since
	// the process started (reloads keep it).
	Error *RefreshError
}

// RefreshError is a failed refresh explained. Its message is the one the
// log has: redacted, without URLs or secrets.
type RefreshError struct {
	Class     string
	Code      string // the API error code, "" when no API answered
	RequestID string
	Message   string
	At        time.Time
}

// Status lists every query of every account, groups then app instances,
// as they stand now; it starts no refresh.
func (e *Exporter) Status() []QueryStatus {
	now := e.now()
	var out []QueryStatus
	for _, a := range e.accounts {
		for _, q := range a.queries {
			s := q.State()
			st := statusOf(a.cfg.Account(), "groups", s.Name, stateOf(s), now)
			if s.Data != nil {
				st.Groups, st.Pages = s.Data.Groups(), s.Data.Pages()
			}
			out = append(out, st)
		}
		for _, q := range a.sessions {
			s := q.State()
			st := statusOf(a.cfg.Account(), "app instances", s.Name, stateOf(s), now)
			if s.Data != nil {
				st.Groups, st.Pages = s.Data.Groups(), s.Data.Pages()
			}
			out = append(out, st)
		}
	}
	return out
}

// commonState is the part of a cache.State that does not depend on its
// data's type.
type commonState struct {
	up           bool
	lastFinished time.Time
	duration     time.Duration
	fetchedAt    *time.Time
	err          error
	errAt        time.Time
}

func stateOf[T cache.Data](s cache.State[T]) commonState {
	c := commonState{up: s.Up, lastFinished: s.LastFinished, duration: s.LastDuration, err: s.LastError, errAt: s.LastErrorAt}
	var none T
	if s.Data != none {
		at := s.Data.FetchedAt()
		c.fetchedAt = &at
	}
	return c
}

func statusOf(account, data, bizRegion string, c commonState, now time.Time) QueryStatus {
	st := QueryStatus{Account: account, BizRegion: bizRegion, Data: data, Up: c.up, LastRefresh: c.lastFinished, Duration: c.duration}
	if c.fetchedAt != nil {
		st.Served, st.DataAge = true, now.Sub(*c.fetchedAt)
	}
	if c.err != nil {
		class, code, requestID := aliyun.FailureDetails(c.err)
		st.Error = &RefreshError{Class: class, Code: code, RequestID: requestID, Message: clip(c.err.Error(), 600), At: c.errAt}
	}
	return st
}

// clip shortens s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// RefreshAll refreshes every query once, app instances included, and
// waits until each has finished or ctx ends (--snapshot.dump). It returns
// the queries' statuses; a query whose Error is newer than the start
// failed.
func (e *Exporter) RefreshAll(ctx context.Context) []QueryStatus {
	for {
		e.collect(ctx)
		st := e.Status()
		done := true
		for _, q := range st {
			done = done && !q.LastRefresh.IsZero()
		}
		if done || ctx.Err() != nil {
			return st
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond): // app instances start once the groups are read
		}
	}
}
