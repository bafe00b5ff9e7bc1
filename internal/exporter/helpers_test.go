package exporter

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	dto "github.com/prometheus/client_model/go"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// The key the simulator accepts in tests; the secret must never show up in
// logs or errors.
var testKey = simulator.Key{ID: "LTAItestKeyID0001", Secret: "test-secret-MUST-NOT-LEAK-7f3a9c"}

// pinnedNow is Monday 2022-08-15 10:00 in Asia/Shanghai: inside the
// reference example's schedule window (Mondays 09:30–11:00).
var pinnedNow = time.Date(2022, 8, 15, 2, 0, 0, 0, time.UTC)

// fakeClock is the exporter's clock in tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one exporter wired to one simulator through the real SDK, served
// by the real /metrics handler.
type env struct {
	t       *testing.T
	sim     *simulator.Server
	api     *httptest.Server
	cfg     *config.Config
	exp     *Exporter
	reg     *prometheus.Registry
	metrics *httptest.Server
	clock   *fakeClock
	logs    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newEnv starts a simulator serving the given data set files (merged, in
// order) and an exporter pointed at it. edit may change the config.
func newEnv(t *testing.T, datasets []string, edit func(*config.Config)) *env {
	t.Helper()
	sim := simulator.New(testKey)
	var merged simulator.Dataset
	for _, f := range datasets {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d simulator.Dataset
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		merged.AppInstanceGroupModels = append(merged.AppInstanceGroupModels, d.AppInstanceGroupModels...)
	}
	if err := sim.SetData(merged); err != nil {
		t.Fatal(err)
	}
	api := newAPIServer(t, sim)
	return startEnv(t, sim, api, testConfig(t, api.URL, func(c *config.Config) {
		c.RefreshTimeout = config.Duration(10 * time.Second)
		if edit != nil {
			edit(c)
		}
	}))
}

// testConfig is a validated config for endpoint, signed with testKey.
func testConfig(tb testing.TB, endpoint string, edit func(*config.Config)) *config.Config {
	tb.Helper()
	cfg := config.DefaultConfig()
	cfg.Endpoint = endpoint
	cfg.Credentials = &config.Credentials{AccessKeyID: testKey.ID, AccessKeySecret: promconfig.Secret(testKey.Secret)}
	if edit != nil {
		edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	return cfg
}

func startEnv(t *testing.T, sim *simulator.Server, api *httptest.Server, cfg *config.Config) *env {
	t.Helper()
	e := &env{t: t, sim: sim, api: api, cfg: cfg, clock: &fakeClock{t: pinnedNow}, logs: &syncBuffer{}, reg: prometheus.NewRegistry()}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	exp, err := NewExporter(cfg, Options{
		Logger:    logger,
		Metrics:   NewMetrics(e.reg),
		Now:       e.clock.Now,
		retryBase: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exp.Close)
	t.Cleanup(func() {
		if strings.Contains(e.logs.String(), testKey.Secret) {
			t.Errorf("the access key secret reached the log:\n%s", e.logs)
		}
	})
	e.exp = exp
	e.metrics = httptest.NewServer(NewHandler(func() *Exporter { return exp }, e.reg, logger))
	t.Cleanup(e.metrics.Close)
	return e
}

// scrape GETs /metrics and returns the body; the status must be 200.
func (e *env) scrape(header ...string) string {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.metrics.URL, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("/metrics answered %d: %s", resp.StatusCode, body)
	}
	return string(body)
}

// parse reads an exposition into families, failing on invalid text.
func parse(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("invalid exposition: %v", err)
	}
	return mfs
}

// value returns the value of the one series of family name whose labels
// include all of want; it fails when there is not exactly one.
func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, want ...string) float64 {
	t.Helper()
	v, n := find(mfs, name, want...)
	if n != 1 {
		t.Fatalf("%s%v: %d series, want 1", name, want, n)
	}
	return v
}

func find(mfs map[string]*dto.MetricFamily, name string, want ...string) (float64, int) {
	mf, ok := mfs[name]
	if !ok {
		return 0, 0
	}
	var v float64
	n := 0
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(want); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == want[i] && lp.GetValue() == want[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		n++
		switch {
		case m.Gauge != nil:
			v = m.Gauge.GetValue()
		case m.Counter != nil:
			v = m.Counter.GetValue()
		case m.Untyped != nil:
			v = m.Untyped.GetValue()
		}
	}
	return v, n
}

// waitFor polls cond until it holds or the test's deadline nears.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func mustRequest(t *testing.T, url string, header ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

func newAPIServer(t *testing.T, sim *simulator.Server) *httptest.Server {
	t.Helper()
	api := httptest.NewServer(sim)
	t.Cleanup(api.Close)
	return api
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
