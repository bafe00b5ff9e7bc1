package exporter

// The fault matrix: each test breaks the API in one way and checks what a
// scraper sees. For every fault: no panic, HTTP 200 from /metrics, a valid
// exposition without duplicate series, aliyun_appstream_up telling the
// truth, the last good data kept until max_stale and then dropped, and no
// goroutine left behind.

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// noLeaks fails the test if goroutines started during it are still running
// once everything it started has been closed. Call it first: cleanups run
// last-in first-out, so this check runs after the servers are closed.
func noLeaks(t *testing.T) {
	t.Helper()
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
}

// check scrapes and verifies what every fault must keep true.
func (e *env) check(wantUp float64) map[string]*dto.MetricFamily {
	e.t.Helper()
	body := e.scrape()
	if !utf8.ValidString(body) {
		e.t.Fatalf("exposition is not valid UTF-8")
	}
	mfs := parse(e.t, body)
	seen := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		series := line[:strings.LastIndexByte(line, ' ')]
		if seen[series] {
			e.t.Fatalf("duplicate series %s", series)
		}
		seen[series] = true
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "aliyun_appstream_up") {
			for _, m := range mf.GetMetric() {
				if got := m.GetGauge().GetValue(); got != wantUp {
					e.t.Errorf("up%v = %v, want %v; log:\n%s", m.GetLabel(), got, wantUp, e.logs)
				}
			}
		}
	}
	return mfs
}

// staleThenDropped: with good data served and the API now broken, the data
// stays until max_stale and is then dropped.
func (e *env) staleThenDropped() {
	e.t.Helper()
	mfs := e.check(0)
	if v := testkit.Value(e.t, mfs, "aliyun_appstream_groups", "biz_region", ""); v != 4 {
		e.t.Errorf("groups = %v during the fault, want the last good 4", v)
	}
	e.clock.Advance(e.cfg.MaxStale.D())
	mfs = e.check(0)
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_info"); n != 0 {
		e.t.Errorf("%d group_info series past max_stale, want 0", n)
	}
}

// faultEnv serves the golden fixtures with good data loaded, then lets the
// clock pass cache_ttl so that the next scrape refreshes into the fault.
func faultEnv(t *testing.T, edit func(*config.Config)) *env {
	e := newEnv(t, fixtures, func(c *config.Config) {
		c.MaxStale = config.Duration(5 * time.Minute)
		if edit != nil {
			edit(c)
		}
	})
	e.check(1)
	e.clock.Advance(2 * time.Minute)
	return e
}

func TestFaultThrottlingStorms(t *testing.T) {
	for _, f := range []simulator.Fault{simulator.ThrottlingUser, simulator.ThrottlingAPI, simulator.TooManyRequests} {
		code := f.Code
		if code == "" {
			code = fmt.Sprintf("HTTP%d", f.Status)
		}
		t.Run(code, func(t *testing.T) {
			noLeaks(t)
			e := faultEnv(t, nil)
			e.sim.SetSticky(&f)
			mfs := e.check(0)
			if v := testkit.Value(t, mfs, "aliyun_appstream_api_requests_total", "code", code); v != aliyun.MaxAttempts {
				t.Errorf("%s counted %v times, want %d (retries stop at %d attempts)", code, v, aliyun.MaxAttempts, aliyun.MaxAttempts)
			}
			requests := e.sim.Requests()
			e.check(0) // within cache_ttl of the failure: no new requests
			if e.sim.Requests() != requests {
				t.Errorf("a storm is hammered: %d requests in cache_ttl after a failure", e.sim.Requests()-requests)
			}
			e.staleThenDropped()
		})
	}
}

func TestFault503Burst(t *testing.T) {
	noLeaks(t)
	e := faultEnv(t, nil)
	e.sim.Inject(simulator.ServiceUnavailable, simulator.ServiceUnavailable, simulator.BadGateway, simulator.ServiceUnavailable)
	mfs := e.check(1)
	if v := testkit.Value(t, mfs, "aliyun_appstream_groups", "biz_region", ""); v != 4 {
		t.Errorf("groups = %v after a burst ridden out, want 4", v)
	}
}

