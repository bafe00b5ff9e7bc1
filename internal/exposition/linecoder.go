package exposition

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/bits"
	"sync"
)

// lineCoder compresses the text a scrape writes anew into one piece of
// the gzip answer, with deflate's fixed Huffman codes (RFC 1951 §3.2.6):
// nothing is counted or built per scrape. Two kinds of text go in:
//
//   - the clock-dependent families, whose prefixes their snapshot's
//     programs code (program.go), and whose values go as they are;
//   - other text (HELP/TYPE lines, the exporter's own metrics), through
//     Write, which codes each line against the line before it: where the
//     two agree at the aligned position, one back-reference; where they
//     differ, literals up to the next '"' (the end of a differing label
//     value), where the two are aligned again. No search is made.
//
// A clock-dependent line's value goes in a stored block of its own, as
// it is (RFC 1951 §3.2.4): a block ends, a stored one starts on a byte
// boundary, and a new block of fixed codes starts after the value, on a
// byte boundary again. Some six bytes more a line than literals, but
// every line then starts on a byte boundary, so a prefix coded when its
// program was made, its block's start and end included, is copied as
// bytes, and the value's bytes are copied as they are: no bits are
// shifted at a scrape.
//
// Like every piece, it starts from an empty dictionary, refers back no
// further than its own text, and ends on a byte boundary after a
// non-final stored block.
type lineCoder struct {
	dst     []byte // the compressed piece so far
	acc     uint64 // bits not yet in dst, the first in the lowest bit
	nacc    uint
	last    []byte // the last whole line coded, its '\n' included
	partial []byte // text after the last '\n' written
	value   []byte // valueLine's text
	crc     uint32
	size    int64 // of the text
	started bool
	block   blockState
	pool    *sync.Pool // where it came from
}

// blockState is where the coder is in deflate's blocks.
type blockState uint8

const (
	betweenBlocks blockState = iota // on a byte boundary
	inFixedBlock                    // a block of fixed codes is open
	inStoredBlock                   // a stored block's header is written: its length is next
)

// Coders are pooled by what they code: an answer's own text (headers,
// the exporter's metrics: a few kilobytes, held while a client reads) and
// the clock-dependent families (tens of kilobytes, held only while being
// coded). A coder's buffer keeps the size of the largest piece it coded;
// with one pool, each answer in flight would hold a large one.
var (
	textCoders  = sync.Pool{New: func() any { return new(lineCoder) }}
	clockCoders = sync.Pool{New: func() any { return new(lineCoder) }}
)

// newLineCoder takes a coder from pool; release gives it back.
func newLineCoder(pool *sync.Pool) *lineCoder {
	c := pool.Get().(*lineCoder)
	c.pool = pool
	return c
}

// Write codes each whole line of b as it comes, keeping a line split
// between writes until its end.
func (c *lineCoder) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.begin()
	c.crc = crc32.Update(c.crc, crc32.IEEETable, b)
	c.size += int64(len(b))
	n := len(b)
	if len(c.partial) > 0 {
		k := bytes.IndexByte(b, '\n')
		if k < 0 {
			c.partial = append(c.partial, b...)
			return n, nil
		}
		c.partial = append(c.partial, b[:k+1]...)
		c.code(c.last, c.partial)
		c.last, c.partial = c.partial, c.last[:0]
		b = b[k+1:]
	}
	prev, fromB := c.last, false
	for {
		k := bytes.IndexByte(b, '\n')
		if k < 0 {
			break
		}
		line := b[:k+1]
		c.code(prev, line)
		prev, fromB = line, true
		b = b[k+1:]
	}
	if fromB {
		c.last = append(c.last[:0], prev...)
	}
	c.partial = append(c.partial[:0], b...)
	return n, nil
}

