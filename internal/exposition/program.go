package exposition

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"slices"
	"time"
)

// A clock-dependent family's lines change between scrapes only in their
// values: each line's prefix (name, labels and "} ") is the same from
// refresh to refresh. A program, made once per refresh, codes every prefix
// as deflate literals and back-references to earlier prefixes of the same
// family, found by an LZ77 search then. A gzip scrape only replays it and
// writes the values (see lineCoder): the search, which is what made
// compressing these lines cost most of a cached scrape, is not made again.
//
// At the scrape, values lie between the prefixes, so a back-reference's
// distance is taken then, from where the two lines were written. The
// program covers the lines the family had when it was made; a line that
// is not written at a scrape (a scheduled window that has ended since),
// or that lies too far back with the values in between, is coded as
// literals where it is referred to, and a line the program lacks is coded
// as literals.
//
// Most values keep their length from scrape to scrape (a countdown loses
// a digit only when it crosses a power of ten, or a trailing zero of its
// milliseconds), and then so do the distances. Each prefix is therefore
// also coded whole when the program is made, with the distances its lines
// would have if every value had its expected length (valueLen); a scrape
// copies that code as it is (every line starts on a byte boundary, see
// lineCoder), while the text between the line and the lines it refers to
// has the lengths expected, and replays the tokens otherwise.
type program struct {
	// slot[at[g]+line] is the program line of group g's line (see
	// scraped), or -1 when it has none.
	at    []int32
	slot  []int32
	lines []programLine // one more at the end, whose tok ends the last
	toks  []token
	bits  []uint32 // the literal runs' codes, packed (see addLiterals)
	coded []byte   // the prefixes coded whole (see precode)
	// shifts[lines[l].shift] moves a CRC past line l's prefix.
	shifts []crcShift
}

type programLine struct {
	tok uint32 // its tokens are toks[tok:next line's tok]
	// Its prefix coded whole is coded[coded:coded+ncoded]; ncoded is 0
	// when the line has none (a reference of it lay beyond deflate's
	// window as made).
	coded, ncoded uint32
	// reach is how many lines back its furthest reference goes (0: none
	// but within the line); size is its prefix's length, and valueLen
	// that of its value and '\n' as expected.
	reach, size, valueLen uint32
	// crc is the CRC-32 of the prefix, and shifts[shift] moves a CRC past
	// it: a scrape takes the CRC of the text with them (prefixCRC) and
	// not from the prefix's bytes, scattered over the groups' labels.
	crc, shift uint32
}

// token is a back-reference of n bytes to lines back lines before (0: the
// same line), from its offset from; or, with literalRun set in n, a run of
// n literals whose back codes (in bits) are packed from bits[from].
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
	m := &programMaker{head: make([]int32, 1<<programHashBits), prev: make([]int32, programWindow)}
	m.emit = m.line
	for _, fam := range families {
		if fam.scrape != nil {
			programs[fam.index] = m.make(fam, groups, now)
		}
	}
	return programs
}

// programMaker makes programs, one family after another, with the same
// buffers.
type programMaker struct {
	p      *program
	fam    *family
	g      *groupMeta
	gi     int
	stream []byte // the prefixes, each ended by '\n', which no prefix holds
	starts []int
	// valueLens are the expected lengths of the lines' values, value the
	// last one written, and coder codes the prefixes whole.
	valueLens []uint32
	value     []byte
	coder     lineCoder
	head      []int32 // by hash: the latest position, or -1
	prev      []int32 // by position mod programWindow: the one before with its hash
	emit      scraped
}

// make makes the program of a clock-dependent family over groups, with
// the lines the family writes at now.
func (m *programMaker) make(fam *family, groups []groupMeta, now time.Time) *program {
	m.p, m.fam = &program{at: make([]int32, len(groups))}, fam
	m.stream, m.starts = m.stream[:0], m.starts[:0]
	for gi := range groups {
		m.g, m.gi = &groups[gi], gi
		m.p.at[gi] = int32(len(m.p.slot)) //nolint:gosec // lines of a family are far fewer than 2^31
		n := 1
		if fam.subject == poolSubject {
			n = len(m.g.schedules)
		}
		for range n {
			m.p.slot = append(m.p.slot, -1)
		}
		fam.scrape(m.g, now, m.emit)
	}
	p := m.p
	m.p, m.fam, m.g = nil, nil, nil
	if len(m.starts) == 0 {
		return nil
	}
	m.starts = append(m.starts, len(m.stream))
	m.search(p)
	m.precode(p)
	return p
}

