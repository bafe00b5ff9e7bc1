package exposition

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync"
)

// An answer without compression decompresses every stored family at each
// scrape. compress/flate does that at about half the speed this inflater
// does on the exposition: it takes its input a byte at a time through an
// interface, and its output is copied once more, out of its window into
// the reader's buffer. This inflater reads a segment whole from memory, 64
// bits at a time, and decodes into a window that it writes out in large
// chunks. It decodes what this package compresses (RFC 1951: stored,
// fixed and dynamic blocks; each segment from an empty dictionary), and it
// checks what it reads: a segment that does not decode, which only a bug
// could make, is an error, never a panic or a wrong length.

// errCorrupt: the segment is not a deflate stream of its recorded length.
var errCorrupt = errors.New("corrupt deflate data")

// inflate writes the text of seg to w.
func inflate(w io.Writer, seg *segment) error {
	if seg.size == 0 {
		return nil
	}
	f := inflaters.Get().(*inflater)
	defer inflaters.Put(f)
	written, err := f.run(w, seg.deflate, seg.size)
	var werr writeError
	if errors.As(err, &werr) {
		return werr.err // the client's, not the segment's
	}
	if err != nil {
		return fmt.Errorf("%w: %d of %d bytes: %w", ErrStoredText, written, seg.size, err)
	}
	return nil
}

// writeError is an error of the writer, kept apart from the segment's.
type writeError struct{ err error }

func (e writeError) Error() string { return e.err.Error() }

// outChunk is how much decoded text is written at once; the window keeps
// maxDistance bytes of history before it.
const outChunk = 64 << 10

var inflaters = sync.Pool{New: func() any {
	return &inflater{win: make([]byte, maxDistance+outChunk+maxMatch)}
}}

type inflater struct {
	in    []byte
	pos   int    // the next byte of in to load into bits
	bits  uint64 // loaded and not yet used; the next bit is the lowest
	nbits uint
	over  int // zero bytes loaded past the end of in

	win     []byte // history, then text not yet written
	n       int    // bytes of win in use
	start   int    // win[start:n] is not yet written
	written int64
	limit   int64 // the segment's length: more is corruption

	litLen, dist, lengths huffman
	codeLens              [maxLitLen + maxDist]uint8
}

const (
	maxLitLen = 286
	maxDist   = 30
)

// run decodes in, which holds size bytes of text, into w. It returns how
// much it wrote.
func (f *inflater) run(w io.Writer, in []byte, size int64) (int64, error) {
	f.in, f.pos, f.bits, f.nbits, f.over = in, 0, 0, 0, 0
	f.n, f.start, f.written, f.limit = 0, 0, 0, size
	defer func() { f.in = nil }() // the pool must not keep a snapshot's bytes
	for f.left() > 0 {
		f.refill()
		final := f.take(1)
		var err error
		switch f.take(2) {
		case 0:
			err = f.stored(w)
		case 1:
			err = f.huffmanBlock(w, &fixedLitLen, &fixedDist)
		case 2:
			if err = f.dynamicTables(); err == nil {
				err = f.huffmanBlock(w, &f.litLen, &f.dist)
			}
		default:
			err = errCorrupt
		}
		if err != nil {
			return f.written, err
		}
		if final == 1 {
			break
		}
	}
	if f.left() < 0 {
		return f.written, errCorrupt
	}
	if err := f.flush(w); err != nil {
		return f.written, err
	}
	if f.written != size {
		return f.written, errCorrupt
	}
	return f.written, nil
}

// left is how many bits of in are not yet used; negative once more were
// used than it has.
func (f *inflater) left() int {
	return (len(f.in)-f.pos)*8 + int(f.nbits) - f.over*8
}

// refill loads bits until at least 57 are loaded: enough for a length and
// a distance with their extra bits. Past the end of in it loads zeros,
// which left then counts as overused.
func (f *inflater) refill() {
	if f.nbits > 56 {
		return
	}
	if f.pos+8 <= len(f.in) {
		f.bits |= binary.LittleEndian.Uint64(f.in[f.pos:]) << f.nbits
		k := (63 - f.nbits) >> 3 // whole bytes that fit
		f.pos += int(k)
		f.nbits += k << 3
		f.bits &= 1<<f.nbits - 1 // drop the part of a byte that did not fit
		return
	}
	for f.nbits <= 56 {
		if f.pos < len(f.in) {
			f.bits |= uint64(f.in[f.pos]) << f.nbits
			f.pos++
		} else {
			f.over++
		}
		f.nbits += 8
	}
}

