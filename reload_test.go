package main

// Reload as operators and attackers use it: unchanged files, changed ones
// during an API outage, storms of both, and the lifecycle flag.

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

const reloadTestSecret = "reload-test-secret-value"

// reloadEnv is an exporter process over a simulator with the reference data.
type reloadEnv struct {
	*runningExporter
	sim     *simulator.Server
	dir     string
	baseCfg string
}

func startReloadEnv(t *testing.T, extraConfig string, args ...string) *reloadEnv {
	t.Helper()
	sim := simulator.New(simulator.Key{ID: "LTAIreload", Secret: reloadTestSecret})
	if err := sim.Load(testkit.MustRead(t, "internal/exporter/testdata/reference.json")); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sim)
	t.Cleanup(api.Close)
	dir := t.TempDir()
	writeFile(t, dir, "secret", reloadTestSecret+"\n")
	base := fmt.Sprintf("endpoint: %s\ncredentials:\n  access_key_id: LTAIreload\n  access_key_secret_file: secret\nrefresh_timeout: 5s\n", api.URL)
	cfgPath := writeFile(t, dir, "config.yml", base+extraConfig)
	e := startExporter(t, append([]string{"--config.file", cfgPath}, args...)...)
	e.waitFor("the first refresh", func() bool { return strings.Contains(e.metrics(), `aliyun_appstream_up{biz_region=""} 1`) })
	return &reloadEnv{runningExporter: e, sim: sim, dir: dir, baseCfg: base}
}

// writeConfig replaces the config file at once (as a Kubernetes ConfigMap
// update does), so a reload never reads half a file.
func (r *reloadEnv) writeConfig(extra string) {
	tmp := writeFile(r.t, r.dir, "config.yml.new", r.baseCfg+extra)
	if err := os.Rename(tmp, filepath.Join(r.dir, "config.yml")); err != nil {
		r.t.Fatal(err)
	}
}

func (r *reloadEnv) post(path string) (int, string) {
	resp, err := http.Post(r.base+path, "", nil)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const groupSeries = `aliyun_appstream_group_info{group_id="aig-9ciijz60n4xsv****"`

// sample reads one series' value from an exposition; -1 when absent.
func sample(m, series string) float64 {
	re := regexp.MustCompile("(?m)^" + regexp.QuoteMeta(series) + ` (\S+)$`)
	if g := re.FindStringSubmatch(m); g != nil {
		v, _ := strconv.ParseFloat(g[1], 64)
		return v
	}
	return -1
}

// TestReloadNeedsLifecycleFlag: POST /-/reload is refused with 403 naming
// the flag unless --web.enable-lifecycle is given; SIGHUP always reloads.
func TestReloadNeedsLifecycleFlag(t *testing.T) {
	r := startReloadEnv(t, "")
	code, body := r.post("/-/reload")
	if code != http.StatusForbidden || !strings.Contains(body, "--web.enable-lifecycle") {
		t.Errorf("POST /-/reload without the flag: %d %q, want 403 naming --web.enable-lifecycle", code, body)
	}
	r.writeConfig("tag_labels: [department]\n")
	if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	r.waitFor("the SIGHUP reload", func() bool { return strings.Contains(r.metrics(), `tag_department="design"`) })

	with := startReloadEnv(t, "", "--web.enable-lifecycle")
	if code, body := with.post("/-/reload"); code != http.StatusOK {
		t.Errorf("POST /-/reload with the flag: %d %q", code, body)
	}
}

// TestReloadSpendsNoAPICalls: 100 reloads of an unchanged file cost no API
// request, and nor does a change that keeps the query (cache_ttl, tag
// labels aside): its data carries over.
func TestReloadSpendsNoAPICalls(t *testing.T) {
	r := startReloadEnv(t, "", "--web.enable-lifecycle")
	before := r.sim.Requests()
	for i := range 100 {
		if code, body := r.post("/-/reload"); code != http.StatusOK {
			t.Fatalf("reload %d: %d %s", i, code, body)
		}
	}
	if n := r.sim.Requests() - before; n != 0 {
		t.Errorf("100 reloads of an unchanged config made %d API requests, want 0", n)
	}
	r.writeConfig("cache_ttl: 2m\nmax_stale: 20m\npage_size: 50\n")
	if code, body := r.post("/-/reload"); code != http.StatusOK {
		t.Fatalf("reload of a changed config: %d %s", code, body)
	}
	m := r.metrics()
	if n := r.sim.Requests() - before; n != 0 {
		t.Errorf("a reload that keeps the query made %d API requests, want 0", n)
	}
	if !strings.Contains(m, groupSeries) || sample(m, `aliyun_appstream_up{biz_region=""}`) != 1 {
		t.Errorf("after a reload that keeps the query, the data is gone:\n%s", m)
	}
	if v := sample(m, `aliyun_appstream_refreshes_total{biz_region="",result="success"}`); v != 1 {
		t.Errorf("refreshes_total{result=success} = %v after reloads, want 1 (monotonic, no refresh made)", v)
	}
}

// TestReloadCacheTTL: aliyun_appstream_cache_ttl_seconds follows the
// configuration in force: a reload that changes cache_ttl changes it, and
// a failed reload leaves it with the configuration that stays.
func TestReloadCacheTTL(t *testing.T) {
	r := startReloadEnv(t, "", "--web.enable-lifecycle")
	const ttl = `aliyun_appstream_cache_ttl_seconds`
	if v := sample(r.metrics(), ttl); v != 60 {
		t.Errorf("cache_ttl_seconds = %v with no cache_ttl in the file, want 60 (the default)", v)
	}
	r.writeConfig("cache_ttl: 2m\n")
	if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	r.waitFor("cache_ttl 2m in force after SIGHUP", func() bool { return sample(r.metrics(), ttl) == 120 })

	r.writeConfig("cache_ttl: 5m\npage_sise: 10\n")
	if code, body := r.post("/-/reload"); code != http.StatusInternalServerError {
		t.Fatalf("reload of an invalid config: %d %s, want 500", code, body)
	}
	m := r.metrics()
	if v := sample(m, ttl); v != 120 {
		t.Errorf("cache_ttl_seconds = %v after a failed reload, want 120 (the configuration still in force)", v)
	}
	if v := sample(m, `aliyun_appstream_config_last_reload_successful`); v != 0 {
		t.Errorf("config_last_reload_successful = %v after a failed reload, want 0", v)
	}

	r.writeConfig("cache_ttl: 30s\n")
	if code, body := r.post("/-/reload"); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, body)
	}
	if v := sample(r.metrics(), ttl); v != 30 {
		t.Errorf("cache_ttl_seconds = %v after a reload to cache_ttl 30s, want 30", v)
	}
}

