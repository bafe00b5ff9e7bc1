package main

// End to end: the exporter in --demo mode, scraped every second by a real
// Prometheus server that loads alerts/; the alerts that become active and
// every dashboard query are checked through Prometheus' HTTP API.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// prometheusServer starts Debian's prometheus binary scraping target.
// Without the binary the test is skipped, unless APPSTREAM_E2E_REQUIRED is
// set (as .ci/run does), so CI cannot pass by skipping.
func prometheusServer(t *testing.T, target string) string {
	t.Helper()
	bin := requireTool(t, "prometheus", "APPSTREAM_E2E_REQUIRED", "apt-get install -y prometheus")
	rules, err := filepath.Abs("alerts/appstream.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := writeFile(t, dir, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: appstream
    static_configs:
      - targets: [%q]
`, rules, target))
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs)
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
			t.Fatalf("prometheus not ready after 30s:\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

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

type promAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

// activeAlerts lists "Alertname group_name" (or "Alertname" for alerts
// without a group) of every pending or firing alert.
func activeAlerts(t *testing.T, base string) []string {
	var r struct {
		Data struct {
			Alerts []promAlert `json:"alerts"`
		} `json:"data"`
	}
	apiGet(t, base+"/api/v1/alerts", &r)
	var out []string
	for _, a := range r.Data.Alerts {
		out = append(out, strings.TrimSpace(a.Labels["alertname"]+" "+a.Labels["group_name"]))
	}
	sort.Strings(out)
	return out
}

// demoAlerts is what the demo data set must raise, and nothing else: the
// 16 healthy groups raise none.
var demoAlerts = []string{
	"AppStreamExporterDemoMode",
	"AppStreamGroupCeased Legacy Payroll",
	"AppStreamGroupExpired Archive Viewer",
	"AppStreamGroupExpired Old Intranet",
	"AppStreamGroupExpiringSoon 设计工作站 Design Studio",
	"AppStreamGroupExpiryApproaching Sales CRM",
	"AppStreamGroupFailed Engineering CAD",
	"AppStreamGroupFailed Marketing Suite",
	"AppStreamGroupSkipsUserAuth Kiosk Browser",
	"AppStreamGroupStuck BI Dashboards",
	"AppStreamGroupStuck Office Apps Rollout",
	"AppStreamGroupUnavailable Legacy Payroll",
	"AppStreamGroupUnavailable Old Intranet",
	"AppStreamNodePoolSaturated Sales CRM",
	"AppStreamNodePoolScalingExhausted Sales CRM",
}

func TestEndToEndAlertsAndDashboards(t *testing.T) {
	e := startExporter(t, "--demo")
	base := prometheusServer(t, strings.TrimPrefix(e.base, "http://"))

	// Alerts become active (pending, as their `for` has not elapsed) once
	// rules have seen a few scrapes; wait for the set to settle.
	var got []string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		got = activeAlerts(t, base)
		if slices.Equal(got, demoAlerts) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !slices.Equal(got, demoAlerts) {
		t.Fatalf("active alerts:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(demoAlerts, "\n  "))
	}
	// A few more evaluations must not add anything (no healthy group alerts).
	time.Sleep(3 * time.Second)
	if got := activeAlerts(t, base); !slices.Equal(got, demoAlerts) {
		t.Errorf("alerts changed after settling:\n  %s", strings.Join(got, "\n  "))
	}

	t.Run("dashboard queries", func(t *testing.T) {
		for _, q := range dashboardQueries(t) {
			var r struct {
				Status string `json:"status"`
				Error  string `json:"error"`
				Data   struct {
					Result []json.RawMessage `json:"result"`
				} `json:"data"`
			}
			apiGet(t, base+"/api/v1/query?query="+url.QueryEscape(q.expr), &r)
			switch {
			case r.Status != "success":
				t.Errorf("%s / %s: %s\n  %s", q.dashboard, q.panel, r.Error, q.expr)
			case len(r.Data.Result) == 0:
				t.Errorf("%s / %s: no data on the demo\n  %s", q.dashboard, q.panel, q.expr)
			}
		}
	})
	t.Run("README queries", func(t *testing.T) {
		// Every ```promql block of the README must parse and evaluate.
		blocks := regexp.MustCompile("(?s)```promql\n(.*?)```").FindAllStringSubmatch(string(mustRead(t, "README.md")), -1)
		if len(blocks) < 2 {
			t.Fatalf("only %d promql blocks in README.md", len(blocks))
		}
		for _, b := range blocks {
			for _, q := range promqlQueries(b[1]) {
				var r struct {
					Status string `json:"status"`
					Error  string `json:"error"`
				}
				apiGet(t, base+"/api/v1/query?query="+url.QueryEscape(q), &r)
				if r.Status != "success" {
					t.Errorf("README query: %s\n  %s", r.Error, q)
				}
			}
		}
	})
	t.Run("dashboard variables", func(t *testing.T) {
		for _, v := range dashboardVariables(t) {
			var r struct {
				Status string   `json:"status"`
				Data   []string `json:"data"`
			}
			apiGet(t, base+"/api/v1/label/"+v.label+"/values?match[]="+url.QueryEscape(v.match), &r)
			if r.Status != "success" || len(r.Data) == 0 {
				t.Errorf("%s: variable %s (%s) has no values", v.dashboard, v.name, v.query)
			}
		}
	})
}