func (m *programMaker) line(line int, x float64) {
	m.p.slot[int(m.p.at[m.gi])+line] = int32(len(m.starts)) //nolint:gosec // as above
	m.starts = append(m.starts, len(m.stream))
	m.stream = appendPrefix(m.stream, m.fam, m.g, line)
	m.stream = append(m.stream, '\n')
	m.value = appendValue(m.value[:0], x)
	m.valueLens = append(m.valueLens, expectedValueLen(m.value))
}

// expectedValueLen is the length a value written as v (and its '\n') is
// expected to have at later scrapes: a fraction, which is most often a
// number of milliseconds, with all three of their digits.
func expectedValueLen(v []byte) uint32 {
	n := len(v)
	if dot := bytes.IndexByte(v, '.'); dot >= 0 && n-dot-1 < 3 {
		n = dot + 4
	}
	return uint32(n + 1) //nolint:gosec // short
}

// precode codes each line's prefix whole, at the place it would have if
// the program's lines were written one after the other with values of
// their expected lengths.
func (m *programMaker) precode(p *program) {
	c := &m.coder
	pos := make([]int64, len(p.lines)-1)
	at := int64(0)
	shiftOf := map[uint32]uint32{} // by prefix length: its index in p.shifts
	for pl := range pos {
		line := &p.lines[pl]
		line.valueLen = m.valueLens[pl]
		for _, t := range p.toks[line.tok:p.lines[pl+1].tok] {
			line.size += t.n &^ literalRun
			if t.n&literalRun == 0 {
				line.reach = max(line.reach, t.back)
			}
		}
		line.crc = crc32.ChecksumIEEE(m.stream[m.starts[pl] : m.starts[pl+1]-1])
		k, ok := shiftOf[line.size]
		if !ok {
			k = uint32(len(p.shifts)) //nolint:gosec // far fewer than 2^32
			shiftOf[line.size] = k
			p.shifts = append(p.shifts, newCRCShift(int64(line.size)))
		}
		line.shift = k
		if p.fits(pl, at, pos) {
			// From a byte boundary between blocks: a block of fixed codes
			// opens, the prefix, the block ends and the value's stored
			// block starts, on a byte boundary.
			c.reset()
			c.size = at
			c.programLine(p, pl, pos)
			c.toStored()
			line.coded, line.ncoded = uint32(len(p.coded)), uint32(len(c.dst)) //nolint:gosec // short
			p.coded = append(p.coded, c.dst...)
		}
		pos[pl] = at
		at += int64(line.size) + int64(line.valueLen)
	}
	m.valueLens = m.valueLens[:0]
}

// prefixCRC is crc, the CRC-32 of the text before program line pl, moved
// past the line's prefix: the CRC of the text up to its value.
func (p *program) prefixCRC(pl int, crc uint32) uint32 {
	line := &p.lines[pl]
	return p.shifts[line.shift].apply(crc) ^ line.crc
}

// crcShift multiplies by x^(8n) modulo the CRC polynomial, as multModP
// with xPow8N(n) does, with a table for each of the eight 4-bit digits
// of the other factor: some ten operations instead of a loop over its 32
// bits. CRC(a‖b) is CRC(a) moved past b's n bytes plus CRC(b).
type crcShift [8][16]uint32

func newCRCShift(n int64) crcShift {
	var t crcShift
	k := xPow8N(n)
	for d := range t {
		for v := range t[d] {
			t[d][v] = multModP(k, uint32(v)<<(4*d))
		}
	}
	return t
}