func TestFaultHangingConnection(t *testing.T) {
	noLeaks(t)
	e := faultEnv(t, func(c *config.Config) { c.RefreshTimeout = config.Duration(time.Second) })
	e.sim.SetSticky(&simulator.Hang)
	t.Cleanup(func() { e.sim.SetSticky(nil) })
	e.staleThenDropped()
}

func TestFaultSlowDripBody(t *testing.T) {
	noLeaks(t)
	e := faultEnv(t, func(c *config.Config) { c.RefreshTimeout = config.Duration(time.Second) })
	body := string(testkit.MustRead(t, "testdata/reference.json"))
	e.sim.SetSticky(&simulator.Fault{Status: 200, Body: body, Drip: 20 * time.Millisecond})
	mfs := e.check(0)
	if v := testkit.Value(t, mfs, "aliyun_appstream_api_requests_total", "code", "transport"); v < 1 {
		t.Errorf("a dripping body was not cut by refresh_timeout")
	}
	e.staleThenDropped()
}

func TestFaultMalformedAnswers(t *testing.T) {
	for name, f := range map[string]simulator.Fault{
		"truncated JSON":     simulator.MalformedJSON,
		"HTML with HTTP 200": simulator.NotJSON,
		"JSON array":         {Status: 200, Body: `[]`},
		"number as Code":     {Status: 400, Body: `{"Code": 42, "Message": "?"}`},
	} {
		t.Run(name, func(t *testing.T) {
			noLeaks(t)
			e := faultEnv(t, nil)
			e.sim.SetSticky(&f)
			mfs := e.check(0)
			if n := e.sim.Requests(); n != 2 {
				t.Errorf("%d requests, want 2: a malformed answer is not retried", n)
			}
			if _, n := testkit.Find(mfs, "aliyun_appstream_api_requests_total", "code", "malformed"); n != 1 && name != "number as Code" {
				t.Errorf("no api_requests_total{code=malformed}")
			}
			e.staleThenDropped()
		})
	}
}

func TestFaultErrorBodyWithHTTP200(t *testing.T) {
	noLeaks(t)
	e := faultEnv(t, nil)
	e.sim.SetSticky(&simulator.Fault{Status: 200, Body: `{"RequestId":"R","Code":"Forbidden.RAM","Message":"User not authorized to operate on the specified resource."}`})
	mfs := e.check(0)
	if v := testkit.Value(t, mfs, "aliyun_appstream_api_requests_total", "code", "Forbidden.RAM"); v != 1 {
		t.Errorf("Forbidden.RAM in an HTTP 200 counted %v, want 1 (not retried)", v)
	}
	e.staleThenDropped()
}

func TestFaultOversizedBody(t *testing.T) {
	noLeaks(t)
	e := faultEnv(t, nil)
	e.sim.SetSticky(&simulator.Fault{Status: 200, Oversize: aliyun.MaxBodyBytes + 16<<20})
	mfs := e.check(0)
	if v := testkit.Value(t, mfs, "aliyun_appstream_api_requests_total", "code", "malformed"); v != 1 {
		t.Errorf("an oversized answer counted %v as malformed, want 1", v)
	}
	if !strings.Contains(e.logs.String(), "answer larger than 64 MiB") {
		t.Errorf("the log does not say the answer was too large:\n%s", e.logs)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > 64<<20 {
		t.Errorf("%d MiB still allocated after refusing an oversized answer", ms.HeapAlloc>>20)
	}
	e.staleThenDropped()
}

func TestFaultInvalidUTF8(t *testing.T) {
	noLeaks(t)
	e := newEnv(t, nil, func(c *config.Config) { c.TagLabels = config.TagLabelsOf("department") })
	g := "{\"AppInstanceGroupId\":\"aig-utf8\",\"AppInstanceGroupName\":\"bad \xff\xfe name \xc3\",\"RegionId\":\"cn-shanghai\"," +
		"\"Status\":\"PUBLISHED\",\"Amount\":1,\"Tags\":[{\"Key\":\"department\",\"Value\":\"\xe4\xbd\"}]}"
	if err := e.sim.SetData(simulator.Dataset{AppInstanceGroupModels: []json.RawMessage{json.RawMessage(g)}}); err != nil {
		t.Fatal(err)
	}
	mfs := e.check(1)
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_amount", "group_id", "aig-utf8"); n != 1 {
		t.Errorf("the group with invalid UTF-8 in its name is not exported")
	}
}

