package main

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
)

// TestGzipDecodersAgree: the gzip answer Prometheus gets (joined from
// pieces compressed at different times) is one ordinary gzip member. Go's
// reader, Python's gzip module and GNU gzip decode it to the same text,
// which is the text a scraper that asks for no compression gets; curl
// --compressed gets the same; promtool check metrics accepts it. Two
// requests differ in the clock-dependent values, which are compared by
// series only, and in the process' own metrics, which are left out.
//
// Python and curl are skipped when missing, unless APPSTREAM_E2E_REQUIRED
// is set (as .ci/run does).
func TestGzipDecodersAgree(t *testing.T) {
	e := startExporter(t, "--demo")
	raw := fetchRaw(t, e.base+"/metrics", "gzip")
	plain := fetchRaw(t, e.base+"/metrics", "identity")
	text := testkit.Gunzip(t, raw)
	if !strings.Contains(text, "\naliyun_appstream_group_info{") {
		t.Fatalf("no groups in the answer:\n%s", text)
	}
	sameSeries(t, "Go's gzip.Reader, against the uncompressed answer", text, string(plain))

	decoders := map[string][]string{
		"GNU gzip":      {"gzip", "-dc"},
		"Python's gzip": {requireTool(t, "python3", "APPSTREAM_E2E_REQUIRED", "apt-get install -y python3"), "-c", "import gzip,sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))"},
	}
	for name, argv := range decoders {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdin = bytes.NewReader(raw)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(out) != text {
			t.Errorf("%s decodes the answer to other text than Go's reader (%d vs %d bytes)", name, len(out), len(text))
		}
	}

	curl := requireTool(t, "curl", "APPSTREAM_E2E_REQUIRED", "apt-get install -y curl")
	out, err := exec.Command(curl, "-sS", "--compressed", e.base+"/metrics").Output()
	if err != nil {
		t.Fatalf("curl --compressed: %v", err)
	}
	sameSeries(t, "curl --compressed, against the uncompressed answer", string(out), string(plain))

	promtool := requireTool(t, "promtool", "APPSTREAM_E2E_REQUIRED", "apt-get install -y prometheus")
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = strings.NewReader(text)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics on the decoded answer: %v\n%s", err, out)
	}
}

// fetchRaw GETs url asking for the given encoding and returns the body as
// sent, undecoded.
func fetchRaw(t *testing.T, url, encoding string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", encoding)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %d", url, err, resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Encoding"); (encoding == "gzip") != (got == "gzip") {
		t.Fatalf("asked for %s, got Content-Encoding %q", encoding, got)
	}
	return body
}

// clockDependent are families whose values change between two requests.
var clockDependent = []string{"aliyun_appstream_group_expires_in_seconds", "aliyun_appstream_data_age_seconds", "aliyun_appstream_app_instances_data_age_seconds"}

// sameSeries compares two answers line by line: the same lines in the
// same order, values aside for the clock-dependent families, and the
// process' own metrics left out.
func sameSeries(t *testing.T, what, got, want string) {
	t.Helper()
	g, w := comparable(got), comparable(want)
	if len(g) != len(w) {
		t.Fatalf("%s: %d lines, want %d", what, len(g), len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			t.Fatalf("%s: line %d differs:\n got: %s\nwant: %s", what, i+1, g[i], w[i])
		}
	}
}

func comparable(text string) []string {
	var out []string
	for line := range strings.Lines(text) {
		name := strings.TrimPrefix(strings.TrimPrefix(line, "# HELP "), "# TYPE ")
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") || strings.HasPrefix(name, "promhttp_") {
			continue
		}
		for _, f := range clockDependent {
			if strings.HasPrefix(line, f+"{") || strings.HasPrefix(line, f+" ") {
				line = line[:strings.LastIndexByte(line, ' ')]
			}
		}
		out = append(out, line)
	}
	return out
}
