package exporter

import (
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/memlimit"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit/testconfig"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// TestRefreshesToldToMemoryLimit: while the API answers a refresh of
// groups or of app instances, the memory limit's Tuner counts it as
// running (its collections then measure the refresh, not what is held
// between refreshes), and after the scrape none is.
func TestRefreshesToldToMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "") // restored after the test
	if err := os.Unsetenv("GOMEMLIMIT"); err != nil {
		t.Fatal(err)
	}
	tuner := memlimit.New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	tuner.Close() // counts refreshes, and leaves the test process's limit alone

	for _, tc := range []struct {
		name     string
		sessions bool
		groups   int
	}{
		{"groups over several pages", false, 250},
		{"groups and app instances", true, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := simulator.New(testkit.Key)
			var d simulator.Dataset
			if tc.sessions {
				d = sessionsData(t, tc.groups)
			} else {
				var err error
				if d, err = simulator.Generate(tc.groups, pinnedNow); err != nil {
					t.Fatal(err)
				}
			}
			if err := sim.SetData(d); err != nil {
				t.Fatal(err)
			}
			api := newAPIServer(t, sim)
			cfg := testconfig.New(t, api.URL, func(c *config.Config) {
				c.AppInstances.Enabled = tc.sessions
				c.AppInstances.MaxRequestsPerSecond = 100
			})
			e := startEnv(t, sim, api, cfg, func(o *Options) { o.MemoryLimit = tuner })

			var mu sync.Mutex
			running := map[int]int64{} // by request number
			sim.SetHook(func(n int) {
				mu.Lock()
				running[n] = tuner.Refreshes()
				mu.Unlock()
			})
			e.scrape()
			mu.Lock()
			defer mu.Unlock()
			if len(running) < 3 {
				t.Fatalf("%d requests, want several pages", len(running))
			}
			for n, r := range running {
				// The first request lists the groups; with app instances, their
				// refresh may have begun to wait for it. The others are pages of
				// groups, or app instances once the groups are in.
				if tc.sessions && n == 1 {
					if r != 1 && r != 2 {
						t.Errorf("the groups' request answered while the Tuner counted %d refreshes running, want 1 or 2", r)
					}
					continue
				}
				if r != 1 {
					t.Errorf("request %d answered while the Tuner counted %d refreshes running, want 1", n, r)
				}
			}
			if r := tuner.Refreshes(); r != 0 {
				t.Errorf("after the scrape the Tuner counts %d refreshes running, want none", r)
			}
		})
	}
}
