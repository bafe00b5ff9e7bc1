package exposition

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
// decompresses it, and a snapshot is about a ninth of the exposition's
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
	// joined is every stored family with its header, in the order an
	// answer writes them, in one buffer that the families' segments
	// point into (joinStored).
	joined   segment
	programs []*program // by family: the per-scrape families' (nil without lines)

	id       uint64 // unique among snapshots, for filtered's key
	filtered filteredFamilies
	overlap  atomic.Pointer[overlap] // see overlapWith
	minutely atomic.Pointer[minutelyPiece]
}

var snapshotIDs atomic.Uint64

// storedFamily is the text of one family's series, compressed.
type storedFamily struct {
	segment
	// Group i's text is [starts[i], starts[i+1]) of the decompressed text,
	// for the scrape that must leave out groups another query holds.
	starts []uint32
	// recordBytes sizes the next refresh's buffer for this family.
	recordBytes int
	// fingerprint is the text's, for the next refresh to tell whether
	// it changed.
	fingerprint fingerprint
	// reused: the text did not change, and its compressed form is the
	// previous snapshot's, not compressed again.
	reused bool
}

// records are the series of one family of a refresh while it is rendered,
// group after group: group i's are buf[starts[i]:starts[i+1]]. A record is
// uvarint(len(labels)), labels, byte(len(value)), value.
type records struct {
	buf    []byte
	starts []int32 // a page's records stay far below 2 GiB
}

// group returns group i's records.
func (rs *records) group(i int) []byte {
	return rs.buf[rs.starts[i]:rs.starts[i+1]]
}

// nextRecord splits the first record off recs.
func nextRecord(recs []byte) (pool uint64, own, value, rest []byte) {
	pool, k := binary.Uvarint(recs)
	n, k2 := binary.Uvarint(recs[k:])
	k += k2
	end := k + int(n) //nolint:gosec // written by add: a label set's length
	own, recs = recs[k:end], recs[end:]
	vl := int(recs[0])
	return pool, own, recs[1 : 1+vl], recs[1+vl:]
}

// groupMeta is what a scrape needs of one group besides its stored text.
type groupMeta struct {
	key    string // group_id and region: the identity de-duplicated across queries
	id     string // AppInstanceGroupId, trimmed
	status string // Status, for the groups whose sessions are listed

	labels    []byte // identity labels, for the per-scrape series
	expiry    time.Time
	hasExpiry bool
	schedules []poolScheduleSeries
}

