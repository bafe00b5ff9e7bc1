package exporter

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// sessionsData is n generated groups in cn-hangzhou with mix's app
// instances; group 0 holds 230 (three pages).
func sessionsData(t *testing.T, n int) simulator.Dataset {
	t.Helper()
	d, err := simulator.WithSessions(testkit.Generated(n, "cn-hangzhou"), pinnedNow, func(g simulator.SessionGroup) simulator.SessionMix {
		if g.Index == 0 {
			return simulator.SessionMix{Connected: 200, Disconnected: 20, Bound: 7, Init: 3}
		}
		return simulator.SessionMix{Connected: g.Index % 4, Disconnected: g.Index % 2, Init: g.Index % 3}
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sessionsEnv serves d with app instances collected.
func sessionsEnv(t *testing.T, d simulator.Dataset, edit func(*config.Config)) *env {
	t.Helper()
	e := newEnv(t, nil, func(c *config.Config) {
		c.AppInstances.Enabled = true
		c.AppInstances.MaxRequestsPerSecond = 100
		if edit != nil {
			edit(c)
		}
	})
	if err := e.sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	return e
}

// servedCounts counts a data set's instances of each group by status and
// session status, as the series should: the oracle the tests compare with.
func servedCounts(t *testing.T, d simulator.Dataset) map[string]map[[2]string]float64 {
	t.Helper()
	out := map[string]map[[2]string]float64{}
	for id, list := range d.AppInstances {
		out[id] = map[[2]string]float64{}
		for _, raw := range list {
			var in struct{ Status, SessionStatus string }
			if err := json.Unmarshal(raw, &in); err != nil {
				t.Fatal(err)
			}
			out[id][[2]string{in.Status, in.SessionStatus}]++
		}
	}
	return out
}

// scrapedCounts reads aliyun_appstream_group_app_instances by group.
func scrapedCounts(t *testing.T, body string) map[string]map[[2]string]float64 {
	t.Helper()
	out := map[string]map[[2]string]float64{}
	mf := parse(t, body)["aliyun_appstream_group_app_instances"]
	if mf == nil {
		return out
	}
	for _, m := range mf.GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		if out[l["group_id"]] == nil {
			out[l["group_id"]] = map[[2]string]float64{}
		}
		out[l["group_id"]][[2]string{l["status"], l["session_status"]}] = m.GetGauge().GetValue()
	}
	return out
}

func (e *env) requests(action string) int {
	n := 0
	for _, r := range e.sim.Log() {
		if r.Action == action {
			n++
		}
	}
	return n
}

// TestSessionsCountedThroughTheAPI: every group's series hold the
// instances the API serves, by status and session status, across pages;
// the requests are one per page; a cached scrape asks for nothing.
func TestSessionsCountedThroughTheAPI(t *testing.T) {
	d := sessionsData(t, 40)
	e := sessionsEnv(t, d, nil)
	body := e.scrape()
	want, got := servedCounts(t, d), scrapedCounts(t, body)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("scraped counts differ from the served instances:\n got  %v\n want %v", got, want)
	}
	// 40 groups, one page each but group 0's three.
	if n := e.requests("ListAppInstances"); n != 42 {
		t.Errorf("%d ListAppInstances requests, want 42 (pages)", n)
	}
	mfs := parse(t, body)
	// Every queried group has its connected sessions, 0 for one without
	// any instance (group 12).
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_sessions_connected"); n != 40 {
		t.Errorf("%d sessions_connected series, want 40", n)
	}
	for id, byState := range want {
		if v := testkit.Value(t, mfs, "aliyun_appstream_group_sessions_connected", "group_id", id); v != byState[[2]string{"RUNNING", "connect"}] {
			t.Errorf("%s: %v connected, want %v", id, v, byState[[2]string{"RUNNING", "connect"}])
		}
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_group_sessions_connected", "group_id", "aig-gen-cn-hangzhou-00012"); v != 0 {
		t.Errorf("a group without instances: %v connected, want 0", v)
	}
	for name, wantValue := range map[string]float64{"aliyun_appstream_app_instances_up": 1, "aliyun_appstream_app_instances_groups": 40,
		"aliyun_appstream_app_instances_refresh_pages": 42} {
		if v := testkit.Value(t, mfs, name, "biz_region", ""); v != wantValue {
			t.Errorf("%s = %v, want %v", name, v, wantValue)
		}
	}
	before := len(e.sim.Log())
	e.scrape("Accept-Encoding", "gzip")
	e.scrape()
	if n := len(e.sim.Log()) - before; n != 0 {
		t.Errorf("cached scrapes made %d requests", n)
	}
}

