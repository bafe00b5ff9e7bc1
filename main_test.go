package main

// These tests build the real binary and run it as a user would: flags, exit
// codes, one-line errors, HTTP endpoints, reload by POST and SIGHUP, SIGTERM.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "appstream_exporter_test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "appstream_exporter")
	build := exec.Command("go", "build", "-race", "-o", binary, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the binary: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// runBinary runs the exporter to completion (for flags that exit at once).
func runBinary(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// assertOneLineError: a startup failure is one log line, no stack trace.
func assertOneLineError(t *testing.T, r result, want string) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("exit code %d, want 1", r.code)
	}
	var errorLines []string
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if strings.Contains(l, "level=ERROR") || strings.HasPrefix(l, "FAILED") || strings.Contains(l, "error:") {
			errorLines = append(errorLines, l)
		}
	}
	if len(errorLines) != 1 || !strings.Contains(errorLines[0], want) {
		t.Errorf("want one error line containing %q, got stderr:\n%s", want, r.stderr)
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
		t.Errorf("stack trace on stderr:\n%s", r.stderr)
	}
}

func TestVersion(t *testing.T) {
	r := runBinary(t, "--version")
	if r.code != 0 || !strings.Contains(r.stdout+r.stderr, "appstream_exporter, version") || !strings.Contains(r.stdout+r.stderr, "build date") {
		t.Errorf("--version: %+v", r)
	}
}

func TestUnknownFlag(t *testing.T) {
	assertOneLineError(t, runBinary(t, "--no-such-flag"), "unknown long flag '--no-such-flag'")
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yml", "biz_regions: [cn-shanghai]\ncache_ttl: 2m\n")
	r := runBinary(t, "--config.check", "--config.file", good)
	if r.code != 0 || r.stdout != fmt.Sprintf("OK: config file %q: endpoint https://appstream-center.cn-shanghai.aliyuncs.com, cn-shanghai, default credential chain, cache_ttl 2m\n", good) {
		t.Errorf("--config.check on a good file: %+v", r)
	}
	// With app_instances, its API cost: for 10, 100 and 1,000 groups, or
	// for the number given.
	sessions := writeFile(t, dir, "sessions.yml", "biz_regions: [cn-shanghai]\napp_instances:\n  enabled: true\n  cache_ttl: 2m\n  max_requests_per_second: 10\n")
	r = runBinary(t, "--config.check", "--config.file", sessions, "--config.check.groups", "250")
	if want := "app_instances: ListAppInstances for the groups with status PUBLISHED, every 2m at up to 10 requests/s (refresh_timeout 20s); a group with more than 100 app instances takes one request per 100:\n" +
		"  250 groups: 7,500 requests/hour, each refresh at least 24.9s: longer than refresh_timeout, so every refresh fails; raise max_requests_per_second or refresh_timeout\n"; r.code != 0 || !strings.HasSuffix(r.stdout, want) {
		t.Errorf("--config.check with app_instances: %+v\nwant it to end with %q", r, want)
	}
	r = runBinary(t, "--config.check", "--config.file", sessions)
	if r.code != 0 || !strings.Contains(r.stdout, "\n  10 groups: 300 requests/hour, each refresh at least 900ms\n  100 groups: 3,000 requests/hour, each refresh at least 9.9s\n  1,000 groups: 30,000 requests/hour") {
		t.Errorf("--config.check with app_instances, no group count: %+v", r)
	}
	bad := writeFile(t, dir, "bad.yml", "cache_ttl: 60s\npage_sise: 10\n")
	r = runBinary(t, "--config.check", "--config.file", bad)
	want := fmt.Sprintf("FAILED: config file %q: line 2: unknown key \"page_sise\" (did you mean \"page_size\"?)\n", bad)
	if r.code != 1 || r.stderr != want {
		t.Errorf("--config.check on a bad file: exit %d, stderr %q, want %q", r.code, r.stderr, want)
	}
	secret := writeFile(t, dir, "secret.yml", "credentials:\n  access_key_id: LTAI5t\n  access_key_secret: hunter2hunter2\n  role_arn: nope\n")
	r = runBinary(t, "--config.check", "--config.file", secret)
	if r.code != 1 || strings.Contains(r.stdout+r.stderr, "hunter2") {
		t.Errorf("--config.check shows the secret or passes: %+v", r)
	}
}

func TestStartupErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yml", "filters:\n  status: [published]\n")
	assertOneLineError(t, runBinary(t, "--config.file", bad, "--web.listen-address", freeAddr(t)),
		`line 2: filters.status[0]: \"published\": did you mean PUBLISHED?`)
	assertOneLineError(t, runBinary(t, "--config.file", filepath.Join(dir, "missing.yml"), "--web.listen-address", freeAddr(t)),
		"cannot open: no such file or directory")

	good := writeFile(t, dir, "good.yml", "endpoint: http://127.0.0.1:1\n")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	assertOneLineError(t, runBinary(t, "--config.file", good, "--web.listen-address", busy.Addr().String()), "address already in use")
	assertOneLineError(t, runBinary(t, "--config.file", good, "--web.listen-address", freeAddr(t), "--web.config.file", filepath.Join(dir, "nope-web.yml")),
		"invalid web config file")
	assertOneLineError(t, runBinary(t, "--demo.data", filepath.Join(dir, "snap.json")), "--demo.data needs --demo")
	assertOneLineError(t, runBinary(t, "--demo", "--demo.data", writeFile(t, dir, "snap.json", "{}"), "--web.listen-address", freeAddr(t)),
		"the snapshot has no accounts")
	assertOneLineError(t, runBinary(t, "--config.file", good, "--snapshot.dump", dir), "is a directory; name a file")
	// A dump that cannot refresh writes nothing and names the query.
	r := runBinary(t, "--config.file", good, "--snapshot.dump", filepath.Join(dir, "dump.json"))
	if _, err := os.Stat(filepath.Join(dir, "dump.json")); r.code != 1 || err == nil || !strings.Contains(r.stderr, "FAILED: the groups query") {
		t.Errorf("--snapshot.dump against a closed port: exit %d, file written: %v, stderr:\n%s", r.code, err == nil, r.stderr)
	}
}

// runningExporter is a running binary.
type runningExporter struct {
	t       *testing.T
	cmd     *exec.Cmd
	base    string
	stderr  *testkit.SyncBuffer
	exited  chan struct{} // closed when the process has exited
	exitErr error
}

func startExporter(t *testing.T, args ...string) *runningExporter {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary, append(args, "--web.listen-address", addr)...)
	e := &runningExporter{t: t, cmd: cmd, base: "http://" + addr, stderr: &testkit.SyncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = e.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		e.exitErr = cmd.Wait()
		close(e.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-e.exited
	})
	e.waitFor("/-/ready to answer 200", func() bool { return e.status("/-/ready") == 200 })
	return e
}

