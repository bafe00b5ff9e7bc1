package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/appstream-exporter/appstream_exporter/simulator"
)

var key = simulator.Key{ID: "LTAI5tBench", Secret: "bench-secret-not-real"}

// bench is one measurement's setup: the simulator serving generated
// groups, and the exporter under test reading them with its config file.
type bench struct {
	n       int               // groups served
	data    simulator.Dataset // what sim serves
	sim     *simulator.Server
	api     *httptest.Server
	dir     string // holds the config file
	cfgPath string
	cmd     *exec.Cmd // the exporter
	base    string    // the exporter's URL

	plain, gzipped []byte        // the cached exposition, as served each way
	firstWall      time.Duration // wall time of the startup refresh
	gzipCPU        time.Duration // exporter CPU per cached gzip scrape
}

// startBench serves n generated groups and starts the exporter on them,
// once ready.
func startBench(binary string, n int) *bench {
	d, err := simulator.Generate(n, time.Now())
	if err != nil {
		fail("%v", err)
	}
	sim := simulator.New(key)
	if err := sim.SetData(d); err != nil {
		fail("%v", err)
	}
	b := &bench{n: n, data: d, sim: sim, api: httptest.NewServer(sim)}

	b.dir, err = os.MkdirTemp("", "benchtool")
	if err != nil {
		fail("%v", err)
	}
	b.cfgPath = filepath.Join(b.dir, "config.yml")
	b.writeConfig("1h", "department, cost-center")
	addr := freeAddr()
	b.cmd = exec.Command(binary, "--config.file="+b.cfgPath, "--web.listen-address="+addr, "--log.level=error", "--web.enable-lifecycle")
	b.cmd.Stderr = os.Stderr
	if err := b.cmd.Start(); err != nil {
		fail("%v", err)
	}
	atFail = b.close
	b.base = "http://" + addr
	waitFor(func() bool { return status(b.base+"/-/ready") == http.StatusOK })
	return b
}

func (b *bench) pid() int { return b.cmd.Process.Pid }

// close stops what startBench started, in reverse order.
func (b *bench) close() {
	atFail = nil
	b.cmd.Process.Kill()
	b.cmd.Wait()
	os.RemoveAll(b.dir)
	b.api.Close()
}

func (b *bench) writeConfig(ttl, tagLabels string) {
	cfg := fmt.Sprintf("endpoint: %s\ncredentials:\n  access_key_id: %s\n  access_key_secret: %s\ntag_labels: [%s]\ncache_ttl: %s\nrefresh_timeout: 2m\npage_size: 100\nmax_concurrent_pages: 4\n", b.api.URL, key.ID, key.Secret, tagLabels, ttl)
	if err := os.WriteFile(b.cfgPath, []byte(cfg), 0o600); err != nil {
		fail("%v", err)
	}
}

// reload makes the exporter read its config file again.
func (b *bench) reload() { post(b.base + "/-/reload") }

// firstRefresh fills the rows the startup refresh answers and keeps the
// exposition it produced, plain and gzipped, for the floors.
func (b *bench) firstRefresh(col map[row]string) {
	pages := b.sim.Requests()
	b.plain = get(b.base+"/metrics", false)
	b.gzipped = get(b.base+"/metrics", true)
	series := bytes.Count(b.plain, []byte("\naliyun_appstream_"))
	col[rowSize] = fmt.Sprintf("%.1f MB (%d)", float64(len(b.plain))/1e6, series)
	col[rowGzipSize] = fmt.Sprintf("%.2f MB", float64(len(b.gzipped))/1e6)
	col[rowPages] = fmt.Sprintf("%d (%d)", pages, b.pages())
	b.firstWall = seconds(metric(b.plain, "aliyun_appstream_refresh_duration_seconds"))
}

// pages is how many API pages one refresh takes (page_size 100).
func (b *bench) pages() int { return int(math.Ceil(float64(b.n) / 100)) }

// slowRefresh measures a refresh over a slow link: a reload that changes
// the tag labels refreshes at once (an unchanged query's data carries over
// otherwise).
func (b *bench) slowRefresh(col map[row]string, latency time.Duration) {
	b.sim.SetLatency(latency)
	b.writeConfig("1h", "department")
	b.reload()
	var m []byte
	waitFor(func() bool {
		m = get(b.base+"/metrics", false)
		return metric(m, `aliyun_appstream_refreshes_total{biz_region="",result="success"}`) >= 2
	})
	roundTrips := 1 + int(math.Ceil(float64(b.pages()-1)/4))
	col[rowSlowRefresh] = fmt.Sprintf("%.0f ms (%d ms)", metric(m, "aliyun_appstream_refresh_duration_seconds")*1000, roundTrips*int(latency/time.Millisecond))
	b.sim.SetLatency(0)
}

// manyScrapers checks that with many scrapers and a short cache_ttl,
// refreshes stay one per cache_ttl. The scrapers use Go's default
// transport, which asks for gzip and decompresses, as most clients do.
func (b *bench) manyScrapers(col map[row]string) {
	b.writeConfig("2s", "department")
	b.reload()
	before := int(refreshesSoFar(get(b.base+"/metrics", false)))
	start := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < 6500*time.Millisecond {
				if resp, err := http.Get(b.base + "/metrics"); err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	m := get(b.base+"/metrics", false)
	refreshes := refreshesSoFar(m) - float64(before)
	col[rowManyScrapers] = fmt.Sprintf("%.0f (at most %d), %d failed scrapes", refreshes, int(math.Ceil(time.Since(start).Seconds()/2))+1, failed.Load())
}

// refreshesSoFar counts the refreshes an exposition reports, failed or not.
func refreshesSoFar(m []byte) float64 {
	return metric(m, `aliyun_appstream_refreshes_total{biz_region="",result="success"}`) + metric(m, `aliyun_appstream_refreshes_total{biz_region="",result="failure"}`)
}