// TestFaultPaginationDrift: groups deleted while paging shift items
// between pages; the exporter notices TotalCount moving and reads again.
func TestFaultPaginationDrift(t *testing.T) {
	noLeaks(t)
	e := newEnv(t, nil, func(c *config.Config) { c.PageSize = 10; c.MaxConcurrentPages = 1 })
	full := testkit.Generated(30, "cn-shanghai")
	if err := e.sim.SetData(full); err != nil {
		t.Fatal(err)
	}
	e.sim.SetHook(func(n int) {
		if n == 2 { // after page 1: three groups of page 1 are deleted
			e.sim.SetData(simulator.Dataset{AppInstanceGroupModels: full.AppInstanceGroupModels[3:]})
		}
	})
	mfs := e.check(1)
	if v := testkit.Value(t, mfs, "aliyun_appstream_groups", "biz_region", ""); v != 27 {
		t.Errorf("groups = %v, want the 27 left", v)
	}
	for i := 3; i < 30; i++ {
		if _, n := testkit.Find(mfs, "aliyun_appstream_group_amount", "group_id", fmt.Sprintf("aig-gen-cn-shanghai-%05d", i)); n != 1 {
			t.Errorf("group %d: %d series, want 1 (lost or repeated while items shifted)", i, n)
		}
	}
	if n := e.sim.Requests(); n != 6 {
		t.Errorf("%d requests, want 6 (3 pages, then all 3 again)", n)
	}
}

func TestFaultDuplicateGroupAcrossPages(t *testing.T) {
	noLeaks(t)
	e := newEnv(t, nil, func(c *config.Config) { c.PageSize = 2 })
	d := testkit.Generated(3, "cn-shanghai")
	d.AppInstanceGroupModels = append(d.AppInstanceGroupModels, d.AppInstanceGroupModels[0])
	if err := e.sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	mfs := e.check(1)
	if v := testkit.Value(t, mfs, "aliyun_appstream_groups", "biz_region", ""); v != 3 {
		t.Errorf("groups = %v, want 3", v)
	}
}

// TestFaultEmptyPageBeforeTotalCount: a page comes back empty though
// TotalCount promises more; read again, and if it stays short, keep the
// previous data rather than serve a partial fleet.
func TestFaultEmptyPageBeforeTotalCount(t *testing.T) {
	noLeaks(t)
	e := newEnv(t, nil, func(c *config.Config) { c.PageSize = 10; c.MaxConcurrentPages = 1 })
	if err := e.sim.SetData(testkit.Generated(30, "cn-shanghai")); err != nil {
		t.Fatal(err)
	}
	e.check(1)
	e.clock.Advance(2 * time.Minute)
	empty := simulator.Fault{Status: 200, Body: `{"RequestId":"R","TotalCount":30,"PageSize":10,"PageNumber":2,"AppInstanceGroupModels":[]}`}
	e.sim.Inject(simulator.Fault{}, empty, simulator.Fault{}, simulator.Fault{}, empty)
	mfs := e.check(0)
	if v := testkit.Value(t, mfs, "aliyun_appstream_groups", "biz_region", ""); v != 30 {
		t.Errorf("groups = %v, want the previous 30", v)
	}
	if !strings.Contains(e.logs.String(), "listed 20 of TotalCount 30 groups, twice in a row") {
		t.Errorf("the log does not explain:\n%s", e.logs)
	}
	// Once the API answers in full again, so does the exporter.
	e.clock.Advance(2 * time.Minute)
	e.check(1)
}

