package main

// Dashboard scale: the exporter over the simulator holding generated
// delivery groups in four regions, scraped by a real Prometheus; every panel
// and variable query of both dashboards runs as Grafana sends it, and its
// series, JSON size and time are measured (README "Dashboards").

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// maxPanelSeries bounds what any panel query may return, except tables
// marked as listing every matching group (listsAllMarker).
const maxPanelSeries = 100

// scaleRegions spread the generated groups (the demo has two regions).
var scaleRegions = []string{"cn-shanghai", "cn-hangzhou", "cn-beijing", "cn-shenzhen"}

// Grafana's macros for the default 6 h time range on a ~1,000 px panel.
var scaleMacros = strings.NewReplacer(
	"$__rate_interval", "1m", "$__interval", "20s", "$__range", "6h",
	"$job", ".*", "$account", ".*", "$instance", ".*", "$region", ".*", "$charge_type", ".*", "$group", ".*",
)

// oneRegion is scaleMacros with one region picked.
var oneRegion = strings.NewReplacer(
	"$__rate_interval", "1m", "$__interval", "20s", "$__range", "6h",
	"$job", ".*", "$account", ".*", "$instance", ".*", "$region", scaleRegions[2], "$charge_type", ".*", "$group", ".*",
)

// TestDashboardScale runs every dashboard query against 2,000 delivery
// groups (APPSTREAM_SCALE_GROUPS to change) and fails when a panel query,
// other than a table that lists every group, returns more than
// maxPanelSeries series. `go test -v -run TestDashboardScale` prints the
// figures as a Markdown table; APPSTREAM_SCALE_DASHBOARDS=<dir> measures
// other dashboard JSON (an older version, say) instead of dashboards/.
func TestDashboardScale(t *testing.T) {
	groups, dir := scaleSettings(t)
	prometheusBinary(t)
	setup := time.Now()
	base := startScaleStack(t, groups)
	now := waitForScaleScrapes(t, base, groups, setup)

	// Grafana's requests for the default time range, last 6 hours: panel
	// width ~1,000 px gives a 20 s step.
	const window, step = 6 * time.Hour, 20 * time.Second
	rep := newScaleReport(groups, dir)
	for _, q := range dashboardQueries(t, dir, scaleMacros) {
		rep.panel(q, measured(func() queryResult { return runPanelQuery(t, base, q, now, window, step) }))
	}
	for _, v := range dashboardVariables(t, dir, scaleMacros) {
		rep.variable(v, measured(func() queryResult { return runVariableQuery(t, base, v, now, window) }))
	}
	// The group list once a region is picked.
	for _, v := range dashboardVariables(t, dir, oneRegion) {
		if v.name == "group" {
			r := measured(func() queryResult { return runVariableQuery(t, base, v, now, window) })
			r.series = len(r.values)
			rep.row(v.dashboard, "$group", "", "variable, one region picked", r)
		}
	}
	t.Log(rep.table.String())
	for _, f := range rep.failures {
		t.Error(f)
	}
}

// scaleSettings are the number of groups (APPSTREAM_SCALE_GROUPS, 2,000
// by default) and the directory of the dashboards to measure
// (APPSTREAM_SCALE_DASHBOARDS, dashboards/ by default).
func scaleSettings(t *testing.T) (groups int, dir string) {
	groups = 2000
	if s := os.Getenv("APPSTREAM_SCALE_GROUPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("APPSTREAM_SCALE_GROUPS=%q: want a number of groups", s)
		}
		groups = n
	}
	dir = "dashboards"
	if d := os.Getenv("APPSTREAM_SCALE_DASHBOARDS"); d != "" {
		dir = d
	}
	return groups, dir
}

// startScaleStack starts the simulator holding that many generated
// groups, spread over scaleRegions, the exporter reading it, and a
// Prometheus scraping the exporter every 5 s; it returns Prometheus' base
// URL.
func startScaleStack(t *testing.T, groups int) string {
	data, err := simulator.Generate(groups, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i, raw := range data.AppInstanceGroupModels {
		var g map[string]any
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatal(err)
		}
		g["RegionId"] = scaleRegions[i%len(scaleRegions)]
		if data.AppInstanceGroupModels[i], err = json.Marshal(g); err != nil {
			t.Fatal(err)
		}
	}
	key := simulator.Key{ID: "LTAIscale", Secret: "scale-test-secret-value"}
	sim := simulator.New(key)
	if err := sim.SetData(data); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sim)
	t.Cleanup(api.Close)
	cfg := writeFile(t, t.TempDir(), "config.yml", fmt.Sprintf(`endpoint: %s
credentials:
  access_key_id: %s
  access_key_secret: %s
tag_labels: [department, cost-center]
cache_ttl: 1h
refresh_timeout: 2m
page_size: 100
max_concurrent_pages: 4
`, api.URL, key.ID, key.Secret))
	e := startExporter(t, "--config.file", cfg)
	return startPrometheus(t, strings.TrimPrefix(e.base, "http://"), "5s")
}