func (e *runningExporter) get(path string) (int, string) {
	resp, err := http.Get(e.base + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *runningExporter) status(path string) int {
	code, _ := e.get(path)
	return code
}

func (e *runningExporter) metrics() string {
	code, body := e.get("/metrics")
	if code != 200 {
		e.t.Fatalf("/metrics answered %d: %s", code, body)
	}
	return body
}

func (e *runningExporter) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		select {
		case <-e.exited:
			e.t.Fatalf("exporter exited (%v) while waiting for %s; stderr:\n%s", e.exitErr, what, e.stderr)
		default:
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s; stderr:\n%s", what, e.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeReloadShutdown drives one exporter process through the HTTP
// endpoints, a failed and a good reload, and a graceful stop.
func TestServeReloadShutdown(t *testing.T) {
	sim := simulator.New(simulator.Key{ID: "LTAItest", Secret: "main-test-secret-value"})
	if err := sim.Load(testkit.MustRead(t, "internal/exporter/testdata/reference.json")); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sim)
	defer api.Close()
	dir := t.TempDir()
	writeFile(t, dir, "secret", "main-test-secret-value\n")
	goodConfig := fmt.Sprintf("endpoint: %s\ncredentials:\n  access_key_id: LTAItest\n  access_key_secret_file: secret\n", api.URL)
	cfgPath := writeFile(t, dir, "config.yml", goodConfig)

	e := startExporter(t, "--config.file", cfgPath, "--web.enable-lifecycle")
	checkEndpoints(t, e)
	checkFailedReload(t, e, dir, goodConfig)
	checkSIGHUPReload(t, e, dir, goodConfig)
	checkGracefulStop(t, e)
}

// checkEndpoints: health, the landing page and /metrics answer; debug
// and config pages do not exist; /-/reload takes only POST.
func checkEndpoints(t *testing.T, e *runningExporter) {
	if code, body := e.get("/-/healthy"); code != 200 {
		t.Errorf("/-/healthy: %d %s", code, body)
	}
	if code, body := e.get("/"); code != 200 || !strings.Contains(body, `href="/metrics"`) {
		t.Errorf("landing page: %d", code)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/config"} {
		if code := e.status(path); code != 404 {
			t.Errorf("%s answered %d, want 404", path, code)
		}
	}
	if code := e.status("/-/reload"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload answered %d, want 405", code)
	}
	m := e.metrics()
	for _, want := range []string{
		`aliyun_appstream_up{biz_region=""} 1`,
		`aliyun_appstream_config_last_reload_successful 1`,
		`aliyun_appstream_group_info{group_id="aig-9ciijz60n4xsv****"`,
		`aliyun_appstream_exporter_build_info{`,
		`go_goroutines `, `process_resident_memory_bytes `,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// checkFailedReload: a broken config is refused with its reason; the old
// one keeps serving.
func checkFailedReload(t *testing.T, e *runningExporter, dir, goodConfig string) {
	writeFile(t, dir, "config.yml", goodConfig+"page_size: 1000\n")
	resp, err := http.Post(e.base+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "line 5: page_size: must be between 1 and 100, got 1000") {
		t.Errorf("POST /-/reload with a bad config: %d %s", resp.StatusCode, body)
	}
	m := e.metrics()
	if !strings.Contains(m, "aliyun_appstream_config_last_reload_successful 0") || !strings.Contains(m, `group_id="aig-9ciijz60n4xsv****"`) {
		t.Errorf("after a failed reload: want last_reload_successful 0 and the old data served")
	}
}

// checkSIGHUPReload: a good config by SIGHUP takes effect, and the secret
// never reaches the log.
func checkSIGHUPReload(t *testing.T, e *runningExporter, dir, goodConfig string) {
	writeFile(t, dir, "config.yml", goodConfig+"tag_labels: [department]\n")
	if err := e.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the SIGHUP reload", func() bool {
		m := e.metrics()
		return strings.Contains(m, "aliyun_appstream_config_last_reload_successful 1") && strings.Contains(m, `tag_department="design"`)
	})
	if strings.Contains(e.stderr.String(), "main-test-secret-value") {
		t.Errorf("the secret reached the log")
	}
}

// checkGracefulStop: SIGTERM ends the process cleanly within 30 s.
func checkGracefulStop(t *testing.T, e *runningExporter) {
	if err := e.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.exited:
		if e.exitErr != nil {
			t.Errorf("exit after SIGTERM: %v; stderr:\n%s", e.exitErr, e.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30s after SIGTERM")
	}
}

// TestDemoServesEveryFamily is the README's quick start: --demo alone.
func TestDemoServesEveryFamily(t *testing.T) {
	e := startExporter(t, "--demo")
	m := e.metrics()
	if !strings.Contains(m, "\naliyun_appstream_demo 1\n") {
		t.Errorf("--demo does not mark itself with aliyun_appstream_demo 1")
	}
	if code, body := e.get("/"); code != 200 || !strings.Contains(body, "Demo mode.") {
		t.Errorf("the landing page does not say demo mode: %d", code)
	}
	if !strings.Contains(e.stderr.String(), `level=WARN`) || !strings.Contains(e.stderr.String(), `msg="DEMO MODE`) {
		t.Errorf("the log does not say DEMO MODE:\n%s", e.stderr)
	}
	for _, name := range documentedFamilies(t) {
		if name == "aliyun_appstream_group_tags" {
			continue // written only with tag_labels_on: info; the demo runs with the default
		}
		if name == "aliyun_appstream_last_refresh_error_info" {
			continue // only while a refresh fails; the demo's do not (TestStatusPage has it)
		}
		if !strings.Contains(m, "\n"+name+"{") && !strings.Contains(m, "\n"+name+" ") && !strings.Contains(m, "\n"+name+"_bucket{") {
			t.Errorf("--demo does not serve %s", name)
		}
	}
	// Two accounts, each at an endpoint of its own with a key of its own.
	for _, want := range []string{`aliyun_appstream_groups{account="cn-prod",biz_region=""} 30`, `aliyun_appstream_groups{account="intl",biz_region=""} 3`} {
		if !strings.Contains(m, want) {
			t.Errorf("--demo does not serve %s", want)
		}
	}
	endpoints := regexp.MustCompile(`account=(\S+) endpoint=(\S+)`).FindAllStringSubmatch(e.stderr.String(), -1)
	if len(endpoints) != 2 || endpoints[0][2] == endpoints[1][2] {
		t.Errorf("--demo does not log two accounts at two endpoints: %q", endpoints)
	}
}

// documentedFamilies is every metric family the docs list: the generated
// docs/metrics.md (group, app and pool families) and the README's
// Exporter health table.
func documentedFamilies(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, doc := range []string{"docs/metrics.md", "README.md"} {
		for _, line := range strings.Split(string(testkit.MustRead(t, doc)), "\n") {
			if rest, ok := strings.CutPrefix(line, "| `aliyun_appstream_"); ok {
				name, _, _ := strings.Cut(rest, "`")
				names = append(names, "aliyun_appstream_"+name)
			}
		}
	}
	if len(names) < 50 {
		t.Fatalf("the docs list %d families; the table format changed?", len(names))
	}
	return names
}

// requireTool finds an external program a test needs. Without it the test
// is skipped, unless the environment variable `required` is set (as .ci/run
// does), so CI cannot pass by skipping.
func requireTool(t *testing.T, name, required, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv(required) != "" {
		t.Fatalf("%s is not installed (%s)", name, install)
	}
	t.Skipf("%s is not installed (%s); skipping", name, install)
	return ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAlertsAndDashboardsNameNoTagLabel: the shipped rules and dashboards
// match groups on group_id and region only, so they work the same whether
// tag labels are on every series (tag_labels_on: all) or only on
// aliyun_appstream_group_tags (info).
func TestAlertsAndDashboardsNameNoTagLabel(t *testing.T) {
	files, err := filepath.Glob("dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("dashboards: %v %v", files, err)
	}
	for _, f := range append(files, "alerts/appstream.rules.yml") {
		if i := strings.Index(string(testkit.MustRead(t, f)), "tag_"); i >= 0 {
			t.Errorf("%s names a tag label at byte %d", f, i)
		}
	}
}

// TestDemoWithAccountsFile: --demo with a file of several accounts sends
// them to the demo's accounts in turn, whatever endpoints the file names.
func TestDemoWithAccountsFile(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "accounts.yml", `accounts:
  - name: one
    endpoint: appstream-center.cn-shanghai.aliyuncs.com
  - name: two
    endpoint: appstream-center.ap-southeast-1.aliyuncs.com
  - name: three
`)
	m := startExporter(t, "--demo", "--config.file", cfg).metrics()
	for _, want := range []string{`aliyun_appstream_groups{account="one",biz_region=""} 30`, `aliyun_appstream_groups{account="two",biz_region=""} 3`,
		`aliyun_appstream_groups{account="three",biz_region=""} 30`} {
		if !strings.Contains(m, want) {
			t.Errorf("--demo with an accounts file does not serve %s", want)
		}
	}
}
