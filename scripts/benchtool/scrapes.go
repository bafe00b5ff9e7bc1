package main

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// cachedScrapes measures scrapes the cache answers, each against its
// floor, and the exporter's CPU per scrape. Nothing else runs meanwhile.
func (b *bench) cachedScrapes(col map[row]string, o options) {
	before := b.sim.Requests()
	url := b.base + "/metrics"
	// The floors: what the exporter served, from memory, by a process of
	// its own, over the same loopback to the same client; the gzip one
	// holds the exporter's own compressed bytes, as nginx gzip_static would
	// serve a .gz file.
	floor := startFloor(b.dir, b.plain, b.gzipped)
	defer floor.close()

	// Interleaved, so that a noisy neighbour slows scrape and floor alike
	// and the per-round ratios hold.
	t := interleave(o.rounds,
		func() { scrape(url, true) }, func() { scrape(floor.base+"/gzip", true) },
		func() { scrape(url, false) }, func() { scrape(floor.base+"/plain", false) })
	col[rowGzipScrape] = ms(median(t[0]))
	col[rowGzipFloor] = ms(median(t[1]))
	col[rowGzipRatio] = fmt.Sprintf("%.2f", medianRatio(t[0], t[1]))
	col[rowPlainScrape] = ms(median(t[2]))
	col[rowPlainFloor] = ms(median(t[3]))
	col[rowPlainRatio] = fmt.Sprintf("%.2f", medianRatio(t[2], t[3]))

	var n int
	b.gzipCPU, n = b.cpuPerScrape(url, true, o.cpuScrapes)
	col[rowGzipCPU] = fmt.Sprintf("%s (%d; ±%s)", ms(b.gzipCPU), n, ms(tick/time.Duration(n)))
	plainCPU, n := b.cpuPerScrape(url, false, o.cpuScrapes)
	col[rowPlainCPU] = fmt.Sprintf("%s (%d; ±%s)", ms(plainCPU), n, ms(tick/time.Duration(n)))
	col[rowCachedRequests] = strconv.Itoa(b.sim.Requests() - before)
}

// interleave runs each of fs once per round, in order, after one warm-up
// round (connections, buffers); it returns each one's times.
func interleave(rounds int, fs ...func()) [][]time.Duration {
	for _, f := range fs {
		f()
	}
	times := make([][]time.Duration, len(fs))
	for range rounds {
		for i, f := range fs {
			start := time.Now()
			f()
			times[i] = append(times[i], time.Since(start))
		}
	}
	return times
}

// cpuPerScrape is the exporter's CPU time per scrape over up to max
// scrapes: fewer once they used 2 s (the tick is then under 1% of it).
// The exporter is let idle first and after, so that the window holds the
// garbage collection the scrapes cause and nothing else.
func (b *bench) cpuPerScrape(url string, gzip bool, max int) (time.Duration, int) {
	pid := b.pid()
	waitIdle(pid)
	cpu0 := cpuTime(pid)
	n := 0
	for n < max && (n < 10 || cpuTime(pid)-cpu0 < 2*time.Second) {
		scrape(url, gzip)
		n++
	}
	waitIdle(pid)
	return (cpuTime(pid) - cpu0) / time.Duration(n), n
}

func median(ts []time.Duration) time.Duration {
	s := slices.Clone(ts)
	slices.Sort(s)
	return s[len(s)/2]
}

// medianRatio is the median of a[i]/b[i]: times taken side by side are
// compared with each other, not with times taken while the machine was
// busier or quieter.
func medianRatio(a, b []time.Duration) float64 {
	r := make([]float64, len(a))
	for i := range a {
		r[i] = float64(a[i]) / float64(b[i])
	}
	slices.Sort(r)
	return r[len(r)/2]
}
