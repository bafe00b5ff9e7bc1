package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// tick is the resolution of /proc CPU times: USER_HZ is 100 on Linux.
const tick = 10 * time.Millisecond

// cpuTime is the process' user + system CPU time from /proc.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		fail("%v", err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * tick
}

// waitIdle returns once the process has used no CPU for 200 ms (it may
// still be collecting garbage after a burst of work), or after 5 s.
func waitIdle(pid int) {
	deadline := time.Now().Add(5 * time.Second)
	last, since := cpuTime(pid), time.Now()
	for time.Since(since) < 200*time.Millisecond && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if c := cpuTime(pid); c != last {
			last, since = c, time.Now()
		}
	}
}

// peakRSS is VmHWM from /proc, in bytes.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
