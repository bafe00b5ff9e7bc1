// Command benchtool measures a built appstream_exporter binary against the
// simulator holding generated delivery groups and prints one Markdown
// table, one column per data set size. scripts/bench.sh builds the binary
// and runs it:
//
//	scripts/bench.sh                          # 2,000 and 10,000 groups
//	BENCH_GROUPS=500 scripts/bench.sh         # what CI runs
//	go run ./scripts/benchtool -exporter ./appstream_exporter -groups 2000
//
// It talks to the exporter only over HTTP and reads its CPU time and peak
// RSS from /proc, so it measures any build, old or new. Times are medians
// on a noisy machine; each comparison (scrape vs floor) is a ratio of
// times taken in the same interleaved rounds, so it holds while absolute
// times drift. See README "Performance".
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == floorCommand {
		serveFloor(os.Args[2])
		return
	}
	var o options
	binary := flag.String("exporter", "./appstream_exporter", "exporter binary to measure")
	sizes := flag.String("groups", "2000,10000", "data set sizes (empty: none)")
	sessionSizes := flag.String("sessions-groups", "2000", "data set sizes for the app instance measurement (20 app instances a group; empty: none)")
	accountSets := flag.String("accounts", "10x200", "accounts x groups each for the several-accounts measurement, comma-separated (empty: none)")
	flag.DurationVar(&o.latency, "latency", 300*time.Millisecond, "simulated API latency for the slow refresh measurement")
	flag.IntVar(&o.rounds, "rounds", 20, "interleaved timing rounds: gzip scrape, gzip floor, plain scrape, plain floor")
	flag.IntVar(&o.cpuScrapes, "cpu-scrapes", 50, "scrapes per CPU measurement (fewer once they used 2 s of exporter CPU)")
	flag.IntVar(&o.refreshes, "refreshes", 6, "refreshes whose exporter CPU is measured, each as the cache expires (at least 3)")
	flag.Parse()
	if o.refreshes < 3 || o.rounds < 1 || o.cpuScrapes < 1 {
		fail("-refreshes must be at least 3, -rounds and -cpu-scrapes at least 1")
	}

	if strings.TrimSpace(*sizes) != "" {
		printGroups(*binary, strings.Split(*sizes, ","), o)
	}
	if strings.TrimSpace(*sessionSizes) != "" {
		printSessions(*binary, strings.Split(*sessionSizes, ","))
	}
	if strings.TrimSpace(*accountSets) != "" {
		printAccounts(*binary, strings.Split(*accountSets, ","), o.latency)
	}
}

// printGroups prints the main table, one column per data set size.
func printGroups(binary string, sizes []string, o options) {
	var heads []string
	var cols [][]string
	for _, s := range sizes {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fail("bad -groups %q", s)
		}
		col := measure(binary, n, o)
		var cells []string
		for r := range numRows {
			cells = append(cells, col[r])
		}
		heads = append(heads, strings.TrimSpace(s)+" groups")
		cols = append(cols, cells)
	}
	var names []string
	for r := range numRows {
		names = append(names, r.name(o))
	}
	printTable("metric", heads, names, cols)
}

// printAccounts prints the several-accounts table, one column per set
// (accounts x groups each).
func printAccounts(binary string, sets []string, latency time.Duration) {
	var heads []string
	var cols [][]string
	for _, s := range sets {
		var n, groups int
		if _, err := fmt.Sscanf(strings.TrimSpace(s), "%dx%d", &n, &groups); err != nil || n < 1 || groups < 1 {
			fail("bad -accounts %q: want accounts x groups, e.g. 10x200", s)
		}
		heads = append(heads, fmt.Sprintf("%d accounts × %d groups", n, groups))
		cols = append(cols, measureAccounts(binary, n, groups, latency))
	}
	fmt.Println()
	printTable("several accounts, each its own endpoint and key", heads, accountRows(latency), cols)
}

// printSessions prints the app instance table, one column per size.
func printSessions(binary string, sizes []string) {
	var heads []string
	var cols [][]string
	for _, s := range sizes {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fail("bad -sessions-groups %q", s)
		}
		heads = append(heads, strings.TrimSpace(s)+" groups")
		cols = append(cols, measureSessions(binary, n))
	}
	fmt.Println()
	printTable("app instances (ListAppInstances), 20 a group", heads, sessionRows(), cols)
}

