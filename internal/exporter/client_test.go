package exporter

import (
	"encoding/json"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit/testconfig"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

func TestPaginationFetchesEveryPageOnce(t *testing.T) {
	e := newEnv(t, nil, func(c *config.Config) { c.PageSize = 20; c.MaxConcurrentPages = 4 })
	if err := e.sim.SetData(testkit.Generated(250, "cn-shanghai")); err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, e.scrape())
	if got := testkit.Value(t, mfs, "aliyun_appstream_groups", "biz_region", ""); got != 250 {
		t.Errorf("groups = %v, want 250", got)
	}
	if _, n := testkit.Find(mfs, "aliyun_appstream_node_pool_nodes"); n != 250 {
		t.Errorf("node_pool_nodes has %d series, want 250", n)
	}
	pages := map[string]int{}
	for _, r := range e.sim.Log() {
		pages[r.Query.Get("PageNumber")]++
		if r.Query.Get("PageSize") != "20" {
			t.Errorf("PageSize = %q, want 20", r.Query.Get("PageSize"))
		}
	}
	if len(pages) != 13 || e.sim.Requests() != 13 {
		t.Errorf("requests per page = %v (%d requests), want pages 1..13 once each", pages, e.sim.Requests())
	}
	for p, n := range pages {
		if n != 1 {
			t.Errorf("page %s requested %d times", p, n)
		}
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_api_requests_total", "code", "Success"); v != 13 {
		t.Errorf("api_requests_total{code=Success} = %v, want 13", v)
	}
}

// TestOnePageFailingFailsTheRefresh: all-or-nothing, so a refresh with a
// page missing keeps serving the previous complete data.
func TestOnePageFailingFailsTheRefresh(t *testing.T) {
	e := newEnv(t, nil, func(c *config.Config) { c.PageSize = 10; c.MaxConcurrentPages = 1 })
	if err := e.sim.SetData(testkit.Generated(30, "cn-shanghai")); err != nil {
		t.Fatal(err)
	}
	e.scrape()
	e.clock.Advance(2 * time.Minute)
	if err := e.sim.SetData(testkit.Generated(25, "cn-shanghai")); err != nil {
		t.Fatal(err)
	}
	// Page 1 answers; page 2 is refused for good (an auth error is final).
	e.sim.Inject(simulator.Fault{}, simulator.Fault{Status: 403, Code: "Forbidden.RAM", Message: "User not authorized to operate on the specified resource."})
	mfs := parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_up", "biz_region", ""); v != 0 {
		t.Errorf("up = %v after a failed page, want 0", v)
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_groups", "biz_region", ""); v != 30 {
		t.Errorf("groups = %v, want the previous 30 (no partial page set)", v)
	}
}