// end codes what is left, closes the piece and returns it with its text's
// CRC-32 and length. The bytes are the coder's: valid until it is reset.
func (c *lineCoder) end() (piece []byte, crc uint32, size int64) {
	if !c.started {
		return nil, 0, 0
	}
	if len(c.partial) > 0 {
		c.code(c.last, c.partial)
	}
	c.toByteBoundary()
	return c.dst, c.crc, c.size
}

// toByteBoundary ends the open block, if any, on a byte boundary: a block
// of fixed codes with an empty stored block after it, a stored block
// empty.
func (c *lineCoder) toByteBoundary() {
	if c.block == betweenBlocks {
		return
	}
	c.toStored()
	c.dst = append(c.dst, 0, 0, 0xff, 0xff) // LEN 0 and its complement
	c.block = betweenBlocks
}

// toStored starts a stored block, non-final, ending the block of fixed
// codes that is open: its length and bytes come next.
func (c *lineCoder) toStored() {
	c.started = true
	switch c.block {
	case inStoredBlock:
		return
	case inFixedBlock:
		c.put(0, 7) // end of block: code 256 is seven zero bits
		c.put(0, 3) // BFINAL 0, BTYPE 00
		for c.nacc > 0 {
			c.dst = append(c.dst, byte(c.acc)) //nolint:gosec // the lowest byte, as meant
			c.acc >>= 8
			c.nacc = c.nacc - min(c.nacc, 8)
		}
		c.acc = 0
	default:
		c.dst = append(c.dst, 0) // the header's three bits, and the byte's rest
	}
	c.block = inStoredBlock
}

// stored writes b, at most 65,535 bytes, as a stored block's content.
func (c *lineCoder) stored(b []byte) {
	c.toStored()
	var lens [4]byte                                         // LEN and its complement, NLEN
	binary.LittleEndian.PutUint16(lens[:], uint16(len(b)))   //nolint:gosec // short, as documented
	binary.LittleEndian.PutUint16(lens[2:], ^uint16(len(b))) //nolint:gosec // as above
	c.dst = append(c.dst, lens[:]...)
	c.dst = append(c.dst, b...)
	c.block = betweenBlocks
}

// reset empties the coder for the next piece, keeping its buffers.
func (c *lineCoder) reset() {
	c.dst, c.last, c.partial = c.dst[:0], c.last[:0], c.partial[:0]
	c.acc, c.nacc, c.crc, c.size, c.started, c.block = 0, 0, 0, 0, false, betweenBlocks
}

// begin opens a block of fixed codes, unless one is open.
func (c *lineCoder) begin() {
	c.started = true
	if c.block == inFixedBlock {
		return
	}
	c.toByteBoundary()
	c.put(fixedBlockHeader, 3)
	c.block = inFixedBlock
}

// release returns the coder to its pool, dropping buffers that a very
// large piece grew, so that the pool does not keep them.
func (c *lineCoder) release() {
	if cap(c.dst) > 4<<20 {
		c.dst = nil
	}
	c.reset()
	c.pool.Put(c)
}

// Text the scrape coder writes is coded apart from Write: a line it codes
// is not the one before the next line Write codes, and the CRC of a
// prefix is added by the caller.

// literalText codes b as literals, without its CRC.
func (c *lineCoder) literalText(b []byte) {
	c.begin()
	c.last = c.last[:0]
	c.literals(b)
	c.size += int64(len(b))
}

// programLine codes the prefix of program line pl, which program.fits,
// without its CRC, at the text's end; pos[l] is where program line l was
// written (-1: not), and pos[pl] is set.
func (c *lineCoder) programLine(p *program, pl int, pos []int64) {
	c.begin()
	c.last = c.last[:0]
	line := &p.lines[pl]
	at := c.size
	pos[pl] = at
	off := int64(0)
	for _, t := range p.toks[line.tok:p.lines[pl+1].tok] {
		if t.n&literalRun != 0 {
			c.packed(p.bits[t.from:], uint(t.back))
			off += int64(t.n &^ literalRun)
			continue
		}
		c.match(int(t.n), int(at+off-pos[pl-int(t.back)]-int64(t.from)))
		off += int64(t.n)
	}
	c.size += off
}