// take uses n loaded bits and returns them.
func (f *inflater) take(n uint) int {
	v := f.bits & (1<<n - 1)
	f.bits >>= n
	f.nbits -= n
	return int(v) //nolint:gosec // n is at most 16 bits
}

// stored copies a stored block.
func (f *inflater) stored(w io.Writer) error {
	f.take(f.nbits % 8) // to the byte boundary
	f.refill()
	length, nlength := f.take(16), f.take(16)
	if length != ^nlength&0xffff {
		return errCorrupt
	}
	// Give back the whole bytes loaded but not used: the block's bytes
	// are copied from in.
	back := int(f.nbits/8) - f.over
	if back < 0 {
		return errCorrupt
	}
	f.pos -= back
	f.bits, f.nbits, f.over = 0, 0, 0
	if length > len(f.in)-f.pos {
		return errCorrupt
	}
	for length > 0 {
		if f.n == len(f.win) {
			if err := f.flush(w); err != nil {
				return err
			}
		}
		k := copy(f.win[f.n:], f.in[f.pos:f.pos+length])
		f.n += k
		f.pos += k
		length -= k
	}
	return nil
}

// huffmanBlock decodes a block coded with litLen and dist.
func (f *inflater) huffmanBlock(w io.Writer, litLen, dist *huffman) error {
	for {
		if f.n > len(f.win)-maxMatch {
			if err := f.flush(w); err != nil {
				return err
			}
		}
		f.refill()
		sym, ok := f.decode(litLen)
		switch {
		case !ok:
			return errCorrupt
		case sym < 256:
			f.win[f.n] = byte(sym) //nolint:gosec // a literal, below 256
			f.n++
			continue
		case sym == 256:
			return nil
		case sym > 285:
			return errCorrupt
		}
		sym -= 257
		length := int(lengthBase[sym]) + f.take(uint(lengthExtra[sym]))
		d, ok := f.decode(dist)
		if !ok || d >= maxDist {
			return errCorrupt
		}
		distance := int(distanceBase[d]) + f.take(uint(distanceExtra[d]))
		if distance > f.n {
			return errCorrupt // before the segment's start
		}
		from := f.n - distance
		if distance >= length {
			copy(f.win[f.n:f.n+length], f.win[from:from+length])
		} else { // the copy repeats what it writes
			for i := range length {
				f.win[f.n+i] = f.win[from+i]
			}
		}
		f.n += length
	}
}

// flush writes the text not yet written and keeps the last maxDistance
// bytes as history.
func (f *inflater) flush(w io.Writer) error {
	if f.n == f.start {
		return nil
	}
	f.written += int64(f.n - f.start)
	if f.written > f.limit || f.left() < 0 {
		return errCorrupt
	}
	if _, err := w.Write(f.win[f.start:f.n]); err != nil {
		return writeError{err}
	}
	if f.n > maxDistance {
		f.n = copy(f.win, f.win[f.n-maxDistance:f.n])
	}
	f.start = f.n
	return nil
}

