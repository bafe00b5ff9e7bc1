package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
)

// TestServerLogRateLimit: beyond the burst, lines are dropped and their
// number is reported when the window ends, even if nothing follows.
func TestServerLogRateLimit(t *testing.T) {
	var out testkit.SyncBuffer
	w := &serverLogWriter{logger: slog.New(slog.NewTextHandler(&out, nil)), window: 300 * time.Millisecond}
	for range serverLogBurst + 5 {
		w.Write([]byte("http: TLS handshake error from 127.0.0.1:1: EOF\n"))
	}
	if n := strings.Count(out.String(), "TLS handshake error"); n != serverLogBurst {
		t.Errorf("%d lines logged, want the burst of %d", n, serverLogBurst)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "dropped=5") {
		if time.Now().After(deadline) {
			t.Fatalf("the dropped lines were never reported:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
