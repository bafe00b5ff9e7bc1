package simulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSignatureVector is the worked example of Alibaba Cloud's RPC
// signature documentation (DescribeRegions, secret "testsecret").
func TestSignatureVector(t *testing.T) {
	params := map[string]string{
		"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML", "SignatureMethod": "HMAC-SHA1",
		"SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0",
		"Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26",
	}
	sts := StringToSign("GET", params)
	want := "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
	if sts != want {
		t.Errorf("StringToSign:\n got %s\nwant %s", sts, want)
	}
	if got := Sign(sts, "testsecret"); got != "OLeaidS1JvxuMvnyHOwuJ+uX5qY=" {
		t.Errorf("Sign = %s", got)
	}
}

// signed builds a request the way a correct client would.
func signed(key Key, nonce string, ts time.Time, extra map[string]string) url.Values {
	p := map[string]string{
		"AccessKeyId": key.ID, "Action": "ListAppInstanceGroup", "Format": "JSON", "SignatureMethod": "HMAC-SHA1",
		"SignatureNonce": nonce, "SignatureVersion": "1.0", "Timestamp": ts.UTC().Format("2006-01-02T15:04:05Z"),
		"Version": "2021-09-01", "ProductType": "CloudApp", "PageSize": "2", "PageNumber": "1",
	}
	for k, v := range extra {
		p[k] = v
	}
	v := url.Values{}
	for k, val := range p {
		v.Set(k, val)
	}
	v.Set("Signature", Sign(StringToSign("POST", p), key.Secret))
	return v
}

