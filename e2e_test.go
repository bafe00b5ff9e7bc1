package main

// End to end: the exporter in --demo mode, scraped every second by a real
// Prometheus server that loads alerts/; the alerts that become active and
// every dashboard query are checked through Prometheus' HTTP API.

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// prometheusServer starts Debian's prometheus binary scraping target every
// second.
func prometheusServer(t *testing.T, target string) string {
	t.Helper()
	return startPrometheus(t, target, "1s")
}

// startPrometheus starts Debian's prometheus binary with alerts/ loaded,
// scraping target and evaluating the rules every interval.
// Without the binary the test is skipped, unless APPSTREAM_E2E_REQUIRED is
// set (as .ci/run does), so CI cannot pass by skipping.
func startPrometheus(t *testing.T, target, interval string) string {
	t.Helper()
	bin := requireTool(t, "prometheus", "APPSTREAM_E2E_REQUIRED", "apt-get install -y prometheus")
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
	logs := &syncBuffer{}
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
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
}

// activeAlerts lists "Alertname: summary" of every pending or firing group
// alert ("Alertname" for the others). Group alerts carry no group_name
// label; their summary looks the name up, so this also proves that lookup
// on a real Prometheus.
func activeAlerts(t *testing.T, base string) []string {
	var r struct {
		Data struct {
			Alerts []promAlert `json:"alerts"`
		} `json:"data"`
	}
	apiGet(t, base+"/api/v1/alerts", &r)
	var out []string
	for _, a := range r.Data.Alerts {
		if a.Labels["group_id"] == "" {
			out = append(out, a.Labels["alertname"])
			continue
		}
		out = append(out, a.Labels["alertname"]+": "+a.Annotations["summary"])
	}
	sort.Strings(out)
	return out
}

// demoAlerts is what the demo data set must raise, and nothing else: the
// 16 healthy groups raise none.
var demoAlerts = []string{
	"AppStreamExporterDemoMode",
	"AppStreamGroupCeased: Delivery group Legacy Payroll has ceased for an overdue payment.",
	"AppStreamGroupExpiringSoon: Delivery group 设计工作站 Design Studio expires within 7 days.",
	"AppStreamGroupExpiryApproaching: Delivery group Sales CRM expires within 30 days.",
	"AppStreamGroupFailed: Delivery group Engineering CAD failed to publish.",
	"AppStreamGroupFailed: Delivery group Marketing Suite failed to update.",
	"AppStreamGroupLongExpired: Delivery group Archive Viewer expired more than 1 day ago.",
	"AppStreamGroupLongExpired: Delivery group Old Intranet expired more than 1 day ago.",
	"AppStreamGroupSkipsUserAuth: Delivery group Kiosk Browser skips user authorization checks.",
	"AppStreamGroupStuck: Delivery group BI Dashboards has been MAINTAINING for over an hour.",
	"AppStreamGroupStuck: Delivery group Office Apps Rollout has been DEPLOYING for over an hour.",
	"AppStreamGroupUnavailable: Delivery group Legacy Payroll is unavailable.",
	"AppStreamGroupUnavailable: Delivery group Old Intranet is unavailable.",
	"AppStreamNodePoolScalingExhausted: Resource pool rg-o9gmnu77vtuuj5 of Sales CRM cannot scale out any further.",
	"AppStreamScheduledTargetAboveMax: Resource pool rg-ocubrl5ptp5aa8 of Call Center Softphone is scheduled above its scaling maximum.",
}

