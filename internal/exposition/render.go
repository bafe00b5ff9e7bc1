package exposition

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"slices"
	"strings"
	"time"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
)

// Rendering turns the decoded groups of a refresh into exposition text
// once, as kube-state-metrics keeps pre-rendered text per object: a scrape
// copies bytes instead of rebuilding tens of thousands of metrics, and
// computes only the clock-dependent values.
//
// A snapshot keeps each family's text only compressed (gzip.go): what
// Prometheus asks for is then copied as it is, a scrape without compression
// decompresses it, and a snapshot is about a sixteenth of the exposition's
// size, which matters because a refresh builds the new snapshot while the
// old one is still being served. While rendering, each series is first a
// record of its own labels and its formatted value, group after group; the
// group's identity labels, which repeat in every one of its ~45 series, are
// kept once per group and written in when the records become text, family
// after family.

// Snapshot is the rendered result of one successful refresh of one query.
// It is immutable once built and shared by every scrape that serves it.
type Snapshot struct {
	fetchedAt time.Time
	pages     int            // API pages read, for the log
	groups    []groupMeta    // sorted by group ID and region
	stored    []storedFamily // by family; empty for per-scrape families
}

// storedFamily is the text of one family's series, compressed.
type storedFamily struct {
	segment
	// Group i's text is [starts[i], starts[i+1]) of the decompressed text,
	// for the scrape that must leave out groups another query holds.
	starts []uint32
	// recordBytes sizes the next refresh's buffer for this family.
	recordBytes int
}

// records are the series of one family of a refresh while it is rendered,
// group after group: group i's are buf[starts[i]:starts[i+1]]. A record is
// uvarint(len(labels)), labels, byte(len(value)), value.
type records struct {
	buf    []byte
	starts []int
}

// group returns group i's records.
func (rs *records) group(i int) []byte {
	return rs.buf[rs.starts[i]:rs.starts[i+1]]
}

// nextRecord splits the first record off recs.
func nextRecord(recs []byte) (labels, value, rest []byte) {
	n, k := binary.Uvarint(recs)
	end := k + int(n) //nolint:gosec // written by add: a label set's length
	labels, recs = recs[k:end], recs[end:]
	vl := int(recs[0])
	return labels, recs[1 : 1+vl], recs[1+vl:]
}

// groupMeta is what a scrape needs of one group besides its stored text.
type groupMeta struct {
	key string // group_id and region: the identity de-duplicated across queries

	labels    []byte // identity labels, for the per-scrape series
	expiry    time.Time
	hasExpiry bool
	schedules []poolScheduleSeries
}

type poolScheduleSeries struct {
	labels []byte // the pool's labels after the group's identity labels
	sched  *poolSchedule
}

// Problem is a field the API sent in a shape we cannot read; its series is
// dropped and the problem logged.
type Problem struct {
	Group, Field, Value string
}

type renderer struct {
	loc       *time.Location
	tagKeys   []string
	tagLabels []string
	// tagsOnInfo: tag labels go only on group_tags, so a tag edit does
	// not rename every series of the group.
	tagsOnInfo bool
	problems   []Problem
	snap       *Snapshot
	recs       []records         // by family
	outs       []series          // by family: add bound to it
	zoneless   map[string]string // time fields read without a zone: an example of each
}

// newRenderer starts a snapshot. prev, the query's previous snapshot,
// sizes the buffers so a refresh of a stable fleet does not grow them.
func newRenderer(cfg *config.Config, prev *Snapshot) *renderer {
	n := len(families)
	r := &renderer{loc: cfg.Location(), snap: &Snapshot{}, recs: make([]records, n)}
	for _, t := range cfg.TagLabels {
		r.tagKeys = append(r.tagKeys, t.Key)
		r.tagLabels = append(r.tagLabels, t.Name())
	}
	r.tagsOnInfo = cfg.TagLabelsOn == config.TagLabelsOnInfo
	if prev != nil {
		for f := range n {
			r.recs[f].buf = make([]byte, 0, prev.stored[f].recordBytes+prev.stored[f].recordBytes/16)
			r.recs[f].starts = make([]int, 0, len(prev.groups)+1)
		}
	}
	for _, f := range families {
		r.outs = append(r.outs, func(pool, own []byte, v float64) { r.add(f, pool, own, v) })
	}
	return r
}

