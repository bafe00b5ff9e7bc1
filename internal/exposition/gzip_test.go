package exposition

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

func TestCRC32Combine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	text := make([]byte, 1<<17)
	for i := range text {
		text[i] = byte(rng.IntN(256))
	}
	for _, cut := range []int{0, 1, 7, 8, 4096, 65535, len(text) - 1, len(text)} {
		a, b := text[:cut], text[cut:]
		got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(len(b)))
		if want := crc32.ChecksumIEEE(text); got != want {
			t.Errorf("cut at %d: combined %08x, want %08x", cut, got, want)
		}
	}
}

// TestCRCShift: the table shift moves a CRC past n bytes as the
// combination of CRCs does.
func TestCRCShift(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int64{0, 1, 2, 3, 7, 64, 137, 255, 4096, 1 << 20} {
		shift := newCRCShift(n)
		for range 1000 {
			crc := rng.Uint32()
			if got, want := shift.apply(crc), multModP(xPow8N(n), crc); got != want {
				t.Fatalf("n=%d, crc %08x: %08x, want %08x", n, crc, got, want)
			}
		}
		text := make([]byte, min(n, 4096))
		for i := range text {
			text[i] = byte(rng.IntN(256))
		}
		head := []byte("head of the text")
		if got, want := shift.apply(crc32.ChecksumIEEE(head))^crc32.ChecksumIEEE(text), crc32.ChecksumIEEE(slices.Concat(head, text)); n <= 4096 && got != want {
			t.Fatalf("n=%d: CRC of the whole %08x, want %08x", n, got, want)
		}
	}
}

// TestUpdateShort: the CRC of short texts taken at once is crc32's.
func TestUpdateShort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := range 40 {
		for range 1000 {
			text := make([]byte, n)
			for i := range text {
				text[i] = byte(rng.IntN(256))
			}
			crc := rng.Uint32()
			if got, want := updateShort(crc, text), crc32.Update(crc, crc32.IEEETable, text); got != want {
				t.Fatalf("%d bytes %x after %08x: %08x, want %08x", n, text, crc, got, want)
			}
		}
	}
}

// snapshotOf renders the groups of recorded API pages as one query's
// snapshot.
func snapshotOf(t testing.TB, cfg *config.Config, bizRegion string, pages ...[]byte) *Snapshot {
	t.Helper()
	var groups []*aliyun.Group
	for _, p := range pages {
		resp, err := aliyun.DecodeListResponse(p)
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, aliyun.UniqueGroups(bizRegion, resp)...)
	}
	return Render(cfg, nil, groups, bizRegion, time.Now(), len(pages)).Snapshot
}

// TestWriteGzipMatchesWrite: the gzip answer, joined from stored segments
// and text compressed at the scrape, decodes to exactly the text answer.
func TestWriteGzipMatchesWrite(t *testing.T) {
	cfg := testConfig(t, func(c *config.Config) {
		c.Timezone = "Asia/Shanghai"
		c.TagLabels, c.TagLabelsOn = config.TagLabelsOf("department"), config.TagLabelsOnInfo
	})
	reference := testkit.MustRead(t, fixtures[0])
	edge := testkit.MustRead(t, fixtures[1])
	demo := demoPage(t)
	both := snapshotOf(t, cfg, "", reference, edge)
	hangzhou := snapshotOf(t, cfg, "cn-hangzhou", edge, demo) // repeats edge's groups
	empty := snapshotOf(t, cfg, "cn-beijing")
	now := time.Now()

	for name, snaps := range map[string][]*Snapshot{
		"one query":                             {both},
		"queries listing some groups twice":     {both, hangzhou},
		"no data for one query, none for other": {nil, empty, hangzhou},
		"nothing":                               {nil},
	} {
		t.Run(name, func(t *testing.T) {
			checkGzipAnswer(t, now, snaps)
		})
	}
	// Scraped later than the snapshots were made, scheduled windows have
	// begun and ended: lines the programs lack, lines they have but the
	// scrape does not write.
	changed := 0
	for _, later := range []time.Duration{3 * time.Hour, 9 * time.Hour, 15 * time.Hour, 50 * time.Hour, 40 * 24 * time.Hour} {
		snaps := []*Snapshot{both, hangzhou}
		if seriesOf(scrapedText(snaps, now)) != seriesOf(scrapedText(snaps, now.Add(later))) {
			changed++
		}
		t.Run("later by "+later.String(), func(t *testing.T) {
			checkGzipAnswer(t, now.Add(later), snaps)
		})
	}
	if changed == 0 {
		t.Error("no later scrape writes other clock-dependent series than the snapshots' programs hold")
	}
	t.Run("2,000 generated groups, now and later", func(t *testing.T) {
		gen := []*Snapshot{generatedSnapshot(t, 2000)}
		checkGzipAnswer(t, now, gen)
		checkGzipAnswer(t, now.Add(7*time.Hour), gen)
	})

	// The stored segments are what is sent, not text compressed again.
	var body bytes.Buffer
	z := NewGzipWriter(bufio.NewWriter(&body))
	if err := WriteGzip(z, PrepareGzip(now, groupsOnly(both))); err != nil {
		t.Fatal(err)
	}
	z.Close()
	used := 0
	for f, st := range both.stored {
		if st.size > 0 {
			if !bytes.Contains(body.Bytes(), st.deflate) {
				t.Errorf("%s: its stored segment is not in the answer", families[f].name)
			}
			used++
		}
	}
	if used < len(families)/2 {
		t.Errorf("only %d families have stored segments", used)
	}
}

