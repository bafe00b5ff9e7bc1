package aliyun

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit/testconfig"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// pagedMatchEnv serves five groups that all pass testconfig.FullFilters,
// two per page, so a refresh reads three pages.
func pagedMatchEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, func(c *config.Config) { testconfig.FullFilters(c); c.PageSize = 2 })
	d := testkit.Generated(5, "cn-shenzhen")
	for i := range d.AppInstanceGroupModels {
		d.AppInstanceGroupModels[i] = testconfig.MatchingGroup(fmt.Sprint(i))
	}
	d.UserGroups = map[string][]string{"aig-match": {"ug-a"}}
	if err := e.sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	return e
}

type placed struct {
	place simulator.Place
	value string
}

// wantParams is every parameter of a testconfig.FullFilters request for page
// pageNumber, where it must travel and with what value: the placement of
// Alibaba's generated SDKs for ListAppInstanceGroup.
func wantParams(pageNumber int) map[string]placed {
	q := func(v string) placed { return placed{simulator.InQuery, v} }
	b := func(v string) placed { return placed{simulator.InBody, v} }
	return map[string]placed{
		"RegionId":               q("cn-hangzhou"), // region_id, not the biz region
		"BizRegionId":            q("cn-shenzhen"),
		"ProductType":            q("CloudApp"),
		"PageSize":               q("50"),
		"PageNumber":             q(strconv.Itoa(pageNumber)),
		"AppInstanceGroupId":     q("aig-match"),
		"AppInstanceGroupName":   q("Office"),
		"AppCenterImageId":       q("img-1"),
		"NodeInstanceType":       q("appstreaming.general.4c8g"),
		"OfficeSiteId":           q("cn-shenzhen+dir-1"),
		"Tag.1.Key":              q("cost-center"),
		"Tag.1.Value":            q("cc 1"),
		"Tag.2.Key":              q("department"),
		"Tag.2.Value":            q("design"),
		"Status.1":               b("PUBLISHED"),
		"Status.2":               b("MAINTAINING"),
		"UserGroupIds.1":         b("ug-a"),
		"UserGroupIds.2":         b("ug-b"),
		"ExcludedUserGroupIds.1": b("ug-x"),
	}
}

// checkPlacement fails for a wanted parameter missing, in the wrong place
// or with another value, and for any other parameter but those in extra
// (the signer's, which are query parameters).
func checkPlacement(t *testing.T, query, body map[string]string, want map[string]placed, extra []string) {
	t.Helper()
	in := map[simulator.Place]map[string]string{simulator.InQuery: query, simulator.InBody: body}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		w := want[k]
		other := simulator.InQuery
		if w.place == simulator.InQuery {
			other = simulator.InBody
		}
		got, ok := in[w.place][k]
		switch {
		case !ok:
			_, elsewhere := in[other][k]
			t.Errorf("%s: not in the %s (in the %s: %v)", k, w.place, other, elsewhere)
		case got != w.value:
			t.Errorf("%s = %q, want %q", k, got, w.value)
		}
		if _, dup := in[other][k]; dup && ok {
			t.Errorf("%s: in the %s as well", k, other)
		}
	}
	for place, params := range in {
		for k := range params {
			if _, ok := want[k]; ok || (place == simulator.InQuery && slices.Contains(extra, k)) {
				continue
			}
			t.Errorf("unlisted parameter %s=%q in the %s", k, params[k], place)
		}
	}
}