func TestRequestParameters(t *testing.T) {
	e := newEnv(t, nil, func(c *config.Config) {
		c.BizRegions = []string{"cn-hangzhou", "cn-shanghai"}
		c.ProductType = "CloudApp"
		c.Filters = config.Filters{
			Status:               []string{"PUBLISHED", "FAILED"},
			AppInstanceGroupID:   "aig-1",
			AppInstanceGroupName: "Office",
			AppCenterImageID:     "img-1",
			NodeInstanceType:     "appstreaming.general.4c8g",
			OfficeSiteID:         "cn-hangzhou+dir-1",
			Tags:                 config.TagFilters{{Key: "cost-center", Value: "cc 1"}, {Key: "department", Value: "design"}},
			UserGroupIDs:         []string{"ug-1", "ug-2"},
			ExcludedUserGroupIDs: []string{"ug-3"},
		}
	})
	e.scrape()
	log := e.sim.Log()
	if len(log) != 2 {
		t.Fatalf("%d requests, want one per biz region", len(log))
	}
	regions := map[string]bool{}
	for _, r := range log {
		if r.Code != "Success" {
			t.Errorf("the simulator refused the request: %s", r.Code)
		}
		regions[r.Query.Get("BizRegionId")] = true
		wantQuery := url.Values{
			"ProductType": {"CloudApp"}, "PageSize": {"100"}, "PageNumber": {"1"},
			"AppInstanceGroupId": {"aig-1"}, "AppInstanceGroupName": {"Office"}, "AppCenterImageId": {"img-1"},
			"NodeInstanceType": {"appstreaming.general.4c8g"}, "OfficeSiteId": {"cn-hangzhou+dir-1"},
			"Tag.1.Key": {"cost-center"}, "Tag.1.Value": {"cc 1"}, "Tag.2.Key": {"department"}, "Tag.2.Value": {"design"},
			"RegionId": {"cn-shanghai"}, "Action": {"ListAppInstanceGroup"}, "Version": {"2021-09-01"},
		}
		for k, v := range wantQuery {
			if got := r.Query.Get(k); got != v[0] {
				t.Errorf("query %s = %q, want %q", k, got, v[0])
			}
		}
		// The list filters are form fields (TestParameterPlacement lists
		// every parameter's place).
		wantForm := url.Values{
			"Status.1": {"PUBLISHED"}, "Status.2": {"FAILED"},
			"UserGroupIds.1": {"ug-1"}, "UserGroupIds.2": {"ug-2"}, "ExcludedUserGroupIds.1": {"ug-3"},
		}
		if r.Form.Encode() != wantForm.Encode() {
			t.Errorf("form body = %s, want %s", r.Form.Encode(), wantForm.Encode())
		}
		if len(r.Misplaced) > 0 {
			t.Errorf("parameters in the wrong place: %v", r.Misplaced)
		}
		if r.Query.Get("AccessKeyId") != testkit.Key.ID || r.Query.Get("Signature") == "" {
			t.Errorf("request not signed with the configured key")
		}
	}
	if !regions["cn-hangzhou"] || !regions["cn-shanghai"] {
		t.Errorf("BizRegionId per query = %v", regions)
	}
}

// TestFiltersApplied: the simulator filters like the service, and the
// exporter serves what comes back per biz region.
func TestFiltersApplied(t *testing.T) {
	e := newEnv(t, nil, func(c *config.Config) {
		c.BizRegions = []string{"cn-hangzhou", "cn-shanghai"}
		c.Filters.Status = []string{"PUBLISHED"}
	})
	d := testkit.Generated(3, "cn-hangzhou")
	d.AppInstanceGroupModels = append(d.AppInstanceGroupModels, testkit.Generated(2, "cn-shanghai").AppInstanceGroupModels...)
	d.AppInstanceGroupModels = append(d.AppInstanceGroupModels, json.RawMessage(`{"AppInstanceGroupId":"aig-failed","RegionId":"cn-shanghai","Status":"FAILED"}`))
	if err := e.sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_groups", "biz_region", "cn-hangzhou"); v != 3 {
		t.Errorf("cn-hangzhou groups = %v, want 3", v)
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_groups", "biz_region", "cn-shanghai"); v != 2 {
		t.Errorf("cn-shanghai groups = %v, want 2 (the FAILED one filtered out)", v)
	}
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_info", "group_id", "aig-failed"); n != 0 {
		t.Errorf("a group excluded by the Status filter is exported")
	}
}

func TestThrottledTwiceThenOK(t *testing.T) {
	e := goldenEnv(t)
	e.sim.Inject(simulator.ThrottlingUser, simulator.ThrottlingUser)
	mfs := parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_up", "biz_region", ""); v != 1 {
		t.Errorf("up = %v, want 1 after retries", v)
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_api_requests_total", "code", "Throttling.User"); v != 2 {
		t.Errorf("throttled requests counted = %v, want 2", v)
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_api_requests_total", "code", "Success"); v != 1 {
		t.Errorf("successful requests counted = %v, want 1", v)
	}
	if n := e.sim.Requests(); n != 3 {
		t.Errorf("simulator saw %d requests, want 3", n)
	}
}