// TestSessionsOffRequestsNothing: without app_instances, not one
// ListAppInstances request is made and no app instance series is written.
func TestSessionsOffRequestsNothing(t *testing.T) {
	e := sessionsEnv(t, sessionsData(t, 5), func(c *config.Config) { c.AppInstances.Enabled = false })
	body := e.scrape()
	if n := e.requests("ListAppInstances"); n != 0 {
		t.Errorf("%d ListAppInstances requests with app_instances off", n)
	}
	if strings.Contains(body, "aliyun_appstream_app_instances") || strings.Contains(body, "ListAppInstances\"") {
		t.Errorf("app instance series written with app_instances off")
	}
}

// TestSessionsFailureLeavesGroups: a failing ListAppInstances leaves the
// group series and their health alone, and a failing ListAppInstanceGroup
// the sessions and theirs: each has its own up.
func TestSessionsFailureLeavesGroups(t *testing.T) {
	d := sessionsData(t, 6)
	e := sessionsEnv(t, d, nil)
	forbidden := simulator.ForbiddenRAM.For(simulator.ListAppInstances)
	e.sim.SetSticky(&forbidden)
	mfs := parse(t, e.scrape())
	if up := testkit.Value(t, mfs, "aliyun_appstream_up", "biz_region", ""); up != 1 {
		t.Errorf("groups up %v with ListAppInstances refused", up)
	}
	if up := testkit.Value(t, mfs, "aliyun_appstream_app_instances_up", "biz_region", ""); up != 0 {
		t.Errorf("app instances up %v while refused", up)
	}
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_info"); n != 6 {
		t.Errorf("%d group_info series, want 6", n)
	}
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_app_instances"); n != 0 {
		t.Errorf("%d app instance series without app instance data", n)
	}

	// Sessions come back; then groups fail: the sessions stay fresh.
	e.sim.SetSticky(nil)
	e.clock.Advance(2 * time.Minute)
	if got := scrapedCounts(t, e.scrape()); fmt.Sprint(got) != fmt.Sprint(servedCounts(t, d)) {
		t.Fatalf("after recovery: %v", got)
	}
	groupsFail := simulator.ServiceUnavailable.For(simulator.ListAppInstanceGroup)
	e.sim.SetSticky(&groupsFail)
	e.clock.Advance(2 * time.Minute)
	// The scrape does not wait for the app instance refresh it starts
	// (there are counts to serve); a later one serves its result.
	testkit.WaitFor(t, "the app instance refresh after the groups failed", func() bool {
		mfs = parse(t, e.scrape())
		age, n := testkit.Find(mfs, "aliyun_appstream_app_instances_data_age_seconds", "biz_region", "")
		return n == 1 && age == 0
	})
	if up := testkit.Value(t, mfs, "aliyun_appstream_up", "biz_region", ""); up != 0 {
		t.Errorf("groups up %v while ListAppInstanceGroup fails", up)
	}
	if up := testkit.Value(t, mfs, "aliyun_appstream_app_instances_up", "biz_region", ""); up != 1 {
		t.Errorf("app instances up %v while only the groups fail", up)
	}
	if age := testkit.Value(t, mfs, "aliyun_appstream_app_instances_data_age_seconds", "biz_region", ""); age != 0 {
		t.Errorf("app instance data age %v, want 0: refreshed while the groups failed", age)
	}
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_app_instances"); n == 0 {
		t.Error("app instance series gone while the stale group data is served")
	}
}