// add records a series of family f: its labels after the identity labels
// (pool, then own) and its value.
func (r *renderer) add(f *family, pool, own []byte, v float64) {
	b := r.recs[f.index].buf
	n := len(pool) + len(own)
	if len(pool) > 0 && len(own) > 0 {
		n++
	}
	b = binary.AppendUvarint(b, uint64(n))
	b = append(b, pool...)
	if len(pool) > 0 && len(own) > 0 {
		b = append(b, ',')
	}
	b = append(b, own...)
	at := len(b)
	b = appendValue(append(b, 0), v)
	b[at] = byte(len(b) - at - 1) //nolint:gosec // a formatted float64 is at most 24 bytes
	r.recs[f.index].buf = b
}

// Rendered is one refresh's rendering: the snapshot to serve, the fields
// that could not be read, and the time fields read without a zone (an
// example of each).
type Rendered struct {
	Snapshot *Snapshot
	Problems []Problem
	Zoneless map[string]string
}

// Render renders a refresh's groups, listed by the query bizRegion and
// fetched at fetchedAt in pages API pages, for cfg. prev, the query's
// previous snapshot (or nil), sizes the buffers.
func Render(cfg *config.Config, prev *Snapshot, groups []*aliyun.Group, bizRegion string, fetchedAt time.Time, pages int) Rendered {
	r := newRenderer(cfg, prev)
	snap := r.renderAll(groups, bizRegion)
	snap.fetchedAt, snap.pages = fetchedAt, pages
	return Rendered{Snapshot: snap, Problems: r.problems, Zoneless: r.zoneless}
}

// Groups is the number of groups in the snapshot.
func (s *Snapshot) Groups() int { return len(s.groups) }

// FetchedAt is when the API answered the refresh.
func (s *Snapshot) FetchedAt() time.Time { return s.fetchedAt }

// Pages is the number of API pages the refresh read.
func (s *Snapshot) Pages() int { return s.pages }

// renderAll renders groups in the order of their identity and returns the
// finished snapshot.
func (r *renderer) renderAll(groups []*aliyun.Group, bizRegion string) *Snapshot {
	type keyed struct {
		key string
		g   *aliyun.Group
	}
	order := make([]keyed, 0, len(groups))
	for _, g := range groups {
		if strings.TrimSpace(g.AppInstanceGroupID.V) == "" {
			r.problems = append(r.problems, Problem{"", "AppInstanceGroupId", "missing: group skipped"})
			continue
		}
		order = append(order, keyed{g.Key(bizRegion), g})
	}
	slices.SortFunc(order, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	r.snap.groups = make([]groupMeta, 0, len(order))
	for _, k := range order {
		r.renderGroup(k.g, bizRegion)
	}
	for f := range families {
		r.recs[f].starts = append(r.recs[f].starts, len(r.recs[f].buf))
	}
	r.store()
	return r.snap
}

// store writes each family's records as text, group after group, and
// keeps it compressed.
func (r *renderer) store() {
	s := r.snap
	s.stored = make([]storedFamily, len(families))
	segs := compressSegments(len(families), func(f int, w *bufio.Writer, offset func() int64) {
		rs := &r.recs[f]
		if len(rs.buf) == 0 {
			return
		}
		st := &s.stored[f]
		st.recordBytes = len(rs.buf)
		st.starts = make([]uint32, 0, len(s.groups)+1)
		for i := range s.groups {
			st.starts = append(st.starts, uint32(offset())) //nolint:gosec // a family's text is far below 4 GiB (aliyun.MaxGroups)
			identity := s.groups[i].labels
			if families[f].subject == appSubject {
				identity = nil
			}
			for recs := rs.group(i); len(recs) > 0; {
				var labels, val []byte
				labels, val, recs = nextRecord(recs)
				writeSeries(w, families[f], identity, labels, val)
			}
		}
		st.starts = append(st.starts, uint32(offset())) //nolint:gosec // as above
	})
	for f := range segs {
		s.stored[f].segment = segs[f]
	}
}

// renderGroup appends one group (which has an ID) to the snapshot: every
// per-refresh family, in order, reads what it needs from the group's view.
func (r *renderer) renderGroup(g *aliyun.Group, bizRegion string) {
	v := r.view(g, bizRegion)
	for f := range families {
		r.recs[f].starts = append(r.recs[f].starts, len(r.recs[f].buf))
	}
	for _, f := range families {
		if f.refresh != nil {
			f.refresh(v, r.outs[f.index])
		}
	}
	r.snap.groups = append(r.snap.groups, v.meta)
}