func TestServerErrorsRetried(t *testing.T) {
	e := goldenEnv(t)
	e.sim.Inject(simulator.ServiceUnavailable, simulator.BadGateway, simulator.TooManyRequests)
	mfs := parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_up", "biz_region", ""); v != 1 {
		t.Errorf("up = %v, want 1", v)
	}
	for code, want := range map[string]float64{"ServiceUnavailable": 1, "HTTP502": 1, "HTTP429": 1, "Success": 1} {
		if v := testkit.Value(t, mfs, "aliyun_appstream_api_requests_total", "code", code); v != want {
			t.Errorf("api_requests_total{code=%q} = %v, want %v", code, v, want)
		}
	}
}

// TestAuthErrorNotRetried: a wrong secret costs exactly one request, and
// neither the secret nor the server's string-to-sign reaches the log.
func TestAuthErrorNotRetried(t *testing.T) {
	e := newEnv(t, fixtures, func(c *config.Config) {
		c.Credentials.AccessKeySecret = promconfig.Secret("wrong-secret-ALSO-MUST-NOT-LEAK")
	})
	mfs := parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_up", "biz_region", ""); v != 0 {
		t.Errorf("up = %v, want 0", v)
	}
	if n := e.sim.Requests(); n != 1 {
		t.Errorf("%d requests for an auth error, want exactly 1", n)
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_api_requests_total", "code", "SignatureDoesNotMatch"); v != 1 {
		t.Errorf("api_requests_total{code=SignatureDoesNotMatch} = %v, want 1", v)
	}
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_info"); n != 0 {
		t.Errorf("group series served without any good data")
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "SignatureDoesNotMatch") {
		t.Errorf("the log does not say why the refresh failed:\n%s", logs)
	}
	for _, secret := range []string{"wrong-secret-ALSO-MUST-NOT-LEAK", testkit.Key.Secret, "POST&%2F&"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
}

func TestUnknownKeyNotRetried(t *testing.T) {
	e := newEnv(t, fixtures, func(c *config.Config) { c.Credentials.AccessKeyID = "LTAIunknown" })
	mfs := parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_api_requests_total", "code", "InvalidAccessKeyId.NotFound"); v != 1 || e.sim.Requests() != 1 {
		t.Errorf("InvalidAccessKeyId.NotFound counted %v over %d requests, want 1 and 1", v, e.sim.Requests())
	}
}

// TestMalformedAfterGoodData: a malformed answer fails the refresh without
// a retry, and the last good data stays served while its age grows.
func TestMalformedAfterGoodData(t *testing.T) {
	e := goldenEnv(t)
	e.scrape()
	e.clock.Advance(90 * time.Second)
	e.sim.Inject(simulator.MalformedJSON)
	mfs := parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_up", "biz_region", ""); v != 0 {
		t.Errorf("up = %v, want 0", v)
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_groups", "biz_region", ""); v != 4 {
		t.Errorf("groups = %v, want the last good 4", v)
	}
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_info"); n != 4 {
		t.Errorf("group_info series = %d, want the last good 4", n)
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_data_age_seconds", "biz_region", ""); v != 90 {
		t.Errorf("data_age_seconds = %v, want 90", v)
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_api_requests_total", "code", "malformed"); v != 1 || e.sim.Requests() != 2 {
		t.Errorf("malformed counted %v with %d requests in all; want 1 and 2 (no retry)", v, e.sim.Requests())
	}
	// The failure is cached for cache_ttl: the next scrape makes no request.
	e.scrape()
	if n := e.sim.Requests(); n != 2 {
		t.Errorf("a scrape right after a failed refresh made %d requests", n-2)
	}
}

// TestMaxStaleDropsData: once the newest refresh failed and the data is
// older than max_stale, the group series go away.
func TestMaxStaleDropsData(t *testing.T) {
	e := newEnv(t, fixtures, func(c *config.Config) { c.MaxStale = config.Duration(5 * time.Minute) })
	e.scrape()
	e.sim.SetSticky(&simulator.ServiceUnavailable)
	e.clock.Advance(4 * time.Minute)
	mfs := parse(t, e.scrape())
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_info"); n != 4 {
		t.Fatalf("after 4m of failures: %d group_info series, want the last good 4", n)
	}
	e.clock.Advance(2 * time.Minute)
	mfs = parse(t, e.scrape())
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_info"); n != 0 {
		t.Errorf("after 6m (max_stale 5m): %d group_info series, want 0", n)
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_groups", "biz_region", ""); v != 0 {
		t.Errorf("groups = %v, want 0", v)
	}
	if _, n := testkit.Find(mfs, "aliyun_appstream_data_age_seconds"); n != 0 {
		t.Errorf("data_age_seconds present with no data served")
	}
	if _, n := testkit.Find(mfs, "aliyun_appstream_last_refresh_success_timestamp_seconds"); n != 1 {
		t.Errorf("last_refresh_success_timestamp_seconds must stay after data is dropped")
	}
}

