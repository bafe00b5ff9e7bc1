package exporter

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/procfs"
)

// NewProcessCollector serves the process_* metrics that client_golang's
// process collector serves, with the same names, help and values, for
// about a quarter of its cost. That one parses on every scrape what does
// not change (the start time, which needs the boot time from all of
// /proc/stat) and the whole of /proc/self/net/netstat for two numbers:
// 0.35 ms and 100 KB of garbage per scrape, a sixth of a cached gzip
// scrape of 2,000 groups. Where /proc cannot be read, it is client_golang's.
func NewProcessCollector() prometheus.Collector {
	p, err := procfs.Self()
	if err != nil {
		return collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})
	}
	stat, err := p.Stat()
	if err != nil {
		return collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})
	}
	c := &processCollector{proc: p, netstat: filepath.Join(procfs.DefaultMountPoint, strconv.Itoa(p.PID), "net", "netstat")}
	c.startTime, c.startErr = stat.StartTime()
	return c
}

type processCollector struct {
	proc      procfs.Proc
	netstat   string
	startTime float64
	startErr  error
}

func processDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, nil, nil)
}

var (
	processCPU       = processDesc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
	processOpenFDs   = processDesc("process_open_fds", "Number of open file descriptors.")
	processMaxFDs    = processDesc("process_max_fds", "Maximum number of open file descriptors.")
	processVsize     = processDesc("process_virtual_memory_bytes", "Virtual memory size in bytes.")
	processMaxVsize  = processDesc("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.")
	processRSS       = processDesc("process_resident_memory_bytes", "Resident memory size in bytes.")
	processStartTime = processDesc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
	processInBytes   = processDesc("process_network_receive_bytes_total", "Number of bytes received by the process over the network.")
	processOutBytes  = processDesc("process_network_transmit_bytes_total", "Number of bytes sent by the process over the network.")
)

func (c *processCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{processCPU, processOpenFDs, processMaxFDs, processVsize, processMaxVsize, processRSS, processStartTime, processInBytes, processOutBytes} {
		ch <- d
	}
}

// Collect leaves out, as client_golang's does by default, what it cannot
// read.
func (c *processCollector) Collect(ch chan<- prometheus.Metric) {
	if stat, err := c.proc.Stat(); err == nil {
		ch <- prometheus.MustNewConstMetric(processCPU, prometheus.CounterValue, stat.CPUTime())
		ch <- prometheus.MustNewConstMetric(processVsize, prometheus.GaugeValue, float64(stat.VirtualMemory()))
		ch <- prometheus.MustNewConstMetric(processRSS, prometheus.GaugeValue, float64(stat.ResidentMemory()))
		if c.startErr == nil {
			ch <- prometheus.MustNewConstMetric(processStartTime, prometheus.GaugeValue, c.startTime)
		}
	}
	if fds, err := c.proc.FileDescriptorsLen(); err == nil {
		ch <- prometheus.MustNewConstMetric(processOpenFDs, prometheus.GaugeValue, float64(fds))
	}
	if openFiles, addressSpace, err := c.processLimits(); err == nil {
		ch <- prometheus.MustNewConstMetric(processMaxFDs, prometheus.GaugeValue, float64(openFiles))
		ch <- prometheus.MustNewConstMetric(processMaxVsize, prometheus.GaugeValue, float64(addressSpace))
	}
	if in, out, err := readIPOctets(c.netstat); err == nil {
		ch <- prometheus.MustNewConstMetric(processInBytes, prometheus.CounterValue, in)
		ch <- prometheus.MustNewConstMetric(processOutBytes, prometheus.CounterValue, out)
	}
}

// readIPOctets reads InOctets and OutOctets of the IpExt section of a
// /proc net/netstat file: a line of names after "IpExt:", then a line of
// their values. A missing value is 0, as client_golang has it.
func readIPOctets(path string) (in, out float64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	var names []byte
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("IpExt:"))
		if !ok {
			continue
		}
		if names == nil {
			names = rest
			continue
		}
		values := bytes.Fields(rest)
		for i, name := range bytes.Fields(names) {
			if i >= len(values) {
				break
			}
			switch string(name) {
			case "InOctets":
				in, _ = strconv.ParseFloat(string(values[i]), 64)
			case "OutOctets":
				out, _ = strconv.ParseFloat(string(values[i]), 64)
			}
		}
		break
	}
	return in, out, nil
}
