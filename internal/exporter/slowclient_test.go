package exporter

import (
	"bufio"
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// stalledClient sends a scrape without gzip over a socket with a tiny
// receive buffer and never reads the answer.
func stalledClient(t *testing.T, addr string, header string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, "GET /metrics HTTP/1.1\r\nHost: exporter\r\n"+header+"\r\n"); err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestStalledReaders: clients that never read, more of them than there are
// encoding slots, must not delay a normal scrape; and the write deadline
// ends an answer nobody reads (the connection is closed, not held for ever).
func TestStalledReaders(t *testing.T) {
	e := newEnvWith(t, realisticSim(t, 2000), func(c *config.Config) { c.CacheTTL = config.Duration(time.Hour) })
	full := len(e.scrape()) // fill the cache: the stalled clients only wait on sockets
	h := e.metrics.Config.Handler.(*handler)
	stalled := cap(h.writing) + 2
	addr := e.metrics.Listener.Addr().String()
	cut := stalledClient(t, addr, "X-Prometheus-Scrape-Timeout-Seconds: 1\r\n")
	for range stalled {
		stalledClient(t, addr, "")
	}
	// Give the stalled answers time to fill their sockets' buffers.
	time.Sleep(2 * time.Second)

	client := &http.Client{Timeout: time.Minute}
	req := mustRequest(t, e.metrics.URL, "Accept-Encoding", "gzip", "X-Prometheus-Scrape-Timeout-Seconds", "10")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("a scrape beside %d stalled readers did not finish: %v", stalled, err)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("a scrape beside %d stalled readers did not finish: %v", stalled, err)
	}
	if v := testkit.Value(t, parse(t, string(body)), "aliyun_appstream_groups", "biz_region", ""); v != 2000 {
		t.Errorf("served %v groups, want 2000", v)
	}

	_ = cut.SetReadDeadline(time.Now().Add(time.Minute))
	n, err := io.Copy(io.Discard, bufio.NewReader(cut))
	if err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("reading the answer that should have been cut: %v (after %d bytes)", err, n)
	}
	if n >= int64(full) {
		t.Errorf("read %d bytes, the whole answer (%d): the write was not cut at the scrape timeout", n, full)
	}
}

// realisticSim is a simulator holding n generated groups as the demo and
// the benchmarks have them (about 45 series per group).
func realisticSim(t *testing.T, n int) *simulator.Server {
	t.Helper()
	d, err := simulator.Generate(n, pinnedNow)
	if err != nil {
		t.Fatal(err)
	}
	sim := simulator.New(testkit.Key)
	if err := sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	return sim
}
