package exporter

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.prom from the current output")

var fixtures = []string{"testdata/reference.json", "testdata/edge_cases.json", "testdata/app_instances.json"}

// goldenFamilies are compared with the golden file: every family the
// scrape serves or the golden file holds, except the ones that measure
// wall time (durations, histograms) and the Go and process collectors. A
// family missing on either side is a difference.
func goldenFamilies(t *testing.T, body string) []string {
	seen := map[string]bool{}
	for _, text := range []string{body, string(testkit.MustRead(t, "testdata/golden.prom"))} {
		for name := range parse(t, text) {
			wallTime := strings.Contains(name, "duration") || strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_")
			if !wallTime {
				seen[name] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

func goldenEnv(t *testing.T) *env {
	return newEnv(t, fixtures, func(c *config.Config) { c.TagLabels = config.TagLabelsOf("department", "cost-center") })
}

// goldenSessionsEnv is goldenEnv with app instances collected: what the
// golden file holds, so that it has every family.
func goldenSessionsEnv(t *testing.T) *env {
	return newEnv(t, fixtures, func(c *config.Config) {
		c.TagLabels = config.TagLabelsOf("department", "cost-center")
		c.AppInstances.Enabled = true
	})
}

// TestGoldenExposition scrapes the API reference's example group plus edge
// cases through the real SDK and compares the whole exposition with a
// hand-reviewed golden file. The clock is pinned, so countdowns and the
// schedule window are fixed.
func TestGoldenExposition(t *testing.T) {
	e := goldenSessionsEnv(t)
	body := e.scrape()
	if *update {
		mfs := parse(t, body)
		var buf bytes.Buffer
		for _, n := range goldenFamilies(t, body) {
			expfmt.MetricFamilyToText(&buf, mfs[n])
		}
		if err := os.WriteFile("testdata/golden.prom", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden, err := os.Open("testdata/golden.prom")
	if err != nil {
		t.Fatal(err)
	}
	defer golden.Close()
	if err := testutil.ScrapeAndCompare(e.metrics.URL, golden, goldenFamilies(t, body)...); err != nil {
		t.Fatal(err)
	}
}

// TestExpositionLint runs promlint over everything /metrics serves.
func TestExpositionLint(t *testing.T) {
	e := goldenSessionsEnv(t)
	mfs := parse(t, e.scrape())
	var list []*dto.MetricFamily
	for _, mf := range mfs {
		list = append(list, mf)
	}
	problems, err := promlint.NewWithMetricFamilies(list).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestDemoServed: the demo data set (what `--demo` serves) goes through the
// API and the SDK whole; the exposition package checks that it writes every
// family.
func TestDemoServed(t *testing.T) {
	d, err := simulator.DemoDataset(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil, nil)
	if err := e.sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	e.clock.t = time.Now()
	mfs := parse(t, e.scrape())
	if got := testkit.Value(t, mfs, "aliyun_appstream_groups", "biz_region", ""); got != 30 {
		t.Errorf("groups = %v, want 30", got)
	}
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_info"); n != 30 {
		t.Errorf("%d group_info series, want 30", n)
	}
}

func TestSchedulePerScrape(t *testing.T) {
	e := newEnv(t, fixtures, func(c *config.Config) { c.CacheTTL = config.Duration(3 * time.Hour) })
	pool := []string{"node_pool_id", "rg-edge-office"}
	mfs := parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_node_pool_schedule_active", pool...); v != 1 {
		t.Fatalf("schedule_active at Monday 10:00 = %v, want 1", v)
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_node_pool_schedule_target_nodes", pool...); v != 5 {
		t.Fatalf("schedule_target_nodes at Monday 10:00 = %v, want 5", v)
	}
	// Two hours later the window (09:30–11:00) is over; the data is cached,
	// so only the per-scrape values move.
	e.clock.Advance(2 * time.Hour)
	requests := e.sim.Requests()
	mfs = parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_node_pool_schedule_active", pool...); v != 0 {
		t.Errorf("schedule_active at Monday 12:00 = %v, want 0", v)
	}
	if _, n := testkit.Find(mfs, "aliyun_appstream_node_pool_schedule_target_nodes", pool...); n != 0 {
		t.Errorf("schedule_target_nodes present with no active window")
	}
	want := float64(time.Date(2022, 8, 18, 2, 0, 0, 0, time.UTC).Sub(pinnedNow.Add(2*time.Hour)) / time.Second)
	if v := testkit.Value(t, mfs, "aliyun_appstream_group_expires_in_seconds", "group_id", "aig-edge-sessions"); v != want {
		t.Errorf("expires_in_seconds = %v, want %v", v, want)
	}
	if got := e.sim.Requests() - requests; got != 0 {
		t.Errorf("a scrape within cache_ttl made %d API requests, want 0", got)
	}
}

func TestGzipNegotiated(t *testing.T) {
	e := goldenEnv(t)
	for header, want := range map[string]string{
		"GZIP":                 "gzip", // codings are case-insensitive
		"br, Gzip;q=0.5":       "gzip",
		"gzip;q=0":             "",
		"gzip; q=0.000":        "",
		"identity, deflate":    "",
		"gzip;q=1, identity":   "gzip",
		"x-gzip":               "gzip", // RFC 9110 §8.4.1.3
		"gzipped;q=1, deflate": "",
		"gzip;level=1;q=0":     "",
		"*;q=0.1, gzip ; Q=1 ": "gzip",
	} {
		resp, err := e.metrics.Client().Do(mustRequest(t, e.metrics.URL, "Accept-Encoding", header))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Content-Encoding"); got != want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", header, got, want)
		}
	}
	resp, err := e.metrics.Client().Do(mustRequest(t, e.metrics.URL, "Accept-Encoding", "gzip"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
		t.Errorf("Content-Encoding = %q, want gzip", got)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q", ct)
	}
}

// TestConcurrentScrapesShareOneRefresh: ten scrapes at once cost one API
// request (one page), and a scrape within cache_ttl costs none.
func TestConcurrentScrapesShareOneRefresh(t *testing.T) {
	e := goldenEnv(t)
	var wg sync.WaitGroup
	bodies := make([]string, 10)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i] = e.scrape()
		}()
	}
	wg.Wait()
	if n := e.sim.Requests(); n != 1 {
		t.Fatalf("10 concurrent scrapes made %d API requests, want 1", n)
	}
	for i, b := range bodies {
		if v := testkit.Value(t, parse(t, b), "aliyun_appstream_groups", "biz_region", ""); v != 4 {
			t.Errorf("scrape %d served %v groups, want 4", i, v)
		}
	}
	e.clock.Advance(59 * time.Second)
	e.scrape()
	if n := e.sim.Requests(); n != 1 {
		t.Errorf("a scrape 59s later (cache_ttl 60s) made %d more requests", n-1)
	}
	e.clock.Advance(2 * time.Second)
	e.scrape()
	if n := e.sim.Requests(); n != 2 {
		t.Errorf("a scrape past cache_ttl made %d requests, want 1", n-1)
	}
}

