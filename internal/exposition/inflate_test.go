package exposition

import (
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// flateSegment compresses text at level as a segment: flushed at the
// given cuts (each flush ends a block with an empty stored one), and at
// the end, with no final block.
func flateSegment(t testing.TB, text []byte, level int, cuts []int) segment {
	t.Helper()
	var b bytes.Buffer
	fw, err := flate.NewWriter(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	rest := text
	for _, n := range cuts {
		n = min(n, len(rest))
		fw.Write(rest[:n])
		rest = rest[n:]
		fw.Flush()
	}
	fw.Write(rest)
	fw.Flush()
	return newSegment(b.Bytes(), 0, int64(len(text)))
}

// inflateTexts are texts for the inflater: exposition lines, text that
// does not compress (stored blocks), long runs (references that overlap
// what they write), references as far back as deflate allows, and texts
// longer than its window and its chunk.
func inflateTexts() map[string][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 100<<10)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	var lines strings.Builder
	for i := range 6000 {
		lines.WriteString(`aliyun_appstream_group_info{group_id="aig-`)
		lines.WriteString(strings.Repeat(string(rune('a'+i%26)), 1+i%7))
		lines.WriteString(`",region="cn-hangzhou",name="组`)
		lines.WriteString(strings.Repeat("9", i%13))
		lines.WriteString("\"} 1\n")
	}
	texts := map[string][]byte{
		"one byte":   []byte("x"),
		"lines":      []byte(lines.String()),
		"random":     random,
		"run":        bytes.Repeat([]byte{'0'}, 300<<10),
		"short runs": bytes.Repeat([]byte("ab"), 70000),
		// references that reach back the whole window, after it moved
		"window apart": bytes.Repeat(random[:maxDistance], 6),
	}
	var mixed []byte
	for _, k := range []string{"lines", "random", "run", "lines"} {
		mixed = append(mixed, texts[k]...)
	}
	texts["mixed"] = mixed
	return texts
}

// TestInflaterDecodesWhatFlateWrites: every level of compress/flate
// (stored, Huffman only, fixed and dynamic blocks), flushed in many
// places, decodes to its text, written in chunks whatever the texts'
// sizes.
func TestInflaterDecodesWhatFlateWrites(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for name, text := range inflateTexts() {
		for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, 1, 3, 6, 9} {
			cuts := randomCuts(r, len(text))
			seg := flateSegment(t, text, level, cuts)
			var got bytes.Buffer
			if err := inflate(&got, &seg); err != nil {
				t.Fatalf("%s at level %d: %v", name, level, err)
			}
			if !bytes.Equal(got.Bytes(), text) {
				t.Fatalf("%s at level %d: decodes to %d bytes that differ from the %d of the text", name, level, got.Len(), len(text))
			}
		}
	}
}

// TestInflaterDecodesPieces: the pieces a scrape codes (fixed codes,
// lines against lines) decode too.
func TestInflaterDecodesPieces(t *testing.T) {
	for name, text := range lineTexts() {
		piece := codeLines(t, []byte(text), []int{7, 100})
		seg := newSegment(bytes.Clone(piece), 0, int64(len(text)))
		var got bytes.Buffer
		if err := inflate(&got, &seg); err != nil || got.String() != text {
			t.Fatalf("%s: %v; decodes to %q, want %q", name, err, truncate(got.Bytes()), truncate([]byte(text)))
		}
	}
}

// TestInflaterRefusesWhatIsNotItsText: a segment cut short, with bytes
// after its end, or of another length than recorded is an error, not a
// short or long answer.
func TestInflaterRefusesWhatIsNotItsText(t *testing.T) {
	text := inflateTexts()["lines"]
	seg := flateSegment(t, text, 3, nil)
	cases := map[string]segment{
		"cut short":       newSegment(seg.deflate[:len(seg.deflate)/2], 0, seg.size),
		"without its end": newSegment(seg.deflate[:len(seg.deflate)-4], 0, seg.size),
		"bytes after":     newSegment(append(bytes.Clone(seg.deflate), 0x12, 0x34), 0, seg.size),
		"longer":          newSegment(seg.deflate, 0, seg.size+1),
		"shorter":         newSegment(seg.deflate, 0, seg.size-1),
	}
	for name, bad := range cases {
		if err := inflate(io.Discard, &bad); !errors.Is(err, ErrStoredText) {
			t.Errorf("%s: %v, want ErrStoredText", name, err)
		}
	}
}

// TestInflaterKeepsWriterErrors: the client's error is not taken for
// corrupt stored text.
func TestInflaterKeepsWriterErrors(t *testing.T) {
	seg := flateSegment(t, inflateTexts()["mixed"], 3, nil)
	gone := errors.New("gone")
	err := inflate(failingWriter{gone}, &seg)
	if !errors.Is(err, gone) || errors.Is(err, ErrStoredText) {
		t.Errorf("%v, want the writer's error alone", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// FuzzInflater: whatever the bytes, the inflater does not panic, and what
// it accepts, compress/flate decodes to the same text.
func FuzzInflater(f *testing.F) {
	for _, text := range [][]byte{[]byte("a"), []byte("aliyun_appstream_up 1\naliyun_appstream_up 1\n"), bytes.Repeat([]byte("xy"), 40)} {
		for _, level := range []int{flate.NoCompression, 1, 9} {
			seg := flateSegment(f, text, level, []int{5})
			f.Add(seg.deflate, uint16(seg.size))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, size uint16) {
		if size == 0 {
			return // nothing to decode: inflate reads nothing
		}
		seg := newSegment(data, 0, int64(size))
		var got bytes.Buffer
		if err := inflate(&got, &seg); err != nil {
			if !errors.Is(err, ErrStoredText) {
				t.Fatalf("%v, want ErrStoredText", err)
			}
			return
		}
		want, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(data), bytes.NewReader(finalBlock))))
		if err != nil || !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("decodes to %q; compress/flate: %q, %v", truncate(got.Bytes()), truncate(want), err)
		}
	})
}

// BenchmarkInflate decodes the stored families of 2,000 generated groups,
// with this package's inflater and with compress/flate, into a buffered
// writer as an answer without compression does.
func BenchmarkInflate(b *testing.B) {
	snap := generatedSnapshot(b, 2000)
	w := bufio.NewWriterSize(io.Discard, 64<<10)
	var size int64
	for i := range snap.stored {
		size += snap.stored[i].size
	}
	b.Run("inflater", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for i := range snap.stored {
				if err := inflate(w, &snap.stored[i].segment); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("compress-flate", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for i := range snap.stored {
				seg := &snap.stored[i].segment
				fr := flate.NewReader(io.MultiReader(bytes.NewReader(seg.deflate), bytes.NewReader(finalBlock)))
				if _, err := io.Copy(w, fr); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