// TestSessionsFollowTheGroups: a group that is gone takes its session
// series along at the group refresh, before the sessions are listed again.
func TestSessionsFollowTheGroups(t *testing.T) {
	d := sessionsData(t, 4)
	e := sessionsEnv(t, d, func(c *config.Config) { c.AppInstances.CacheTTL = config.Duration(time.Hour) })
	if got := scrapedCounts(t, e.scrape()); len(got) != 4 {
		t.Fatalf("%d groups with sessions, want 4", len(got))
	}
	gone := d
	gone.AppInstanceGroupModels = d.AppInstanceGroupModels[1:]
	if err := e.sim.SetData(gone); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute) // past the groups' cache_ttl, within the sessions'
	before := e.requests("ListAppInstances")
	got := scrapedCounts(t, e.scrape())
	if _, ok := got["aig-gen-cn-hangzhou-00000"]; ok || len(got) != 3 {
		t.Errorf("after the group is gone: %d groups with sessions, want 3 without aig-gen-cn-hangzhou-00000", len(got))
	}
	if n := e.requests("ListAppInstances") - before; n != 0 {
		t.Errorf("%d ListAppInstances requests within its cache_ttl", n)
	}
}

// TestSessionsRateLimit: however many groups are listed at once, no more
// requests arrive in any two seconds than max_requests_per_second allows
// (the bucket holds one), give or take one delayed on its way at either
// end of the window.
func TestSessionsRateLimit(t *testing.T) {
	const rps = 20
	e := sessionsEnv(t, sessionsData(t, 50), func(c *config.Config) {
		c.AppInstances.MaxRequestsPerSecond = rps
		c.AppInstances.MaxConcurrentGroups = 8
	})
	var mu sync.Mutex
	var times []time.Time
	e.sim.SetHook(func(int) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
	})
	e.scrape()
	mu.Lock()
	defer mu.Unlock()
	sessionRequests := times[1:] // the first is ListAppInstanceGroup
	if len(sessionRequests) != 52 {
		t.Fatalf("%d ListAppInstances requests, want 52", len(sessionRequests))
	}
	for i, start := range sessionRequests {
		n := 0
		for _, t := range sessionRequests[i:] {
			if t.Sub(start) < 2*time.Second {
				n++
			}
		}
		if n > 2*rps+3 {
			t.Fatalf("%d requests within two seconds of request %d, more than %d/s allows", n, i+1, rps)
		}
	}
}

// TestSessionsBudgetTooSmall: when the groups cannot be listed within
// refresh_timeout at the budget, the refresh says so and spends nothing.
func TestSessionsBudgetTooSmall(t *testing.T) {
	e := sessionsEnv(t, sessionsData(t, 30), func(c *config.Config) {
		c.AppInstances.MaxRequestsPerSecond = 1
		c.RefreshTimeout = config.Duration(5 * time.Second)
	})
	mfs := parse(t, e.scrape())
	if up := testkit.Value(t, mfs, "aliyun_appstream_app_instances_up", "biz_region", ""); up != 0 {
		t.Errorf("app instances up %v", up)
	}
	if n := e.requests("ListAppInstances"); n != 0 {
		t.Errorf("%d ListAppInstances requests for a refresh that cannot fit", n)
	}
	want := "30 groups to list (30 pages, by the last refresh) need at least 29s at app_instances.max_requests_per_second 1, more than refresh_timeout (5s): raise either, or narrow app_instances.group_status"
	if !strings.Contains(e.logs.String(), want) {
		t.Errorf("the log does not say why:\n%s", e.logs)
	}
}

