package main

// The dashboards' panel and variable queries, read from their JSON and
// sent to Prometheus as Grafana sends them.

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
)

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
	"$job", ".*", "$account", ".*", "$instance", ".*", "$region", ".*", "$charge_type", ".*", "$group", ".*",
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
		if err := json.Unmarshal(testkit.MustRead(t, f), &d); err != nil {
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
