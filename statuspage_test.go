package main

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// TestStatusPage: the landing page's status table shows each account's
// query, the failed one with its class, API code and RequestId, and
// escapes what the API said (here an error message with markup).
func TestStatusPage(t *testing.T) {
	keyA := simulator.Key{ID: "LTAI5tStatusA", Secret: "status-a-secret"}
	keyB := simulator.Key{ID: "LTAI5tStatusB", Secret: "status-b-secret"}
	simA, simB := simulator.New(keyA), simulator.New(keyB)
	for _, s := range []*simulator.Server{simA, simB} {
		if err := s.Load(testkit.MustRead(t, "internal/exporter/testdata/reference.json")); err != nil {
			t.Fatal(err)
		}
	}
	simB.SetSticky(&simulator.Fault{Status: 400, Code: "InvalidParameter", Message: `<script>alert("x")</script> is not a valid value`})
	apiA, apiB := httptest.NewServer(simA), httptest.NewServer(simB)
	defer apiA.Close()
	defer apiB.Close()
	cfg := fmt.Sprintf(`accounts:
  - name: good
    endpoint: %s
    credentials: {access_key_id: %s, access_key_secret: %s}
  - name: refused
    endpoint: %s
    credentials: {access_key_id: %s, access_key_secret: %s}
`, apiA.URL, keyA.ID, keyA.Secret, apiB.URL, keyB.ID, keyB.Secret)
	e := startExporter(t, "--config.file", writeFile(t, t.TempDir(), "config.yml", cfg))
	code, page := e.get("/")
	if code != 200 {
		t.Fatalf("/ answered %d", code)
	}
	table := page[strings.Index(page, `<table class="status">`):]
	rows := strings.Split(table, "<tr>")
	var good, refused string
	for _, r := range rows {
		switch {
		case strings.Contains(r, "<td>good</td>"):
			good = r
		case strings.Contains(r, "<td>refused</td>"):
			refused = r
		}
	}
	if !strings.Contains(good, `<span class="ok">ok</span>`) || !strings.Contains(good, "<td class=\"message\">none</td>") {
		t.Errorf("the good account's row:\n%s", good)
	}
	for _, want := range []string{`<span class="failed">failed</span>`, "class <code>parameter</code>", "API code <code>InvalidParameter</code>", "RequestId <code>",
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "none served"} {
		if !strings.Contains(refused, want) {
			t.Errorf("the refused account's row lacks %q:\n%s", want, refused)
		}
	}
	for _, secret := range []string{keyA.Secret, keyB.Secret, "<script>"} {
		if strings.Contains(page, secret) {
			t.Errorf("the landing page contains %q", secret)
		}
	}
	if !strings.Contains(e.metrics(), `aliyun_appstream_last_refresh_error_info{account="refused",biz_region="",class="parameter",code="InvalidParameter"} 1`) {
		t.Error("no error series for the refused account")
	}
}
