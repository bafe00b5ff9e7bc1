package exporter

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// accountsEnv is one exporter serving two accounts, each its own
// simulator with its own AccessKey, serving the same recorded groups: the
// same group IDs in two accounts.
type accountsEnv struct {
	*env
	simA, simB *simulator.Server
	apiA, apiB *httptest.Server
}

var keyB = simulator.Key{ID: "LTAI5tAccountB", Secret: "account-b-secret"}

func newAccountsEnv(t *testing.T) *accountsEnv {
	t.Helper()
	data, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	simA, simB := simulator.New(testkit.Key), simulator.New(keyB)
	for _, s := range []*simulator.Server{simA, simB} {
		if err := s.Load(data); err != nil {
			t.Fatal(err)
		}
	}
	a := &accountsEnv{simA: simA, simB: simB, apiA: newAPIServer(t, simA), apiB: newAPIServer(t, simB)}
	a.env = startEnv(t, simA, a.apiA, a.config(t, "", ""))
	return a
}

// config is the two accounts' file; aExtra and bExtra are added to
// accounts a and b.
func (a *accountsEnv) config(t *testing.T, aExtra, bExtra string) *config.Config {
	t.Helper()
	file := fmt.Sprintf(`
refresh_timeout: 2s
tag_labels: [department]
accounts:
  - name: a
    endpoint: %s
    credentials: {access_key_id: %s, access_key_secret: %s}
%s  - name: b
    endpoint: %s
    credentials: {access_key_id: %s, access_key_secret: %s}
%s`, a.apiA.URL, testkit.Key.ID, testkit.Key.Secret, aExtra, a.apiB.URL, keyB.ID, keyB.Secret, bExtra)
	cfg, err := config.Parse([]byte(file), "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// wantLines reports each of lines that body does not hold as a whole line,
// with why appended.
func wantLines(t *testing.T, body, why string, lines ...string) {
	t.Helper()
	for _, want := range lines {
		if !strings.Contains(body, "\n"+want+"\n") {
			t.Errorf("missing %s%s", want, why)
		}
	}
}

// groupSeries counts the group_info series of an account in body.
func groupSeries(body, account string) int {
	return strings.Count(body, "\naliyun_appstream_group_info{account=\""+account+"\",group_id=")
}

func TestAccountsEachLabelled(t *testing.T) {
	e := newAccountsEnv(t)
	body := e.scrape()
	a, b := groupSeries(body, "a"), groupSeries(body, "b")
	if a == 0 || a != b {
		t.Fatalf("group_info series: account a %d, b %d; want the same number, more than 0", a, b)
	}
	// Every series of a group, its apps' included, names its account.
	for _, line := range strings.Split(body, "\n") {
		if strings.Contains(line, `group_id="`) && !strings.Contains(line, `{account="a",`) && !strings.Contains(line, `{account="b",`) {
			t.Errorf("a group series without the account label first: %s", line)
			break
		}
	}
	if n := strings.Count(body, "\naliyun_appstream_app_info{account=\"b\","); n == 0 {
		t.Error("no app_info series of account b")
	}
	wantLines(t, body, "",
		`aliyun_appstream_up{account="a",biz_region=""} 1`,
		`aliyun_appstream_up{account="b",biz_region=""} 1`,
		`aliyun_appstream_cache_ttl_seconds{account="b"} 60`,
		fmt.Sprintf(`aliyun_appstream_api_requests_total{account="a",action="ListAppInstanceGroup",code="Success"} %d`, e.simA.Requests()),
		fmt.Sprintf(`aliyun_appstream_api_requests_total{account="b",action="ListAppInstanceGroup",code="Success"} %d`, e.simB.Requests()),
		`aliyun_appstream_refreshes_total{account="b",biz_region="",result="success"} 1`)
	parse(t, body) // valid text, every family once
}

// One account refusing the credentials, throttling or hanging past
// refresh_timeout (2s) leaves the other's series fresh and its up 1.
func TestAccountsIsolated(t *testing.T) {
	for _, c := range []struct {
		name   string
		break_ func(*simulator.Server)
		// what b's error series says
		class, code string
	}{
		{"refused", func(s *simulator.Server) {
			s.SetSticky(&simulator.Fault{Status: 404, Code: "InvalidAccessKeyId.NotFound", Message: "Specified access key is not found."})
		}, "access_key", "InvalidAccessKeyId.NotFound"},
		{"throttled", func(s *simulator.Server) { s.SetSticky(&simulator.ThrottlingUser) }, "throttled", "Throttling.User"},
		{"hanging", func(s *simulator.Server) { s.SetLatency(4 * time.Second) }, "timeout", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newAccountsEnv(t)
			e.scrape()
			c.break_(e.simB)
			e.clock.Advance(2 * time.Minute) // both caches expire
			before := e.simA.Requests()
			deadline := time.Now().Add(20 * time.Second)
			var body string
			for {
				body = e.scrape("X-Prometheus-Scrape-Timeout-Seconds", "3")
				if strings.Contains(body, `aliyun_appstream_up{account="b",biz_region=""} 0`) || time.Now().After(deadline) {
					break
				}
			}
			wantLines(t, body, "",
				`aliyun_appstream_up{account="b",biz_region=""} 0`,
				`aliyun_appstream_up{account="a",biz_region=""} 1`,
				`aliyun_appstream_data_age_seconds{account="a",biz_region=""} 0`,
				`aliyun_appstream_last_refresh_error_info{account="b",biz_region="",class="`+c.class+`",code="`+c.code+`"} 1`)
			if strings.Contains(body, `aliyun_appstream_last_refresh_error_info{account="a"`) {
				t.Error("account a, whose refresh succeeded, has an error series")
			}
			st := queryStatus(t, e.exp, "b", "groups")
			if st.Up || st.Error == nil || st.Error.Class != c.class || st.Error.Code != c.code {
				t.Errorf("account b's status: up %v, error %+v; want the %s/%s failure", st.Up, st.Error, c.class, c.code)
			}
			if c.code != "" && st.Error.RequestID == "" {
				t.Errorf("account b's status has no RequestId for the API's answer %s", c.code)
			}
			if got := e.simA.Requests() - before; got != 1 {
				t.Errorf("account a: %d requests for its refresh, want 1", got)
			}
			if a := groupSeries(body, "a"); a == 0 {
				t.Error("account a's groups are gone")
			}
		})
	}
}

// A reload that changes only account b keeps account a's cache: no
// request to a's endpoint.
func TestAccountsReloadKeepsTheOthers(t *testing.T) {
	e := newAccountsEnv(t)
	e.scrape()
	beforeA, beforeB := e.simA.Requests(), e.simB.Requests()
	next, err := NewExporter(e.config(t, "", "    tag_labels: [team]\n"), Options{Metrics: e.exp.accounts[0].metrics, Now: e.clock.Now, Previous: e.exp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(next.Close)
	srv := httptest.NewServer(NewHandler(func() *Exporter { return next }, prometheus.NewRegistry(), slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	e.metrics = srv
	body := e.scrape()
	if got := e.simA.Requests() - beforeA; got != 0 {
		t.Errorf("account a: %d requests after a reload that changed only b, want 0", got)
	}
	if got := e.simB.Requests() - beforeB; got != 1 {
		t.Errorf("account b: %d requests after its tag labels changed, want 1 (a refresh)", got)
	}
	if !strings.Contains(body, `aliyun_appstream_group_info{account="b",group_id="aig-9ciijz60n4xsv****",group_name="办公应用",region="cn-hangzhou",charge_type="PrePaid",tag_team=""`) {
		t.Error("account b is not written with its new tag label")
	}
	if groupSeries(body, "a") == 0 {
		t.Error("account a's groups are gone after the reload")
	}
}

// inFlight serves h and records the most requests it held at once,
// together with the other inFlight handlers sharing its counters.
type inFlight struct {
	h         http.Handler
	now, most *atomic.Int32
}

func (f inFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.now.Add(1)
	defer f.now.Add(-1)
	for m := f.most.Load(); n > m && !f.most.CompareAndSwap(m, n); m = f.most.Load() {
	}
	f.h.ServeHTTP(w, r)
}

// max_concurrent_requests bounds the requests in flight across accounts,
// whatever each account's max_concurrent_pages allows.
func TestAccountsShareRequestSlots(t *testing.T) {
	var now, most atomic.Int32
	var urls []string
	for _, key := range []simulator.Key{testkit.Key, keyB} {
		sim := simulator.New(key)
		if err := sim.SetData(testkit.Generated(500, "cn-shanghai")); err != nil {
			t.Fatal(err)
		}
		sim.SetLatency(30 * time.Millisecond)
		api := httptest.NewServer(inFlight{h: sim, now: &now, most: &most})
		t.Cleanup(api.Close)
		urls = append(urls, api.URL)
	}
	// Within the limit, at most 2 at once; with 8 slots, more than 2 (the
	// limit is what held them).
	for _, c := range []struct {
		limit    int32
		inBounds func(int32) bool
	}{{2, func(n int32) bool { return n == 2 }}, {8, func(n int32) bool { return n > 2 && n <= 8 }}} {
		now.Store(0)
		most.Store(0)
		cfg, err := config.Parse(fmt.Appendf(nil, `
max_concurrent_requests: %d
max_concurrent_pages: 4
accounts:
  - {name: a, endpoint: %q, credentials: {access_key_id: %s, access_key_secret: %s}}
  - {name: b, endpoint: %q, credentials: {access_key_id: %s, access_key_secret: %s}}
`, c.limit, urls[0], testkit.Key.ID, testkit.Key.Secret, urls[1], keyB.ID, keyB.Secret), "")
		if err != nil {
			t.Fatal(err)
		}
		e := startEnv(t, nil, nil, cfg)
		body := e.scrape()
		if groupSeries(body, "a") != 500 || groupSeries(body, "b") != 500 {
			t.Fatalf("limit %d: groups a %d, b %d; want 500 each", c.limit, groupSeries(body, "a"), groupSeries(body, "b"))
		}
		// Each account reads page 1, then its 4 other pages 4 at a time.
		if got := most.Load(); !c.inBounds(got) {
			t.Errorf("max_concurrent_requests %d: %d requests in flight at most", c.limit, got)
		}
	}
}

// An account whose many queries hang cannot hold every shared request
// slot: with 8 slots and 2 accounts, it holds at most 7, and the other
// account's refresh still gets one at once.
func TestAccountsHangingAccountLeavesASlot(t *testing.T) {
	e := newAccountsEnv(t)
	var regions []string
	for i := range 8 {
		regions = append(regions, fmt.Sprintf("cn-r%d", i))
	}
	// a's requests hold their slots 4 s, within its own refresh_timeout;
	// b's refresh_timeout is 2 s: it must not wait for a's slots.
	e.env = startEnv(t, e.simA, e.apiA, e.config(t,
		"    biz_regions: ["+strings.Join(regions, ", ")+"]\n    refresh_timeout: 10s\n    cache_ttl: 1m\n",
		"    cache_ttl: 10m\n"))
	e.scrape()
	e.simA.SetLatency(4 * time.Second)
	e.clock.Advance(2 * time.Minute) // a's caches expire, b's do not
	sentA := e.simA.Requests()
	e.scrape("X-Prometheus-Scrape-Timeout-Seconds", "1")
	testkit.WaitFor(t, "account a's requests to hold their slots", func() bool { return e.simA.Requests()-sentA >= 7 })

	e.clock.Advance(10 * time.Minute) // now b's too
	sentB := e.simB.Requests()
	body := e.scrape("X-Prometheus-Scrape-Timeout-Seconds", "3")
	wantLines(t, body, ": account b did not get a request slot while a's requests hung",
		`aliyun_appstream_up{account="b",biz_region=""} 1`,
		`aliyun_appstream_data_age_seconds{account="b",biz_region=""} 0`)
	if got := e.simB.Requests() - sentB; got != 1 {
		t.Errorf("account b: %d requests, want 1", got)
	}
}

// queryStatus is the status of account's query (the unfiltered one) of
// what it lists ("groups" or "app instances").
func queryStatus(t *testing.T, e *Exporter, account, lists string) QueryStatus {
	t.Helper()
	for _, st := range e.Status() {
		if st.Account == account && st.Data == lists {
			return st
		}
	}
	t.Fatalf("no status for account %q's %s", account, lists)
	return QueryStatus{}
}
