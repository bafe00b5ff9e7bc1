package main

import (
	"log"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Lines net/http logs about clients (TLS handshake errors, bad requests) are
// capped: a scanner or a broken client must not flood the log.
const (
	serverLogBurst  = 10
	serverLogWindow = time.Minute
)

// newServerErrorLog routes net/http's own log lines through the exporter's
// logger, so --log.format=json gets JSON from them too.
func newServerErrorLog(logger *slog.Logger) *log.Logger {
	return log.New(&serverLogWriter{logger: logger, now: time.Now}, "", 0)
}

type serverLogWriter struct {
	logger *slog.Logger
	now    func() time.Time

	mu          sync.Mutex
	windowStart time.Time
	written     int
	dropped     int
}

func (w *serverLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	now := w.now()
	if now.Sub(w.windowStart) >= serverLogWindow {
		if w.dropped > 0 {
			w.logger.Warn("HTTP server log lines dropped by the rate limit", "dropped", w.dropped, "window", serverLogWindow)
		}
		w.windowStart, w.written, w.dropped = now, 0, 0
	}
	allowed := w.written < serverLogBurst
	if allowed {
		w.written++
	} else {
		w.dropped++
	}
	w.mu.Unlock()
	if allowed {
		w.logger.Warn(strings.TrimSpace(strings.TrimPrefix(string(p), "http: ")), "source", "http_server")
	}
	return len(p), nil
}