// TestParameterPlacement: every ListAppInstanceGroup parameter goes where
// the generated SDKs put it (list filters in the form body, the rest in the
// query string), both as built and as it reaches the endpoint through the
// SDK's signing. The simulator's table of places agrees.
func TestParameterPlacement(t *testing.T) {
	for k, w := range wantParams(1) {
		if got := simulator.PlaceOf(simulator.ListAppInstanceGroup, k); got != w.place {
			t.Errorf("the simulator places %s in %q, the test in %q", k, got, w.place)
		}
	}

	t.Run("built", func(t *testing.T) {
		c := &Client{cfg: testconfig.New(t, "http://127.0.0.1:9", testconfig.FullFilters)}
		req := c.listRequest("cn-shenzhen", 3)
		checkPlacement(t, req.query, req.body, wantParams(3), nil)
	})

	t.Run("sent", func(t *testing.T) {
		e := newEnv(t, func(c *config.Config) { testconfig.FullFilters(c); c.PageSize = 2 })
		if err := e.sim.SetData(testkit.Generated(5, "cn-shenzhen")); err != nil {
			t.Fatal(err)
		}
		// No group passes the filters: one page is asked.
		if _, err := e.fetch("cn-shenzhen"); err != nil {
			t.Fatal(err)
		}
		if n := len(e.sim.Log()); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
		last := func() simulator.Request { l := e.sim.Log(); return l[len(l)-1] }
		single := func(v url.Values) map[string]string {
			m := map[string]string{}
			for k, vs := range v {
				if len(vs) != 1 {
					t.Errorf("%s sent %d times", k, len(vs))
				}
				m[k] = vs[0]
			}
			return m
		}
		want := wantParams(1)
		want["PageSize"] = placed{simulator.InQuery, "2"}
		r := last()
		if r.Code != "Success" || len(r.Misplaced) > 0 {
			t.Errorf("answered %s, misplaced %v", r.Code, r.Misplaced)
		}
		checkPlacement(t, single(r.Query), single(r.Form), want, signerParams)
		if r.Query.Get("AccessKeyId") != testkit.Key.ID || r.Query.Get("Signature") == "" {
			t.Errorf("not signed with the configured key")
		}
	})

	t.Run("sent, later page", func(t *testing.T) {
		e := pagedMatchEnv(t)
		if _, err := e.fetch("cn-shenzhen"); err != nil {
			t.Fatal(err)
		}
		log := e.sim.Log()
		if len(log) != 3 {
			t.Fatalf("%d requests, want 3 pages", len(log))
		}
		for _, r := range log {
			p, _ := strconv.Atoi(r.Query.Get("PageNumber"))
			want := wantParams(p)
			want["PageSize"] = placed{simulator.InQuery, "2"}
			q, f := map[string]string{}, map[string]string{}
			for k := range r.Query {
				q[k] = r.Query.Get(k)
			}
			for k := range r.Form {
				f[k] = r.Form.Get(k)
			}
			checkPlacement(t, q, f, want, signerParams)
			if len(r.Misplaced) > 0 || r.Code != "Success" {
				t.Errorf("page %d: answered %s, misplaced %v", p, r.Code, r.Misplaced)
			}
		}
	})
}

// TestMisplacedFilterIgnored proves the simulator strict: the exporter's
// own request with UserGroupIds.1 moved from the body to the query, signed
// and sent the exporter's way, is answered with the filter ignored (every
// group listed) and logged as misplaced.
func TestMisplacedFilterIgnored(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Filters.UserGroupIDs = []string{"ug-a"} })
	if err := e.sim.SetData(testconfig.UserGroupData()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := e.client

	right, res := c.attempt(ctx, c.listRequest("", 1))
	if res.err != nil {
		t.Fatal(res.err)
	}
	req := c.listRequest("", 1)
	v, ok := req.body["UserGroupIds.1"]
	if !ok {
		t.Fatalf("the exporter's request has no UserGroupIds.1 in its body: query %v, body %v", req.query, req.body)
	}
	delete(req.body, "UserGroupIds.1")
	req.query["UserGroupIds.1"] = v
	wrong, res := c.attempt(ctx, req)
	if res.err != nil {
		t.Fatalf("the moved request was refused (its signature covers the query too): %v", res.err)
	}

	if n := len(decoded(t, right).Groups.Items); n != 2 {
		t.Errorf("correctly placed: %d groups, want the 2 of ug-a", n)
	}
	if n := len(decoded(t, wrong).Groups.Items); n != 6 || n <= len(decoded(t, right).Groups.Items) {
		t.Errorf("UserGroupIds.1 in the query: %d groups, want all 6 (the filter ignored)", n)
	}
	log := e.sim.Log()
	if len(log) != 2 {
		t.Fatalf("%d requests logged, want 2", len(log))
	}
	if len(log[0].Misplaced) != 0 {
		t.Errorf("correctly placed request logged with misplaced %v", log[0].Misplaced)
	}
	if !slices.Equal(log[1].Misplaced, []string{"UserGroupIds.1"}) {
		t.Errorf("moved request logged with misplaced %v, want [UserGroupIds.1]", log[1].Misplaced)
	}
}

