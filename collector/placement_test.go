package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// setTags is the one place these tests set tag filters (key, value, key,
// value, ...), so a change of Filters.Tags' type touches only this.
func setTags(f *config.Filters, kv ...string) {
	f.Tags = nil
	for i := 0; i+1 < len(kv); i += 2 {
		f.Tags = append(f.Tags, config.TagFilter{Key: kv[i], Value: kv[i+1]})
	}
}

// fullFilters sets every filter, a biz region and every request setting,
// each to a value of its own. Tags are given in key order, so the Tag.N
// numbering is the same whether the exporter keeps their order or sorts.
// pagedMatchEnv serves five groups that all pass fullFilters, two per page,
// so a refresh reads three pages.
func pagedMatchEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, nil, func(c *config.Config) { fullFilters(c); c.PageSize = 2 })
	d := generated(5, "cn-shenzhen")
	for i := range d.AppInstanceGroupModels {
		d.AppInstanceGroupModels[i] = matchingGroup(fmt.Sprint(i))
	}
	d.UserGroups = map[string][]string{"aig-match": {"ug-a"}}
	if err := e.sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	return e
}

func fullFilters(c *config.Config) {
	c.RegionID = "cn-hangzhou"
	c.BizRegions = []string{"cn-shenzhen"}
	c.ProductType = "CloudApp"
	c.PageSize = 50
	c.Filters = config.Filters{
		Status:               []string{"PUBLISHED", "MAINTAINING"},
		AppInstanceGroupID:   "aig-match",
		AppInstanceGroupName: "Office",
		AppCenterImageID:     "img-1",
		NodeInstanceType:     "appstreaming.general.4c8g",
		OfficeSiteID:         "cn-shenzhen+dir-1",
		UserGroupIDs:         []string{"ug-a", "ug-b"},
		ExcludedUserGroupIDs: []string{"ug-x"},
	}
	setTags(&c.Filters, "cost-center", "cc 1", "department", "design")
}

type placed struct {
	place simulator.Place
	value string
}