// poolLabels are the labels of a per-scrape family's line after the
// group's identity labels: none for a group family.
func (g *groupMeta) poolLabels(fam *family, line int) []byte {
	if fam.subject != poolSubject {
		return nil
	}
	return g.schedules[line].labels
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

// renderer renders the groups of one page of a refresh.
type renderer struct {
	*settings
	page     int
	problems []Problem
	// problemsOf[i] are group i's problems: problems[problemsOf[i][0]:problemsOf[i][1]].
	problemsOf [][2]int
	missingIDs int // groups skipped for want of an ID
	metas      []groupMeta
	recs       []records // by family
	outs       []series  // by family: add bound to it
	// pools holds each pool's labels once; records refer to them by
	// index + 1, where a pool's dozen families would each copy them.
	pools     [][]byte
	poolIndex map[string]uint64
	zoneless  map[string]string // time fields read without a zone: an example of each
	scratch   []byte            // labels a series copies at once (see stateSet)
}

// settings are what rendering reads of the configuration.
type settings struct {
	loc       *time.Location
	tagKeys   []string
	tagLabels []string
	// tagsOnInfo: tag labels go only on group_tags, so a tag edit does
	// not rename every series of the group.
	tagsOnInfo bool
	// account is the value of every series' account label; "" for none
	// (the single-account form).
	account string
}

func settingsOf(cfg *config.Config) *settings {
	st := &settings{loc: cfg.Location(), tagsOnInfo: cfg.TagLabelsOn == config.TagLabelsOnInfo, account: cfg.Account()}
	for _, t := range cfg.TagLabels {
		st.tagKeys = append(st.tagKeys, t.Key)
		st.tagLabels = append(st.tagLabels, t.Name())
	}
	return st
}

// newRenderer starts a page of groups. prev, the query's previous
// snapshot, sizes the buffers so a refresh of a stable fleet does not
// grow them.
func newRenderer(st *settings, page, groups int, prev *Snapshot) *renderer {
	n := len(families)
	r := &renderer{settings: st, page: page, recs: make([]records, n), metas: make([]groupMeta, 0, groups)}
	if prev != nil && len(prev.groups) > 0 {
		for f := range n {
			perGroup := float64(prev.stored[f].recordBytes) / float64(len(prev.groups))
			r.recs[f].buf = make([]byte, 0, int(perGroup*float64(groups)*1.06))
			r.recs[f].starts = make([]int32, 0, groups+1)
		}
	}
	for _, f := range families {
		r.outs = append(r.outs, func(pool, own []byte, v float64) { r.add(f, pool, own, v) })
	}
	return r
}

// add records a series of family f: its pool (see pools), its own labels
// and its value.
func (r *renderer) add(f *family, pool, own []byte, v float64) {
	b := r.recs[f.index].buf
	b = binary.AppendUvarint(b, r.poolRef(pool))
	b = binary.AppendUvarint(b, uint64(len(own)))
	b = append(b, own...)
	at := len(b)
	b = appendValue(append(b, 0), v)
	b[at] = byte(len(b) - at - 1) //nolint:gosec // a formatted float64 is at most 24 bytes
	r.recs[f.index].buf = b
}

// poolRef is pool's index in r.pools + 1, or 0 for no pool.
func (r *renderer) poolRef(pool []byte) uint64 {
	if len(pool) == 0 {
		return 0
	}
	if i, ok := r.poolIndex[string(pool)]; ok {
		return i
	}
	if r.poolIndex == nil {
		r.poolIndex = map[string]uint64{}
	}
	r.pools = append(r.pools, pool)
	r.poolIndex[string(pool)] = uint64(len(r.pools))
	return uint64(len(r.pools))
}

// Rendered is one refresh's rendering: the snapshot to serve, the fields
// that could not be read, and the time fields read without a zone (an
// example of each).
type Rendered struct {
	Snapshot *Snapshot
	Problems []Problem
	Zoneless map[string]string
}

// Refresh renders the pages of one refresh of the query bizRegion as they
// are read, so that a page's decoded groups can go as soon as it is
// rendered: a refresh then holds about a fifth of what the decoded groups
// of all pages would take. Page is safe for concurrent use.
type Refresh struct {
	settings  *settings
	prev      *Snapshot
	bizRegion string
	mu        sync.Mutex
	pages     []*renderer
}

// NewRefresh starts a refresh of the query bizRegion for cfg. prev, the
// query's previous snapshot (or nil), sizes the buffers.
func NewRefresh(cfg *config.Config, prev *Snapshot, bizRegion string) *Refresh {
	return &Refresh{settings: settingsOf(cfg), prev: prev, bizRegion: bizRegion}
}

// Page renders the groups of page number page, each page once. Like an
// aliyun.PageReader, it keeps nothing of groups.
func (rf *Refresh) Page(page int, groups []*aliyun.Group) {
	r := newRenderer(rf.settings, page, len(groups), rf.prev)
	for _, g := range groups {
		if strings.TrimSpace(g.AppInstanceGroupID.V) == "" {
			r.missingIDs++
			continue
		}
		r.renderGroup(g, rf.bizRegion)
	}
	for f := range families {
		r.recs[f].starts = append(r.recs[f].starts, int32(len(r.recs[f].buf))) //nolint:gosec // see records
	}
	rf.mu.Lock()
	rf.pages = append(rf.pages, r)
	rf.mu.Unlock()
}

// entry is a group of the snapshot: group i of a page.
type entry struct {
	r *renderer
	i int
}

// Finish builds the snapshot of the pages rendered, fetched at fetchedAt
// in pages API pages: the groups in the order of their identity, each
// once (the first by page number and position).
func (rf *Refresh) Finish(fetchedAt time.Time, pages int) Rendered {
	slices.SortFunc(rf.pages, func(a, b *renderer) int { return cmp.Compare(a.page, b.page) })
	var entries []entry
	seen := map[string]bool{}
	var problems []Problem
	var zoneless map[string]string
	for _, r := range rf.pages {
		for range r.missingIDs {
			problems = append(problems, Problem{"", "AppInstanceGroupId", "missing: group skipped"})
		}
		for i := range r.metas {
			if key := r.metas[i].key; !seen[key] {
				seen[key] = true
				entries = append(entries, entry{r, i})
			}
		}
		for field, example := range r.zoneless {
			if _, ok := zoneless[field]; !ok {
				if zoneless == nil {
					zoneless = map[string]string{}
				}
				zoneless[field] = example
			}
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.r.metas[a.i].key, b.r.metas[b.i].key) })
	snap := &Snapshot{fetchedAt: fetchedAt, pages: pages, groups: make([]groupMeta, len(entries)), id: snapshotIDs.Add(1)}
	for k, e := range entries {
		snap.groups[k] = e.r.metas[e.i]
		span := e.r.problemsOf[e.i]
		problems = append(problems, e.r.problems[span[0]:span[1]]...)
	}
	snap.stored = store(entries, rf.pages, rf.prev)
	snap.joined = joinStored(snap.stored)
	snap.programs = makePrograms(snap.groups, time.Now())
	return Rendered{Snapshot: snap, Problems: problems, Zoneless: zoneless}
}