// printTable prints a Markdown table: a row per name, a column per head,
// cols[c][r] in column c of row r.
func printTable(corner string, heads, names []string, cols [][]string) {
	fmt.Println("| " + corner + " | " + strings.Join(heads, " | ") + " |")
	fmt.Println("|---|" + strings.Repeat("---|", len(heads)))
	for r, name := range names {
		line := "| " + name + " |"
		for _, c := range cols {
			line += " " + c[r] + " |"
		}
		fmt.Println(line)
	}
}

type options struct {
	latency    time.Duration
	rounds     int
	cpuScrapes int
	refreshes  int
}

// row is one line of the table.
type row int

const (
	rowSize row = iota
	rowGzipSize
	rowPages
	rowCachedRequests
	rowGzipScrape
	rowGzipFloor
	rowGzipRatio
	rowPlainScrape
	rowPlainFloor
	rowPlainRatio
	rowGzipCPU
	rowPlainCPU
	rowRefreshWall
	rowRefreshCPU
	rowRefreshCPUChanging
	rowSlowRefresh
	rowManyScrapers
	rowRSS
	numRows
)

// name says what a row measures, so that the table reads without the code.
func (r row) name(o options) string {
	switch r {
	case rowSize:
		return "exposition size, uncompressed (series)"
	case rowGzipSize:
		return "exposition size, gzip as the exporter serves it"
	case rowPages:
		return "API requests per refresh (pages)"
	case rowCachedRequests:
		return "API requests for all cached scrapes"
	case rowGzipScrape:
		return "cached scrape, Accept-Encoding: gzip (median)"
	case rowGzipFloor:
		return "gzip floor: those gzip bytes served from memory (median)"
	case rowGzipRatio:
		return "cached gzip scrape / gzip floor (median of per-round ratios)"
	case rowPlainScrape:
		return "cached scrape, uncompressed (median)"
	case rowPlainFloor:
		return "plain floor: same bytes served from memory (median)"
	case rowPlainRatio:
		return "cached scrape / plain floor (median of per-round ratios)"
	case rowGzipCPU:
		return "exporter CPU per cached gzip scrape (scrapes; resolution)"
	case rowPlainCPU:
		return "exporter CPU per cached scrape, uncompressed (scrapes; resolution)"
	case rowRefreshWall:
		return fmt.Sprintf("refresh wall time, 0 ms latency: first; median of %d as the cache expires", o.refreshes)
	case rowRefreshCPU:
		return fmt.Sprintf("exporter CPU per refresh as the cache expires, 0 ms latency (mean of %d; resolution)", o.refreshes)
	case rowRefreshCPUChanging:
		return fmt.Sprintf("the same, every pool's NodeUsed changing at each refresh (mean of %d)", o.refreshes)
	case rowSlowRefresh:
		return fmt.Sprintf("refresh wall time, %d ms latency (round-trip floor)", o.latency.Milliseconds())
	case rowManyScrapers:
		return "refreshes, 20 scrapers (Go default client, asks for gzip) for 6.5 s, cache_ttl 2 s"
	case rowRSS:
		return "peak RSS (VmHWM): first refresh and scrapes; after a reload; after the 2 s cache_ttl run"
	}
	return "?"
}

// measure runs every measurement at n groups against a fresh exporter.
func measure(binary string, n int, o options) map[row]string {
	b := startBench(binary, n)
	defer b.close()
	col := map[row]string{}
	b.firstRefresh(col)
	b.cachedScrapes(col, o)
	rss := peakRSS(b.pid())

	b.slowRefresh(col, o.latency)
	rssReload := peakRSS(b.pid())

	b.manyScrapers(col)
	rssStress := peakRSS(b.pid())
	col[rowRSS] = fmt.Sprintf("%s; %s; %s", mb(rss), mb(rssReload), mb(rssStress))

	// Last, so that the reloads it makes leave the rows above as they were.
	b.refreshCPU(col, rowRefreshCPU, o.refreshes, false)
	b.refreshCPU(col, rowRefreshCPUChanging, o.refreshes, true)
	return col
}
