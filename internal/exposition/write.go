package exposition

import (
	"bufio"
	"bytes"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Query is what one query serves at a scrape: its group snapshot and, when
// app instances are collected, its sessions (either may be nil).
type Query struct {
	Groups   *Snapshot
	Sessions *Sessions
}

// served is a snapshot to write and, when an earlier query of the scrape
// already returned some of its groups (same ID, same region), which to skip.
type served struct {
	snap     *Snapshot
	sessions *Sessions // nil: none served
	skip     []bool    // nil: write every group
	before   []uint64  // with skip: the ids of the snapshots before it
}

func servedOf(queries []Query) []served {
	var out []served
	var before []uint64
	var seen map[string]bool // made only when an overlap is not remembered
	for _, q := range queries {
		snap := q.Groups
		if snap == nil {
			continue
		}
		s := served{snap: snap, sessions: q.Sessions}
		if len(out) > 0 {
			s.skip = snap.overlapWith(out, before, &seen)
			if s.skip != nil {
				s.before = slices.Clone(before)
			}
		}
		before = append(before, snap.id)
		out = append(out, s)
	}
	return out
}

// overlap is which groups of a snapshot the snapshots before it in a
// scrape already hold, for one set of earlier snapshots.
type overlap struct {
	before []uint64 // the ids of the snapshots before it
	skip   []bool   // nil: none
}

// overlapWith is which of the snapshot's groups the snapshots of out (with
// the ids before) hold. It is remembered for the next scrape, which most
// often serves the same snapshots: finding it takes a map of every
// group's key, half a millisecond at 2,000 groups, and a scrape sends
// nothing until it is known. seen holds the keys of out's groups once a
// scrape needs it.
func (snap *Snapshot) overlapWith(out []served, before []uint64, seen *map[string]bool) []bool {
	if m := snap.overlap.Load(); m != nil && slices.Equal(m.before, before) {
		if *seen != nil {
			for _, g := range snap.groups {
				(*seen)[g.key] = true
			}
		}
		return m.skip
	}
	if *seen == nil {
		*seen = make(map[string]bool, len(out[0].snap.groups)+len(snap.groups))
		for _, o := range out {
			for _, g := range o.snap.groups {
				(*seen)[g.key] = true
			}
		}
	}
	var skip []bool
	for i, g := range snap.groups {
		if !(*seen)[g.key] {
			(*seen)[g.key] = true
			continue
		}
		if skip == nil {
			skip = make([]bool, len(snap.groups))
		}
		skip[i] = true
	}
	snap.overlap.Store(&overlap{before: slices.Clone(before), skip: skip})
	return skip
}

// Write writes the group, app and pool families of queries (one per
// query) as text: first the stored families, decompressed, in the table's
// order, then the clock-dependent families computed for now, then the
// sessions families, each in the table's order. (A gzip answer can then
// compress the clock-dependent ones while the stored ones are sent.) A
// group that an earlier query already holds (same ID, same region) is
// written once.
func Write(w *bufio.Writer, now time.Time, queries []Query) error {
	list := servedOf(queries)
	if err := writeStored(w, nil, list); err != nil {
		return err
	}
	writeAllScraped(w, list, now)
	writeSessions(w, list)
	return w.Flush()
}

// Prepared is a gzip answer's clock-dependent families, being compressed.
type Prepared struct {
	list []served
	done chan struct{}
	// Once done: the families coded for this scrape, and those whose
	// values hold for the minute, as coded for it. The piece's bytes are
	// pieceBuf's, given back once written.
	piece, minutely segment
	pieceBuf        *pieceBuffer
}

var preparing = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// PrepareGzip starts compressing the clock-dependent families of queries
// for now on a goroutine of its own: they are ready by the time the
// exporter's own metrics and the stored families have been sent.
func PrepareGzip(now time.Time, queries []Query) *Prepared {
	p := &Prepared{list: servedOf(queries), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		// No more at once than there are cores, however many scrapes wait
		// on slow clients.
		preparing <- struct{}{}
		defer func() { <-preparing }()
		sc := scrapeCoderPool.Get().(*scrapeCoder)
		p.piece, p.pieceBuf = sc.code(p.list, now, false)
		p.minutely = sc.minutely(p.list, now)
		sc.g, sc.prog = nil, nil // the pool must not keep a snapshot alive
		scrapeCoderPool.Put(sc)
	}()
	return p
}

// minutelyPiece is the coded minutely families of the snapshots ids
// (in a scrape's order) for one minute.
type minutelyPiece struct {
	minute int64
	ids    []uint64
	seg    segment
}

// minutely is the piece of the minutely families of list for now: the
// one coded for an earlier scrape of the same snapshots in the same
// minute, kept by the first snapshot, or coded now. Prometheus scraping
// every 15 s, three scrapes in four find it.
func (sc *scrapeCoder) minutely(list []served, now time.Time) segment {
	if len(list) == 0 {
		return segment{}
	}
	minute := unixMinute(now)
	holder := &list[0].snap.minutely
	if m := holder.Load(); m != nil && m.minute == minute && m.codedFor(list) {
		return m.seg
	}
	ids := make([]uint64, len(list))
	for i, s := range list {
		ids[i] = s.snap.id
	}
	seg, buf := sc.code(list, now, true)
	// Kept for the minute by the snapshot: never given back.
	seg.deflate = bytes.Clone(buf.b)
	buf.give()
	holder.Store(&minutelyPiece{minute: minute, ids: ids, seg: seg})
	return seg
}

// codedFor tells whether m was coded for the snapshots of list, in order.
func (m *minutelyPiece) codedFor(list []served) bool {
	return slices.EqualFunc(m.ids, list, func(id uint64, s served) bool { return id == s.snap.id })
}

// code codes the clock-dependent families of list for now that are
// minutely, or that are not, into a piece, whose bytes are in the buffer
// returned.
func (sc *scrapeCoder) code(list []served, now time.Time, minutely bool) (segment, *pieceBuffer) {
	sc.c = newLineCoder(&clockCoders)
	for _, fam := range families {
		if fam.scrape != nil && fam.minutely == minutely {
			sc.family(fam, list, now)
		}
	}
	// The piece waits, copied out, while the stored families reach a
	// client that may be slow; the coder, whose buffer grew by doubling,
	// goes back to the pool now. Under many scrapes at once the pool then
	// holds a coder per core, not one per scrape.
	piece, crc, size := sc.c.end()
	buf := clockPieces.copyOf(piece)
	seg := newSegment(buf.b, crc, size)
	sc.c.release()
	sc.c = nil
	return seg, buf
}

// WriteGzip writes the families of p into z: each stored family as it was
// compressed (as filtered once, where some of a snapshot's groups are left
// out), then the clock-dependent ones as p compressed them, then the
// sessions ones, compressed once per pair of group snapshot and sessions.
func WriteGzip(z *GzipWriter, p *Prepared) error {
	err := writeStored(nil, z, p.list)
	<-p.done
	if err != nil {
		z.err = err // no trailer: the answer must not look complete
		return err
	}
	z.writeSegment(&p.piece)
	p.pieceBuf.give() // written, or copied into the answer's buffer
	p.piece, p.pieceBuf = segment{}, nil
	z.writeSegment(&p.minutely)
	writeSessionsGzip(z, p.list)
	return z.err
}

// writeStored writes the stored families to w as text or, where z is
// given, copies to z what is compressed already: each header, and each
// snapshot's family, whole or as filtered once.
func writeStored(w *bufio.Writer, z *GzipWriter, list []served) error {
	if z != nil && len(list) == 1 && list[0].skip == nil {
		z.writeSegment(&list[0].snap.joined)
		return nil
	}
	for _, fam := range families {
		if fam.scrape != nil || !hasSeries(list, fam) {
			continue
		}
		if z != nil {
			z.writeSegment(&headerSegments()[fam.index])
		} else {
			w.Write(familyHeaders[fam.index])
		}
		for _, s := range list {
			st := &s.snap.stored[fam.index]
			var err error
			switch {
			case z != nil && s.skip != nil:
				var segs []segment
				if segs, err = s.filteredSegments(); err == nil {
					z.writeSegment(&segs[fam.index])
				}
			case s.skip != nil:
				err = writeStoredExcept(w, st, s.skip)
			case z != nil:
				z.writeSegment(&st.segment)
			default:
				err = inflate(w, &st.segment)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// joinStored copies the stored families, each after its header, into one
// buffer in the order an answer writes them (writeStored), and points
// each family's segment into it. A gzip answer of the snapshot alone
// then sends the buffer in one write, straight from where it lies, where
// copying a hundred segments through the answer's buffer, and sending
// that buffer's worth at a time, cost the exporter about a sixth of a
// gzip scrape's CPU at 2,000 groups. A family that did not change since
// the previous snapshot shares its text with it until here: pointed into
// this buffer, it no longer keeps the previous one alive.
func joinStored(stored []storedFamily) segment {
	headers := headerSegments()
	n := 0
	for f := range stored {
		if stored[f].size > 0 {
			n += len(headers[f].deflate) + len(stored[f].deflate)
		}
	}
	joined := segment{deflate: make([]byte, 0, n)}
	for f := range stored {
		st := &stored[f]
		if st.size == 0 {
			continue
		}
		joined.append(&headers[f])
		from := len(joined.deflate)
		joined.append(&st.segment)
		st.deflate = joined.deflate[from:len(joined.deflate):len(joined.deflate)]
	}
	joined.shift = xPow8N(joined.size)
	return joined
}

// writeAllScraped writes the clock-dependent families for now.
func writeAllScraped(w *bufio.Writer, list []served, now time.Time) {
	for _, fam := range families {
		if fam.scrape != nil {
			writeScraped(w, fam, list, now)
		}
	}
}

// writeScraped writes a clock-dependent family for now, its header first
// if it has any series.
func writeScraped(w *bufio.Writer, fam *family, list []served, now time.Time) {
	headerDone := false
	var g *groupMeta
	var value []byte
	emit := func(line int, x float64) {
		if !headerDone {
			w.Write(familyHeaders[fam.index])
			headerDone = true
		}
		value = appendValue(value[:0], x)
		writeSeries(w, fam, g.labels, g.poolLabels(fam, line), nil, value)
	}
	forGroups(list, func(s *Snapshot, i int) {
		g = &s.groups[i]
		fam.scrape(g, now, emit)
	})
}

// scrapeCoder codes a clock-dependent family's lines for a gzip answer:
// each prefix as its snapshot's program has it, each value in a stored
// block of its own.
type scrapeCoder struct {
	c      *lineCoder
	fam    *family
	header bool // written
	prog   *program
	pos    []int64 // where the program's lines were written; -1: not
	// next is the program line expected next; since the text after line
	// moved is not what the program expected, no line can use its prefix
	// coded whole if it refers to moved or an earlier line.
	next, moved int
	g           *groupMeta
	gi          int
	text        []byte // the prefix of a line the program has not
	emit        scraped
}

var scrapeCoderPool = sync.Pool{New: func() any {
	sc := new(scrapeCoder)
	sc.emit = sc.line
	return sc
}}

func (sc *scrapeCoder) family(fam *family, list []served, now time.Time) {
	sc.fam, sc.header = fam, false
	for _, s := range list {
		sc.prog = s.snap.programs[fam.index]
		sc.next, sc.moved = 0, -1
		if sc.prog != nil {
			sc.pos = slices.Grow(sc.pos[:0], len(sc.prog.lines))[:len(sc.prog.lines)]
			for i := range sc.pos {
				sc.pos[i] = -1
			}
		}
		for gi := range s.snap.groups {
			if s.skip == nil || !s.skip[gi] {
				sc.g, sc.gi = &s.snap.groups[gi], gi
				fam.scrape(sc.g, now, sc.emit)
			}
		}
	}
	sc.fam = nil
}

func (sc *scrapeCoder) line(line int, x float64) {
	c := sc.c
	if !sc.header {
		_, _ = c.Write(familyHeaders[sc.fam.index]) // to memory: cannot fail
		sc.header = true
	}
	p := sc.prog
	pl := p.lineOf(sc.gi, line)
	switch {
	case pl < 0:
		sc.moved = max(sc.moved, sc.next-1) // text the program has not
	case pl != sc.next:
		sc.moved = max(sc.moved, pl-1) // lines the program has and the scrape not
	}
	switch {
	case pl >= 0 && p.lines[pl].ncoded > 0 && pl-int(p.lines[pl].reach) > sc.moved:
		c.precodedLine(p, pl, sc.pos)
	case pl >= 0 && p.fits(pl, c.size, sc.pos):
		c.programLine(p, pl, sc.pos)
	default:
		if pl >= 0 {
			sc.pos[pl] = c.size // the same prefix, as literals: later lines may refer to it
		}
		sc.text = appendPrefix(sc.text[:0], sc.fam, sc.g, line)
		c.literalText(sc.text)
	}
	if pl >= 0 {
		c.crc = p.prefixCRC(pl, c.crc)
	} else {
		c.addCRC(sc.text)
	}
	n := c.valueLine(x)
	if pl >= 0 {
		sc.next = pl + 1
		if n != int(p.lines[pl].valueLen) {
			sc.moved = pl
		}
	}
}

// hasSeries tells whether any group to write has stored series of fam.
func hasSeries(list []served, fam *family) bool {
	for _, s := range list {
		st := &s.snap.stored[fam.index]
		if st.size == 0 {
			continue
		}
		if s.skip == nil {
			return true
		}
		for i, skip := range s.skip {
			if !skip && st.starts[i] < st.starts[i+1] {
				return true
			}
		}
	}
	return false
}

// writeStoredExcept writes the stored family's text but that of the
// groups to skip, decompressing it straight through a filter (a slow
// client then holds no copy of the text), and not at all when no group
// left has any.
func writeStoredExcept(w *bufio.Writer, st *storedFamily, skip []bool) error {
	if !slices.ContainsFunc(st.kept(skip), func(n uint32) bool { return n > 0 }) {
		return nil
	}
	return inflate(&groupFilter{w: w, starts: st.starts, skip: skip}, &st.segment)
}

// filteredFamilies are a snapshot's stored families without the groups
// that the snapshots before it in a scrape already hold, compressed once
// for those snapshots: a gzip answer then copies them as it copies any
// stored family, where filtering at every scrape would decompress and
// compress the whole snapshot again.
type filteredFamilies struct {
	mu     sync.Mutex
	before []uint64  // the ids of the snapshots they were made for
	segs   []segment // by family
}

// filteredSegments are the snapshot's families without the groups s
// skips, made when the snapshots before it are not those of last time.
func (s *served) filteredSegments() ([]segment, error) {
	f := &s.snap.filtered
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.segs != nil && slices.Equal(f.before, s.before) {
		return f.segs, nil
	}
	var err error
	segs := compressSegments(len(families), func(i int, w *bufio.Writer, _ func() int64) {
		if st := &s.snap.stored[i]; st.size > 0 && err == nil {
			err = writeStoredExcept(w, st, s.skip)
		}
	}, nil)
	if err != nil {
		return nil, err
	}
	f.before, f.segs = slices.Clone(s.before), segs
	return segs, nil
}

// kept is how many bytes of text each group not skipped has.
func (st *storedFamily) kept(skip []bool) []uint32 {
	var n []uint32
	for i, s := range skip {
		if !s && st.starts != nil {
			n = append(n, st.starts[i+1]-st.starts[i])
		}
	}
	return n
}

// groupFilter passes on the bytes of a family's text that belong to groups
// not skipped.
type groupFilter struct {
	w      io.Writer
	starts []uint32
	skip   []bool
	off    uint32 // of the next byte
	group  int    // the group the next byte belongs to
}

func (f *groupFilter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		for f.off >= f.starts[f.group+1] {
			f.group++
		}
		run := min(len(p), int(f.starts[f.group+1]-f.off))
		if !f.skip[f.group] {
			if _, err := f.w.Write(p[:run]); err != nil {
				return n - len(p), err
			}
		}
		p, f.off = p[run:], f.off+uint32(run) //nolint:gosec // run is at most a group's text
	}
	return n, nil
}

// writeSeries writes one series line: the identity labels, the pool's,
// the series' own, then the value.
func writeSeries(w *bufio.Writer, fam *family, identity, pool, own, val []byte) {
	w.WriteString(fam.name)
	w.WriteByte('{')
	sep := false
	for _, labels := range [3][]byte{identity, pool, own} {
		if len(labels) > 0 {
			if sep {
				w.WriteByte(',')
			}
			w.Write(labels)
			sep = true
		}
	}
	w.WriteString("} ")
	w.Write(val)
	w.WriteByte('\n')
}

// forGroups calls fn for every group to write, in order.
func forGroups(snaps []served, fn func(s *Snapshot, i int)) {
	for _, s := range snaps {
		for i := range s.snap.groups {
			if s.skip == nil || !s.skip[i] {
				fn(s.snap, i)
			}
		}
	}
}
