package aliyun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	promconfig "github.com/prometheus/common/config"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// The key the simulator accepts in tests; the secret must never show up in
// logs or errors.
var testKey = simulator.Key{ID: "LTAItestKeyID0001", Secret: "test-secret-MUST-NOT-LEAK-7f3a9c"}

// env is one client wired to one simulator through the real SDK.
type env struct {
	t      *testing.T
	sim    *simulator.Server
	cfg    *config.Config
	client *Client
	reg    *prometheus.Registry
	logs   *syncBuffer
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

// newEnv starts a simulator without groups and a client pointed at it.
// edit may change the config.
func newEnv(t *testing.T, edit func(*config.Config)) *env {
	t.Helper()
	return newEnvWith(t, simulator.New(testKey), func(c *config.Config) {
		c.RefreshTimeout = config.Duration(10 * time.Second)
		if edit != nil {
			edit(c)
		}
	})
}

// newEnvWith is newEnv around a prepared simulator.
func newEnvWith(t *testing.T, sim *simulator.Server, edit func(*config.Config)) *env {
	t.Helper()
	api := httptest.NewServer(sim)
	t.Cleanup(api.Close)
	return startEnv(t, sim, testConfig(t, api.URL, edit))
}

// failingEnv is a client pointed at endpoint, with no simulator behind.
func failingEnv(t *testing.T, endpoint string, edit func(*config.Config)) *env {
	t.Helper()
	return startEnv(t, nil, testConfig(t, endpoint, func(c *config.Config) {
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

func startEnv(t *testing.T, sim *simulator.Server, cfg *config.Config) *env {
	t.Helper()
	e := &env{t: t, sim: sim, cfg: cfg, logs: &syncBuffer{}, reg: prometheus.NewRegistry()}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, err := NewClient(cfg, Options{Logger: logger, Metrics: NewAPIMetrics(e.reg), RetryBase: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	t.Cleanup(func() {
		if strings.Contains(e.logs.String(), testKey.Secret) {
			t.Errorf("the access key secret reached the log:\n%s", e.logs)
		}
	})
	e.client = client
	return e
}

// fetch lists the groups of one query (bizRegion "" for the unfiltered
// one) within refresh_timeout, as a refresh does.
func (e *env) fetch(bizRegion string) ([]*Group, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.RefreshTimeout.D())
	defer cancel()
	groups, _, err := e.client.ListAppInstanceGroup(ctx, bizRegion)
	return groups, err
}

// generated builds n groups with one pool each.
func generated(n int, region string) simulator.Dataset {
	var d simulator.Dataset
	for i := range n {
		g := fmt.Sprintf(`{"AppInstanceGroupId":"aig-gen-%s-%05d","AppInstanceGroupName":"Generated %d","RegionId":%q,
			"ProductType":"CloudApp","ChargeType":"PrePaid","Status":"PUBLISHED","ResourceStatus":"AVAILABLE",
			"Amount":2,"ExpiredTime":"2023-01-01T00:00:00.000+00:00",
			"NodePool":[{"NodePoolId":"rg-gen-%05d","NodeInstanceType":"appstreaming.general.4c8g","NodeAmount":4,"NodeUsed":%d}]}`,
			region, i, i, region, i, i%5)
		d.AppInstanceGroupModels = append(d.AppInstanceGroupModels, json.RawMessage(g))
	}
	return d
}

func gathered(t *testing.T, e *env) map[string]*dto.MetricFamily {
	t.Helper()
	list, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	mfs := map[string]*dto.MetricFamily{}
	for _, mf := range list {
		mfs[mf.GetName()] = mf
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
	var v float64
	n := 0
next:
	for _, m := range mfs[name].GetMetric() {
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
		v = m.GetCounter().GetValue() + m.GetGauge().GetValue()
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

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
