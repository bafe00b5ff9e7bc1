package exposition

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/json"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// codeLines compresses text with a lineCoder, written in the given cuts,
// and returns the piece, failing unless its CRC and size are the text's.
func codeLines(t testing.TB, text []byte, cuts []int) []byte {
	t.Helper()
	c := newLineCoder(&textCoders)
	defer c.release()
	rest := text
	for _, n := range cuts {
		n = min(n, len(rest))
		c.Write(rest[:n])
		rest = rest[n:]
	}
	c.Write(rest)
	piece, crc, size := c.end()
	if crc != crc32.ChecksumIEEE(text) || size != int64(len(text)) {
		t.Fatalf("piece says CRC %08x and %d bytes, the text has %08x and %d", crc, size, crc32.ChecksumIEEE(text), len(text))
	}
	if len(text) > 0 && !bytes.HasSuffix(piece, []byte{0, 0, 0xff, 0xff}) {
		t.Fatal("piece does not end with an empty stored block")
	}
	return bytes.Clone(piece)
}

// inflated decodes a piece as a whole deflate stream (with a final block
// after it), as a reader of the joined answer does.
func inflated(t testing.TB, piece []byte) []byte {
	t.Helper()
	got, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(piece), bytes.NewReader(finalBlock))))
	if err != nil {
		t.Fatalf("piece does not decode: %v", err)
	}
	return got
}

// lineTexts are texts that exercise the coder's cases: lines alike and
// unlike, values longer and shorter, escaped quotes, matches longer than
// deflate allows, lines further apart than its window, no final newline.
func lineTexts() map[string]string {
	long := strings.Repeat("x", 40000)
	// Random bytes but '\n': codes of 8 and 9 bits side by side at every
	// place of the coder's runs of four literals.
	rng := rand.New(rand.NewPCG(9, 10))
	var allBytes []byte
	for range 20 {
		for range 300 {
			if x := byte(rng.IntN(256)); x != '\n' {
				allBytes = append(allBytes, x)
			}
		}
		allBytes = append(allBytes, '\n')
	}
	return map[string]string{
		"random bytes": string(allBytes),
		"empty":        "",
		"one line":     "m 1\n",
		"no newline":   "m{a=\"1\"} 1\nm{a=\"1\"} 2",
		"series": "# HELP m Help text.\n# TYPE m gauge\n" +
			"m{group_id=\"aig-1\",name=\"A\",region=\"cn-hangzhou\"} 1\n" +
			"m{group_id=\"aig-22\",name=\"\",region=\"cn-hangzhou\"} -12.5\n" +
			"m{group_id=\"aig-3\",name=\"Quote \\\"q\\\" x\",region=\"cn-hangzhou\"} 1e+06\n" +
			"m{group_id=\"aig-3\",name=\"Quote\",region=\"cn-shanghai\"} NaN\n" +
			"m{group_id=\"aig-3\",name=\"办公应用\",region=\"cn-shanghai\"} +Inf\n",
		"long matches":  strings.Repeat("a", 1000) + "\n" + strings.Repeat("a", 1000) + "\n" + strings.Repeat("a", 259) + "\n" + strings.Repeat("a", 261) + "\n",
		"beyond window": long + "\n" + long + "\n" + "short\n" + long[:30000] + "\"" + long[:3000] + "\n" + long[:30000] + "\"" + long[:3000] + "\n",
		"blank lines":   "\n\n\n\"\"\n\"\"\n\n",
		"quotes only":   "\"\"\"\"\n\"\"\"x\"\n\"\"\"\"\n",
	}
}

// TestLineCoderRoundTrip: what the coder writes decodes to its input,
// however the input is cut into writes.
func TestLineCoderRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for name, text := range lineTexts() {
		for _, cuts := range [][]int{nil, {1}, {7, 1, 1, 300}, {len(text) / 2}, randomCuts(rng, len(text))} {
			if got := inflated(t, codeLines(t, []byte(text), cuts)); string(got) != text {
				t.Fatalf("%s, cut %v: decodes to %q", name, cuts, truncate(got))
			}
		}
	}
}

func randomCuts(rng *rand.Rand, n int) []int {
	var cuts []int
	for n > 0 {
		k := 1 + rng.IntN(64)
		cuts = append(cuts, k)
		n -= k
	}
	return cuts
}