// TestHangingEndpointCutByRefreshTimeout: the scrape answers 200 with up 0
// once refresh_timeout cuts the hung request.
func TestHangingEndpointCutByRefreshTimeout(t *testing.T) {
	e := newEnv(t, fixtures, func(c *config.Config) { c.RefreshTimeout = config.Duration(time.Second) })
	e.sim.SetSticky(&simulator.Hang)
	defer e.sim.SetSticky(nil)
	mfs := parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_up", "biz_region", ""); v != 0 {
		t.Errorf("up = %v, want 0", v)
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_refreshes_total", "result", "failure"); v != 1 {
		t.Errorf("refreshes_total{result=failure} = %v, want 1: the scrape must wait for the refresh to be cut", v)
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_api_requests_total", "code", "transport"); v < 1 {
		t.Errorf("api_requests_total{code=transport} = %v, want ≥ 1", v)
	}
}

// TestScrapeTimeoutHeader: with X-Prometheus-Scrape-Timeout-Seconds the
// scrape answers before the refresh is done, and the refresh goes on.
func TestScrapeTimeoutHeader(t *testing.T) {
	e := newEnv(t, fixtures, func(c *config.Config) { c.RefreshTimeout = config.Duration(time.Minute) })
	e.sim.SetSticky(&simulator.Hang)
	defer e.sim.SetSticky(nil)
	mfs := parse(t, e.scrape("X-Prometheus-Scrape-Timeout-Seconds", "1"))
	if v := testkit.Value(t, mfs, "aliyun_appstream_up", "biz_region", ""); v != 0 {
		t.Errorf("up = %v, want 0 while no refresh has finished", v)
	}
	if _, n := testkit.Find(mfs, "aliyun_appstream_refresh_duration_seconds"); n != 0 {
		t.Errorf("a refresh finished although the API hangs: the scrape did not honour its timeout")
	}
	e.sim.SetSticky(nil)
	testkit.WaitFor(t, "the refresh to finish after the hang is released", e.exp.Ready)
}

func TestCredentialsFromFiles(t *testing.T) {
	dir := t.TempDir()
	idFile := dir + "/id"
	secretFile := dir + "/secret"
	tokenFile := dir + "/token"
	testkit.WriteFile(t, idFile, "STS.test\n")
	testkit.WriteFile(t, secretFile, testkit.Key.Secret+"\n")
	testkit.WriteFile(t, tokenFile, "sts-token-MUST-NOT-LEAK\n")
	sim := simulator.New(simulator.Key{ID: "STS.test", Secret: testkit.Key.Secret, SecurityToken: "sts-token-MUST-NOT-LEAK"})
	e := newEnvWith(t, sim, func(c *config.Config) {
		c.Credentials = &config.Credentials{AccessKeyIDFile: idFile, AccessKeySecretFile: secretFile, SecurityTokenFile: tokenFile}
	})
	if err := sim.Load(testkit.MustRead(t, "testdata/reference.json")); err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_up", "biz_region", ""); v != 1 {
		t.Fatalf("up = %v with STS credentials from files; log:\n%s", v, e.logs)
	}
	// A rotated token file takes effect at the next refresh, without reload.
	testkit.WriteFile(t, tokenFile, "rotated-token\n")
	e.clock.Advance(2 * time.Minute)
	mfs = parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_api_requests_total", "code", "InvalidSecurityToken.Mismatch"); v != 1 {
		t.Errorf("the rotated token was not sent (mismatch counted %v)", v)
	}
	if strings.Contains(e.logs.String(), "sts-token-MUST-NOT-LEAK") || strings.Contains(e.logs.String(), "rotated-token") {
		t.Errorf("the STS token reached the log:\n%s", e.logs)
	}
}

