package exporter

// Benchmarks on generated data sets of 100, 2,000 and 10,000 groups:
//
//	go test ./internal/exporter -run '^$' -bench . -benchmem
//
// BenchmarkCachedScrape is what /metrics costs between refreshes, over
// loopback HTTP; BenchmarkExpositionFloor serves the very same bytes from
// memory over the same path, the floor a scrape cannot beat.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
				snap, err := exp.refresh(context.Background(), "", prev)
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
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("scrape: %v %d", err, resp.StatusCode)
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
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			_, _, h := benchEnv(b, n)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			body := rec.Body.Bytes()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
				w.Write(body)
			}))
			defer srv.Close()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				scrapeOnce(b, plainClient, srv.URL, false)
			}
		})
	}
}
