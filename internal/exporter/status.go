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
		out = append(out, statuses(a.cfg.Account(), "groups", a.queries, now)...)
		out = append(out, statuses(a.cfg.Account(), "app instances", a.sessions, now)...)
	}
	return out
}

// counted is the data of either kind of query: what it lists and in how
// many pages.
type counted interface {
	cache.Data
	Groups() int
	Pages() int
}

// statuses are the QueryStatus of an account's caches of one kind (lists).
func statuses[T counted](account, lists string, caches []*cache.Cache[T], now time.Time) []QueryStatus {
	out := make([]QueryStatus, 0, len(caches))
	var none T
	for _, q := range caches {
		s := q.State()
		st := QueryStatus{Account: account, BizRegion: s.Name, Data: lists, Up: s.Up, LastRefresh: s.LastFinished, Duration: s.LastDuration}
		if s.Data != none {
			st.Served, st.DataAge = true, now.Sub(s.Data.FetchedAt())
			st.Groups, st.Pages = s.Data.Groups(), s.Data.Pages()
		}
		if s.LastError != nil {
			class, code, requestID := aliyun.FailureDetails(s.LastError)
			st.Error = &RefreshError{Class: class, Code: code, RequestID: requestID, Message: clip(s.LastError.Error(), 600), At: s.LastErrorAt}
		}
		out = append(out, st)
	}
	return out
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
