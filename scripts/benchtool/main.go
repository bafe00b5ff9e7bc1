// Command benchtool measures a built appstream_exporter binary against the
// simulator holding generated delivery groups and prints one Markdown table.
// scripts/bench.sh builds the binary and runs it; see README "Performance".
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/appstream-exporter/appstream_exporter/simulator"
)

var key = simulator.Key{ID: "LTAI5tBench", Secret: "bench-secret-not-real"}

func main() {
	binary := flag.String("exporter", "./appstream_exporter", "exporter binary to measure")
	sizes := flag.String("groups", "2000,10000", "data set sizes")
	latency := flag.Duration("latency", 300*time.Millisecond, "simulated API latency for the second refresh measurement")
	scrapes := flag.Int("scrapes", 20, "cached scrapes per measurement")
	flag.Parse()

	fmt.Printf("| metric | %s |\n|---|%s\n", strings.ReplaceAll(*sizes, ",", " groups | ")+" groups", strings.Repeat("---|", strings.Count(*sizes, ",")+1))
	var rows [][]string
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			fail("bad -groups: %v", err)
		}
		rows = append(rows, measure(*binary, n, *latency, *scrapes))
	}
	for i, name := range rowNames {
		line := "| " + name + " |"
		for _, r := range rows {
			line += " " + r[i] + " |"
		}
		fmt.Println(line)
	}
}

var rowNames = []string{
	"exposition size (series)",
	"API requests per refresh (pages)",
	"API requests for cached scrapes",
	"refresh wall time, 0 ms latency",
	"refresh wall time, 300 ms latency (round-trip floor)",
	"cached scrape, uncompressed (median)",
	"from-memory floor, same bytes (median)",
	"cached scrape / floor",
	"cached scrape, gzip (median, size)",
	"CPU per cached scrape (uncompressed)",
	"refreshes, 20 scrapers for 6.5 s, cache_ttl 2 s",
	"peak RSS (VmHWM): first refresh and scrapes",
}

func measure(binary string, n int, latency time.Duration, scrapes int) []string {
	b := startBench(binary, n)
	defer b.close()
	row := make([]string, len(rowNames))
	body := b.firstRefresh(row)
	plain := b.cachedScrapes(row, scrapes)

	// The floor: the same bytes from memory, same client, same loopback.
	floor := fromMemory(body, scrapes)
	row[6] = ms(floor)
	row[7] = fmt.Sprintf("%.2f", float64(plain)/float64(floor))
	rss := peakRSS(b.cmd.Process.Pid)

	b.slowRefresh(row, latency)
	rssReload := peakRSS(b.cmd.Process.Pid)

	b.manyScrapers(row)
	row[11] = fmt.Sprintf("%.0f MB; %.0f MB after a reload; %.0f MB after the 2 s cache_ttl run", float64(rss)/1e6, float64(rssReload)/1e6, float64(peakRSS(b.cmd.Process.Pid))/1e6)
	return row
}

// bench is one measurement's setup: the simulator serving generated
// groups, and the exporter under test reading them with its config file.
type bench struct {
	n       int // groups served
	sim     *simulator.Server
	api     *httptest.Server
	dir     string // holds the config file
	cfgPath string
	cmd     *exec.Cmd // the exporter
	base    string    // the exporter's URL
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
	b := &bench{n: n, sim: sim, api: httptest.NewServer(sim)}

	b.dir, err = os.MkdirTemp("", "benchtool")
	if err != nil {
		fail("%v", err)
	}
	b.cfgPath = filepath.Join(b.dir, "config.yml")
	b.writeConfig("1h", "department, cost-center")
	addr := freeAddr()
	b.cmd = exec.Command(binary, "--config.file="+b.cfgPath, "--web.listen-address="+addr, "--log.level=warn", "--web.enable-lifecycle")
	b.cmd.Stderr = os.Stderr
	if err := b.cmd.Start(); err != nil {
		fail("%v", err)
	}
	b.base = "http://" + addr
	waitFor(func() bool { return status(b.base+"/-/ready") == 200 })
	return b
}