// precodedLine codes the prefix of program line pl, as coded whole when
// the program was made (precode: its block's start, and its end up to the
// value's stored block), without its CRC, at the text's end; the text
// since each line it refers to must be what the program expected. It sets
// pos[pl].
func (c *lineCoder) precodedLine(p *program, pl int, pos []int64) {
	c.toByteBoundary()
	c.started = true
	c.last = c.last[:0]
	line := &p.lines[pl]
	pos[pl] = c.size
	c.dst = append(c.dst, p.coded[line.coded:line.coded+line.ncoded]...)
	c.block = inStoredBlock
	c.size += int64(line.size)
}

// valueLine writes the text of value x and its '\n' in a stored block,
// with their CRC, at the text's end, and returns their length.
func (c *lineCoder) valueLine(x float64) int {
	c.last = c.last[:0]
	c.value = append(appendValue(c.value[:0], x), '\n')
	c.stored(c.value)
	c.crc = updateShort(c.crc, c.value)
	c.size += int64(len(c.value))
	return len(c.value)
}

// addCRC adds to the piece's CRC text coded by literalText and programLine.
func (c *lineCoder) addCRC(b []byte) {
	c.crc = crc32.Update(c.crc, crc32.IEEETable, b)
}

// fixedBlockHeader starts a block: BFINAL=0, BTYPE=01 (fixed codes).
const fixedBlockHeader = 0b010

// maxDistance and maxMatch bound a deflate back-reference; minMatch is
// the shortest that codes smaller than its literals.
const (
	maxDistance = 32768
	maxMatch    = 258
	minMatch    = 3
)

// code codes line, which follows prev in the text.
func (c *lineCoder) code(prev, line []byte) {
	i, j := 0, 0
	for i < len(line) {
		if j >= len(prev) {
			c.literals(line[i:])
			return
		}
		// At aligned positions, line[i] lies len(prev)-j+i bytes after prev[j].
		if l := commonPrefix(line[i:], prev[j:]); l >= minMatch {
			if d := len(prev) - j + i; d <= maxDistance {
				c.match(l, d)
				i += l
				j += l
				continue
			}
		}
		// They differ, most often inside a label value: literals up to the
		// next '"' of line, where prev is taken up at its own next '"'.
		qi, qj := nextQuote(line, i), nextQuote(prev, j)
		if qi == i && qj == j { // both at a '"', and what follows differs
			qi, qj = nextQuote(line, i+1), nextQuote(prev, j+1)
		}
		c.literals(line[i:qi])
		i, j = qi, qj
	}
}

// nextQuote is the index of the first '"' of b at or after from, or len(b).
func nextQuote(b []byte, from int) int {
	if from >= len(b) {
		return len(b)
	}
	if k := bytes.IndexByte(b[from:], '"'); k >= 0 {
		return from + k
	}
	return len(b)
}

func (c *lineCoder) literals(b []byte) {
	// Bytes below 144 (digits, ASCII label text) have 8-bit codes: the
	// byte plus 0x30, its bits reversed. Eight ASCII bytes are coded at
	// once, as one word (a value and its '\n' are one or two); else four
	// go in one put, their codes looked up.
	for len(b) >= 4 {
		if len(b) >= 8 {
			if w := binary.LittleEndian.Uint64(b); w&0x8080808080808080 == 0 {
				codes := bits.ReverseBytes64(bits.Reverse64(w + 0x3030303030303030))
				c.put(codes&0xffffffff, 32)
				c.put(codes>>32, 32)
				b = b[8:]
				continue
			}
		}
		c0, c1, c2, c3 := fixedLiteral[b[0]], fixedLiteral[b[1]], fixedLiteral[b[2]], fixedLiteral[b[3]]
		b = b[4:]
		if (c0|c1|c2|c3)>>16 != 8 {
			for _, code := range [4]uint32{c0, c1, c2, c3} {
				c.put(uint64(code&0xffff), uint(code>>16))
			}
			continue
		}
		c.put(uint64(c0&0xff|c1&0xff<<8|c2&0xff<<16|c3&0xff<<24), 32)
	}
	for _, x := range b {
		code := fixedLiteral[x]
		c.put(uint64(code&0xffff), uint(code>>16))
	}
}