// TestFaultPageThatNeverEnds: without TotalCount, full pages keep coming.
func TestFaultPageThatNeverEnds(t *testing.T) {
	t.Run("the same page again", func(t *testing.T) {
		noLeaks(t)
		e := newEnv(t, nil, func(c *config.Config) { c.PageSize = 5 })
		page := `{"RequestId":"R","AppInstanceGroupModels":[` + strings.Join(rawGroups(testkit.Generated(5, "cn-shanghai")), ",") + `]}`
		e.sim.SetSticky(&simulator.Fault{Status: 200, Body: page})
		e.check(0)
		if n := e.sim.Requests(); n != 2 {
			t.Errorf("%d requests, want 2: page 2 repeating page 1 ends it", n)
		}
	})
	t.Run("new groups forever", func(t *testing.T) {
		noLeaks(t)
		e := newEnv(t, nil, func(c *config.Config) { c.PageSize = 5 })
		e.exp.accounts[0].client.MaxGroups = 50
		all := testkit.Generated(1000, "cn-shanghai")
		e.sim.SetHook(func(n int) {
			// Each request gets the next five groups as its page, and no
			// TotalCount: the API never says it is done.
			e.sim.SetSticky(&simulator.Fault{Status: 200, Body: `{"RequestId":"R","AppInstanceGroupModels":[` +
				strings.Join(rawGroups(simulator.Dataset{AppInstanceGroupModels: all.AppInstanceGroupModels[(n-1)*5 : n*5]}), ",") + `]}`})
		})
		e.check(0)
		if n := e.sim.Requests(); n != 10 {
			t.Errorf("%d requests, want 10 (the cap: 50 groups of 5 per page)", n)
		}
		if !strings.Contains(e.logs.String(), "still paging after 10 pages") {
			t.Errorf("the log does not explain:\n%s", e.logs)
		}
	})
}

func TestFaultThousandsOfTags(t *testing.T) {
	noLeaks(t)
	e := newEnv(t, nil, func(c *config.Config) { c.TagLabels = config.TagLabelsOf("department", "tag-4999") })
	tags := make([]string, 5000)
	for i := range tags {
		tags[i] = fmt.Sprintf(`{"Key":"tag-%d","Value":"v%d"}`, i, i)
	}
	tags[2500] = `{"Key":"department","Value":"finance"}`
	g := `{"AppInstanceGroupId":"aig-tags","RegionId":"cn-shanghai","Status":"PUBLISHED","Amount":3,"Tags":[` + strings.Join(tags, ",") + `]}`
	if err := e.sim.SetData(simulator.Dataset{AppInstanceGroupModels: []json.RawMessage{json.RawMessage(g)}}); err != nil {
		t.Fatal(err)
	}
	mfs := e.check(1)
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_amount", "tag_department", "finance", "tag_tag_4999", "v4999"); n != 1 {
		t.Errorf("tag labels not taken from a group with 5000 tags")
	}
}

// TestFaultGroupIDAcrossRegions: the same ID in two regions is two groups
// (their series differ by region); the same group returned by two queries
// is written once.
func TestFaultGroupIDAcrossRegions(t *testing.T) {
	noLeaks(t)
	e := newEnv(t, nil, func(c *config.Config) { c.BizRegions = []string{"cn-shanghai", "cn-hangzhou"} })
	same := func(region string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"AppInstanceGroupId":"aig-twin","RegionId":%q,"Status":"PUBLISHED","Amount":1}`, region))
	}
	if err := e.sim.SetData(simulator.Dataset{AppInstanceGroupModels: []json.RawMessage{same("cn-shanghai"), same("cn-hangzhou")}}); err != nil {
		t.Fatal(err)
	}
	mfs := e.check(1)
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_amount", "group_id", "aig-twin"); n != 2 {
		t.Errorf("%d series for the twin ID, want one per region", n)
	}
	// An API that ignores BizRegionId returns both twins to both queries.
	e.clock.Advance(2 * time.Minute)
	both := `{"RequestId":"R","TotalCount":2,"AppInstanceGroupModels":[` + string(same("cn-shanghai")) + "," + string(same("cn-hangzhou")) + `]}`
	e.sim.SetSticky(&simulator.Fault{Status: 200, Body: both})
	mfs = e.check(1)
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_amount", "group_id", "aig-twin"); n != 2 {
		t.Errorf("%d series for the twin ID from two queries, want 2", n)
	}
}

func rawGroups(d simulator.Dataset) []string {
	out := make([]string, len(d.AppInstanceGroupModels))
	for i, g := range d.AppInstanceGroupModels {
		out[i] = string(g)
	}
	return out
}
