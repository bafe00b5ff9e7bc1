package main

// End to end: the exporter in --demo mode, scraped every second by a real
// Prometheus server that loads alerts/; the alerts that become active and
// every dashboard query are checked through Prometheus' HTTP API.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
)

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
	// Kiosk Browser is session-billed; Sales CRM's sessions fill the nodes
	// it cannot add to (Alertmanager mutes this one under its pool's).
	"AppStreamSessionCapacityLow: Delivery group Kiosk Browser is nearly out of sessions.",
	"AppStreamSessionCapacityLow: Delivery group Sales CRM is nearly out of sessions.",
}

func TestEndToEndAlertsAndDashboards(t *testing.T) {
	e := startExporter(t, "--demo")
	base := startPrometheus(t, strings.TrimPrefix(e.base, "http://"), "1s")

	t.Run("alerts", func(t *testing.T) { checkDemoAlerts(t, base) })
	t.Run("every series served is ingested", func(t *testing.T) { checkIngested(t, base, e) })

	// The dashboards read recording rules, and rates need two samples in
	// their window: wait for both (the alerts above have, unless skipped).
	waitForQuery(t, base, `count(pool:aliyun_appstream_node_pool_nodes_used:ratio) > 0
  and on () count(region_status:aliyun_appstream_group_status:sum) > 0
  and on () count_over_time(up[1m]) >= 3`, 60*time.Second)

	t.Run("dashboard queries", func(t *testing.T) { checkDashboardQueries(t, base) })
	t.Run("README queries", func(t *testing.T) { checkREADMEQueries(t, base) })
	t.Run("dashboard variables", func(t *testing.T) { checkDashboardVariables(t, base) })
	t.Run("dashboard stat panels show no data, not a stale value, once the exporter is gone", func(t *testing.T) {
		checkStatPanelsAfterExporterStops(t, base, e)
	})
}

// checkIngested checks that Prometheus ingests every sample the exporter
// serves: its scrape_samples_scraped equals the samples of a /metrics
// answer (the demo's series set is steady once sessions are counted).
func checkIngested(t *testing.T, base string, e *runningExporter) {
	var served, scraped int
	for range 20 {
		served = 0
		for _, line := range strings.Split(e.metrics(), "\n") {
			if line != "" && !strings.HasPrefix(line, "#") {
				served++
			}
		}
		var v instantVector
		apiGet(t, base+"/api/v1/query?"+url.Values{"query": {`scrape_samples_scraped{job="appstream"}`}}.Encode(), &v)
		if len(v.Data.Result) == 1 {
			scraped, _ = strconv.Atoi(fmt.Sprint(v.Data.Result[0].Value[1]))
		}
		if scraped == served {
			var info struct {
				Data struct{ Version string } `json:"data"`
			}
			apiGet(t, base+"/api/v1/status/buildinfo", &info)
			t.Logf("Prometheus %s ingests all %d samples", info.Data.Version, served)
			return
		}
		time.Sleep(time.Second)
	}
	t.Errorf("Prometheus scraped %d samples, the exporter serves %d", scraped, served)
}

// checkDemoAlerts checks that the active alerts are exactly demoAlerts.
// Alerts become active (pending, as their `for` has not elapsed) once
// rules have seen a few scrapes; it waits for the set to settle.
func checkDemoAlerts(t *testing.T, base string) {
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
}

// checkDashboardQueries runs every panel query as Grafana sends it
// (instant or range); each must return data on the demo: the demo has a
// group or pool in every state a panel shows.
func checkDashboardQueries(t *testing.T, base string) {
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
}

// checkREADMEQueries checks that every query in the README's ```promql
// blocks parses and evaluates.
func checkREADMEQueries(t *testing.T, base string) {
	blocks := regexp.MustCompile("(?s)```promql\n(.*?)```").FindAllStringSubmatch(string(testkit.MustRead(t, "README.md")), -1)
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
}

// checkDashboardVariables checks that every dashboard variable has values,
// and the group variable group IDs.
func checkDashboardVariables(t *testing.T, base string) {
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
}

// checkStatPanelsAfterExporterStops stops the exporter. Prometheus then
// marks its series stale on the next failed scrape; an instant query finds
// nothing (no data) instead of the last value, and the freshness panel
// shows the scrape target down.
func checkStatPanelsAfterExporterStops(t *testing.T, base string, e *runningExporter) {
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

// TestEndToEndSnapshot runs the shipped alerts and dashboards on a copy of
// a fleet: APPSTREAM_E2E_SNAPSHOT names a snapshot (--snapshot.dump), and
// APPSTREAM_E2E_CONFIG, if set, the config file to replay it with. It
// lists the alerts the fleet raises and each panel's series; a query that
// fails fails the test, a panel without data is reported (a fleet need not
// have a group in every state). Skipped without APPSTREAM_E2E_SNAPSHOT.
//
//	APPSTREAM_E2E_SNAPSHOT=snapshot.json go test -run TestEndToEndSnapshot -v .
func TestEndToEndSnapshot(t *testing.T) {
	snap := os.Getenv("APPSTREAM_E2E_SNAPSHOT")
	if snap == "" {
		t.Skip("APPSTREAM_E2E_SNAPSHOT is not set")
	}
	args := []string{"--demo", "--demo.data", snap}
	if cfg := os.Getenv("APPSTREAM_E2E_CONFIG"); cfg != "" {
		args = append(args, "--config.file", cfg)
	}
	e := startExporter(t, args...)
	base := startPrometheus(t, strings.TrimPrefix(e.base, "http://"), "1s")
	waitForQuery(t, base, `count_over_time(up[1m]) >= 5`, 60*time.Second)
	time.Sleep(3 * time.Second) // a few rule evaluations
	t.Logf("active alerts:\n  %s", strings.Join(activeAlerts(t, base), "\n  "))
	now := time.Now()
	for _, q := range dashboardQueries(t, "dashboards", grafanaMacros) {
		r := runPanelQuery(t, base, q, now, 5*time.Minute, 15*time.Second)
		if r.err != "" {
			t.Errorf("%s / %s: %s\n  %s", q.dashboard, q.panel, r.err, q.expr)
			continue
		}
		t.Logf("%s / %s: %d series", q.dashboard, q.panel, r.series)
	}
}
