package exporter

import (
	"math"
	"os"
	"strings"
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

func TestIPOctets(t *testing.T) {
	for _, tc := range []struct {
		text    string
		in, out float64
	}{
		{"TcpExt: A B\nTcpExt: 1 2\nIpExt: InNoRoutes InOctets OutOctets\nIpExt: 7 1024 2048\nMPTcpExt: X\nMPTcpExt: 9\n", 1024, 2048},
		{"IpExt: OutOctets\nIpExt: 5\n", 0, 5},
		{"TcpExt: A\nTcpExt: 1\n", 0, 0},
	} {
		if in, out := ipOctets([]byte(tc.text)); in != tc.in || out != tc.out {
			t.Errorf("%q: %v %v, want %v %v", tc.text, in, out, tc.in, tc.out)
		}
	}
}

// TestParseSelfStat: the CPU time, virtual and resident memory procfs
// reads from the same text, with a command that holds spaces and
// parentheses; a text cut short is an error.
func TestParseSelfStat(t *testing.T) {
	const text = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 3110 0 0 0 1234 567 0 0 20 0 9 0 98765 1825533952 8251 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0\n"
	dir := t.TempDir()
	if err := os.MkdirAll(dir+"/4242", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/4242/stat", []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	fs, err := procfs.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fs.Proc(4242)
	if err != nil {
		t.Fatal(err)
	}
	want, err := p.Stat()
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseSelfStat([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if got.cpuSeconds != want.CPUTime() || got.virtualBytes != float64(want.VirtualMemory()) || got.residentBytes != float64(want.ResidentMemory()) {
		t.Errorf("got %+v, procfs reads cpu %v, virtual %v, resident %v", got, want.CPUTime(), want.VirtualMemory(), want.ResidentMemory())
	}
	for _, bad := range []string{"4242 a b c", text[:60], strings.Replace(text, " 1234 ", " x ", 1)} {
		if _, err := parseSelfStat([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestProcFileReadsAnew: a kept file is read whole however long, read
// anew at every call, and opened again once it could not be read.
func TestProcFileReadsAnew(t *testing.T) {
	path := t.TempDir() + "/netstat"
	f := procFile{path: path}
	buf := make([]byte, 16)
	if _, _, err := f.read(buf); err == nil {
		t.Fatal("a missing file reads")
	}
	if err := os.Mkdir(path, 0o700); err != nil { // opens, but does not read
		t.Fatal(err)
	}
	if _, _, err := f.read(buf); err == nil {
		t.Fatal("a directory reads")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("IpExt: 1 2 3\n", 100)
	if err := os.WriteFile(path, []byte(long), 0o600); err != nil {
		t.Fatal(err)
	}
	text, buf, err := f.read(buf)
	if err != nil || string(text) != long {
		t.Fatalf("read %d bytes (%v), want %d", len(text), err, len(long))
	}
	if err := os.WriteFile(path, []byte("IpExt: 4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if text, _, err := f.read(buf); err != nil || string(text) != "IpExt: 4\n" {
		t.Errorf("read again: %q (%v)", text, err)
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