// TestCacheTTLExported: aliyun_appstream_cache_ttl_seconds is the cache_ttl
// of the configuration in force, with or without data (alert thresholds
// built on it must not vanish in an API outage), and absent while no
// configuration is.
func TestCacheTTLExported(t *testing.T) {
	e := newEnv(t, fixtures, func(c *config.Config) { c.CacheTTL = config.Duration(90 * time.Second) })
	e.sim.SetSticky(&simulator.ServiceUnavailable)
	mfs := parse(t, e.scrape())
	if up := testkit.Value(t, mfs, "aliyun_appstream_up", "biz_region", ""); up != 0 {
		t.Fatalf("up = %v with the API down, want 0", up)
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_cache_ttl_seconds"); v != 90 {
		t.Errorf("cache_ttl_seconds = %v with cache_ttl 90s, want 90", v)
	}
	if mf := mfs["aliyun_appstream_cache_ttl_seconds"]; mf.GetType() != dto.MetricType_GAUGE || len(mf.GetMetric()[0].GetLabel()) != 0 {
		t.Errorf("cache_ttl_seconds is not an unlabelled gauge: %v", mf)
	}

	none := httptest.NewServer(NewHandler(func() *Exporter { return nil }, e.reg, slog.New(slog.DiscardHandler)))
	defer none.Close()
	resp, err := http.Get(none.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if _, n := testkit.Find(parse(t, string(body)), "aliyun_appstream_cache_ttl_seconds"); n != 0 {
		t.Errorf("cache_ttl_seconds served with no configuration in force")
	}
}
