package main

// Running Prometheus-style servers and reading Prometheus' HTTP API.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
)

// startPrometheus starts Debian's prometheus binary with alerts/ loaded,
// scraping target and evaluating the rules every interval.
// Without the binary the test is skipped, unless APPSTREAM_E2E_REQUIRED is
// set (as .ci/run does), so CI cannot pass by skipping.
func startPrometheus(t *testing.T, target, interval string) string {
	t.Helper()
	bin := prometheusBinary(t)
	rules, err := filepath.Abs("alerts/appstream.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := writeFile(t, dir, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: %[1]s
  scrape_timeout: %[1]s
  evaluation_interval: %[1]s
rule_files: [%[2]q]
scrape_configs:
  - job_name: appstream
    static_configs:
      - targets: [%[3]q]
`, interval, rules, target))
	return startServer(t, "prometheus", bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--log.level=warn")
}

// prometheusBinary is the Prometheus the end-to-end tests run: the one
// APPSTREAM_PROMETHEUS names (CI runs them again with a 3.x build), else
// `prometheus` on PATH (the Debian package, 2.x).
func prometheusBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("APPSTREAM_PROMETHEUS"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("APPSTREAM_PROMETHEUS: %v", err)
		}
		return bin
	}
	return requireTool(t, "prometheus", "APPSTREAM_E2E_REQUIRED", "apt-get install -y prometheus")
}

// instantVector is the answer of /api/v1/query for an instant vector.
type instantVector struct {
	Data struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

// startServer runs a Prometheus-style server (bin args --web.listen-address=
// on a free loopback port), stops it when the test ends, shows its log if
// the test failed, and returns its base URL once /-/ready answers.
func startServer(t *testing.T, name, bin string, args ...string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, append(args, "--web.listen-address="+addr)...)
	logs := &testkit.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logs)
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 30s:\n%s", name, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// apiGet decodes the JSON answer to a GET of u into out.
func apiGet(t *testing.T, u string, out any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("%s: %v", u, err)
	}
}

// waitForQuery waits until the instant query expr returns something, and
// returns the time it was evaluated at: queries at that time see the data
// it saw, whatever a later scrape does.
func waitForQuery(t *testing.T, base, expr string, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var r struct {
			Data struct {
				Result []json.RawMessage `json:"result"`
			} `json:"data"`
		}
		now := time.Now()
		apiGet(t, base+"/api/v1/query?"+url.Values{"query": {expr}, "time": {unixTime(now)}}.Encode(), &r)
		if len(r.Data.Result) > 0 {
			return now
		}
		if time.Now().After(deadline) {
			t.Fatalf("no result after %s: %s", timeout, expr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// unixTime is t as the HTTP API takes it, to the millisecond.
func unixTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}
