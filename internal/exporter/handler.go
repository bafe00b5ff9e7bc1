package exporter

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/appstream-exporter/appstream_exporter/internal/exposition"
)

// scrapeTimeoutMargin is kept back from Prometheus' scrape timeout to
// encode and send the answer before Prometheus gives up.
const scrapeTimeoutMargin = 500 * time.Millisecond

// NewHandler serves /metrics: the exporter's own metrics from gatherer, the
// health of each query, and the group and pool series of the exporter that
// current returns (it changes on reload; nil serves health only).
//
// A failed or slow API never turns into an HTTP error: the answer is a 200
// with aliyun_appstream_up 0 and whatever data may still be served.
func NewHandler(current func() *Exporter, gatherer prometheus.Gatherer, logger *slog.Logger) http.Handler {
	return &handler{current: current, gatherer: gatherer, logger: logger,
		writing: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
}

type handler struct {
	current  func() *Exporter
	gatherer prometheus.Gatherer
	logger   *slog.Logger
	// writing bounds how many scrapes encode at once. Encoding is CPU-bound,
	// so more at once only adds memory; scrapes beyond it wait their turn
	// instead of being refused. A slot is held only while encoding, never
	// while waiting for a client to read.
	writing chan struct{}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	ctx := r.Context()
	if t := scrapeTimeout(r); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	v := &view{now: time.Now()}
	if e := h.current(); e != nil {
		v = e.collect(ctx)
	}
	// Every write to the client is bounded: a client that stops reading is
	// cut off when its scrape would have timed out anyway.
	_ = http.NewResponseController(w).SetWriteDeadline(writeDeadline(r, began, time.Now()))

	// Wait for a turn to encode even past the scrape timeout: the answer is
	// a 200 with what there is; only a scraper that went away gives it up.
	slot := &encodeSlot{slots: h.writing, done: r.Context().Done()}
	if !slot.acquire() {
		return
	}
	defer slot.release()

	// The exporter's own metrics and the queries' health are gathered (and
	// for gzip coded), and for gzip the clock-dependent families coded, on
	// goroutines of their own while the stored group families are sent:
	// the answer writes them last.
	gz := acceptsGzip(r)
	var prepared *exposition.Prepared
	if gz {
		prepared = exposition.PrepareGzip(v.now, v.queries())
	}
	gathered := make(chan *[]byte, 1)
	coded := make(chan *exposition.TextPiece, 1)
	go func() {
		own := h.gather(v)
		if gz {
			coded <- exposition.CodeText(*own)
			ownTexts.Put(own)
			return
		}
		gathered <- own
	}()

	w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	// The slot is given up while the client's socket takes the bytes, so
	// a slow or stalled reader holds only its own connection.
	out := io.Writer(&slotReleasingWriter{w: w, slot: slot})
	w.Header().Add("Vary", "Accept-Encoding") // caches must not serve one encoding for the other
	var err error
	if gz {
		w.Header().Set("Content-Encoding", "gzip")
		err = writeGzip(out, prepared, coded)
	} else {
		err = writePlain(out, v, gathered)
	}
	if errors.Is(err, exposition.ErrStoredText) {
		// Cut the connection: an answer that ended normally would be taken
		// as complete, with families and aliyun_appstream_up missing.
		h.logger.Error("writing metrics", "err", err)
		panic(http.ErrAbortHandler)
	}
	if err != nil {
		h.logger.Debug("writing metrics", "err", err)
	}
}

// An answer reaches the client through a buffer, and net/http sends each
// buffer's worth as a chunk. Writes of 256 KiB instead of 64 cost both
// ends less: at 2,000 groups, with scrapes back to back, the exporter's
// CPU per gzip scrape went from 2.13-2.36 to 1.87-2.15 ms and its
// client's from 1.10-1.20 to 0.88-1.01 ms. Only a few such buffers exist
// at once: many scrapes in flight, each holding its buffer while a slow
// client reads, get 64 KiB ones.
const (
	largeOutSize = 256 << 10
	largeOuts    = 2
	smallOutSize = 64 << 10
)

var (
	freeLargeOuts = make(chan *bufio.Writer, largeOuts)
	madeLargeOuts atomic.Int32
	smallOutPool  = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, smallOutSize) }}
)

// takeOut is a buffer writing to out: a large one when one is free.
func takeOut(out io.Writer) *bufio.Writer {
	var bw *bufio.Writer
	select {
	case bw = <-freeLargeOuts:
	default:
		if madeLargeOuts.Add(1) <= largeOuts {
			bw = bufio.NewWriterSize(nil, largeOutSize)
		} else {
			madeLargeOuts.Add(-1)
			bw = smallOutPool.Get().(*bufio.Writer)
		}
	}
	bw.Reset(out)
	return bw
}

// giveOut takes back a buffer from takeOut.
func giveOut(bw *bufio.Writer) {
	bw.Reset(nil) // kept buffers must not keep the response alive
	if bw.Size() == largeOutSize {
		freeLargeOuts <- bw // never blocks: at most largeOuts exist
		return
	}
	smallOutPool.Put(bw)
}

// ownTexts keeps the buffers of the exporter's own metrics as text (some
// 20 KB) from one scrape to the next.
var ownTexts = sync.Pool{New: func() any { return new([]byte) }}

