package exposition

import (
	"bufio"
	"time"
)

// served is a snapshot to write and, when an earlier query of the scrape
// already returned some of its groups (same ID, same region), which to skip.
type served struct {
	snap *Snapshot
	skip []bool // nil: write every group
}

func servedOf(snaps []*Snapshot) []served {
	var out []served
	var seen map[string]bool
	for _, snap := range snaps {
		if snap == nil {
			continue
		}
		if len(out) == 1 {
			seen = make(map[string]bool, len(out[0].snap.groups))
			for _, g := range out[0].snap.groups {
				seen[g.key] = true
			}
		}
		s := served{snap: snap}
		if seen != nil {
			for i, g := range snap.groups {
				if !seen[g.key] {
					seen[g.key] = true
					continue
				}
				if s.skip == nil {
					s.skip = make([]bool, len(snap.groups))
				}
				s.skip[i] = true
			}
		}
		out = append(out, s)
	}
	return out
}

// Write writes the group, app and pool families of snaps (one per query;
// nil where a query has nothing to serve) as text, in the table's order:
// stored records with each group's identity labels written in, and the
// clock-dependent families computed for now. A group that an earlier
// snapshot already holds (same ID, same region) is written once.
func Write(w *bufio.Writer, now time.Time, snaps []*Snapshot) error {
	writeFamilies(w, nil, now, servedOf(snaps))
	return w.Flush()
}

// WriteGzip writes the same into z: each snapshot's stored families as the
// segments compressed when it was rendered, the rest compressed now. A
// snapshot some of whose groups an earlier one holds is written as text.
func WriteGzip(z *GzipWriter, now time.Time, snaps []*Snapshot) error {
	writeFamilies(z.text, z, now, servedOf(snaps))
	if err := z.text.Flush(); err != nil {
		return err
	}
	return z.err
}

// writeFamilies writes every family to w, or, where z is given and holds
// a whole snapshot's family compressed, copies that to z.
func writeFamilies(w *bufio.Writer, z *GzipWriter, now time.Time, list []served) {
	var value []byte
	for _, fam := range families {
		if fam.scrape == nil {
			if !hasSeries(list, fam) {
				continue
			}
			w.Write(familyHeaders[fam.index])
			for _, s := range list {
				if z != nil && s.skip == nil {
					z.writeSegment(&s.snap.packed[fam.index])
					continue
				}
				writeRecords(w, fam, s)
			}
			continue
		}
		headerDone := false
		var g *groupMeta
		emit := func(pool []byte, x float64) {
			if !headerDone {
				w.Write(familyHeaders[fam.index])
				headerDone = true
			}
			value = appendValue(value[:0], x)
			writeSeries(w, fam, g.labels, pool, value)
		}
		forGroups(list, func(s *Snapshot, i int) {
			g = &s.groups[i]
			fam.scrape(g, now, emit)
		})
	}
}

// hasSeries tells whether any group to write has stored series of fam.
func hasSeries(list []served, fam *family) bool {
	for _, s := range list {
		if len(s.snap.recs[fam.index]) == 0 {
			continue
		}
		if s.skip == nil {
			return true
		}
		for i := range s.snap.groups {
			if !s.skip[i] && s.snap.starts[fam.index][i] < s.snap.starts[fam.index][i+1] {
				return true
			}
		}
	}
	return false
}

// writeRecords writes the stored series of fam of the groups of s to write.
func writeRecords(w *bufio.Writer, fam *family, s served) {
	for i := range s.snap.groups {
		if s.skip != nil && s.skip[i] {
			continue
		}
		identity := s.snap.groups[i].labels
		if fam.subject == appSubject {
			identity = nil
		}
		for recs := s.snap.groupRecords(fam.index, i); len(recs) > 0; {
			var labels, val []byte
			labels, val, recs = nextRecord(recs)
			writeSeries(w, fam, identity, labels, val)
		}
	}
}

// writeSeries writes one series line: the identity labels, then the
// series' own, then the value.
func writeSeries(w *bufio.Writer, fam *family, identity, labels, val []byte) {
	w.WriteString(fam.name)
	w.WriteByte('{')
	w.Write(identity)
	if len(identity) > 0 && len(labels) > 0 {
		w.WriteByte(',')
	}
	w.Write(labels)
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