func call(t *testing.T, srv *httptest.Server, q url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(srv.URL+"/?"+q.Encode(), "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return resp.StatusCode, out
}

func TestRejectsWhatTheServiceRejects(t *testing.T) {
	key := Key{ID: "LTAIsim", Secret: "sim-secret"}
	s := New(key)
	if err := s.Load([]byte(`{"AppInstanceGroupModels":[{"AppInstanceGroupId":"a"},{"AppInstanceGroupId":"b"},{"AppInstanceGroupId":"c"}]}`)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	now := time.Now()

	status, out := call(t, srv, signed(key, "n1", now, nil))
	if status != 200 || out["TotalCount"] != float64(3) || len(out["AppInstanceGroupModels"].([]any)) != 2 {
		t.Fatalf("good request: %d %v", status, out)
	}
	cases := []struct {
		name   string
		q      url.Values
		status int
		code   string
	}{
		{"nonce reused", signed(key, "n1", now, nil), 400, "SignatureNonceUsed"},
		{"wrong secret", signed(Key{ID: key.ID, Secret: "nope"}, "n2", now, nil), 400, "SignatureDoesNotMatch"},
		{"unknown key", signed(Key{ID: "LTAIother", Secret: "x"}, "n3", now, nil), 404, "InvalidAccessKeyId.NotFound"},
		{"stale timestamp", signed(key, "n4", now.Add(-20*time.Minute), nil), 400, "InvalidTimeStamp.Expired"},
		{"no ProductType", signed(key, "n5", now, map[string]string{"ProductType": ""}), 400, "MissingParameter"},
		{"PageSize over 100", signed(key, "n6", now, map[string]string{"PageSize": "101"}), 400, "InvalidParameter.PageSize"},
	}
	for _, c := range cases {
		status, out := call(t, srv, c.q)
		if status != c.status || out["Code"] != c.code {
			t.Errorf("%s: %d %v, want %d %s", c.name, status, out["Code"], c.status, c.code)
		}
	}
	tampered := signed(key, "n7", now, nil)
	tampered.Set("PageNumber", "2")
	if status, out := call(t, srv, tampered); status != 400 || out["Code"] != "SignatureDoesNotMatch" {
		t.Errorf("tampered parameter accepted: %d %v", status, out)
	}
	if !strings.Contains(s.Log()[len(s.Log())-1].Code, "SignatureDoesNotMatch") {
		t.Errorf("log does not record the refusal")
	}
}

func TestDemoDataset(t *testing.T) {
	d, err := DemoDataset(time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.AppInstanceGroupModels); n != 30 {
		t.Errorf("%d demo groups, want 30", n)
	}
	seen := map[string]bool{}
	for _, raw := range d.AppInstanceGroupModels {
		var g struct{ Status, ResourceStatus, ChargeType, ChargeResourceMode string }
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatal(err)
		}
		seen[g.Status], seen[g.ResourceStatus], seen[g.ChargeType], seen[g.ChargeResourceMode] = true, true, true, true
	}
	for _, want := range []string{"PUBLISHED", "FAILED", "MAINTAIN_FAILED", "EXPIRED", "MAINTAINING", "CEASED", "EXPIRED_RECYCLING", "DEPLOYING",
		"AVAILABLE", "RELEASED", "EXPIRED_IN_7_DAYS", "UNAVAILABLE", "UPGRADING", "CREATING", "PrePaid", "PostPaid", "AppInstance", "Node"} {
		if !seen[want] {
			t.Errorf("the demo data set has no group with %s", want)
		}
	}
}

func TestGenerateUniqueIDs(t *testing.T) {
	d, err := Generate(95, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, raw := range d.AppInstanceGroupModels {
		var g struct {
			AppInstanceGroupId string
			NodePool           []struct{ NodePoolId string }
		}
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatal(err)
		}
		for _, id := range append([]string{g.AppInstanceGroupId}, func() (p []string) {
			for _, np := range g.NodePool {
				p = append(p, np.NodePoolId)
			}
			return
		}()...) {
			if ids[id] {
				t.Fatalf("%s generated twice", id)
			}
			ids[id] = true
		}
	}
	if len(d.AppInstanceGroupModels) != 95 {
		t.Errorf("%d groups, want 95", len(d.AppInstanceGroupModels))
	}
}

func TestGenerateScalesLinearly(t *testing.T) {
	size := func(n int) int {
		d, err := Generate(n, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, g := range d.AppInstanceGroupModels {
			total += len(g)
		}
		return total
	}
	if small, big := size(300), size(3000); big > 11*small {
		t.Errorf("3000 groups take %d bytes, 300 take %d: more than 10x", big, small)
	}
}

// callSplit sends a signed request with the parameters named in body in
// the form body and the rest in the query string.
func callSplit(t *testing.T, srv *httptest.Server, p url.Values, body ...string) (int, map[string]any) {
	t.Helper()
	form := url.Values{}
	for _, k := range body {
		form[k] = p[k]
		p.Del(k)
	}
	resp, err := http.Post(srv.URL+"/?"+p.Encode(), "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("body %q: %v", raw, err)
	}
	return resp.StatusCode, out
}

// TestParametersReadOnlyFromTheirPlace: a parameter is read only where
// the SDKs send it; in the other place it is ignored and logged as
// misplaced. The signature covers both places either way.
func TestParametersReadOnlyFromTheirPlace(t *testing.T) {
	key := Key{ID: "LTAIsim", Secret: "sim-secret"}
	s := New(key)
	if err := s.Load([]byte(`{"AppInstanceGroupModels":[{"AppInstanceGroupId":"a","Status":"PUBLISHED"},
		{"AppInstanceGroupId":"b","Status":"FAILED"},{"AppInstanceGroupId":"c","Status":"PUBLISHED"}],
		"UserGroups":{"a":["ug-1"]}}`)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	now := time.Now()
	last := func() Request { l := s.Log(); return l[len(l)-1] }
	total := func(out map[string]any) any { return out["TotalCount"] }

	cases := []struct {
		name      string
		extra     map[string]string
		body      []string
		total     float64
		misplaced []string
	}{
		{"Status.1 in the body", map[string]string{"Status.1": "PUBLISHED"}, []string{"Status.1"}, 2, nil},
		{"Status.1 in the query", map[string]string{"Status.1": "PUBLISHED"}, nil, 3, []string{"Status.1"}},
		{"UserGroupIds.1 in the body", map[string]string{"UserGroupIds.1": "ug-1"}, []string{"UserGroupIds.1"}, 1, nil},
		{"UserGroupIds.1 in the query", map[string]string{"UserGroupIds.1": "ug-1"}, nil, 3, []string{"UserGroupIds.1"}},
		{"ExcludedUserGroupIds.1 in the query", map[string]string{"ExcludedUserGroupIds.1": "ug-1"}, nil, 3, []string{"ExcludedUserGroupIds.1"}},
		{"AppInstanceGroupId in the query", map[string]string{"AppInstanceGroupId": "b"}, nil, 1, nil},
		{"AppInstanceGroupId in the body", map[string]string{"AppInstanceGroupId": "b"}, []string{"AppInstanceGroupId"}, 3, []string{"AppInstanceGroupId"}},
		{"signature parameters anywhere", nil, []string{"Timestamp", "SignatureNonce"}, 3, nil},
	}
	for i, c := range cases {
		status, out := callSplit(t, srv, signed(key, fmt.Sprint("place-", i), now, c.extra), c.body...)
		if status != 200 || total(out) != c.total {
			t.Errorf("%s: %d, TotalCount %v, want 200 and %v", c.name, status, total(out), c.total)
		}
		if got := last().Misplaced; !slices.Equal(got, c.misplaced) {
			t.Errorf("%s: logged misplaced %v, want %v", c.name, got, c.misplaced)
		}
	}
	// A mandatory parameter in the wrong place is missing.
	status, out := callSplit(t, srv, signed(key, "place-pt", now, nil), "ProductType")
	if status != 400 || out["Code"] != "MissingParameter" || !slices.Equal(last().Misplaced, []string{"ProductType"}) {
		t.Errorf("ProductType in the body: %d %v, misplaced %v", status, out["Code"], last().Misplaced)
	}
	for k, want := range map[string]Place{"Status.3": InBody, "UserGroupIds.1": InBody, "ExcludedUserGroupIds.2": InBody,
		"Tag.1.Key": InQuery, "RegionId": InQuery, "BizRegionId": InQuery, "PageNumber": InQuery, "Signature": "", "Statuses": ""} {
		if got := PlaceOf(k); got != want {
			t.Errorf("PlaceOf(%s) = %q, want %q", k, got, want)
		}
	}
}