// promqlQueries splits a README block into its queries: comment lines
// dropped, an unindented line starting a query, indented lines continuing it.
func promqlQueries(block string) []string {
	var out []string
	for _, line := range strings.Split(block, "\n") {
		switch {
		case strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#"):
		case strings.HasPrefix(line, " ") && len(out) > 0:
			out[len(out)-1] += "\n" + line
		default:
			out = append(out, line)
		}
	}
	return out
}

type panelQuery struct{ dashboard, panel, expr string }

// Grafana's variables and macros, as a user who picks "All" sees them.
var grafanaMacros = strings.NewReplacer(
	"$__rate_interval", "1m", "$__interval", "15s", "$__range", "5m",
	"$job", ".*", "$instance", ".*", "$region", ".*", "$charge_type", ".*", "$group", ".*",
)

func loadDashboards(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob("dashboards/*.json")
	if err != nil || len(files) < 2 {
		t.Fatalf("dashboards: %v %v", files, err)
	}
	out := map[string]map[string]any{}
	for _, f := range files {
		var d map[string]any
		if err := json.Unmarshal(mustRead(t, f), &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = d
	}
	return out
}

func dashboardQueries(t *testing.T) []panelQuery {
	var out []panelQuery
	for name, d := range loadDashboards(t) {
		panels, _ := d["panels"].([]any)
		for _, p := range panels {
			panel := p.(map[string]any)
			targets, _ := panel["targets"].([]any)
			for _, tg := range targets {
				expr, _ := tg.(map[string]any)["expr"].(string)
				if expr != "" {
					out = append(out, panelQuery{name, fmt.Sprint(panel["title"]), grafanaMacros.Replace(expr)})
				}
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("only %d panel queries found", len(out))
	}
	return out
}

type variableQuery struct{ dashboard, name, query, label, match string }

var (
	labelValuesRE = regexp.MustCompile(`^label_values\((.+), (\w+)\)$`)
	queryResultRE = regexp.MustCompile(`^query_result\((.+)\)$`)
)

// dashboardVariables turns label_values(m, l) and query_result(m) into the
// label-values API calls Grafana makes for them.
func dashboardVariables(t *testing.T) []variableQuery {
	var out []variableQuery
	for name, d := range loadDashboards(t) {
		list, _ := d["templating"].(map[string]any)["list"].([]any)
		for _, v := range list {
			vm := v.(map[string]any)
			if vm["type"] != "query" {
				continue
			}
			q := fmt.Sprint(vm["query"])
			switch {
			case labelValuesRE.MatchString(q):
				m := labelValuesRE.FindStringSubmatch(q)
				out = append(out, variableQuery{name, fmt.Sprint(vm["name"]), q, m[2], grafanaMacros.Replace(m[1])})
			case queryResultRE.MatchString(q):
				m := queryResultRE.FindStringSubmatch(q)
				out = append(out, variableQuery{name, fmt.Sprint(vm["name"]), q, "group_id", grafanaMacros.Replace(m[1])})
			default:
				t.Errorf("%s: variable %s: query %q is neither label_values nor query_result", name, vm["name"], q)
			}
		}
	}
	return out
}
