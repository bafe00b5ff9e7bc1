package main

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// instancesPerGroup is the app instances each generated group holds in
// the app instance measurement: 17 connected, one disconnected, one bound,
// one initialising.
const instancesPerGroup = 20

// sessionsRate is app_instances.max_requests_per_second in that
// measurement: the highest the configuration accepts.
const sessionsRate = 100

// measureSessions runs the app instance collection over n groups of
// instancesPerGroup app instances against a fresh exporter, and returns
// its column: refresh wall time against the floor the request budget
// sets, requests, and peak RSS.
func measureSessions(binary string, n int) []string {
	d, err := simulator.Generate(n, time.Now())
	if err != nil {
		fail("%v", err)
	}
	d, err = simulator.WithSessions(d, time.Now(), func(simulator.SessionGroup) simulator.SessionMix {
		return simulator.SessionMix{Connected: instancesPerGroup - 3, Disconnected: 1, Bound: 1, Init: 1}
	})
	if err != nil {
		fail("%v", err)
	}
	sim := simulator.New(key)
	if err := sim.SetData(d); err != nil {
		fail("%v", err)
	}
	b := &bench{n: n, sim: sim}
	b.api = httptest.NewServer(sim)
	defer b.api.Close()
	b.dir, err = os.MkdirTemp("", "benchtool")
	if err != nil {
		fail("%v", err)
	}
	defer os.RemoveAll(b.dir)
	b.cfgPath = filepath.Join(b.dir, "config.yml")
	// Time for every group at the budget, and as much again.
	timeout := 30*time.Second + 2*time.Duration(float64(n)/sessionsRate*float64(time.Second))
	cfg := fmt.Sprintf("endpoint: %s\ncredentials:\n  access_key_id: %s\n  access_key_secret: %s\ntag_labels: [department, cost-center]\ncache_ttl: 1h\nrefresh_timeout: %s\npage_size: 100\n"+
		"app_instances:\n  enabled: true\n  cache_ttl: 1h\n  max_requests_per_second: %d\n  max_concurrent_groups: 4\n  group_status: [PUBLISHED, FAILED, MAINTAIN_FAILED, EXPIRED, MAINTAINING, CEASED, EXPIRED_RECYCLING, DEPLOYING]\n",
		b.api.URL, key.ID, key.Secret, timeout, sessionsRate)
	if err := os.WriteFile(b.cfgPath, []byte(cfg), 0o600); err != nil {
		fail("%v", err)
	}
	addr := freeAddr()
	b.cmd = exec.Command(binary, "--config.file="+b.cfgPath, "--web.listen-address="+addr, "--log.level=error")
	b.cmd.Stderr = os.Stderr
	if err := b.cmd.Start(); err != nil {
		fail("%v", err)
	}
	atFail = b.close
	defer func() { atFail = nil; b.cmd.Process.Kill(); b.cmd.Wait() }()
	b.base = "http://" + addr
	waitFor(func() bool { return status(b.base+"/-/ready") == http.StatusOK })

	// The first scrape waits for the app instance refresh, or gives up
	// after the default 10 s; poll until it is done.
	var m []byte
	waitForLong(timeout+time.Minute, func() bool {
		m = get(b.base+"/metrics", false)
		return metric(m, `aliyun_appstream_app_instances_up{biz_region=""}`) == 1
	})
	requests := countAction(sim, simulator.ListAppInstances)
	counted := sumMetric(m, "aliyun_appstream_group_app_instances{")
	if want := float64(n * instancesPerGroup); counted != want {
		fail("app instances: the series count %v, the simulator serves %v", counted, want)
	}
	wall := metric(m, `aliyun_appstream_app_instances_refresh_duration_seconds{biz_region=""}`)
	floor := float64(requests-1) / sessionsRate
	for range 5 {
		get(b.base+"/metrics", true)
	}
	cached := countAction(sim, simulator.ListAppInstances) - requests
	return []string{
		fmt.Sprintf("%.1f s (%.1f s)", wall, floor),
		fmt.Sprintf("%d (%d); %d", requests, n*int(math.Ceil(instancesPerGroup/100.0)), cached),
		mb(peakRSS(b.pid())),
	}
}

// countAction is how many requests of action the simulator answered.
func countAction(sim *simulator.Server, action string) int {
	n := 0
	for _, r := range sim.Log() {
		if r.Action == action {
			n++
		}
	}
	return n
}

// sumMetric adds up the values of every series line starting with prefix.
func sumMetric(body []byte, prefix string) float64 {
	total := 0.0
	for line := range bytes.Lines(body) {
		if s := string(bytes.TrimSpace(line)); strings.HasPrefix(s, prefix) {
			v, _ := strconv.ParseFloat(s[strings.LastIndexByte(s, ' ')+1:], 64)
			total += v
		}
	}
	return total
}

// sessionRows name the rows of the app instance table.
func sessionRows() []string {
	return []string{
		fmt.Sprintf("app instance refresh wall time at %d requests/s (floor: (requests - 1) / rate)", sessionsRate),
		"ListAppInstances requests per refresh (pages); for 5 cached scrapes",
		"peak RSS (VmHWM) with app instances collected",
	}
}
