package main

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// accountsSlots is max_concurrent_requests in the accounts measurement:
// the default.
const accountsSlots = 8

// measureAccounts serves n accounts of groups generated groups each, every
// account its own simulator with its own key, from one exporter, and
// returns its column: requests per refresh against pages, the refresh of
// all accounts at zero latency and at latency against its round-trip
// floor, and peak RSS.
func measureAccounts(binary string, n, groups int, latency time.Duration) []string {
	d, err := simulator.Generate(groups, time.Now())
	if err != nil {
		fail("%v", err)
	}
	dir, err := os.MkdirTemp("", "benchtool")
	if err != nil {
		fail("%v", err)
	}
	defer os.RemoveAll(dir)
	sims := make([]*simulator.Server, n)
	var entries strings.Builder
	for i := range sims {
		k := simulator.Key{ID: fmt.Sprintf("LTAI5tBenchAccount%02d", i), Secret: fmt.Sprintf("bench-secret-%02d", i)}
		sims[i] = simulator.New(k)
		if err := sims[i].SetData(d); err != nil {
			fail("%v", err)
		}
		api := httptest.NewServer(sims[i])
		defer api.Close()
		fmt.Fprintf(&entries, "  - {name: a%02d, endpoint: %q, credentials: {access_key_id: %s, access_key_secret: %s}}\n", i, api.URL, k.ID, k.Secret)
	}
	cfgPath := filepath.Join(dir, "config.yml")
	writeConfig := func(tagLabel string) {
		cfg := fmt.Sprintf("tag_labels: [%s]\ncache_ttl: 1h\nrefresh_timeout: 2m\npage_size: 100\nmax_concurrent_requests: %d\naccounts:\n%s", tagLabel, accountsSlots, entries.String())
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			fail("%v", err)
		}
	}
	writeConfig("department")
	addr := freeAddr()
	cmd := exec.Command(binary, "--config.file="+cfgPath, "--web.listen-address="+addr, "--log.level=error", "--web.enable-lifecycle")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		fail("%v", err)
	}
	atFail = func() { cmd.Process.Kill() }
	defer func() { atFail = nil; cmd.Process.Kill(); cmd.Wait() }()
	base := "http://" + addr
	waitFor(func() bool { return status(base+"/-/ready") == http.StatusOK })

	requests := func() int {
		total := 0
		for _, s := range sims {
			total += s.Requests()
		}
		return total
	}
	m := get(base+"/metrics", false)
	pages := n * int(math.Ceil(float64(groups)/100))
	first := requests()
	if got := strings.Count(string(m), "\naliyun_appstream_group_info{account=\"a"); got != n*groups {
		fail("accounts: %d group_info series, want %d", got, n*groups)
	}
	wallZero := maxMetric(m, "aliyun_appstream_refresh_duration_seconds{")

	// A changed tag label refreshes every account at once.
	for _, s := range sims {
		s.SetLatency(latency)
	}
	writeConfig("cost-center")
	before := sumSuccess(m)
	start := time.Now()
	post(base + "/-/reload")
	waitFor(func() bool {
		m = get(base+"/metrics", false)
		return sumSuccess(m) >= before+float64(n)
	})
	wall := time.Since(start)
	perAccount := int(math.Ceil(float64(groups) / 100))
	floor := time.Duration(max(int(math.Ceil(float64(pages)/accountsSlots)), perAccount)) * latency
	return []string{
		fmt.Sprintf("%d (%d); %d for the reload's", first, pages, requests()-first),
		fmt.Sprintf("%.0f ms", wallZero*1000),
		fmt.Sprintf("%.0f ms (%.0f ms)", msf(wall), msf(floor)),
		mb(peakRSS(cmd.Process.Pid)),
	}
}

// sumSuccess adds up the successful refreshes of every account's query.
func sumSuccess(m []byte) float64 {
	total := 0.0
	for _, line := range strings.Split(string(m), "\n") {
		if strings.HasPrefix(line, "aliyun_appstream_refreshes_total{") && strings.Contains(line, `result="success"`) {
			total += sumMetric([]byte(line), "aliyun_appstream_refreshes_total{")
		}
	}
	return total
}

// maxMetric is the largest value of the series lines starting with prefix.
func maxMetric(body []byte, prefix string) float64 {
	most := 0.0
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, prefix) {
			most = max(most, sumMetric([]byte(line), prefix))
		}
	}
	return most
}

// accountRows name the rows of the accounts table.
func accountRows(latency time.Duration) []string {
	return []string{
		"API requests for the first refresh of all accounts (pages); for the reload's refresh",
		"refresh wall time at 0 ms latency, the slowest account's",
		fmt.Sprintf("refresh of all accounts after a reload, %d ms latency (round-trip floor at max_concurrent_requests %d)", latency.Milliseconds(), accountsSlots),
		"peak RSS (VmHWM)",
	}
}
