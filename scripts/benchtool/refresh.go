package main

import (
	"fmt"
	"time"
)

// refreshCPU measures k refreshes at zero API latency, each started by a
// reload that changes the tag labels (an unchanged query's data carries
// over otherwise), alternating between two configs. Nothing scrapes
// meanwhile except one poll of /metrics per refresh, which waits for the
// refresh to finish and reads its counter and wall time; the CPU of that
// poll, a cached plain scrape measured before, is subtracted. The CPU
// window spans all k refreshes, so its 10 ms tick is divided by k.
func (b *bench) refreshCPU(col map[row]string, k int) {
	const success = `aliyun_appstream_refreshes_total{biz_region="",result="success"}`
	url := b.base + "/metrics"
	pid := b.pid()
	b.sim.SetLatency(0)
	before := metric(get(url, false), success) // also ends any refresh due
	walls := make([]time.Duration, k)
	waitIdle(pid)
	cpu0 := cpuTime(pid)
	for i := range k {
		b.writeConfig("1h", []string{"department, cost-center", "department"}[i%2])
		b.reload()
		m := get(url, false)
		if got := metric(m, success); got != before+float64(i+1) {
			fail("refresh %d after a reload: %v successful refreshes, want %v", i+1, got, before+float64(i+1))
		}
		walls[i] = seconds(metric(m, "aliyun_appstream_refresh_duration_seconds"))
		waitIdle(pid) // the refresh's garbage collection belongs to it
	}
	cpu := (cpuTime(pid)-cpu0)/time.Duration(k) - b.plainCPU
	col[rowRefreshWall] = fmt.Sprintf("%.0f ms; %.0f ms", msf(b.firstWall), msf(median(walls)))
	col[rowRefreshCPU] = fmt.Sprintf("%.0f ms (±%s; a poll's %s subtracted)", msf(cpu), ms(tick/time.Duration(k)), ms(b.plainCPU))
}