func (t *crcShift) apply(crc uint32) uint32 {
	return t[0][crc&15] ^ t[1][crc>>4&15] ^ t[2][crc>>8&15] ^ t[3][crc>>12&15] ^
		t[4][crc>>16&15] ^ t[5][crc>>20&15] ^ t[6][crc>>24&15] ^ t[7][crc>>28]
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

const (
	programHashBits = 15
	programDepth    = 8 // candidates tried per position
	programMinMatch = 4 // shorter references code no smaller than literals
)

// search finds for p, greedily, the longest earlier match for each
// position of each prefix of the stream, following hash chains of four
// bytes.
func (m *programMaker) search(p *program) {
	stream, starts := m.stream, m.starts
	for i := range m.head {
		m.head[i] = -1
	}
	hashAt := func(i int) uint32 {
		return binary.LittleEndian.Uint32(stream[i:]) * 2654435761 >> (32 - programHashBits)
	}
	insert := func(i int) {
		if i+4 <= len(stream) {
			h := hashAt(i)
			m.prev[i%programWindow] = m.head[h]
			m.head[h] = int32(i) //nolint:gosec // stream is far below 2 GiB
		}
	}
	p.lines = make([]programLine, 0, len(starts))
	p.toks = make([]token, 0, 4*len(starts))
	for k := range len(starts) - 1 {
		start, end := starts[k], starts[k+1]-1                           // end: the '\n'
		p.lines = append(p.lines, programLine{tok: uint32(len(p.toks))}) //nolint:gosec // short
		litFrom := start
		for i := start; i < end; {
			bestLen, bestAt := 0, 0
			if end-i >= programMinMatch {
				cand := int(m.head[hashAt(i)])
				for tries := 0; cand >= 0 && i-cand <= programWindow && tries < programDepth; tries++ {
					if l := prefixMatch(stream[cand:], stream[i:end]); l > bestLen {
						bestLen, bestAt = l, cand
					}
					next := int(m.prev[cand%programWindow])
					if next >= cand {
						break // the link was overwritten by a newer position: the chain ends
					}
					cand = next
				}
			}
			if bestLen < programMinMatch {
				insert(i)
				i++
				continue
			}
			p.addLiterals(stream[litFrom:i])
			src := sortSearch(starts, bestAt)
			p.toks = append(p.toks, token{n: uint32(bestLen), from: uint32(bestAt - starts[src]), back: uint32(k - src)}) //nolint:gosec // short
			for j := i; j < i+bestLen; j++ {
				insert(j)
			}
			i += bestLen
			litFrom = i
		}
		p.addLiterals(stream[litFrom:end])
		insert(end) // positions that start with the '\n' match nothing, but keep the chain whole
	}
	p.lines = append(p.lines, programLine{tok: uint32(len(p.toks))}) //nolint:gosec // short
}

// addLiterals adds a literal run of b, if any, with its fixed codes packed
// in stream order into 32-bit words, the last one partly filled: a scrape
// then puts a word at a time instead of looking up each byte's code.
func (p *program) addLiterals(b []byte) {
	if len(b) == 0 {
		return
	}
	from, nbits := len(p.bits), 0
	var acc uint64
	var nacc uint
	for _, x := range b {
		code := fixedLiteral[x]
		acc |= uint64(code&0xffff) << nacc
		nacc += uint(code >> 16)
		nbits += int(code >> 16)
		if nacc >= 32 {
			p.bits = append(p.bits, uint32(acc)) //nolint:gosec // the lowest 32 bits, as meant
			acc >>= 32
			nacc -= 32
		}
	}
	if nacc > 0 {
		p.bits = append(p.bits, uint32(acc))
	}
	p.toks = append(p.toks, token{n: uint32(len(b)) | literalRun, from: uint32(from), back: uint32(nbits)}) //nolint:gosec // short
}

// prefixMatch is how many bytes of want src repeats, stopping at a '\n'
// of src: a reference stays within one prefix.
func prefixMatch(src, want []byte) int {
	n := commonPrefix(src, want)
	if k := bytes.IndexByte(src[:n], '\n'); k >= 0 {
		return k
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