// checkGzipAnswer: the gzip answer for snaps at now decodes to the text
// answer.
func checkGzipAnswer(t *testing.T, now time.Time, snaps []*Snapshot) {
	t.Helper()
	const own = "# HELP own_metric The exporter's own.\n# TYPE own_metric gauge\nown_metric 1\n"
	var body bytes.Buffer
	z := NewGzipWriter(bufio.NewWriter(&body))
	if err := z.WritePiece(CodeText([]byte(own))); err != nil {
		t.Fatal(err)
	}
	if err := WriteGzip(z, PrepareGzip(now, groupsOnly(snaps...))); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	want := own + writeText(t, now, snaps...)
	if got := testkit.Gunzip(t, body.Bytes()); got != want {
		t.Fatalf("gzip answer decodes to %d bytes that differ from the %d of the text answer", len(got), len(want))
	}
	parse(t, want)
}

// seriesOf is an exposition's series without their values.
func seriesOf(text []byte) string {
	var b strings.Builder
	for line := range strings.Lines(string(text)) {
		b.WriteString(line[:strings.LastIndexByte(line, ' ')+1])
	}
	return b.String()
}

// demoPage is the demo data set as one API page.
func demoPage(t *testing.T) []byte {
	t.Helper()
	d, err := simulator.DemoDataset(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{"AppInstanceGroupModels": d.AppInstanceGroupModels})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCorruptStoredText: stored text that does not decompress fails a
// plain answer; a gzip answer, which sends it as it is, fails to decode.
func TestCorruptStoredText(t *testing.T) {
	cfg := testConfig(t, nil)
	snap := snapshotOf(t, cfg, "", testkit.MustRead(t, fixtures[0]), testkit.MustRead(t, fixtures[1]))
	for f := range snap.stored {
		// In place: the family's text is also in the snapshot's joined
		// buffer, which a gzip answer of it sends.
		if d := snap.stored[f].deflate; len(d) > 8 {
			for i := 2; i < len(d)-6; i++ {
				d[i] = 0xff // no valid deflate block looks like this
			}
			break
		}
	}
	if err := Write(bufio.NewWriter(io.Discard), time.Now(), groupsOnly(snap)); !errors.Is(err, ErrStoredText) {
		t.Errorf("Write: %v, want ErrStoredText", err)
	}
	var body bytes.Buffer
	z := NewGzipWriter(bufio.NewWriter(&body))
	// A gzip answer copies the stored text as it is: the reader finds it bad.
	if err := WriteGzip(z, PrepareGzip(time.Now(), groupsOnly(snap))); err != nil {
		t.Fatal(err)
	}
	z.Close()
	zr, err := gzip.NewReader(&body)
	if err == nil {
		if _, err = io.ReadAll(zr); err == nil {
			t.Error("the broken gzip answer decodes as complete")
		}
	}
}

// TestFilteredOnce: a snapshot some of whose groups an earlier query
// listed is filtered and compressed once for the snapshots before it, not
// at every scrape, and again when one of those is new.
func TestFilteredOnce(t *testing.T) {
	cfg := testConfig(t, nil)
	reference, edge := testkit.MustRead(t, fixtures[0]), testkit.MustRead(t, fixtures[1])
	first := snapshotOf(t, cfg, "", reference, edge)
	hangzhou := snapshotOf(t, cfg, "cn-hangzhou", edge, demoPage(t)) // repeats edge's groups
	filtered := func(snaps ...*Snapshot) []segment {
		list := servedOf(groupsOnly(snaps...))
		if list[1].skip == nil {
			t.Fatal("no group of the second snapshot is skipped")
		}
		segs, err := list[1].filteredSegments()
		if err != nil {
			t.Fatal(err)
		}
		return segs
	}
	a, b := filtered(first, hangzhou), filtered(first, hangzhou)
	if &a[0] != &b[0] {
		t.Error("filtered again for the same snapshots before it")
	}
	refreshed := snapshotOf(t, cfg, "", reference, edge)
	if c := filtered(refreshed, hangzhou); &c[0] == &a[0] {
		t.Error("not filtered again after the snapshot before it was refreshed")
	}
}

// TestOverlapRemembered: which groups of a snapshot the ones before it
// hold is found once for the same snapshots before it, found again when
// they change, and right either way: a remembered overlap of one snapshot
// still tells the next what the scrape holds.
func TestOverlapRemembered(t *testing.T) {
	cfg := testConfig(t, nil)
	reference, edge := testkit.MustRead(t, fixtures[0]), testkit.MustRead(t, fixtures[1])
	first := snapshotOf(t, cfg, "", reference)
	second := snapshotOf(t, cfg, "", edge)
	third := snapshotOf(t, cfg, "", reference, edge) // every group of it is in the two before
	skips := func(snaps ...*Snapshot) [][]bool {
		var out [][]bool
		for _, s := range servedOf(groupsOnly(snaps...)) {
			out = append(out, s.skip)
		}
		return out
	}
	all := func(skip []bool) bool { return skip != nil && !slices.Contains(skip, false) }
	a := skips(first, second, third)
	if a[1] != nil || !all(a[2]) {
		t.Fatalf("overlaps %v, want none for the second and all of the third", a)
	}
	if b := skips(first, second, third); &b[2][0] != &a[2][0] {
		t.Error("the overlap was found again for the same snapshots before it")
	}
	// The third's overlap with [first] alone is new; the second's with
	// [first] is remembered and must still count its groups as held.
	if c := skips(first, third); all(c[1]) || c[1] == nil {
		t.Errorf("third after first only: %v, want some groups skipped, not all", c[1])
	}
	if d := skips(first, second, third); !all(d[2]) {
		t.Errorf("third after first and second again: %v, want all skipped", d[2])
	}
	refreshed := snapshotOf(t, cfg, "", reference)
	if e := skips(refreshed, second, third); !all(e[2]) || &e[2][0] == &a[2][0] {
		t.Error("not found again, or found wrong, after the first snapshot was refreshed")
	}
	// A remembered overlap between two that are found again: the
	// remembered snapshot's groups must still count as held.
	other, another := snapshotOf(t, cfg, "", demoPage(t)), snapshotOf(t, cfg, "", demoPage(t))
	skips(other, first, second, third)
	skips(another, first) // first's overlap is now with another
	skips(another, third) // and third's
	if f := skips(other, first, second, third); !all(f[3]) {
		t.Errorf("third after other, first (found again) and second (remembered): %v, want all skipped", f[3])
	}
}

// TestPrecodedPrefixes: a prefix coded whole when its program was made is
// put only while the text it refers back over has the lengths the program
// expected. Scraped when some countdowns have turned negative or lost a
// digit and others not, when every value lost a trailing zero, and when
// windows have begun and ended, the answer still decodes to the text.
func TestPrecodedPrefixes(t *testing.T) {
	snap := generatedSnapshot(t, 300)
	var expiries []time.Time
	for _, g := range snap.groups {
		if g.hasExpiry {
			expiries = append(expiries, g.expiry)
		}
	}
	slices.SortFunc(expiries, time.Time.Compare)
	checkGzipAnswer(t, time.Now(), []*Snapshot{snap})
	var nows []time.Time
	for _, q := range []int{1, 2, 3} { // some groups expired, some not
		at := expiries[q*len(expiries)/4]
		for _, d := range []time.Duration{-999 * time.Millisecond, 0, time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, 10 * time.Second} {
			nows = append(nows, at.Add(d))
		}
	}
	base := time.Now().Truncate(time.Second)
	for _, ms := range []int{0, 1, 10, 100, 120, 500} { // every value's milliseconds with 3, 2, 1 or no digits
		nows = append(nows, base.Add(time.Duration(ms)*time.Millisecond), base.Add(9*time.Hour+time.Duration(ms)*time.Millisecond))
	}
	for k := range 72 { // windows begun and ended, over three days
		nows = append(nows, base.Add(time.Duration(k)*time.Hour+7*time.Minute))
	}
	snaps := []*Snapshot{snap}
	for _, now := range nows {
		// The clock-dependent families alone: the rest is the same at
		// every scrape, and checkGzipAnswer has checked it above.
		if got, want := inflated(t, scrapedPiece(snaps, now)), scrapedText(snaps, now); !bytes.Equal(got, want) {
			t.Fatalf("at %v: the piece decodes to %d bytes that differ from the %d of the text", now, len(got), len(want))
		}
	}
}

// TestMinutelyFamiliesHoldAllMinute: what a minutely family writes at the
// start of a minute it writes at its last instant, over three days of
// scheduled windows beginning and ending.
func TestMinutelyFamiliesHoldAllMinute(t *testing.T) {
	snaps := []*Snapshot{generatedSnapshot(t, 300), snapshotOf(t, testConfig(t, func(c *config.Config) { c.Timezone = "Asia/Kolkata" }), "", testkit.MustRead(t, fixtures[0]), testkit.MustRead(t, fixtures[1]))}
	list := servedOf(groupsOnly(snaps...))
	text := func(now time.Time) string {
		var buf bytes.Buffer
		w := bufio.NewWriter(&buf)
		for _, fam := range families {
			if fam.minutely {
				writeScraped(w, fam, list, now)
			}
		}
		w.Flush()
		return buf.String()
	}
	start := time.Now().Truncate(time.Minute)
	changed := 0
	var last string
	for k := range 3 * 24 * 60 / 7 {
		m := start.Add(time.Duration(7*k) * time.Minute)
		first := text(m)
		if got := text(m.Add(time.Minute - time.Millisecond)); got != first {
			t.Fatalf("minute %v: its last instant writes other series or values than its first", m)
		}
		if first != last {
			changed++
		}
		last = first
	}
	if changed < 3 {
		t.Errorf("the minutely families changed only %d times in three days", changed)
	}
}

// TestMinutelyPieceReused: a scrape in the same minute of the same
// snapshots reuses the minutely families' coding; one in another minute,
// or of other snapshots, codes them anew. Each decodes to its text.
func TestMinutelyPieceReused(t *testing.T) {
	gen := generatedSnapshot(t, 300)
	other := generatedSnapshot(t, 100)
	minute := time.Now().Truncate(time.Minute).Add(time.Hour)
	prepare := func(now time.Time, snaps ...*Snapshot) *Prepared {
		t.Helper()
		p := PrepareGzip(now, groupsOnly(snaps...))
		<-p.done
		if got, want := inflated(t, slices.Concat(p.piece.deflate, p.minutely.deflate)), scrapedText(snaps, now); !bytes.Equal(got, want) {
			t.Fatalf("at %v: the pieces decode to %d bytes that differ from the %d of the text", now, len(got), len(want))
		}
		if len(p.minutely.deflate) == 0 {
			t.Fatal("no minutely families coded")
		}
		return p
	}
	same := func(a, b *Prepared) bool { return &a.minutely.deflate[0] == &b.minutely.deflate[0] }
	first := prepare(minute.Add(time.Second), gen)
	if again := prepare(minute.Add(59*time.Second), gen); !same(first, again) {
		t.Error("coded again within the minute")
	}
	if next := prepare(minute.Add(61*time.Second), gen); same(first, next) {
		t.Error("reused in the next minute")
	}
	withOther := prepare(minute.Add(2*time.Minute), gen, other)
	third := generatedSnapshot(t, 50)
	if p := prepare(minute.Add(2*time.Minute+time.Second), gen, third); same(withOther, p) {
		t.Error("reused for as many other snapshots")
	}
	if p := prepare(minute.Add(2*time.Minute+2*time.Second), gen); same(withOther, p) {
		t.Error("reused for other snapshots")
	}
}

// crc32Combine returns the CRC-32 of a text A+B from the CRC of A, the CRC
// of B and B's length: crcA multiplied by x^(8·lenB) modulo the CRC
// polynomial, plus crcB (the method of zlib's crc32_combine).
func crc32Combine(crcA, crcB uint32, lenB int64) uint32 {
	return multModP(xPow8N(lenB), crcA) ^ crcB
}

// TestStoredFamiliesJoined: a snapshot's stored families lie, each after
// its header, in one buffer in the order an answer writes them, and a
// gzip answer of the snapshot alone hands that buffer to the client's
// writer in one write, not copied.
func TestStoredFamiliesJoined(t *testing.T) {
	snap := snapshotOf(t, testConfig(t, nil), "", testkit.MustRead(t, fixtures[0]), testkit.MustRead(t, fixtures[1]))
	checkJoined(t, snap)
	var client writeRecorder
	z := NewGzipWriter(bufio.NewWriterSize(&client, 4096))
	if err := WriteGzip(z, PrepareGzip(time.Now(), groupsOnly(snap))); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	joined := snap.joined.deflate
	if !slices.ContainsFunc(client.writes, func(p []byte) bool { return len(p) == len(joined) && &p[0] == &joined[0] }) {
		t.Errorf("the joined families (%d bytes) did not reach the client in one write of their own buffer; writes: %d", len(joined), len(client.writes))
	}
	testkit.Gunzip(t, client.Bytes())
}

// checkJoined checks that snap's joined buffer holds each stored family
// after its header, that each family's segment points into it, and that
// its CRC and length are those of its text.
func checkJoined(t *testing.T, snap *Snapshot) {
	t.Helper()
	var want bytes.Buffer
	joined, off := snap.joined.deflate, 0
	for f := range families {
		st := &snap.stored[f]
		if st.size == 0 {
			continue
		}
		want.Write(familyHeaders[f])
		if err := inflate(&want, &st.segment); err != nil {
			t.Fatal(err)
		}
		off += len(headerSegments()[f].deflate)
		if off+len(st.deflate) > len(joined) || &joined[off] != &st.deflate[0] {
			t.Fatalf("%s: its compressed text is not in the joined buffer at %d", families[f].name, off)
		}
		off += len(st.deflate)
	}
	if off != len(joined) {
		t.Fatalf("the joined buffer has %d bytes, its families %d", len(joined), off)
	}
	var got bytes.Buffer
	if err := inflate(&got, &snap.joined); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("the joined buffer decodes to %d bytes that differ from the %d of its families", got.Len(), want.Len())
	}
	if snap.joined.size != int64(want.Len()) || snap.joined.crc != crc32.ChecksumIEEE(want.Bytes()) || snap.joined.shift != xPow8N(snap.joined.size) {
		t.Fatalf("the joined buffer's length, CRC or shift is not its text's")
	}
}