func TestEndToEndAlertsAndDashboards(t *testing.T) {
	e := startExporter(t, "--demo")
	base := prometheusServer(t, strings.TrimPrefix(e.base, "http://"))

	t.Run("alerts", func(t *testing.T) {
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
	})

	// The dashboards read recording rules, and rates need two samples in
	// their window: wait for both (the alerts above have, unless skipped).
	waitForQuery(t, base, `count(pool:aliyun_appstream_node_pool_nodes_used:ratio) > 0
  and on () count(region_status:aliyun_appstream_group_status:sum) > 0
  and on () count_over_time(up[1m]) >= 3`, 60*time.Second)

	t.Run("dashboard queries", func(t *testing.T) {
		// Every query runs as Grafana sends it (instant or range) and must
		// return data on the demo: the demo has a group or pool in every
		// state a panel shows.
		now := time.Now()
		for _, q := range dashboardQueries(t, "dashboards", grafanaMacros) {
			r := runPanelQuery(t, base, q, now, 5*time.Minute, 15*time.Second)
			switch {
			case r.err != "":
				t.Errorf("%s / %s: %s\n  %s", q.dashboard, q.panel, r.err, q.expr)
			case r.series == 0:
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
		now := time.Now()
		for _, v := range dashboardVariables(t, "dashboards", grafanaMacros) {
			r := runVariableQuery(t, base, v, now, 5*time.Minute)
			if r.err != "" || len(r.values) == 0 {
				t.Errorf("%s: variable %s (%s) has no values: %s", v.dashboard, v.name, v.query, r.err)
			}
			if v.name == "group" && !slices.Contains(r.values, "aig-96lguax1dxn9y1") {
				t.Errorf("%s: variable group: values %v are not group IDs", v.dashboard, r.values)
			}
		}
	})
	t.Run("dashboard stat panels show no data, not a stale value, once the exporter is gone", func(t *testing.T) {
		// After the exporter stops, Prometheus marks its series stale on the
		// next failed scrape; an instant query then finds nothing (no data)
		// instead of the last value, and the freshness panel shows the scrape
		// target down.
		e.cmd.Process.Kill()
		<-e.exited
		deadline := time.Now().Add(30 * time.Second)
		for {
			var r struct {
				Data struct {
					Result []json.RawMessage `json:"result"`
				} `json:"data"`
			}
			apiGet(t, base+"/api/v1/query?query="+url.QueryEscape(`aliyun_appstream_up`), &r)
			if len(r.Data.Result) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("aliyun_appstream_up still answers 30 s after the exporter stopped")
			}
			time.Sleep(200 * time.Millisecond)
		}
		now := time.Now()
		for _, q := range dashboardQueries(t, "dashboards", grafanaMacros) {
			if !q.instant || q.panelType != "stat" {
				continue
			}
			r := runPanelQuery(t, base, q, now, 5*time.Minute, 15*time.Second)
			if strings.HasPrefix(q.expr, "up{") {
				// The scrape status: Prometheus' up, 0 now.
				if r.series == 0 || !strings.Contains(r.body, `"0"]`) {
					t.Errorf("%s / %s: the scrape target is not shown down: %s", q.dashboard, q.panel, r.body)
				}
				continue
			}
			if r.series != 0 {
				t.Errorf("%s / %s: shows a value after the exporter stopped: %s\n  %s", q.dashboard, q.panel, r.body, q.expr)
			}
		}
	})
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

// listsAllMarker is the sentence the generator (dashboards/generator,
// listsAll) puts in the description of a table that lists every matching
// group, so its rows grow with the fleet; every other panel's query must
// return a bounded number of series (TestDashboardScale).
const listsAllMarker = "Lists every matching group"

type panelQuery struct {
	dashboard, panel, panelType, refID string
	expr                               string // with Grafana's macros replaced
	instant                            bool   // an instant query (stat, bar gauge, table); else a range query
	listsAll                           bool   // a table marked as listing every matching group
}

// Grafana's variables and macros, as a user who picks "All" sees them.
var grafanaMacros = strings.NewReplacer(
	"$__rate_interval", "1m", "$__interval", "15s", "$__range", "5m",
	"$job", ".*", "$instance", ".*", "$region", ".*", "$charge_type", ".*", "$group", ".*",
)

func loadDashboards(t *testing.T, dir string) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
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

// dashboardQueries lists every panel query of the dashboards in dir, in
// dashboard and panel order.
func dashboardQueries(t *testing.T, dir string, macros *strings.Replacer) []panelQuery {
	var out []panelQuery
	dashboards := loadDashboards(t, dir)
	for _, name := range slices.Sorted(maps.Keys(dashboards)) {
		panels, _ := dashboards[name]["panels"].([]any)
		for _, p := range panels {
			panel := p.(map[string]any)
			description, _ := panel["description"].(string)
			targets, _ := panel["targets"].([]any)
			for i, tg := range targets {
				target := tg.(map[string]any)
				refID, _ := target["refId"].(string)
				if refID == "" {
					refID = string(rune('A' + i)) // as Grafana names them
				}
				expr, _ := target["expr"].(string)
				if expr == "" {
					continue
				}
				instant, _ := target["instant"].(bool)
				ranged, _ := target["range"].(bool)
				out = append(out, panelQuery{
					dashboard: name, panel: fmt.Sprint(panel["title"]), panelType: fmt.Sprint(panel["type"]),
					refID: refID, expr: macros.Replace(expr),
					instant:  instant && !ranged,
					listsAll: panel["type"] == "table" && strings.Contains(description, listsAllMarker),
				})
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("only %d panel queries found", len(out))
	}
	return out
}

// queryResult is what one panel or variable query returned.
type queryResult struct {
	series   int      // series (rows of a table) returned
	labels   []string // each series' labels, for a panel query
	values   []string // a variable's values
	bytes    int      // size of the JSON answer
	duration time.Duration
	body     string
	err      string
}

// promQuery runs one HTTP API call and measures it.
func promQuery(t *testing.T, u string) (queryResult, []byte) {
	t.Helper()
	start := time.Now()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r := queryResult{duration: time.Since(start), bytes: len(body), body: string(body)}
	if err != nil {
		t.Fatal(err)
	}
	var status struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	if err := json.Unmarshal(body, &status); err != nil || status.Status != "success" {
		r.err = fmt.Sprintf("HTTP %d: %s %v", resp.StatusCode, status.Error, err)
	}
	return r, body
}

// unixTime is t as the HTTP API takes it, to the millisecond.
func unixTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// runPanelQuery sends a panel query as Grafana does: an instant query at
// the end of the time range, or a range query over it with step.
func runPanelQuery(t *testing.T, base string, q panelQuery, end time.Time, window, step time.Duration) queryResult {
	t.Helper()
	v := url.Values{"query": {q.expr}}
	path := "/api/v1/query"
	if q.instant {
		v.Set("time", unixTime(end))
	} else {
		path = "/api/v1/query_range"
		v.Set("start", unixTime(end.Add(-window)))
		v.Set("end", unixTime(end))
		v.Set("step", strconv.FormatFloat(step.Seconds(), 'f', -1, 64))
	}
	r, body := promQuery(t, base+path+"?"+v.Encode())
	var data struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
			} `json:"result"`
		} `json:"data"`
	}
	if r.err == "" {
		if err := json.Unmarshal(body, &data); err != nil {
			r.err = err.Error()
		}
	}
	r.series = len(data.Data.Result)
	for _, s := range data.Data.Result {
		delete(s.Metric, "__name__")
		r.labels = append(r.labels, fmt.Sprint(s.Metric))
	}
	return r
}

type variableQuery struct {
	dashboard, name, query string
	label, match           string // label_values(match, label)
	expr, regex            string // query_result(expr), with the variable's regex
}

var (
	labelValuesRE = regexp.MustCompile(`^label_values\((.+), (\w+)\)$`)
	queryResultRE = regexp.MustCompile(`(?s)^query_result\((.+)\)$`)
)

// dashboardVariables lists the label_values(m, l) and query_result(expr)
// variables of the dashboards in dir.
func dashboardVariables(t *testing.T, dir string, macros *strings.Replacer) []variableQuery {
	var out []variableQuery
	dashboards := loadDashboards(t, dir)
	for _, name := range slices.Sorted(maps.Keys(dashboards)) {
		list, _ := dashboards[name]["templating"].(map[string]any)["list"].([]any)
		for _, v := range list {
			vm := v.(map[string]any)
			if vm["type"] != "query" {
				continue
			}
			q := fmt.Sprint(vm["query"])
			regex, _ := vm["regex"].(string)
			switch {
			case labelValuesRE.MatchString(q):
				m := labelValuesRE.FindStringSubmatch(q)
				out = append(out, variableQuery{dashboard: name, name: fmt.Sprint(vm["name"]), query: q, label: m[2], match: macros.Replace(m[1]), regex: regex})
			case queryResultRE.MatchString(q):
				m := queryResultRE.FindStringSubmatch(q)
				out = append(out, variableQuery{dashboard: name, name: fmt.Sprint(vm["name"]), query: q, expr: macros.Replace(m[1]), regex: regex})
			default:
				t.Errorf("%s: variable %s: query %q is neither label_values nor query_result", name, vm["name"], q)
			}
		}
	}
	return out
}

// runVariableQuery makes the call Grafana makes for a variable: the label
// values API for label_values, an instant query for query_result (each
// series rendered as Grafana's text `name{l="v",...} value ts`), then the
// variable's regex picks the value out of each text.
func runVariableQuery(t *testing.T, base string, v variableQuery, end time.Time, window time.Duration) queryResult {
	t.Helper()
	var r queryResult
	var texts []string
	if v.expr == "" {
		u := base + "/api/v1/label/" + v.label + "/values?" + url.Values{
			"match[]": {v.match}, "start": {unixTime(end.Add(-window))}, "end": {unixTime(end)},
		}.Encode()
		var body []byte
		r, body = promQuery(t, u)
		var data struct {
			Data []string `json:"data"`
		}
		if r.err == "" {
			if err := json.Unmarshal(body, &data); err != nil {
				r.err = err.Error()
			}
		}
		texts = data.Data
	} else {
		u := base + "/api/v1/query?" + url.Values{"query": {v.expr}, "time": {unixTime(end)}}.Encode()
		var body []byte
		r, body = promQuery(t, u)
		var data instantVector
		if r.err == "" {
			if err := json.Unmarshal(body, &data); err != nil {
				r.err = err.Error()
			}
		}
		for _, s := range data.Data.Result {
			var labels []string
			for _, k := range slices.Sorted(maps.Keys(s.Metric)) {
				if k != "__name__" {
					labels = append(labels, fmt.Sprintf("%s=%q", k, s.Metric[k]))
				}
			}
			texts = append(texts, fmt.Sprintf("%s{%s} %v %v", s.Metric["__name__"], strings.Join(labels, ","), s.Value[1], s.Value[0]))
		}
	}
	r.series = len(texts)
	re := regexp.MustCompile(".*")
	if v.regex != "" {
		// Grafana's /pattern/flags; Go's regexp knows (?<name>...) too.
		re = regexp.MustCompile(v.regex[1:strings.LastIndexByte(v.regex, '/')])
	}
	seen := map[string]bool{}
	for _, text := range texts {
		m := re.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		value := m[0]
		if i := re.SubexpIndex("value"); i > 0 {
			value = m[i]
		} else if len(m) > 1 {
			value = m[1]
		}
		if !seen[value] {
			seen[value] = true
			r.values = append(r.values, value)
		}
	}
	return r
}
