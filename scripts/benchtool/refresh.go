package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// refreshCPU measures k refreshes at zero API latency as they happen in
// service: the cache expires (cache_ttl 1s, set by a reload that keeps
// the data) and the next scrape starts a refresh and waits for it. That
// scrape asks for gzip, as Prometheus does, and its CPU, a cached gzip
// scrape measured before, is subtracted; nothing else scrapes meanwhile.
// The CPU window spans all k refreshes (and the idle waits between), so
// its 10 ms tick is divided by k. With changing, each refresh reads pools
// whose NodeUsed differs from the refresh before, as a fleet in use does:
// the families of node use then change, its names, settings and apps not.
func (b *bench) refreshCPU(col map[row]string, r row, k int, changing bool) {
	const success = `aliyun_appstream_refreshes_total{biz_region="",result="success"}`
	url := b.base + "/metrics"
	pid := b.pid()
	b.sim.SetLatency(0)
	b.writeConfig("1s", "department, cost-center") // the same query: its data carries over
	b.reload()
	before := metric(gunzip(get(url, true)), success) // also ends any refresh due
	walls := make([]time.Duration, k)
	variants := [2]simulator.Dataset{b.data}
	if changing {
		variants[1] = withNodeUsedChanged(b.data)
	}
	waitIdle(pid)
	cpu0 := cpuTime(pid)
	for i := range k {
		if changing {
			b.setData(variants[(i+1)%2])
		}
		time.Sleep(1100 * time.Millisecond) // the cache expires; the exporter idles
		m := gunzip(get(url, true))
		if got := metric(m, success); got != before+float64(i+1) {
			fail("refresh %d after the cache expired: %v successful refreshes, want %v", i+1, got, before+float64(i+1))
		}
		walls[i] = seconds(metric(m, "aliyun_appstream_refresh_duration_seconds"))
		waitIdle(pid) // the refresh's garbage collection belongs to it
	}
	cpu := (cpuTime(pid) - cpu0) / time.Duration(k)
	b.writeConfig("1h", "department, cost-center")
	b.reload()
	cpu -= b.gzipCPU
	if changing {
		b.setData(b.data)
	} else {
		col[rowRefreshWall] = fmt.Sprintf("%.0f ms; %.0f ms", msf(b.firstWall), msf(median(walls)))
	}
	col[r] = fmt.Sprintf("%.0f ms (±%s; a gzip scrape's %s subtracted)", msf(cpu), ms(tick/time.Duration(k)), ms(b.gzipCPU))
}

// setData makes the simulator serve d.
func (b *bench) setData(d simulator.Dataset) {
	if err := b.sim.SetData(d); err != nil {
		fail("%v", err)
	}
}

// withNodeUsedChanged is d with every node pool's NodeUsed one higher.
func withNodeUsedChanged(d simulator.Dataset) simulator.Dataset {
	out := d
	out.AppInstanceGroupModels = make([]json.RawMessage, len(d.AppInstanceGroupModels))
	for i, raw := range d.AppInstanceGroupModels {
		var g map[string]any
		if err := json.Unmarshal(raw, &g); err != nil {
			fail("%v", err)
		}
		pools, _ := g["NodePool"].([]any)
		for _, p := range pools {
			if pool, ok := p.(map[string]any); ok {
				used, _ := pool["NodeUsed"].(float64)
				pool["NodeUsed"] = used + 1
			}
		}
		changed, err := json.Marshal(g)
		if err != nil {
			fail("%v", err)
		}
		out.AppInstanceGroupModels[i] = changed
	}
	return out
}

// gunzip is the text of a gzip answer.
func gunzip(body []byte) []byte {
	r, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		fail("gunzip: %v", err)
	}
	text, err := io.ReadAll(r)
	if err != nil {
		fail("gunzip: %v", err)
	}
	return text
}
