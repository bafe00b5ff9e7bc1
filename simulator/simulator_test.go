package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// call sends a signed request: the parameters named in body in the form
// body, the rest in the query string.
func call(t *testing.T, srv *httptest.Server, p url.Values, body ...string) (int, map[string]any) {
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