// TestRequestDebugLog: each refresh logs its request's parameters once at
// debug level, PageNumber left out, with nothing of the credentials.
func TestRequestDebugLog(t *testing.T) {
	e := pagedMatchEnv(t)
	lines := func() []string {
		var out []string
		for l := range strings.Lines(e.logs.String()) {
			if strings.Contains(l, `msg="ListAppInstanceGroup request"`) {
				out = append(out, l)
			}
		}
		return out
	}
	if _, err := e.fetch("cn-shenzhen"); err != nil {
		t.Fatal(err)
	}
	got := lines()
	if len(got) != 1 || len(e.sim.Log()) != 3 {
		t.Fatalf("%d request lines for a refresh of %d pages, want 1:\n%s", len(got), len(e.sim.Log()), e.logs)
	}
	want := `biz_region=cn-shenzhen ` +
		`query="AppCenterImageId=img-1&AppInstanceGroupId=aig-match&AppInstanceGroupName=Office&BizRegionId=cn-shenzhen&` +
		`NodeInstanceType=appstreaming.general.4c8g&OfficeSiteId=cn-shenzhen+dir-1&PageSize=2&ProductType=CloudApp&RegionId=cn-hangzhou&` +
		`Tag.1.Key=cost-center&Tag.1.Value=cc 1&Tag.2.Key=department&Tag.2.Value=design" ` +
		`body="ExcludedUserGroupIds.1=ug-x&Status.1=PUBLISHED&Status.2=MAINTAINING&UserGroupIds.1=ug-a&UserGroupIds.2=ug-b" `
	if !strings.Contains(got[0], want) {
		t.Errorf("request line:\n%s\nwant it to contain\n%s", got[0], want)
	}
	for _, bad := range []string{"PageNumber=", "AccessKeyId", "Signature", "SecurityToken", testkit.Key.ID, testkit.Key.Secret} {
		if strings.Contains(strings.ReplaceAll(got[0], "PageNumber=N", ""), bad) {
			t.Errorf("request line has %q:\n%s", bad, got[0])
		}
	}
	if _, err := e.fetch("cn-shenzhen"); err != nil {
		t.Fatal(err)
	}
	if n := len(lines()); n != 2 {
		t.Errorf("%d request lines after two refreshes, want 2", n)
	}
}

// TestRequestParamsHoldNoCredentials: the logged parameters are page 1's
// without PageNumber, the list filters in the body, nothing of the signer's.
func TestRequestParamsHoldNoCredentials(t *testing.T) {
	c := &Client{cfg: testconfig.New(t, "http://127.0.0.1:9", testconfig.FullFilters)}
	query, body := c.requestParams("cn-shenzhen")
	for _, s := range []string{query, body} {
		v, err := url.ParseQuery(s)
		if err != nil {
			t.Fatal(err)
		}
		for k := range v {
			if slices.Contains(signerParams, k) || k == "PageNumber" {
				t.Errorf("logged parameter %s", k)
			}
		}
	}
	if strings.Contains(query, "Status") || strings.Contains(query, "UserGroupIds") || !strings.Contains(body, "UserGroupIds.1=ug-a") {
		t.Errorf("query %q, body %q: list filters belong in the body", query, body)
	}
	// Tag keys in any script stay readable in the log.
	c = &Client{cfg: testconfig.New(t, "http://127.0.0.1:9", func(c *config.Config) { c.Filters.Tags = config.TagFilters{{Key: "部门", Value: "设计"}} })}
	if query, _ := c.requestParams(""); !strings.Contains(query, "Tag.1.Key=部门&Tag.1.Value=设计") {
		t.Errorf("query %q: tag not readable", query)
	}
}

// decoded is the page an answer carries.
func decoded(t *testing.T, r *response) *ListResponse {
	t.Helper()
	page, ok := r.model.(*ListResponse)
	if !ok {
		t.Fatalf("the answer holds a %T", r.model)
	}
	return page
}

// An answer is read whole whether it announces its length (as the
// simulator does) or comes in chunks without one: the same groups either
// way, page for page.
func TestAnswersWithAndWithoutLength(t *testing.T) {
	sim := simulator.New(testkit.Key)
	d, err := simulator.Generate(250, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	announced, err := newEnvWith(t, sim, nil).fetch("")
	if err != nil {
		t.Fatal(err)
	}
	// The same answers, each sent in two chunks after a flush, without a
	// Content-Length.
	chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		body := rec.Body.Bytes()
		_, _ = w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		_, _ = w.Write(body[len(body)/2:])
	}))
	t.Cleanup(chunked.Close)
	unannounced, err := startEnv(t, sim, testconfig.New(t, chunked.URL, nil)).fetch("")
	if err != nil {
		t.Fatal(err)
	}
	if len(announced) != 250 || len(unannounced) != 250 {
		t.Fatalf("%d groups with Content-Length, %d without; want 250", len(announced), len(unannounced))
	}
	for i := range announced {
		a, u := announced[i], unannounced[i]
		if a.AppInstanceGroupID.V != u.AppInstanceGroupID.V || a.AppInstanceGroupName.V != u.AppInstanceGroupName.V || len(a.NodePool.Items) != len(u.NodePool.Items) {
			t.Fatalf("group %d: %q %q with Content-Length, %q %q without", i, a.AppInstanceGroupID.V, a.AppInstanceGroupName.V, u.AppInstanceGroupID.V, u.AppInstanceGroupName.V)
		}
	}
}