// TestSessionsReloadKeepsCache: a reload with the same settings takes the
// app instance data over without a request.
func TestSessionsReloadKeepsCache(t *testing.T) {
	d := sessionsData(t, 5)
	e := sessionsEnv(t, d, nil)
	want := scrapedCounts(t, e.scrape())
	before := len(e.sim.Log())
	next, err := NewExporter(e.cfg, Options{Metrics: e.exp.accounts[0].metrics, Now: e.clock.Now, Previous: e.exp})
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	e.exp.Close()
	srv := httptest.NewServer(NewHandler(func() *Exporter { return next }, e.reg, slog.New(slog.DiscardHandler)))
	defer srv.Close()
	e.metrics = srv
	if got := scrapedCounts(t, e.scrape()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after reload: %v, want %v", got, want)
	}
	if n := len(e.sim.Log()) - before; n != 0 {
		t.Errorf("the reload made %d requests", n)
	}
}

// TestScrapesDoNotWaitForSessions: once there are counts to serve, a scrape
// does not wait for the app instance refresh it starts, however long that
// takes: it serves the previous counts.
func TestScrapesDoNotWaitForSessions(t *testing.T) {
	d := sessionsData(t, 3)
	e := sessionsEnv(t, d, func(c *config.Config) { c.RefreshTimeout = config.Duration(2 * time.Minute) })
	want := scrapedCounts(t, e.scrape())
	hang := simulator.Hang.For(simulator.ListAppInstances)
	e.sim.SetSticky(&hang)
	defer e.sim.SetSticky(nil)
	e.clock.Advance(2 * time.Minute)
	// Prometheus would wait five minutes. The answer must come while the
	// refresh it started is still held: no app instance refresh has
	// finished since the first.
	body := e.scrape("X-Prometheus-Scrape-Timeout-Seconds", "300")
	if got := scrapedCounts(t, body); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("served %v while the refresh hangs, want the previous counts %v", got, want)
	}
	mfs := parse(t, body)
	ok := testkit.Value(t, mfs, "aliyun_appstream_app_instances_refreshes_total", "result", "success")
	failed := testkit.Value(t, mfs, "aliyun_appstream_app_instances_refreshes_total", "result", "failure")
	if ok != 1 || failed != 0 {
		t.Errorf("the scrape waited for the app instance refresh: %v succeeded and %v failed by its end, want 1 and 0", ok, failed)
	}
}

// TestSessionsBudgetCountsPages: the check before a refresh counts each
// group's pages of the last refresh, not one a group: 40 groups in 42
// pages do not fit in 4 s at 10 requests/s, although 40 requests would.
func TestSessionsBudgetCountsPages(t *testing.T) {
	e := sessionsEnv(t, sessionsData(t, 40), nil)
	e.scrape()
	if n := e.requests("ListAppInstances"); n != 42 {
		t.Fatalf("%d requests for the first refresh, want 42", n)
	}
	cfg := *e.cfg
	cfg.AppInstances.MaxRequestsPerSecond = 10
	cfg.RefreshTimeout = config.Duration(4 * time.Second)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logger, logs := testkit.Logger(t)
	next, err := NewExporter(&cfg, Options{Logger: logger, Metrics: e.exp.accounts[0].metrics, Now: e.clock.Now, Previous: e.exp})
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	e.exp.Close()
	srv := httptest.NewServer(NewHandler(func() *Exporter { return next }, e.reg, logger))
	defer srv.Close()
	e.metrics = srv
	e.clock.Advance(2 * time.Minute)
	testkit.WaitFor(t, "the app instance refresh to fail", func() bool {
		v, _ := testkit.Find(parse(t, e.scrape()), "aliyun_appstream_app_instances_refreshes_total", "result", "failure")
		return v == 1
	})
	if n := e.requests("ListAppInstances"); n != 42 {
		t.Errorf("%d requests in all, want the first refresh's 42: the second must spend none", n)
	}
	if want := "40 groups to list (42 pages, by the last refresh) need at least 4s"; !strings.Contains(logs.String(), want) {
		t.Errorf("the log does not say %q:\n%s", want, logs)
	}
}
