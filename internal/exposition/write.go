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
// nil where a query has nothing to serve) in the table's order: stored
// records with each group's identity labels written in, and the
// clock-dependent families computed for now. A group that an earlier
// snapshot already holds (same ID, same region) is written once.
func Write(w *bufio.Writer, now time.Time, snaps []*Snapshot) error {
	list := servedOf(snaps)
	var value []byte
	for _, fam := range families {
		headerDone := false
		series := func(identity, labels, val []byte) {
			if !headerDone {
				w.Write(familyHeaders[fam.index])
				headerDone = true
			}
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
		if fam.scrape != nil {
			var g *groupMeta
			emit := func(pool []byte, x float64) {
				value = appendValue(value[:0], x)
				series(g.labels, pool, value)
			}
			forGroups(list, func(s *Snapshot, i int) {
				g = &s.groups[i]
				fam.scrape(g, now, emit)
			})
			continue
		}
		for _, s := range list {
			if len(s.snap.recs[fam.index]) == 0 {
				continue
			}
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
					series(identity, labels, val)
				}
			}
		}
	}
	return w.Flush()
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