// TestParallelPagesShareNothingRacy runs many pages in parallel with the
// race detector watching the SDK clients and the credential provider.
func TestParallelPagesShareNothingRacy(t *testing.T) {
	e := newEnv(t, nil, func(c *config.Config) { c.PageSize = 5; c.MaxConcurrentPages = 8 })
	if err := e.sim.SetData(testkit.Generated(200, "cn-shanghai")); err != nil {
		t.Fatal(err)
	}
	var done atomic.Int32
	for range 3 {
		e.clock.Advance(2 * time.Minute)
		mfs := parse(t, e.scrape())
		if v := testkit.Value(t, mfs, "aliyun_appstream_groups", "biz_region", ""); v == 200 {
			done.Add(1)
		}
	}
	if done.Load() != 3 || e.sim.Requests() != 120 {
		t.Errorf("%d of 3 refreshes complete with %d requests, want 3 and 120 (40 pages each)", done.Load(), e.sim.Requests())
	}
}

func TestPageCapStopsEndlessAPI(t *testing.T) {
	e := newEnv(t, nil, nil)
	d := testkit.Generated(1, "cn-shanghai")
	if err := e.sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	// A TotalCount far beyond any tenant is refused, not paged through.
	e.sim.Inject(simulator.Fault{Status: 200, Body: `{"TotalCount": 5000000, "PageSize": 100, "AppInstanceGroupModels": []}`})
	mfs := parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_up", "biz_region", ""); v != 0 || e.sim.Requests() != 1 {
		t.Errorf("up = %v after %d requests; want 0 after 1", v, e.sim.Requests())
	}
	if !strings.Contains(e.logs.String(), "exceeds the limit") {
		t.Errorf("the log does not explain the refusal:\n%s", e.logs)
	}
}

func TestErrorBodyWithHTTP200(t *testing.T) {
	e := goldenEnv(t)
	e.sim.Inject(simulator.Fault{Status: 200, Body: `{"RequestId":"R1","Code":"Throttling.Api","Message":"Request was denied due to api flow control."}`})
	mfs := parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_api_requests_total", "code", "Throttling.Api"); v != 1 {
		t.Errorf("Throttling.Api in an HTTP 200 counted %v, want 1", v)
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_up", "biz_region", ""); v != 1 {
		t.Errorf("up = %v, want 1 after the retry", v)
	}
}

// newEnvWith is newEnv around a prepared simulator.
func newEnvWith(t *testing.T, sim *simulator.Server, edit func(*config.Config)) *env {
	t.Helper()
	api := newAPIServer(t, sim)
	return startEnv(t, sim, api, testconfig.New(t, api.URL, edit))
}

// TestDefaultCredentialChainUnderParallelQueries: without a credentials
// block the SDK's default chain signs (here from the environment). The
// chain records the provider it found without a lock, so the first requests
// of several queries, which start together, must not call it at once (the
// race detector watches).
func TestDefaultCredentialChainUnderParallelQueries(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", testkit.Key.ID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", testkit.Key.Secret)
	t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "")
	regions := []string{"cn-shanghai", "cn-hangzhou", "cn-beijing", "cn-shenzhen", "ap-southeast-1", "cn-hongkong"}
	e := newEnv(t, nil, func(c *config.Config) {
		c.Credentials = nil
		c.BizRegions = regions
		c.PageSize = 10
		c.MaxConcurrentPages = 8
	})
	var d simulator.Dataset
	for _, r := range regions {
		d.AppInstanceGroupModels = append(d.AppInstanceGroupModels, testkit.Generated(30, r).AppInstanceGroupModels...)
	}
	if err := e.sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, e.scrape())
	for _, r := range regions {
		if v := testkit.Value(t, mfs, "aliyun_appstream_groups", "biz_region", r); v != 30 {
			t.Errorf("%s: groups = %v, want 30; log:\n%s", r, v, e.logs)
		}
	}
}
