package exposition

import (
	"encoding/binary"
	"hash/maphash"
)

// fingerprint identifies a family's text by what it is written from:
// equal fingerprints are taken for equal texts. Its 64-bit hash has a
// seed of the process's own, so records made to collide cannot be chosen
// from outside.
type fingerprint struct {
	size int64 // the text's length
	hash uint64
}

var fingerprintSeed = maphash.MakeSeed()

// fingerprinter takes the fingerprints of a refresh's families. A series
// line is made of its family's name, its group's identity labels, its
// pool's labels, its own labels and its value, so the hash takes each
// line's identity and pool as hashes made once and its own labels and
// value as recorded: a family's fingerprint reads its records (3 MB for
// all families at 2,000 groups) instead of writing its text (22 MB).
type fingerprinter struct {
	entries    []entry
	identities []uint64               // by entry: its identity labels' hash
	pools      map[*renderer][]uint64 // by page: its pools' labels' hashes
	h          maphash.Hash
	scratch    []byte
}

func newFingerprinter(entries []entry, pages []*renderer) *fingerprinter {
	fp := &fingerprinter{entries: entries, identities: make([]uint64, len(entries)),
		pools: make(map[*renderer][]uint64, len(pages))}
	for k, e := range entries {
		fp.identities[k] = maphash.Bytes(fingerprintSeed, e.r.metas[e.i].labels)
	}
	for _, r := range pages {
		hashes := make([]uint64, len(r.pools))
		for i, labels := range r.pools {
			hashes[i] = maphash.Bytes(fingerprintSeed, labels)
		}
		fp.pools[r] = hashes
	}
	fp.h.SetSeed(fingerprintSeed)
	return fp
}

// family returns where each group's text of family f starts, and where
// the last one ends, and the text's fingerprint.
func (fp *fingerprinter) family(f int) ([]uint32, fingerprint) {
	fam := families[f]
	starts := make([]uint32, 0, len(fp.entries)+1)
	var size int64
	fp.h.Reset()
	for k, e := range fp.entries {
		starts = append(starts, uint32(size)) // a family's text is far below 4 GiB (aliyun.MaxGroups)
		identity := e.identity(f)
		var id uint64
		if identity != nil {
			id = fp.identities[k]
		}
		for recs := e.r.recs[f].group(e.i); len(recs) > 0; {
			pool, n := binary.Uvarint(recs)
			var poolLabels []byte
			var poolHash uint64
			if pool > 0 {
				poolLabels, poolHash = e.r.pools[pool-1], fp.pools[e.r][pool-1]
			}
			_, own, val, rest := nextRecord(recs)
			size += int64(seriesLen(fam, identity, poolLabels, own, val))
			// The record without its page's pool number, which is
			// self-delimiting: own labels' length, own labels, value's
			// length, value.
			b := binary.LittleEndian.AppendUint64(fp.scratch, id)
			b = binary.LittleEndian.AppendUint64(b, poolHash)
			fp.scratch = append(b, recs[n:len(recs)-len(rest)]...)
			if len(fp.scratch) >= 32<<10 {
				fp.hash() // in large writes: a write per record cost as much as the rest
			}
			recs = rest
		}
	}
	fp.hash()
	starts = append(starts, uint32(size))
	return starts, fingerprint{size: size, hash: fp.h.Sum64()}
}

// hash takes what scratch holds into the hash.
func (fp *fingerprinter) hash() {
	_, _ = fp.h.Write(fp.scratch) // never fails
	fp.scratch = fp.scratch[:0]
}

// seriesLen is the length of the line writeSeries writes.
func seriesLen(fam *family, identity, pool, own, val []byte) int {
	n := len(fam.name) + len("{} \n") + len(val)
	parts := 0
	for _, labels := range [3][]byte{identity, pool, own} {
		if len(labels) > 0 {
			n += len(labels)
			parts++
		}
	}
	return n + max(parts-1, 0) // the commas between
}
