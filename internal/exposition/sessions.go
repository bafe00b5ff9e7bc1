package exposition

import (
	"bufio"
	"cmp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
)

// Sessions is the result of one refresh of a query's app instances
// (ListAppInstances): counts by Status and SessionStatus per group. Its
// series are written for the groups of the group snapshot served beside
// it, with that snapshot's identity labels, so that a renamed group's
// session series follow the rename and a group that is gone takes them
// along, whichever of the two refreshes came last. Immutable once built.
type Sessions struct {
	fetchedAt time.Time
	groups    int // groups queried
	pages     int // requests answered
	byGroup   map[string]*groupSessions
	id        uint64

	// compressed is, by family, its text for the last group snapshot it
	// was written with, compressed for gzip answers: two Prometheus
	// servers scraping the same data compress it once.
	compressed []atomic.Pointer[sessionsText]
}

// groupSessions is what the sessions families write of one group.
type groupSessions struct {
	counts    []sessionCount // by status and session status, sorted
	connected float64        // instances whose SessionStatus is connect
	pages     int            // requests its listing took
}

type sessionCount struct {
	labels []byte // status="…",session_status="…"
	n      float64
}

type sessionsText struct {
	snap   uint64   // the group snapshot's id
	before []uint64 // served.before: which of its groups were left out
	seg    segment
}

// ConnectedSession is the SessionStatus of an app instance a user is
// connected to (in any case).
const ConnectedSession = "connect"

// SessionTarget is a group whose app instances a refresh lists.
type SessionTarget struct {
	Key string // the group's identity (ID and region) in its snapshot
	ID  string // AppInstanceGroupId
}

// SessionTargets are the groups of the snapshot whose Status is one of
// statuses, in the snapshot's order.
func (s *Snapshot) SessionTargets(statuses []string) []SessionTarget {
	var out []SessionTarget
	for i := range s.groups {
		g := &s.groups[i]
		if g.id != "" && slices.Contains(statuses, g.status) {
			out = append(out, SessionTarget{Key: g.key, ID: g.id})
		}
	}
	return out
}

// NewSessions keeps the counts of a refresh that queried the groups of
// counts (by SessionTarget.Key) in pages requests, groupPages of them for
// each group.
func NewSessions(fetchedAt time.Time, pages int, counts map[string]map[aliyun.SessionKey]int, groupPages map[string]int) *Sessions {
	s := &Sessions{fetchedAt: fetchedAt, groups: len(counts), pages: pages, byGroup: make(map[string]*groupSessions, len(counts)),
		id: snapshotIDs.Add(1), compressed: make([]atomic.Pointer[sessionsText], len(families))}
	for key, byState := range counts {
		states := make([]aliyun.SessionKey, 0, len(byState))
		for k := range byState {
			states = append(states, k)
		}
		slices.SortFunc(states, func(a, b aliyun.SessionKey) int {
			return cmp.Or(strings.Compare(a.Status, b.Status), strings.Compare(a.SessionStatus, b.SessionStatus))
		})
		g := &groupSessions{counts: make([]sessionCount, len(states))}
		for i, k := range states {
			g.counts[i] = sessionCount{labels: appendLabel(appendLabel(nil, "status", k.Status), "session_status", k.SessionStatus), n: float64(byState[k])}
			if strings.EqualFold(k.SessionStatus, ConnectedSession) {
				g.connected += float64(byState[k])
			}
		}
		g.pages = groupPages[key]
		s.byGroup[key] = g
	}
	return s
}

// GroupPages is how many pages the group of key took to list; 0 when s
// is nil or did not list it.
func (s *Sessions) GroupPages(key string) int {
	if s == nil {
		return 0
	}
	if g, ok := s.byGroup[key]; ok {
		return g.pages
	}
	return 0
}

// Groups is the number of groups the refresh queried.
func (s *Sessions) Groups() int { return s.groups }

// Pages is the number of requests the refresh sent and had answered.
func (s *Sessions) Pages() int { return s.pages }

// FetchedAt is when the refresh finished.
func (s *Sessions) FetchedAt() time.Time { return s.fetchedAt }

// writeSessions writes the sessions families of every query that has
// both groups and sessions, the family's header first if it has series.
func writeSessions(w *bufio.Writer, list []served) {
	for _, fam := range families {
		if fam.sessions == nil {
			continue
		}
		header := false
		var value []byte
		for _, s := range list {
			if s.sessions == nil {
				continue
			}
			s.eachSessionSeries(fam, func(identity, own []byte, v float64) {
				if !header {
					w.Write(familyHeaders[fam.index])
					header = true
				}
				value = appendValue(value[:0], v)
				writeSeries(w, fam, identity, nil, own, value)
			})
		}
	}
}

// eachSessionSeries calls out for each series of fam for the groups s
// writes, in the snapshot's order.
func (s *served) eachSessionSeries(fam *family, out func(identity, own []byte, v float64)) {
	forGroups([]served{*s}, func(snap *Snapshot, i int) {
		g := &snap.groups[i]
		if gs, ok := s.sessions.byGroup[g.key]; ok {
			fam.sessions(gs, func(_, own []byte, v float64) { out(g.labels, own, v) })
		}
	})
}

// sessionSegment is the compressed text of fam for s: made once for a
// group snapshot (and the groups left out of it), then copied.
func (s *served) sessionSegment(fam *family) *segment {
	memo := &s.sessions.compressed[fam.index]
	if t := memo.Load(); t != nil && t.snap == s.snap.id && slices.Equal(t.before, s.before) {
		return &t.seg
	}
	segs := compressSegments(1, func(_ int, w *bufio.Writer, _ func() int64) {
		var value []byte
		s.eachSessionSeries(fam, func(identity, own []byte, v float64) {
			value = appendValue(value[:0], v)
			writeSeries(w, fam, identity, nil, own, value)
		})
	}, nil)
	t := &sessionsText{snap: s.snap.id, before: slices.Clone(s.before), seg: segs[0]}
	memo.Store(t)
	return &t.seg
}

// writeSessionsGzip copies each query's sessions families, compressed
// once per group snapshot, the header first if any has series.
func writeSessionsGzip(z *GzipWriter, list []served) {
	for _, fam := range families {
		if fam.sessions == nil {
			continue
		}
		header := false
		for _, s := range list {
			if s.sessions == nil {
				continue
			}
			seg := s.sessionSegment(fam)
			if seg.size == 0 {
				continue
			}
			if !header {
				z.writeSegment(&headerSegments()[fam.index])
				header = true
			}
			z.writeSegment(seg)
		}
	}
}