// wantParams is every parameter of a fullFilters request for page
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
		if got := simulator.PlaceOf(k); got != w.place {
			t.Errorf("the simulator places %s in %q, the test in %q", k, got, w.place)
		}
	}

	t.Run("built", func(t *testing.T) {
		c := &apiClient{cfg: testConfig(t, "http://127.0.0.1:9", fullFilters)}
		req := c.request("cn-shenzhen", 3)
		checkPlacement(t, req.QueryParams, req.FormParams, wantParams(3), nil)
	})

	t.Run("sent", func(t *testing.T) {
		e := newEnv(t, nil, func(c *config.Config) { fullFilters(c); c.PageSize = 2 })
		if err := e.sim.SetData(generated(5, "cn-shenzhen")); err != nil {
			t.Fatal(err)
		}
		// No group passes the filters: one page is asked.
		e.scrape()
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
		if r.Query.Get("AccessKeyId") != testKey.ID || r.Query.Get("Signature") == "" {
			t.Errorf("not signed with the configured key")
		}
	})

	t.Run("sent, later page", func(t *testing.T) {
		e := pagedMatchEnv(t)
		e.scrape()
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

// matchingGroup is a group that passes every filter of fullFilters (when
// assigned to ug-a or ug-b); note tells copies apart.
func matchingGroup(note string) json.RawMessage {
	return json.RawMessage(`{"AppInstanceGroupId":"aig-match","AppInstanceGroupName":"Office ` + note + `",
		"AppCenterImageId":"img-1","RegionId":"cn-shenzhen","ProductType":"CloudApp","Status":"PUBLISHED",
		"OfficeSiteId":"cn-shenzhen+dir-1","ChargeType":"PrePaid","ResourceStatus":"AVAILABLE","Amount":2,
		"NodePool":[{"NodePoolId":"rg-1","NodeInstanceType":"appstreaming.general.4c8g","NodeAmount":2,"NodeUsed":1}],
		"Tags":[{"Key":"department","Value":"design"},{"Key":"cost-center","Value":"cc 1"}]}`)
}

// userGroupData: six groups in cn-shanghai and the user groups each is
// assigned to.
func userGroupData() simulator.Dataset {
	d := generated(6, "cn-shanghai")
	id := func(i int) string { return fmt.Sprintf("aig-gen-cn-shanghai-%05d", i) }
	d.UserGroups = map[string][]string{
		id(0): {"ug-a"},
		id(1): {"ug-a", "ug-x"},
		id(2): {"ug-b"},
		id(3): {"ug-x"},
		// id(4) is in no user group
		id(5): {"ug-b", "ug-c"},
	}
	return d
}

// exportedGroups lists the group IDs of group_info, sorted, by their
// number in userGroupData.
func exportedGroups(t *testing.T, text string) []int {
	t.Helper()
	var out []int
	for _, m := range parse(t, text)["aliyun_appstream_group_info"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "group_id" {
				n, err := strconv.Atoi(strings.TrimPrefix(lp.GetValue(), "aig-gen-cn-shanghai-"))
				if err != nil {
					t.Fatalf("unexpected group %s", lp.GetValue())
				}
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestUserGroupFiltersEndToEnd: user_group_ids and excluded_user_group_ids
// reach the endpoint where it reads them, through the SDK's signing, and
// groups outside the asked user groups are not exported.
func TestUserGroupFiltersEndToEnd(t *testing.T) {
	cases := []struct {
		name              string
		include, excluded []string
		want              []int
	}{
		{"no filter", nil, nil, []int{0, 1, 2, 3, 4, 5}},
		{"user_group_ids", []string{"ug-a", "ug-b"}, nil, []int{0, 1, 2, 5}},
		{"excluded_user_group_ids", nil, []string{"ug-x"}, []int{0, 2, 4, 5}},
		{"both", []string{"ug-a", "ug-b"}, []string{"ug-x"}, []int{0, 2, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil, func(cfg *config.Config) {
				cfg.Filters.UserGroupIDs = c.include
				cfg.Filters.ExcludedUserGroupIDs = c.excluded
			})
			if err := e.sim.SetData(userGroupData()); err != nil {
				t.Fatal(err)
			}
			if got := exportedGroups(t, e.scrape()); !slices.Equal(got, c.want) {
				t.Errorf("exported groups %v, want %v", got, c.want)
			}
			for _, r := range e.sim.Log() {
				if r.Code != "Success" || len(r.Misplaced) > 0 {
					t.Errorf("answered %s, misplaced %v", r.Code, r.Misplaced)
				}
			}
		})
	}
}

// TestFullFilterRefresh: with every filter set, each request arrives with
// nothing in the wrong place, and only the group passing every filter is
// exported, not the groups failing one filter each.
func TestFullFilterRefresh(t *testing.T) {
	e := newEnv(t, nil, fullFilters)
	var d simulator.Dataset
	d.AppInstanceGroupModels = append(d.AppInstanceGroupModels, matchingGroup("the one"))
	// Each decoy fails one filter; its ID passes (groups are told apart by
	// their name here).
	for i, swap := range [][2]string{
		{`"Status":"PUBLISHED"`, `"Status":"FAILED"`},
		{`"AppInstanceGroupName":"Office `, `"AppInstanceGroupName":"Lab `},
		{`"AppCenterImageId":"img-1"`, `"AppCenterImageId":"img-2"`},
		{`"RegionId":"cn-shenzhen"`, `"RegionId":"cn-beijing"`},
		{`"OfficeSiteId":"cn-shenzhen+dir-1"`, `"OfficeSiteId":"cn-shenzhen+dir-2"`},
		{`appstreaming.general.4c8g`, `appstreaming.general.8c16g`},
		{`{"Key":"department","Value":"design"}`, `{"Key":"department","Value":"sales"}`},
		{`"ProductType":"CloudApp"`, `"ProductType":"CloudDesktop"`},
	} {
		g := strings.Replace(string(matchingGroup(fmt.Sprint("decoy ", i))), swap[0], swap[1], 1)
		d.AppInstanceGroupModels = append(d.AppInstanceGroupModels, json.RawMessage(g))
	}
	d.UserGroups = map[string][]string{"aig-match": {"ug-b"}}
	if err := e.sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, e.scrape())
	if v := value(t, mfs, "aliyun_appstream_groups", "biz_region", "cn-shenzhen"); v != 1 {
		t.Errorf("groups = %v, want the 1 group passing every filter", v)
	}
	if _, n := find(mfs, "aliyun_appstream_group_info", "group_name", "Office the one"); n != 1 {
		t.Errorf("the group passing every filter is not exported")
	}
	log := e.sim.Log()
	if len(log) == 0 {
		t.Fatal("no request")
	}
	for _, r := range log {
		if r.Code != "Success" || len(r.Misplaced) > 0 {
			t.Errorf("answered %s, misplaced %v", r.Code, r.Misplaced)
		}
	}
	// The user group filter is effective too: out of ug-a and ug-b, the
	// group is not listed.
	d.UserGroups = map[string][]string{"aig-match": {"ug-c"}}
	if err := e.sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	if v := value(t, parse(t, e.scrape()), "aliyun_appstream_groups", "biz_region", "cn-shenzhen"); v != 0 {
		t.Errorf("groups = %v with the group outside the user groups, want 0", v)
	}
}

// TestMisplacedFilterIgnored proves the simulator strict: the exporter's
// own request with UserGroupIds.1 moved from the body to the query, signed
// and sent the exporter's way, is answered with the filter ignored (every
// group listed) and logged as misplaced.
func TestMisplacedFilterIgnored(t *testing.T) {
	e := newEnv(t, nil, func(c *config.Config) { c.Filters.UserGroupIDs = []string{"ug-a"} })
	if err := e.sim.SetData(userGroupData()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := e.exp.client

	right, res := c.attempt(ctx, c.request("", 1))
	if res.err != nil {
		t.Fatal(res.err)
	}
	req := c.request("", 1)
	v, ok := req.FormParams["UserGroupIds.1"]
	if !ok {
		t.Fatalf("the exporter's request has no UserGroupIds.1 in its body: query %v, body %v", req.QueryParams, req.FormParams)
	}
	delete(req.FormParams, "UserGroupIds.1")
	req.QueryParams["UserGroupIds.1"] = v
	wrong, res := c.attempt(ctx, req)
	if res.err != nil {
		t.Fatalf("the moved request was refused (its signature covers the query too): %v", res.err)
	}

	if n := len(right.Groups.Items); n != 2 {
		t.Errorf("correctly placed: %d groups, want the 2 of ug-a", n)
	}
	if n := len(wrong.Groups.Items); n != 6 || n <= len(right.Groups.Items) {
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
	e.scrape()
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
	for _, bad := range []string{"PageNumber=", "AccessKeyId", "Signature", "SecurityToken", testKey.ID, testKey.Secret} {
		if strings.Contains(strings.ReplaceAll(got[0], "PageNumber=N", ""), bad) {
			t.Errorf("request line has %q:\n%s", bad, got[0])
		}
	}
	e.clock.Advance(time.Hour)
	e.scrape()
	if n := len(lines()); n != 2 {
		t.Errorf("%d request lines after two refreshes, want 2", n)
	}
}

// TestRequestParamsHoldNoCredentials: the logged parameters are page 1's
// without PageNumber, the list filters in the body, nothing of the signer's.
func TestRequestParamsHoldNoCredentials(t *testing.T) {
	c := &apiClient{cfg: testConfig(t, "http://127.0.0.1:9", fullFilters)}
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
	c = &apiClient{cfg: testConfig(t, "http://127.0.0.1:9", func(c *config.Config) { c.Filters.Tags = config.TagFilters{{Key: "部门", Value: "设计"}} })}
	if query, _ := c.requestParams(""); !strings.Contains(query, "Tag.1.Key=部门&Tag.1.Value=设计") {
		t.Errorf("query %q: tag not readable", query)
	}
}