// codeLengthOrder is the order of the code length code lengths.
var codeLengthOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamicTables reads a dynamic block's code lengths into litLen and dist.
func (f *inflater) dynamicTables() error {
	f.refill()
	nlit, ndist, nclen := f.take(5)+257, f.take(5)+1, f.take(4)+4
	if nlit > maxLitLen || ndist > maxDist {
		return errCorrupt
	}
	var clens [19]uint8
	for i := range nclen {
		f.refill()
		clens[codeLengthOrder[i]] = uint8(f.take(3)) //nolint:gosec // three bits
	}
	if !f.lengths.build(clens[:]) {
		return errCorrupt
	}
	lens := f.codeLens[:nlit+ndist]
	for i := 0; i < len(lens); {
		f.refill()
		sym, ok := f.decode(&f.lengths)
		if !ok {
			return errCorrupt
		}
		var repeat int
		var value uint8
		switch {
		case sym < 16:
			lens[i] = uint8(sym) //nolint:gosec // below 16
			i++
			continue
		case sym == 16:
			if i == 0 {
				return errCorrupt
			}
			repeat, value = 3+f.take(2), lens[i-1]
		case sym == 17:
			repeat = 3 + f.take(3)
		default:
			repeat = 11 + f.take(7)
		}
		if i+repeat > len(lens) {
			return errCorrupt
		}
		for range repeat {
			lens[i] = value
			i++
		}
	}
	if lens[256] == 0 || !f.litLen.build(lens[:nlit]) || !f.dist.build(lens[nlit:]) {
		return errCorrupt
	}
	return nil
}

// huffman decodes a canonical prefix code: codes up to huffmanFastBits
// long by one lookup, longer ones (rare symbols) a bit at a time.
type huffman struct {
	fast  [1 << huffmanFastBits]uint32 // symbol | length<<16; 0: a longer code, or none
	count [16]uint16                   // codes of each length
	syms  [maxLitLen + 2]uint16        // symbols by code
}

const huffmanFastBits = 10

// build makes the code of the given code lengths (0: no code). Like
// compress/flate and zlib, it takes only complete codes, a single code of
// one bit, and no code at all (which then fails to decode anything).
func (h *huffman) build(lengths []uint8) bool {
	h.count = [16]uint16{}
	for _, l := range lengths {
		h.count[l]++
	}
	codes := len(lengths) - int(h.count[0])
	h.count[0] = 0
	left := 1
	for l := 1; l < 16; l++ {
		left = left<<1 - int(h.count[l])
		if left < 0 {
			return false
		}
	}
	if left > 0 && codes > 0 && (codes != 1 || h.count[1] != 1) {
		return false
	}
	var next, offset [16]int
	for l := 1; l < 16; l++ {
		next[l] = (next[l-1] + int(h.count[l-1])) << 1
		offset[l] = offset[l-1] + int(h.count[l-1])
	}
	h.fast = [1 << huffmanFastBits]uint32{}
	for sym, l := range lengths {
		if l == 0 {
			continue
		}
		h.syms[offset[l]] = uint16(sym)
		offset[l]++
		code := next[l]
		next[l]++
		if l > huffmanFastBits {
			continue
		}
		// Codes are sent most significant bit first; bits are read from
		// the lowest up.
		entry := uint32(sym) | uint32(l)<<16
		for i := int(bits.Reverse16(uint16(code)) >> (16 - l)); i < len(h.fast); i += 1 << l { //nolint:gosec // code < 2^l
			h.fast[i] = entry
		}
	}
	return true
}

// decode reads a symbol of h; at least 15 bits must be loaded.
func (f *inflater) decode(h *huffman) (int, bool) {
	if e := h.fast[f.bits&(1<<huffmanFastBits-1)]; e != 0 {
		f.bits >>= e >> 16
		f.nbits -= uint(e >> 16)
		return int(e & 0xffff), true
	}
	// Canonical decoding: the codes of each length follow those of the
	// length before, shifted one bit.
	code, first, index := 0, 0, 0
	b := f.bits
	for l := uint(1); l < 16; l++ {
		code |= int(b & 1)
		b >>= 1
		count := int(h.count[l])
		if code >= first && code < first+count {
			f.take(l)
			return int(h.syms[index+code-first]), true
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, false
}

// The fixed codes (RFC 1951 §3.2.6).
var fixedLitLen, fixedDist = func() (litLen, dist huffman) {
	var lens [288]uint8
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	litLen.build(lens[:])
	var dlens [32]uint8 // 30 and 31 do not occur: decoding them fails
	for i := range dlens {
		dlens[i] = 5
	}
	dist.build(dlens[:])
	return litLen, dist
}()

// Lengths and distances: the base of each code and its extra bits (the
// line coder's fixed length codes are made from the same tables).
var (
	lengthBase = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
		35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra   = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distanceBase  = [maxDist]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distanceExtra = [maxDist]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)
