package exporter

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	dto "github.com/prometheus/client_model/go"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit/testconfig"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

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
	logs    *testkit.SyncBuffer
}

// newEnv starts a simulator serving the given data set files (merged, in
// order) and an exporter pointed at it. edit may change the config.
func newEnv(t *testing.T, datasets []string, edit func(*config.Config)) *env {
	t.Helper()
	sim := simulator.New(testkit.Key)
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
		for id, instances := range d.AppInstances {
			if merged.AppInstances == nil {
				merged.AppInstances = map[string][]json.RawMessage{}
			}
			merged.AppInstances[id] = append(merged.AppInstances[id], instances...)
		}
	}
	if err := sim.SetData(merged); err != nil {
		t.Fatal(err)
	}
	api := newAPIServer(t, sim)
	return startEnv(t, sim, api, testconfig.New(t, api.URL, func(c *config.Config) {
		c.RefreshTimeout = config.Duration(10 * time.Second)
		if edit != nil {
			edit(c)
		}
	}))
}

// startEnv starts an exporter of cfg against api; edits may change its
// options.
func startEnv(t *testing.T, sim *simulator.Server, api *httptest.Server, cfg *config.Config, edits ...func(*Options)) *env {
	t.Helper()
	logger, logs := testkit.Logger(t)
	e := &env{t: t, sim: sim, api: api, cfg: cfg, clock: &fakeClock{t: pinnedNow}, logs: logs, reg: prometheus.NewRegistry()}
	o := Options{
		Logger:    logger,
		Metrics:   NewMetrics(e.reg),
		Now:       e.clock.Now,
		retryBase: 10 * time.Millisecond,
	}
	for _, edit := range edits {
		edit(&o)
	}
	exp, err := NewExporter(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exp.Close)
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