// waitForScaleScrapes waits for two successful scrapes of every group and
// the recording rules evaluated on them, logs the setup time (since setup)
// and the last scrape's figures, and returns the time this was checked at.
func waitForScaleScrapes(t *testing.T, base string, groups int, setup time.Time) time.Time {
	ready := fmt.Sprintf(`count(aliyun_appstream_group_info) == %d
  and on () sum_over_time(up{job="appstream"}[1m]) >= 2
  and on () up{job="appstream"} == 1
  and on () count(pool:aliyun_appstream_node_pool_nodes_used:ratio) > 0`, groups)
	deadline := time.Now().Add(2 * time.Minute)
	var now time.Time
	for {
		waitForQuery(t, base, ready, time.Until(deadline))
		// Every query runs at the time of the newest good scrape, where the
		// condition must hold too. A scrape in flight when this is checked
		// carries its start time, earlier than the check: if it times out
		// on a busy machine, its staleness markers land before the check,
		// but after the good scrape.
		var good instantVector
		apiGet(t, base+"/api/v1/query?"+url.Values{"query": {`timestamp(up{job="appstream"} == 1)`}}.Encode(), &good)
		if len(good.Data.Result) == 1 {
			at, _ := strconv.ParseFloat(fmt.Sprint(good.Data.Result[0].Value[1]), 64)
			now = time.UnixMilli(int64(at * 1000))
			var r instantVector
			apiGet(t, base+"/api/v1/query?"+url.Values{"query": {ready}, "time": {unixTime(now)}}.Encode(), &r)
			if len(r.Data.Result) > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the condition never held at the time of a good scrape: %s", ready)
		}
		time.Sleep(time.Second)
	}
	var scrape instantVector
	apiGet(t, base+"/api/v1/query?"+url.Values{"query": {`{__name__=~"scrape_samples_scraped|scrape_duration_seconds", job="appstream"}`}, "time": {unixTime(now)}}.Encode(), &scrape)
	var last []string
	for _, r := range scrape.Data.Result {
		last = append(last, fmt.Sprintf("%s %v", r.Metric["__name__"], r.Value[1]))
	}
	t.Logf("setup: %d groups, %.1f s; the last scrape: %s", groups, time.Since(setup).Seconds(), strings.Join(last, ", "))
	return now
}

// scaleReport is the figures of TestDashboardScale, a Markdown table, and
// the failures found.
type scaleReport struct {
	table    strings.Builder
	failures []string
	// The rows of a top-N table: its first query picks them, the others
	// must add columns to the same rows (topk picks the same series among
	// equal values each time).
	rows map[string]map[string]bool
}

func newScaleReport(groups int, dir string) *scaleReport {
	rep := &scaleReport{rows: map[string]map[string]bool{}}
	fmt.Fprintf(&rep.table, "%d groups in %d regions (%s):\n\n", groups, len(scaleRegions), dir)
	rep.table.WriteString("| dashboard | panel | query | kind | series | JSON | time (median of 3) |\n|---|---|---|---|--:|--:|--:|\n")
	return rep
}

// row adds a query's figures to the table.
func (rep *scaleReport) row(dashboard, panel, query, kind string, r queryResult) {
	fmt.Fprintf(&rep.table, "| %s | %s | %s | %s | %d | %s | %.0f ms |\n", strings.TrimSuffix(dashboard, ".json"),
		panel, query, kind, r.series, humanBytes(r.bytes), float64(r.duration.Microseconds())/1000)
}

// panel records a panel query's figures, and fails it on an error, on
// more than maxPanelSeries series (unless it lists all), and on a row of a
// top-N table that its first query did not pick.
func (rep *scaleReport) panel(q panelQuery, r queryResult) {
	if q.panelType == "table" && !q.listsAll {
		key := q.dashboard + "/" + q.panel
		if rep.rows[key] == nil {
			rep.rows[key] = map[string]bool{}
			for _, l := range r.labels {
				rep.rows[key][l] = true
			}
		}
		for _, l := range r.labels {
			if !rep.rows[key][l] {
				rep.failures = append(rep.failures, fmt.Sprintf("%s / %s %s: row %s is not one of the first query's", q.dashboard, q.panel, q.refID, l))
				break
			}
		}
	}
	kind := "range"
	if q.instant {
		kind = "instant"
	}
	if q.listsAll {
		kind += ", lists all"
	}
	rep.row(q.dashboard, q.panel, q.refID, kind, r)
	switch {
	case r.err != "":
		rep.failures = append(rep.failures, fmt.Sprintf("%s / %s %s: %s\n  %s", q.dashboard, q.panel, q.refID, r.err, q.expr))
	case r.series > maxPanelSeries && !q.listsAll:
		rep.failures = append(rep.failures, fmt.Sprintf("%s / %s %s: %d series, more than %d\n  %s", q.dashboard, q.panel, q.refID, r.series, maxPanelSeries, q.expr))
	}
}

// variable records a variable query's figures, and fails it when it has
// no values. The account variable has none here by design: this exporter
// has one account, whose series carry no account label (the end-to-end
// test on the demo's two accounts checks it has values).
func (rep *scaleReport) variable(v variableQuery, r queryResult) {
	kind := "variable, query_result"
	if v.expr == "" {
		kind = "variable, label_values"
	}
	r.series = len(r.values)
	rep.row(v.dashboard, "$"+v.name, "", kind, r)
	if r.err != "" || (len(r.values) == 0 && v.name != "account") {
		rep.failures = append(rep.failures, fmt.Sprintf("%s: variable %s has no values: %s", v.dashboard, v.name, r.err))
	}
}

// measured runs a query three times and keeps the median time: Prometheus
// evaluates the rules beside the queries, which makes single times noisy.
func measured(run func() queryResult) queryResult {
	var times []time.Duration
	var r queryResult
	for range 3 {
		r = run()
		times = append(times, r.duration)
	}
	slices.Sort(times)
	r.duration = times[1]
	return r
}

func humanBytes(n int) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.2f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
