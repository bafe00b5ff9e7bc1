package collector

import (
	"bufio"
	"compress/gzip"
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
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
	// writing bounds how many scrapes encode at once. Encoding is CPU-bound
	// and each gzip writer holds about a megabyte, so more at once only adds
	// memory; scrapes beyond it wait their turn instead of being refused.
	writing chan struct{}
}

var (
	bufPool  = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}
	gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}
)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	// Wait for a turn to encode even past the scrape timeout: the answer is
	// a 200 with what there is; only a scraper that went away gives it up.
	select {
	case h.writing <- struct{}{}:
	case <-r.Context().Done():
		return
	}
	defer func() { <-h.writing }()

	reg := prometheus.NewRegistry()
	reg.MustRegister(healthCollector{v})
	mfs, err := prometheus.Gatherers{h.gatherer, reg}.Gather()
	if err != nil {
		// Gather returns what it could; serve that rather than nothing.
		h.logger.Error("gathering exporter metrics", "err", err)
	}

	w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	var gz *gzip.Writer
	if acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		gz = gzipPool.Get().(*gzip.Writer)
		gz.Reset(w)
		defer func() {
			gz.Close()
			gz.Reset(nil) // pooled writers must not keep the response alive
			gzipPool.Put(gz)
		}()
	}
	bw := bufPool.Get().(*bufio.Writer)
	defer func() {
		bw.Reset(nil)
		bufPool.Put(bw)
	}()
	if gz != nil {
		bw.Reset(gz)
	} else {
		bw.Reset(w)
	}
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(bw, mf); err != nil {
			h.logger.Debug("writing metrics", "err", err)
			return
		}
	}
	if err := v.writeSeries(bw); err != nil {
		h.logger.Debug("writing metrics", "err", err)
	}
}

// scrapeTimeout reads X-Prometheus-Scrape-Timeout-Seconds, less a margin.
func scrapeTimeout(r *http.Request) time.Duration {
	s := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds")
	if s == "" {
		return 0
	}
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil || secs <= 0 {
		return 0
	}
	t := time.Duration(secs * float64(time.Second))
	return t - min(scrapeTimeoutMargin, t/10)
}

func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