// close stops what startBench started, in reverse order.
func (b *bench) close() {
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

// firstRefresh fills the rows the startup refresh answers and returns the
// exposition it produced.
func (b *bench) firstRefresh(row []string) []byte {
	pages := b.sim.Requests()
	body := get(b.base+"/metrics", false)
	series := bytes.Count(body, []byte("\naliyun_appstream_"))
	row[0] = fmt.Sprintf("%.1f MB (%d)", float64(len(body))/1e6, series)
	row[1] = fmt.Sprintf("%d (%d)", pages, int(math.Ceil(float64(b.n)/100)))
	row[3] = fmt.Sprintf("%.0f ms", metric(body, "aliyun_appstream_refresh_duration_seconds")*1000)
	return body
}

// cachedScrapes measures scrapes the cache answers: time, CPU, API
// requests. It returns the median uncompressed scrape time.
func (b *bench) cachedScrapes(row []string, scrapes int) time.Duration {
	pid := b.cmd.Process.Pid
	before := b.sim.Requests()
	cpu0 := cpuTime(pid)
	plain := timeScrapes(b.base+"/metrics", false, scrapes)
	cpu := (cpuTime(pid) - cpu0) / time.Duration(scrapes)
	gz := timeScrapes(b.base+"/metrics", true, scrapes/2)
	gzSize := len(get(b.base+"/metrics", true))
	row[2] = strconv.Itoa(b.sim.Requests() - before)
	row[5] = ms(plain)
	row[8] = fmt.Sprintf("%s (%.1f MB)", ms(gz), float64(gzSize)/1e6)
	row[9] = ms(cpu)
	return plain
}

// fromMemory is the median time to fetch body from a server that holds it
// in memory.
func fromMemory(body []byte, scrapes int) time.Duration {
	floorSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write(body)
	}))
	defer floorSrv.Close()
	return timeScrapes(floorSrv.URL, false, scrapes)
}

// slowRefresh measures a refresh over a slow link: a reload that changes
// the tag labels refreshes at once (an unchanged query's data carries over
// otherwise).
func (b *bench) slowRefresh(row []string, latency time.Duration) {
	b.sim.SetLatency(latency)
	b.writeConfig("1h", "department")
	post(b.base + "/-/reload")
	var m []byte
	waitFor(func() bool {
		m = get(b.base+"/metrics", false)
		return metric(m, `aliyun_appstream_refreshes_total{biz_region="",result="success"}`) >= 2
	})
	pagesN := int(math.Ceil(float64(b.n) / 100))
	roundTrips := 1 + int(math.Ceil(float64(pagesN-1)/4))
	row[4] = fmt.Sprintf("%.0f ms (%d ms)", metric(m, "aliyun_appstream_refresh_duration_seconds")*1000, roundTrips*int(latency/time.Millisecond))
	b.sim.SetLatency(0)
}

// manyScrapers checks that with many scrapers and a short cache_ttl,
// refreshes stay one per cache_ttl.
func (b *bench) manyScrapers(row []string) {
	b.writeConfig("2s", "department")
	post(b.base + "/-/reload")
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
	row[10] = fmt.Sprintf("%.0f (at most %d), %d failed scrapes", refreshes, int(math.Ceil(time.Since(start).Seconds()/2))+1, failed.Load())
}

// refreshesSoFar counts the refreshes an exposition reports, failed or not.
func refreshesSoFar(m []byte) float64 {
	return metric(m, `aliyun_appstream_refreshes_total{biz_region="",result="success"}`) + metric(m, `aliyun_appstream_refreshes_total{biz_region="",result="failure"}`)
}

var client = &http.Client{Transport: &http.Transport{DisableCompression: true}}

func timeScrapes(url string, gzip bool, n int) time.Duration {
	times := make([]time.Duration, n)
	for i := range times {
		start := time.Now()
		get(url, gzip)
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	return times[n/2]
}

func get(url string, gzip bool) []byte {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := client.Do(req)
	if err != nil {
		fail("%v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		fail("GET %s: %v %d", url, err, resp.StatusCode)
	}
	return b
}

func post(url string) {
	resp, err := http.Post(url, "", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		fail("POST %s: %v", url, err)
	}
	resp.Body.Close()
}

func status(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// metric returns the value of the first series line starting with prefix.
func metric(body []byte, prefix string) float64 {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, prefix) {
			v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			return v
		}
	}
	return 0
}

// cpuTime is the process' user + system CPU time from /proc.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ = 100
}

// peakRSS is VmHWM from /proc, in bytes.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

func waitFor(cond func() bool) {
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			fail("timed out")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("%v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchtool: "+format+"\n", args...)
	os.Exit(1)
}
