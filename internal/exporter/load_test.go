package exporter

import (
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit/testconfig"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// TestLoad200Scrapers: 200 scrapers hammer one exporter (the demo data set,
// real clock, cache_ttl 5s) for APPSTREAM_LOAD_SECONDS (30 by default, 3
// with -short). No scrape may fail, and the API sees one refresh per
// cache_ttl at most. Latencies are logged, not asserted: timings on a shared
// machine are not a test.
func TestLoad200Scrapers(t *testing.T) {
	noLeaks(t)
	duration := 30 * time.Second
	if testing.Short() {
		duration = 3 * time.Second
	}
	if s, err := strconv.Atoi(os.Getenv("APPSTREAM_LOAD_SECONDS")); err == nil {
		duration = time.Duration(s) * time.Second
	}
	d, err := simulator.DemoDataset(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sim := simulator.New(testkit.Key)
	if err := sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	api := newAPIServer(t, sim)
	cfg := testconfig.New(t, api.URL, func(c *config.Config) { c.CacheTTL = config.Duration(5 * time.Second) })
	reg := prometheus.NewRegistry()
	exp, err := NewExporter(cfg, Options{Logger: slog.New(slog.DiscardHandler), Metrics: NewMetrics(reg)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exp.Close)
	srv := httptest.NewServer(NewHandler(func() *Exporter { return exp }, reg, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	transport := &http.Transport{MaxIdleConnsPerHost: 200}
	t.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}

	var mu sync.Mutex
	var latencies []time.Duration
	failed := 0
	start := time.Now()
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < duration {
				began := time.Now()
				resp, err := client.Get(srv.URL)
				ok := err == nil && resp.StatusCode == http.StatusOK
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					ok = ok && err == nil
				}
				mu.Lock()
				latencies = append(latencies, time.Since(began))
				if !ok {
					failed++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[int(math.Ceil(p*float64(len(latencies))))-1] }
	refreshes := testutil.ToFloat64(exp.accounts[0].metrics.refreshes.WithLabelValues("", "", "success")) +
		testutil.ToFloat64(exp.accounts[0].metrics.refreshes.WithLabelValues("", "", "failure"))
	t.Logf("%d scrapes in %s by 200 scrapers: p50 %s, p99 %s, max %s; %d failed; %.0f refreshes, %d API requests",
		len(latencies), elapsed.Round(time.Millisecond), pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond),
		latencies[len(latencies)-1].Round(time.Millisecond), failed, refreshes, sim.Requests())
	if failed > 0 {
		t.Errorf("%d of %d scrapes failed", failed, len(latencies))
	}
	if limit := math.Ceil(elapsed.Seconds()/cfg.CacheTTL.D().Seconds()) + 1; refreshes > limit {
		t.Errorf("%.0f refreshes in %s, want at most %.0f (one per cache_ttl)", refreshes, elapsed, limit)
	}
}