// gather returns the exporter's own metrics and the queries' health as
// text, in a buffer of ownTexts: a few kilobytes, where the gathered
// families would hold many times that while a slow client reads the group
// families.
func (h *handler) gather(v *view) *[]byte {
	mfs, err := h.gatherer.Gather()
	if err != nil {
		// Gather returns what it could; serve that rather than nothing.
		h.logger.Error("gathering exporter metrics", "err", err)
	}
	health, err := gatherHealth(v)
	if err != nil {
		h.logger.Error("gathering health metrics", "err", err)
	}
	mfs = mergeFamilies(mfs, health)
	dropEmptyAccount(mfs)
	text := ownTexts.Get().(*[]byte)
	*text = (*text)[:0]
	for _, mf := range mfs {
		if *text, err = appendFamilyText(*text, mf); err != nil {
			h.logger.Error("writing exporter metrics", "family", mf.GetName(), "err", err)
		}
	}
	return text
}

// writePlain writes the exposition as text: the group families, then the
// exporter's own metrics once gathered.
func writePlain(out io.Writer, v *view, gathered <-chan *[]byte) error {
	bw := takeOut(out)
	defer giveOut(bw)
	err := exposition.Write(bw, v.now, v.queries())
	own := <-gathered
	defer ownTexts.Put(own)
	if err != nil {
		return err
	}
	bw.Write(*own)
	return bw.Flush()
}

// writeGzip writes the exposition gzip-compressed: the group series mostly
// as compressed when their snapshot was rendered, the clock-dependent ones
// as prepared, and the exporter's own metrics as coded once gathered.
func writeGzip(out io.Writer, prepared *exposition.Prepared, coded <-chan *exposition.TextPiece) error {
	bw := takeOut(out)
	defer giveOut(bw)
	z := exposition.NewGzipWriter(bw)
	err := exposition.WriteGzip(z, prepared)
	own := <-coded
	if err == nil {
		err = z.WritePiece(own)
	}
	if cerr := z.Close(); err == nil {
		err = cerr
	}
	return err
}

// defaultWriteBudget bounds the writing of an answer to a client that sends
// no scrape timeout (curl, a browser).
const defaultWriteBudget = time.Minute

// writeDeadline is when the scraper gives up (the request's start plus its
// scrape timeout), and never less than a second from now so that an answer
// prepared at the last moment still has a chance.
func writeDeadline(r *http.Request, began, now time.Time) time.Time {
	t := headerTimeout(r)
	if t <= 0 {
		return now.Add(defaultWriteBudget)
	}
	return later(began.Add(t), now.Add(time.Second))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// encodeSlot is one scrape's hold on the handler's encoding slots.
type encodeSlot struct {
	slots chan struct{}
	done  <-chan struct{} // the client went away
	held  bool
}

func (s *encodeSlot) acquire() bool {
	select {
	case s.slots <- struct{}{}:
		s.held = true
	case <-s.done:
	}
	return s.held
}

func (s *encodeSlot) release() {
	if s.held {
		<-s.slots
		s.held = false
	}
}

// slotReleasingWriter writes to the client without holding the slot.
type slotReleasingWriter struct {
	w    io.Writer
	slot *encodeSlot
}

func (s *slotReleasingWriter) Write(p []byte) (int, error) {
	s.slot.release()
	n, err := s.w.Write(p)
	if err != nil {
		return n, err
	}
	if !s.slot.acquire() {
		return n, errClientGone
	}
	return n, nil
}

var errClientGone = errors.New("the client went away")

// headerTimeout reads X-Prometheus-Scrape-Timeout-Seconds; 0 when absent.
func headerTimeout(r *http.Request) time.Duration {
	s := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds")
	if s == "" {
		return 0
	}
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil || secs <= 0 || secs > 1e6 {
		return 0
	}
	return time.Duration(secs * float64(time.Second))
}

// scrapeTimeout is the scraper's timeout less a margin to encode and send.
func scrapeTimeout(r *http.Request) time.Duration {
	t := headerTimeout(r)
	return t - min(scrapeTimeoutMargin, t/10)
}

// acceptsGzip: content codings are case-insensitive, x-gzip is gzip (RFC
// 9110 §8.4.1.3), and a q-value of 0 (0, 0.0, 0.000), among any other
// parameters, refuses the coding.
func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		fields := strings.Split(part, ";")
		enc := strings.TrimSpace(fields[0])
		if !strings.EqualFold(enc, "gzip") && !strings.EqualFold(enc, "x-gzip") {
			continue
		}
		refused := false
		for _, param := range fields[1:] {
			name, q, found := strings.Cut(strings.ReplaceAll(param, " ", ""), "=")
			if found && strings.EqualFold(name, "q") {
				v, err := strconv.ParseFloat(q, 64)
				refused = err == nil && v <= 0
			}
		}
		if !refused {
			return true
		}
	}
	return false
}

// dropEmptyAccount leaves out the account label where it is empty: the
// single-account form's series carry none, as the group series rendered
// without one, and as Prometheus would read an empty label anyway.
func dropEmptyAccount(mfs []*dto.MetricFamily) {
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			i := slices.IndexFunc(m.Label, func(l *dto.LabelPair) bool { return l.GetName() == "account" })
			if i >= 0 && m.Label[i].GetValue() == "" {
				// A new slice: metrics of one family may share the array.
				m.Label = slices.Concat(m.Label[:i], m.Label[i+1:])
			}
		}
	}
}