// TestReloadDuringOutageKeepsData: with the API down, a reload (changed
// file, so a new exporter) serves the last good data with up 0, as a
// failed refresh would, instead of dropping it.
func TestReloadDuringOutageKeepsData(t *testing.T) {
	r := startReloadEnv(t, "cache_ttl: 5s\n", "--web.enable-lifecycle")
	r.sim.SetSticky(&simulator.ServiceUnavailable)
	// tag_labels changes how series are written: the new exporter refreshes
	// at once, fails, and must keep serving what it took over.
	r.writeConfig("cache_ttl: 6s\ntag_labels: [department]\n")
	if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	r.waitFor("the failed refresh after the reload", func() bool {
		return sample(r.metrics(), `aliyun_appstream_refreshes_total{biz_region="",result="failure"}`) >= 1
	})
	m := r.metrics()
	if !strings.Contains(m, groupSeries) {
		t.Errorf("after a reload during an outage the group series are gone:\n%s", m)
	}
	if up, groups := sample(m, `aliyun_appstream_up{biz_region=""}`), sample(m, `aliyun_appstream_groups{biz_region=""}`); up != 0 || groups != 1 {
		t.Errorf("up %v, groups %v; want up 0 and the last good group", up, groups)
	}
}

// TestReloadStormDuringOutage: 10 reloaders and 10 scrapers for 10 s while
// the API fails slowly: no scrape may lack the group series (the data is
// far younger than max_stale), refreshes cut by reloads are not counted as
// transport failures, and the counters never go back.
func TestReloadStormDuringOutage(t *testing.T) {
	r := startReloadEnv(t, "cache_ttl: 5s\n", "--web.enable-lifecycle")
	r.sim.SetSticky(&simulator.ServiceUnavailable)
	r.sim.SetLatency(300 * time.Millisecond) // reloads land while requests are in flight

	stop := time.Now().Add(10 * time.Second)
	var wg sync.WaitGroup
	var reloads, scrapes, missing, failedReloads atomic.Int64
	var flip atomic.Int64
	var writeMu sync.Mutex
	for range 10 {
		wg.Go(func() {
			for time.Now().Before(stop) {
				writeMu.Lock()
				// Alternate between two files, so each reload builds a new exporter.
				r.writeConfig(fmt.Sprintf("cache_ttl: %ds\n", 5+flip.Add(1)%2))
				writeMu.Unlock()
				if code, _ := r.post("/-/reload"); code != http.StatusOK {
					failedReloads.Add(1)
				}
				reloads.Add(1)
			}
		})
	}
	var backwards atomic.Int64
	var firstMissing atomic.Pointer[string]
	for range 10 {
		wg.Go(func() {
			last := 0.0 // each scraper's scrapes are in order
			for time.Now().Before(stop) {
				code, m := r.get("/metrics")
				scrapes.Add(1)
				if code != 200 || !strings.Contains(m, groupSeries) {
					missing.Add(1)
					firstMissing.CompareAndSwap(nil, &m)
				}
				v := sample(m, `aliyun_appstream_refreshes_total{biz_region="",result="failure"}`)
				if v < last {
					backwards.Add(1)
				}
				last = v
			}
		})
	}
	wg.Wait()
	t.Logf("%d reloads, %d scrapes, %d API requests", reloads.Load(), scrapes.Load(), r.sim.Requests())
	if missing.Load() > 0 {
		t.Errorf("%d of %d scrapes lacked the group series during the storm; the first:\n%s", missing.Load(), scrapes.Load(), *firstMissing.Load())
	}
	if failedReloads.Load() > 0 {
		t.Errorf("%d reloads failed", failedReloads.Load())
	}
	if backwards.Load() > 0 {
		t.Errorf("refreshes_total went backwards %d times", backwards.Load())
	}
	if v := sample(r.metrics(), `aliyun_appstream_api_requests_total{action="ListAppInstanceGroup",code="transport"}`); v > 0 {
		t.Errorf("api_requests_total{code=transport} = %v: refreshes cut by a reload are not transport failures", v)
	}
}
