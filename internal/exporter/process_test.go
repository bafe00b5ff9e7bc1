package exporter

import (
	"math"
	"os"
	"testing"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/procfs"
)

// TestProcessCollectorMatchesClientGolang: the same families, help and
// types as client_golang's process collector, and the same values where
// they cannot have moved between the two reads.
func TestProcessCollectorMatchesClientGolang(t *testing.T) {
	if _, err := procfs.Self(); err != nil {
		t.Skip("no /proc here:", err)
	}
	gather := func(c prometheus.Collector) map[string]*dto.MetricFamily {
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		return testkit.Gather(t, reg)
	}
	ours := gather(NewProcessCollector())
	theirs := gather(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if len(ours) != len(theirs) || len(ours) < 9 {
		t.Fatalf("%d families, client_golang has %d", len(ours), len(theirs))
	}
	for name, want := range theirs {
		got, ok := ours[name]
		if !ok {
			t.Errorf("%s: missing", name)
			continue
		}
		if got.GetHelp() != want.GetHelp() || got.GetType() != want.GetType() {
			t.Errorf("%s: help %q type %v, want %q %v", name, got.GetHelp(), got.GetType(), want.GetHelp(), want.GetType())
		}
		g, w := testkit.Value(t, ours, name), testkit.Value(t, theirs, name)
		switch name {
		case "process_start_time_seconds", "process_max_fds", "process_virtual_memory_max_bytes":
			if g != w {
				t.Errorf("%s = %v, want %v", name, g, w)
			}
		case "process_network_receive_bytes_total", "process_network_transmit_bytes_total":
			// The namespace's counters: other processes may add to them.
			if w == 0 || g < w*0.5 || g > w*2 {
				t.Errorf("%s = %v, client_golang %v", name, g, w)
			}
		case "process_cpu_seconds_total", "process_open_fds":
			if math.Abs(g-w) > 2 {
				t.Errorf("%s = %v, client_golang %v", name, g, w)
			}
		default: // memory
			if g < w*0.5 || g > w*2 {
				t.Errorf("%s = %v, client_golang %v", name, g, w)
			}
		}
	}
}

func TestReadIPOctets(t *testing.T) {
	path := t.TempDir() + "/netstat"
	for _, tc := range []struct {
		text    string
		in, out float64
	}{
		{"TcpExt: A B\nTcpExt: 1 2\nIpExt: InNoRoutes InOctets OutOctets\nIpExt: 7 1024 2048\nMPTcpExt: X\nMPTcpExt: 9\n", 1024, 2048},
		{"IpExt: OutOctets\nIpExt: 5\n", 0, 5},
		{"TcpExt: A\nTcpExt: 1\n", 0, 0},
	} {
		if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
			t.Fatal(err)
		}
		in, out, err := readIPOctets(path)
		if err != nil || in != tc.in || out != tc.out {
			t.Errorf("%q: %v %v %v, want %v %v", tc.text, in, out, err, tc.in, tc.out)
		}
	}
	if _, _, err := readIPOctets(path + ".missing"); err == nil {
		t.Error("a missing file reads")
	}
}

// BenchmarkProcessCollector gathers the process metrics, ours against
// client_golang's.
func BenchmarkProcessCollector(b *testing.B) {
	for name, c := range map[string]prometheus.Collector{
		"ours":          NewProcessCollector(),
		"client_golang": collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		b.Run(name, func(b *testing.B) {
			reg := prometheus.NewRegistry()
			reg.MustRegister(c)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := reg.Gather(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
