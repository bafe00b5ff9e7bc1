package exporter

import (
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
)

// TestGzipAnswerDecodesToTextAnswer: what Prometheus gets (it always asks
// for gzip) is one gzip member that Go's reader decodes to the very text
// a scraper that asks for no compression gets, but for the exporter's own
// process and runtime metrics, which change from one scrape to the next.
func TestGzipAnswerDecodesToTextAnswer(t *testing.T) {
	e := goldenSessionsEnv(t)
	plain := e.scrape("Accept-Encoding", "identity")

	req := mustRequest(t, e.metrics.URL, "Accept-Encoding", "gzip")
	resp, err := plainClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding %q", got)
	}
	decoded := testkit.Gunzip(t, body)
	got, want := ownMetricsOut(decoded), ownMetricsOut(plain)
	if got != want {
		t.Fatalf("the gzip answer decodes to other text than the plain answer:\n%s", firstDifference(got, want))
	}
	if n := strings.Count(want, "\naliyun_appstream_group_info{"); n < 3 {
		t.Fatalf("only %d groups in the answer", n)
	}
	if len(body)*2 > len(decoded) {
		t.Errorf("gzip answer of %d bytes for %d bytes of text", len(body), len(decoded))
	}
}

// ownMetricsOut drops the exporter's process, runtime and HTTP metrics.
func ownMetricsOut(text string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		name := strings.TrimPrefix(strings.TrimPrefix(line, "# HELP "), "# TYPE ")
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") || strings.HasPrefix(name, "promhttp_") {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + g[i] + "\nwant: " + w[i]
		}
	}
	return "one is a prefix of the other"
}
