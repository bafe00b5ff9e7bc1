package exposition

import (
	"encoding/binary"
	"slices"
	"time"
)

// A clock-dependent family's lines change between scrapes only in their
// values: each line's prefix (name, labels and "} ") is the same from
// refresh to refresh. A program, made once per refresh, codes every prefix
// as deflate literals and back-references to earlier prefixes of the same
// family, found by an LZ77 search then. A gzip scrape only replays it and
// codes the values as literals: the search, which is what made
// compressing these lines cost most of a cached scrape, is not made again.
//
// At the scrape, values lie between the prefixes, so a back-reference's
// distance is taken then, from where the two lines were written. The
// program covers the lines the family had when it was made; a line that
// is not written at a scrape (a scheduled window that has ended since),
// or that lies too far back with the values in between, is coded as
// literals where it is referred to, and a line the program lacks is coded
// as literals.
type program struct {
	// slot[at[g]+line] is the program line of group g's line (see
	// scraped), or -1 when it has none.
	at    []int32
	slot  []int32
	lines []programLine // one more at the end, whose tok ends the last
	toks  []token
	lits  []byte
}

type programLine struct {
	tok uint32 // its tokens are toks[tok:next line's tok]
}

// token is a literal run (lits[from:from+n]) or a back-reference of n bytes
// to lines back lines before (0: the same line), from its offset from.
type token struct {
	n, from, back uint32
}

const literalRun = 1 << 31 // set in token.n for a literal run

// programWindow bounds the distance a program's references span between
// prefixes; the values written between them at a scrape must still fit in
// deflate's 32 KiB.
const programWindow = 24 << 10

// makePrograms makes the program of each clock-dependent family.
func makePrograms(groups []groupMeta, now time.Time) []*program {
	programs := make([]*program, len(families))
	for _, fam := range families {
		if fam.scrape != nil {
			programs[fam.index] = makeProgram(fam, groups, now)
		}
	}
	return programs
}

// makeProgram makes the program of a clock-dependent family over groups,
// with the lines the family writes at now.
func makeProgram(fam *family, groups []groupMeta, now time.Time) *program {
	p := &program{at: make([]int32, len(groups))}
	var stream []byte // the prefixes, each ended by '\n', which no prefix holds
	var starts []int
	for gi := range groups {
		g := &groups[gi]
		p.at[gi] = int32(len(p.slot)) //nolint:gosec // lines of a family are far fewer than 2^31
		n := 1
		if fam.subject == poolSubject {
			n = len(g.schedules)
		}
		for range n {
			p.slot = append(p.slot, -1)
		}
		fam.scrape(g, now, func(line int, _ float64) {
			p.slot[int(p.at[gi])+line] = int32(len(starts)) //nolint:gosec // as above
			starts = append(starts, len(stream))
			stream = appendPrefix(stream, fam, g, line)
			stream = append(stream, '\n')
		})
	}
	if len(starts) == 0 {
		return nil
	}
	starts = append(starts, len(stream))
	p.search(stream, starts)
	return p
}

// appendPrefix appends what line of the family writes for g before its
// value.
func appendPrefix(b []byte, fam *family, g *groupMeta, line int) []byte {
	b = append(b, fam.name...)
	b = append(b, '{')
	b = append(b, g.labels...)
	if pool := g.poolLabels(fam, line); len(pool) > 0 {
		if len(g.labels) > 0 {
			b = append(b, ',')
		}
		b = append(b, pool...)
	}
	return append(b, "} "...)
}

// search finds, greedily, the longest earlier match for each position of
// each prefix of stream (lines start at starts), following hash chains of
// four bytes.
func (p *program) search(stream []byte, starts []int) {
	const (
		hashBits = 15
		depth    = 16 // candidates tried per position
		minLen   = 4  // shorter references code no smaller than literals
	)
	head := make([]int32, 1<<hashBits)
	for i := range head {
		head[i] = -1
	}
	prev := make([]int32, programWindow) // chain links, by position mod the window
	hashAt := func(i int) uint32 {
		return binary.LittleEndian.Uint32(stream[i:]) * 2654435761 >> (32 - hashBits)
	}
	insert := func(i int) {
		if i+4 <= len(stream) {
			h := hashAt(i)
			prev[i%programWindow] = head[h]
			head[h] = int32(i) //nolint:gosec // stream is far below 2 GiB
		}
	}
	for k := range len(starts) - 1 {
		start, end := starts[k], starts[k+1]-1                           // end: the '\n'
		p.lines = append(p.lines, programLine{tok: uint32(len(p.toks))}) //nolint:gosec // short
		litFrom := start
		flush := func(i int) { // the literals before i
			if i > litFrom {
				p.toks = append(p.toks, token{n: uint32(i-litFrom) | literalRun, from: uint32(len(p.lits))}) //nolint:gosec // short
				p.lits = append(p.lits, stream[litFrom:i]...)
			}
		}
		for i := start; i < end; {
			bestLen, bestAt := 0, 0
			if end-i >= minLen {
				cand := int(head[hashAt(i)])
				for tries := 0; cand >= 0 && i-cand <= programWindow && tries < depth; tries++ {
					if l := prefixMatch(stream[cand:], stream[i:end]); l > bestLen {
						bestLen, bestAt = l, cand
					}
					next := int(prev[cand%programWindow])
					if next >= cand {
						break // the link was overwritten by a newer position: the chain ends
					}
					cand = next
				}
			}
			if bestLen < minLen {
				insert(i)
				i++
				continue
			}
			flush(i)
			src := sortSearch(starts, bestAt)
			p.toks = append(p.toks, token{n: uint32(bestLen), from: uint32(bestAt - starts[src]), back: uint32(k - src)}) //nolint:gosec // short
			for j := i; j < i+bestLen; j++ {
				insert(j)
			}
			i += bestLen
			litFrom = i
		}
		flush(end)
		insert(end) // positions that start with the '\n' match nothing, but keep the chain whole
	}
	p.lines = append(p.lines, programLine{tok: uint32(len(p.toks))}) //nolint:gosec // short
}

// prefixMatch is how many bytes of want src repeats, stopping at a '\n'
// of src: a reference stays within one prefix.
func prefixMatch(src, want []byte) int {
	n := commonPrefix(src, want)
	for i := range n {
		if src[i] == '\n' {
			return i
		}
	}
	return n
}

// sortSearch is the line that position i of the stream lies in.
func sortSearch(starts []int, i int) int {
	k, found := slices.BinarySearch(starts, i)
	if found {
		return k
	}
	return k - 1
}

// lineOf is the program line of group gi's line, or -1.
func (p *program) lineOf(gi, line int) int {
	if p == nil {
		return -1
	}
	return int(p.slot[int(p.at[gi])+line])
}

// fits tells whether every reference of program line pl, written at
// text offset at, can be made: the line it refers to was written at this
// scrape (pos[l] >= 0), and lies within deflate's window.
func (p *program) fits(pl int, at int64, pos []int64) bool {
	off := int64(0)
	for _, t := range p.toks[p.lines[pl].tok:p.lines[pl+1].tok] {
		if t.n&literalRun == 0 && t.back > 0 { // within the line, a reference always fits
			src := pos[pl-int(t.back)]
			if src < 0 || at+off-src-int64(t.from) > maxDistance {
				return false
			}
		}
		off += int64(t.n &^ literalRun)
	}
	return true
}