// writeRecorder keeps what it is given, and each write as given.
type writeRecorder struct {
	bytes.Buffer
	writes [][]byte
}

func (r *writeRecorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, p)
	return r.Buffer.Write(p)
}

// TestPieceBuffersReused: the pieces an answer codes (the clock-dependent
// families, the exporter's own text) are copied into buffers that the
// answer gives back once it has written them, so answers one after the
// other allocate far less than the pieces they send.
func TestPieceBuffersReused(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's allocations and pools")
	}
	snap := generatedSnapshot(t, 300)
	own := []byte(strings.Repeat("# HELP own_metric Own.\n# TYPE own_metric gauge\nown_metric{a=\"b\"} 1\n", 50))
	now := time.Now()
	out := bufio.NewWriterSize(io.Discard, 64<<10)
	answer := func() (pieces int) {
		out.Reset(io.Discard)
		z := NewGzipWriter(out)
		p, text := PrepareGzip(now, groupsOnly(snap)), CodeText(own)
		<-p.done
		pieces = len(p.piece.deflate) + len(text.seg.deflate)
		if err := WriteGzip(z, p); err != nil {
			t.Fatal(err)
		}
		if err := z.WritePiece(text); err != nil {
			t.Fatal(err)
		}
		if err := z.Close(); err != nil {
			t.Fatal(err)
		}
		return pieces
	}
	pieces := answer()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const answers = 20
	for range answers {
		answer()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / answers; per > uint64(pieces)/2 {
		t.Errorf("an answer allocated %d bytes, for pieces of %d", per, pieces)
	} else {
		t.Logf("an answer allocated %d bytes, for pieces of %d", per, pieces)
	}
}
