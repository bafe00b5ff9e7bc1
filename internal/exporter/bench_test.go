package exporter

// Benchmarks on generated data sets of 100, 2,000 and 10,000 groups:
//
//	go test ./internal/exporter -run '^$' -bench . -benchmem
//	go test ./internal/exporter -run '^$' -bench '/groups=2000$' -benchmem
//	go test ./internal/exporter -run '^$' -bench 'ScrapeRatios/groups=2000$' -count 5
//
// BenchmarkCachedScrape(Gzip) is what /metrics costs between refreshes,
// over loopback HTTP; BenchmarkExpositionFloor(Gzip) serves the very same
// bytes (the gzip ones as the handler compressed them) from memory over
// the same path, the floor a scrape cannot beat. On a shared machine
// compare the ratios BenchmarkScrapeRatios takes within one run rather
// than times taken by separate benchmarks. The handler, its client and
// the floor server share the process, so these time the exporter's work
// plus one client's; scripts/bench.sh measures the built binary.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/exposition"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit/testconfig"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

var benchSizes = []int{100, 2000, 10000}

// benchEnv is an exporter over a simulator holding n generated groups.
func benchEnv(b *testing.B, n int) (*Exporter, *simulator.Server, http.Handler) {
	b.Helper()
	d, err := simulator.Generate(n, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	sim := simulator.New(testkit.Key)
	if err := sim.SetData(d); err != nil {
		b.Fatal(err)
	}
	api := httptest.NewServer(sim)
	b.Cleanup(api.Close)
	cfg := testconfig.New(b, api.URL, func(c *config.Config) {
		c.TagLabels = config.TagLabelsOf("department", "cost-center")
		c.CacheTTL = config.Duration(time.Hour)
		c.RefreshTimeout = config.Duration(time.Minute)
	})
	reg := prometheus.NewRegistry()
	exp, err := NewExporter(cfg, Options{Logger: slog.New(slog.DiscardHandler), Metrics: NewMetrics(reg)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(exp.Close)
	return exp, sim, NewHandler(func() *Exporter { return exp }, reg, slog.New(slog.DiscardHandler))
}

// BenchmarkRefresh is one full refresh: every page through the real SDK
// (signing included) to the simulator on loopback, decoding and rendering.
func BenchmarkRefresh(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			exp, _, _ := benchEnv(b, n)
			var prev *exposition.Snapshot
			b.ReportAllocs()
			for b.Loop() {
				snap, err := exp.accounts[0].refresh(context.Background(), "", prev)
				if err != nil || snap.Groups() != n {
					b.Fatalf("refresh: %v", err)
				}
				prev = snap
			}
		})
	}
}

// scrapeOnce GETs url over loopback and reads the whole body, as a
// scraper would; it returns the body size.
func scrapeOnce(b *testing.B, client *http.Client, url string, gzip bool) int64 {
	return scrapeTo(b, client, url, gzip, io.Discard)
}

// scrapeTo is scrapeOnce writing the body, as sent, to w.
func scrapeTo(b *testing.B, client *http.Client, url string, gzip bool, w io.Writer) int64 {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	n, err := io.Copy(w, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("scrape: %v %d", err, resp.StatusCode)
	}
	if gzip && resp.Header.Get("Content-Encoding") != "gzip" {
		b.Fatal("asked for gzip, got an uncompressed answer")
	}
	return n
}

// plainClient does not ask for or undo compression itself.
var plainClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// BenchmarkCachedScrape is a /metrics request served from the cache over
// loopback HTTP: health metrics gathered, group series written, body read
// by the client, uncompressed.
func BenchmarkCachedScrape(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			_, sim, h := benchEnv(b, n)
			srv := httptest.NewServer(h)
			defer srv.Close()
			size := scrapeOnce(b, plainClient, srv.URL, false) // the refresh
			requests := sim.Requests()
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				scrapeOnce(b, plainClient, srv.URL, false)
			}
			if sim.Requests() != requests {
				b.Fatalf("cached scrapes made %d API requests", sim.Requests()-requests)
			}
		})
	}
}