// packed puts nbits bits packed in words, 32 to a word.
func (c *lineCoder) packed(words []uint32, nbits uint) {
	for ; nbits >= 32; nbits -= 32 {
		c.put(uint64(words[0]), 32)
		words = words[1:]
	}
	if nbits > 0 {
		c.put(uint64(words[0]), nbits)
	}
}

// commonPrefix is the length of the longest common prefix of a and b,
// compared eight bytes at a time.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// match codes a back-reference of length l at distance d, in pieces of
// at most maxMatch bytes.
func (c *lineCoder) match(l, d int) {
	dist, distBits := distanceCode(d)
	for l > 0 {
		n := min(l, maxMatch)
		if l-n > 0 && l-n < minMatch {
			n = l - minMatch // leave a last piece long enough to be a match
		}
		code := fixedLength[n]
		c.put(uint64(code&0xffffff)|dist<<(code>>24), uint(code>>24)+distBits)
		l -= n
	}
}

// put appends the n lowest bits of v (n <= 32) to the stream.
func (c *lineCoder) put(v uint64, n uint) {
	c.acc |= v << c.nacc
	c.nacc += n
	if c.nacc >= 32 {
		c.dst = binary.LittleEndian.AppendUint32(c.dst, uint32(c.acc)) //nolint:gosec // the lowest 32 bits, as meant
		c.acc >>= 32
		c.nacc -= 32
	}
}

// Fixed codes, as bits in stream order (Huffman codes are sent most
// significant bit first, so they are stored reversed) with their length
// above: fixedLiteral[b] is literal b (length in bits 16 and up);
// fixedLength[n] is length n's code with its extra bits (length in bits
// 24 and up).
var fixedLiteral, fixedLength = fixedCodes()

func fixedCodes() (lit [256]uint32, length [maxMatch + 1]uint32) {
	for b := range 256 {
		if b < 144 {
			lit[b] = 8<<16 | reversed(0x30+b, 8)
		} else {
			lit[b] = 9<<16 | reversed(0x190+b-144, 9)
		}
	}
	// Length codes 257..285 (lengthBase, lengthExtra).
	for k := len(lengthBase) - 1; k >= 0; k-- {
		base, extra := int(lengthBase[k]), int(lengthExtra[k])
		sym := 257 + k
		var code uint32
		var n int
		if sym < 280 {
			code, n = reversed(sym-256, 7), 7
		} else {
			code, n = reversed(0xc0+sym-280, 8), 8
		}
		for l := base; l < base+1<<extra && l <= maxMatch; l++ {
			if length[l] == 0 {
				length[l] = uint32(n+extra)<<24 | code | uint32(l-base)<<n //nolint:gosec // small
			}
		}
	}
	return lit, length
}

// distanceCode is distance d's fixed code (five bits) with its extra bits,
// in stream order, and their number.
func distanceCode(d int) (uint64, uint) {
	x := uint64(d - 1) //nolint:gosec // 1 <= d <= maxDistance
	if x < 4 {
		return uint64(reversed(int(x), 5)), 5
	}
	nb := uint(bits.Len64(x)) - 1
	sym := 2*nb + uint(x>>(nb-1))&1
	extraBits := nb - 1
	return uint64(reversed(int(sym), 5)) | (x&(1<<extraBits-1))<<5, 5 + extraBits
}

// reversed is the n lowest bits of v in reverse order.
func reversed(v, n int) uint32 {
	return bits.Reverse32(uint32(v)) >> (32 - n) //nolint:gosec // v < 2^n
}