// Render renders a refresh's groups, listed by the query bizRegion and
// fetched at fetchedAt in pages API pages, for cfg, as if they came in one
// page. prev, the query's previous snapshot (or nil), sizes the buffers.
func Render(cfg *config.Config, prev *Snapshot, groups []*aliyun.Group, bizRegion string, fetchedAt time.Time, pages int) Rendered {
	rf := NewRefresh(cfg, prev, bizRegion)
	rf.Page(1, groups)
	return rf.Finish(fetchedAt, pages)
}

// Groups is the number of groups in the snapshot.
func (s *Snapshot) Groups() int { return len(s.groups) }

// FetchedAt is when the API answered the refresh.
func (s *Snapshot) FetchedAt() time.Time { return s.fetchedAt }

// Pages is the number of API pages the refresh read.
func (s *Snapshot) Pages() int { return s.pages }

// store keeps each family's text compressed, written from its records
// group after group in the order of entries. A family whose text equals
// its text in prev, the query's previous snapshot (nil: none), keeps
// prev's compressed text: compressing was a third of a refresh's CPU, and
// most families of a fleet (names, settings, apps, dates) do not change
// from one refresh to the next. Whether the text changed is told by a
// fingerprint of the records it is written from, and the text is written
// only where it changed. The pages' records of a family go once it is
// stored.
func store(entries []entry, pages []*renderer, prev *Snapshot) []storedFamily {
	stored := make([]storedFamily, len(families))
	fp := newFingerprinter(entries, pages)
	c := newSegmentCompressor()
	for f := range families {
		st := &stored[f]
		for _, e := range entries {
			st.recordBytes += len(e.r.recs[f].group(e.i))
		}
		st.segment = newSegment(nil, 0, 0)
		if st.recordBytes > 0 {
			st.starts, st.fingerprint = fp.family(f)
			if prev != nil && prev.stored[f].size > 0 && prev.stored[f].fingerprint == st.fingerprint {
				st.segment, st.reused = prev.stored[f].segment, true
			} else {
				st.segment = c.compress(func(w *bufio.Writer, _ func() int64) { writeFamilyText(w, f, entries) })
			}
		}
		for _, r := range pages {
			r.recs[f] = records{}
		}
	}
	return stored
}

// writeFamilyText writes family f's series of entries to w.
func writeFamilyText(w *bufio.Writer, f int, entries []entry) {
	for _, e := range entries {
		identity := e.identity(f)
		for recs := e.r.recs[f].group(e.i); len(recs) > 0; {
			var pool uint64
			var own, val, poolLabels []byte
			pool, own, val, recs = nextRecord(recs)
			if pool > 0 {
				poolLabels = e.r.pools[pool-1]
			}
			writeSeries(w, families[f], identity, poolLabels, own, val)
		}
	}
}

// identity is the identity labels family f's series of e begin with:
// none for the app families, whose series are the app's alone.
func (e entry) identity(f int) []byte {
	if families[f].subject == appSubject {
		return nil
	}
	return e.r.metas[e.i].labels
}

// renderGroup appends one group (which has an ID) to the page: every
// per-refresh family, in order, reads what it needs from the group's view.
func (r *renderer) renderGroup(g *aliyun.Group, bizRegion string) {
	from := len(r.problems)
	v := r.view(g, bizRegion)
	for f := range families {
		r.recs[f].starts = append(r.recs[f].starts, int32(len(r.recs[f].buf))) //nolint:gosec // see records
	}
	for _, f := range families {
		if f.refresh != nil {
			f.refresh(v, r.outs[f.index])
		}
	}
	r.metas = append(r.metas, v.meta)
	r.problemsOf = append(r.problemsOf, [2]int{from, len(r.problems)})
}