// BenchmarkCachedScrapeGzip is the same with Accept-Encoding: gzip, as
// Prometheus asks; the bytes counted are the compressed ones.
func BenchmarkCachedScrapeGzip(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			_, _, h := benchEnv(b, n)
			srv := httptest.NewServer(h)
			defer srv.Close()
			size := scrapeOnce(b, plainClient, srv.URL, true)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				scrapeOnce(b, plainClient, srv.URL, true)
			}
		})
	}
}

// BenchmarkExpositionFloor serves the bytes a cached scrape produces, held
// in memory, over the same loopback HTTP to the same client: the floor a
// cached scrape is measured against.
func BenchmarkExpositionFloor(b *testing.B) {
	benchFloor(b, false)
}

// BenchmarkExpositionFloorGzip is the floor of BenchmarkCachedScrapeGzip:
// the handler's gzip body for the same data, held compressed in memory and
// served with Content-Encoding: gzip, as nginx gzip_static serves a .gz
// file.
func BenchmarkExpositionFloorGzip(b *testing.B) {
	benchFloor(b, true)
}

func benchFloor(b *testing.B, gzip bool) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			_, _, h := benchEnv(b, n)
			srv := httptest.NewServer(h)
			defer srv.Close()
			floor := fromMemory(served(b, srv.URL, gzip), gzip)
			defer floor.Close()
			size := scrapeOnce(b, plainClient, floor.URL, gzip)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				scrapeOnce(b, plainClient, floor.URL, gzip)
			}
		})
	}
}

// served is the body the handler at url serves, compressed if asked
// for; the first call also waits for the first refresh.
func served(b *testing.B, url string, gzip bool) []byte {
	var body bytes.Buffer
	scrapeTo(b, plainClient, url, gzip, &body)
	return body.Bytes()
}

// fromMemory serves body, whole and with its length, as a static file
// server would; gzipped says it holds gzip bytes.
func fromMemory(body []byte, gzipped bool) *httptest.Server {
	length := strconv.Itoa(len(body))
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Content-Length", length)
		if gzipped {
			w.Header().Set("Content-Encoding", "gzip")
		}
		w.Write(body)
	}))
}

// BenchmarkScrapeRatios times, in interleaved rounds, a cached gzip
// scrape, its gzip floor, a cached uncompressed scrape and its floor, and
// reports the median over rounds of scrape/floor for each encoding: a
// noisy neighbour slows a round's four requests alike, so the ratios
// hold where times drift. One op is one round.
func BenchmarkScrapeRatios(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			_, _, h := benchEnv(b, n)
			srv := httptest.NewServer(h)
			defer srv.Close()
			gzFloor := fromMemory(served(b, srv.URL, true), true)
			defer gzFloor.Close()
			plainFloor := fromMemory(served(b, srv.URL, false), false)
			defer plainFloor.Close()
			steps := []struct {
				url  string
				gzip bool
			}{{srv.URL, true}, {gzFloor.URL, true}, {srv.URL, false}, {plainFloor.URL, false}}
			for _, s := range steps { // warm-up: connections, buffers
				scrapeOnce(b, plainClient, s.url, s.gzip)
			}
			var gzRatios, plainRatios []float64
			var t [4]time.Duration
			for b.Loop() {
				for i, s := range steps {
					start := time.Now()
					scrapeOnce(b, plainClient, s.url, s.gzip)
					t[i] = time.Since(start)
				}
				gzRatios = append(gzRatios, float64(t[0])/float64(t[1]))
				plainRatios = append(plainRatios, float64(t[2])/float64(t[3]))
			}
			b.ReportMetric(medianOf(gzRatios), "gzip-x-floor")
			b.ReportMetric(medianOf(plainRatios), "plain-x-floor")
		})
	}
}

func medianOf(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}