func truncate(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

// TestScrapedCompresses: the clock-dependent lines of a gzip answer are
// coded in a fraction of their size: prefixes as back-references, not as
// literals.
func TestScrapedCompresses(t *testing.T) {
	snaps := []*Snapshot{generatedSnapshot(t, 200)}
	now := time.Now()
	text := scrapedText(snaps, now)
	piece := scrapedPiece(snaps, now)
	if got := inflated(t, piece); !bytes.Equal(got, text) {
		t.Fatalf("the piece decodes to %d bytes that differ from the %d of the text", len(got), len(text))
	}
	if ratio := float64(len(piece)) / float64(len(text)); ratio > 0.25 {
		t.Errorf("%d bytes of countdown and schedule lines coded in %d (%.0f%%)", len(text), len(piece), 100*ratio)
	}
}

// TestPreparedPieceIsItsOwn: a prepared piece waits for a slow client in
// a copy, not in the coder's buffer, which goes back to the pool and codes
// the next scrape's piece.
func TestPreparedPieceIsItsOwn(t *testing.T) {
	snaps := []*Snapshot{generatedSnapshot(t, 200)}
	now := time.Now()
	first := PrepareGzip(now, groupsOnly(snaps...))
	<-first.done
	later := now.Add(90 * time.Minute)
	for range 4 { // coders of later scrapes, from the same pool
		<-PrepareGzip(later, groupsOnly(snaps...)).done
	}
	if got, want := inflated(t, slices.Concat(first.piece.deflate, first.minutely.deflate)), scrapedText(snaps, now); !bytes.Equal(got, want) {
		t.Fatalf("the piece decodes to %d bytes that differ from the %d of its text", len(got), len(want))
	}
}

func FuzzLineCoder(f *testing.F) {
	for _, text := range lineTexts() {
		f.Add([]byte(text), uint64(1))
	}
	f.Fuzz(func(t *testing.T, text []byte, seed uint64) {
		cuts := randomCuts(rand.New(rand.NewPCG(seed, seed)), len(text))
		if got := inflated(t, codeLines(t, text, cuts)); !bytes.Equal(got, text) {
			t.Fatalf("decodes to %q, want %q", truncate(got), truncate(text))
		}
	})
}

// scrapedText is the clock-dependent families of snaps at now, as a
// scrape writes them.
func scrapedText(snaps []*Snapshot, now time.Time) []byte {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	writeAllScraped(w, servedOf(groupsOnly(snaps...)), now)
	w.Flush()
	return buf.Bytes()
}

// scrapedPiece is the same as a gzip scrape codes it.
func scrapedPiece(snaps []*Snapshot, now time.Time) []byte {
	p := PrepareGzip(now, groupsOnly(snaps...))
	<-p.done
	return slices.Concat(p.piece.deflate, p.minutely.deflate)
}

func generatedSnapshot(t testing.TB, n int) *Snapshot {
	t.Helper()
	d, err := simulator.Generate(n, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	page, err := json.Marshal(map[string]any{"AppInstanceGroupModels": d.AppInstanceGroupModels})
	if err != nil {
		t.Fatal(err)
	}
	return snapshotOf(t, testConfig(t, nil), "", page)
}

// BenchmarkScrapedGzip codes the clock-dependent families of 2,000
// generated groups as a gzip scrape does, against writing their text
// into compress/flate at level 2, and writing the text alone.
func BenchmarkScrapedGzip(b *testing.B) {
	snaps := []*Snapshot{generatedSnapshot(b, 2000)}
	list := servedOf(groupsOnly(snaps...))
	now := time.Now()
	b.Run("programs", func(b *testing.B) {
		var size int
		for b.Loop() {
			size = len(scrapedPiece(snaps, now))
		}
		b.ReportMetric(float64(size), "bytes")
	})
	text := bufio.NewWriterSize(nil, 32<<10)
	b.Run("flate2", func(b *testing.B) {
		var out bytes.Buffer
		fw, _ := flate.NewWriter(nil, 2)
		for b.Loop() {
			out.Reset()
			fw.Reset(&out)
			text.Reset(fw)
			writeAllScraped(text, list, now)
			text.Flush()
			fw.Flush()
		}
		b.ReportMetric(float64(out.Len()), "bytes")
	})
	b.Run("text only", func(b *testing.B) {
		for b.Loop() {
			text.Reset(io.Discard)
			writeAllScraped(text, list, now)
			text.Flush()
		}
	})
}

// TestAppendValueMilliseconds: the shortcut for milliseconds writes what
// strconv's shortest formatting writes.
func TestAppendValueMilliseconds(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 2_000_000 {
		var ms int64
		switch i % 3 {
		case 0:
			ms = rng.Int64N(2e12) - 1e12 // up to the shortcut's bound
		case 1:
			ms = rng.Int64N(2e6) - 1e6
		default:
			ms = rng.Int64N(2e9) - 1e9
		}
		v := float64(ms) / 1000
		want := strconv.AppendFloat(nil, v, 'f', -1, 64)
		if v == math.Trunc(v) {
			want = strconv.AppendInt(nil, int64(v), 10)
		}
		if got := appendValue(nil, v); !bytes.Equal(got, want) {
			t.Fatalf("%d ms: %s, want %s", ms, got, want)
		}
	}
	for _, v := range []float64{0.1 + 0.2, 1e-3, 0.0005, 123.4567, -0.001, 999999999.999, 1e9 + 0.5} {
		if got, want := appendValue(nil, v), strconv.AppendFloat(nil, v, 'f', -1, 64); !bytes.Equal(got, want) {
			t.Errorf("%v: %s, want %s", v, got, want)
		}
	}
}

// TestProgramFits: a program's reference is made only to a line written
// at the scrape, and only within deflate's window.
func TestProgramFits(t *testing.T) {
	snap := generatedSnapshot(t, 200)
	p := snap.programs[families[slices.IndexFunc(families, func(f *family) bool { return f.scrape != nil })].index]
	pl := -1
	for l := range len(p.lines) - 1 {
		for _, tk := range p.toks[p.lines[l].tok:p.lines[l+1].tok] {
			if tk.n&literalRun == 0 && tk.back > 0 {
				pl = l
			}
		}
		if pl >= 0 {
			break
		}
	}
	if pl < 0 {
		t.Fatal("no line refers to an earlier one")
	}
	pos := make([]int64, len(p.lines))
	for l := range pos {
		pos[l] = int64(l) * 200
	}
	at := int64(pl) * 200
	if !p.fits(pl, at, pos) {
		t.Errorf("line %d does not fit after its predecessors", pl)
	}
	if p.fits(pl, at+maxDistance, pos) {
		t.Errorf("line %d fits %d bytes further on", pl, maxDistance)
	}
	for l := range pl {
		pos[l] = -1
	}
	if p.fits(pl, at, pos) {
		t.Errorf("line %d fits with no line before it written", pl)
	}
}

// TestMillisUntilIsSub: the countdown's difference is Sub's, to the
// millisecond, truncated alike on both sides of zero, and beyond the
// range where it skips Sub's overflow check.
func TestMillisUntilIsSub(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	now := time.Date(2026, 12, 1, 19, 0, 0, 123_456_789, time.UTC)
	for i := range 1_000_000 {
		var d time.Duration
		switch i % 3 {
		case 0:
			d = time.Duration(rng.Int64N(int64(2000*time.Hour))) - 1000*time.Hour
		case 1:
			d = time.Duration(rng.Int64N(int64(4*time.Second))) - 2*time.Second
		default:
			d = time.Duration(rng.Int64())
		}
		expiry := now.Add(d)
		if i%5 == 0 {
			expiry = time.Unix(rng.Int64N(1<<40)-1<<39, 0) // whole seconds, up to 17,000 years away
		}
		if got, want := millisUntil(expiry, now), expiry.Sub(now).Milliseconds(); got != want {
			t.Fatalf("millisUntil(%v, %v) = %d, want %d", expiry, now, got, want)
		}
	}
}

// TestLineCoderBlocks: text coded, values stored and literal text, in
// every order, each from where the one before left the blocks, decode to
// the text in order, and the piece ends on a byte boundary.
func TestLineCoderBlocks(t *testing.T) {
	steps := []struct {
		name string
		text string
		do   func(c *lineCoder)
	}{
		{"coded", "# HELP a_b Help.\n# TYPE a_b gauge\n", func(c *lineCoder) { c.Write([]byte("# HELP a_b Help.\n# TYPE a_b gauge\n")) }},
		{"value", "1234.5\n", func(c *lineCoder) {
			c.valueLine(1234.5)
		}},
		{"literals", `a_b{x="y"} `, func(c *lineCoder) {
			c.literalText([]byte(`a_b{x="y"} `))
			c.addCRC([]byte(`a_b{x="y"} `))
		}},
	}
	for _, order := range [][]int{{0, 1, 1, 2, 1, 0}, {1, 1, 0, 2, 2, 1}, {2, 1, 2, 0, 1, 1}, {1}, {0}, {2}, {1, 0}, {0, 2, 1}} {
		c := newLineCoder(&clockCoders)
		var want, names []string
		for _, k := range order {
			steps[k].do(c)
			want, names = append(want, steps[k].text), append(names, steps[k].name)
		}
		piece, crc, size := c.end()
		text := strings.Join(want, "")
		if got := inflated(t, piece); string(got) != text {
			t.Errorf("%v: decodes to %q, want %q", names, got, text)
		}
		if crc != crc32.ChecksumIEEE([]byte(text)) || size != int64(len(text)) {
			t.Errorf("%v: CRC %08x and size %d, want %08x and %d", names, crc, size, crc32.ChecksumIEEE([]byte(text)), len(text))
		}
		c.release()
	}
}
