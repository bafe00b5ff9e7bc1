package aliyun

import (
	"context"
	"maps"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit/testconfig"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// env is one client wired to one simulator through the real SDK.
type env struct {
	t      *testing.T
	sim    *simulator.Server
	cfg    *config.Config
	client *Client
	reg    *prometheus.Registry
	logs   *testkit.SyncBuffer
}

// newEnv starts a simulator without groups and a client pointed at it.
// edit may change the config.
func newEnv(t *testing.T, edit func(*config.Config)) *env {
	t.Helper()
	return newEnvWith(t, simulator.New(testkit.Key), func(c *config.Config) {
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
	return startEnv(t, sim, testconfig.New(t, api.URL, edit))
}

// failingEnv is a client pointed at endpoint, with no simulator behind.
func failingEnv(t *testing.T, endpoint string, edit func(*config.Config)) *env {
	t.Helper()
	return startEnv(t, nil, testconfig.New(t, endpoint, func(c *config.Config) {
		c.RefreshTimeout = config.Duration(10 * time.Second)
		if edit != nil {
			edit(c)
		}
	}))
}

func startEnv(t *testing.T, sim *simulator.Server, cfg *config.Config) *env {
	t.Helper()
	logger, logs := testkit.Logger(t)
	e := &env{t: t, sim: sim, cfg: cfg, logs: logs, reg: prometheus.NewRegistry()}
	client, err := NewClient(cfg, Options{Logger: logger, Metrics: NewAPIMetrics(e.reg), RetryBase: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	e.client = client
	return e
}

// fetch lists the groups of one query (bizRegion "" for the unfiltered
// one) within refresh_timeout, as a refresh does.
func (e *env) fetch(bizRegion string) ([]*Group, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.RefreshTimeout.D())
	defer cancel()
	return listGroups(ctx, e.client, bizRegion)
}

// listGroups lists one query's groups as a refresh reads them: each
// group once, the first by page number and position.
func listGroups(ctx context.Context, c *Client, bizRegion string) ([]*Group, error) {
	var mu sync.Mutex
	var pages map[int][]*Group
	_, err := c.ListAppInstanceGroup(ctx, bizRegion, func() PageReader {
		pages = map[int][]*Group{}
		return func(page int, groups []*Group) {
			mu.Lock()
			defer mu.Unlock()
			pages[page] = groups
		}
	})
	seen := map[string]bool{}
	var groups []*Group
	for _, p := range slices.Sorted(maps.Keys(pages)) {
		for _, g := range pages[p] {
			if key := g.Key(bizRegion); g.AppInstanceGroupID.V == "" || !seen[key] {
				seen[key] = true
				groups = append(groups, g)
			}
		}
	}
	return groups, err
}
