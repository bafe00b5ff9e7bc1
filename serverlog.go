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
	return log.New(&serverLogWriter{logger: logger, window: serverLogWindow}, "", 0)
}

type serverLogWriter struct {
	logger *slog.Logger
	window time.Duration

	mu          sync.Mutex
	windowStart time.Time
	written     int
	dropped     int
}

func (w *serverLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if now.Sub(w.windowStart) >= w.window {
		w.reportDropped()
		w.windowStart, w.written = now, 0
	}
	if w.written >= serverLogBurst {
		if w.dropped == 0 {
			// Said when the window ends, even if no line follows.
			time.AfterFunc(w.window-now.Sub(w.windowStart), func() {
				w.mu.Lock()
				defer w.mu.Unlock()
				w.reportDropped()
			})
		}
		w.dropped++
		return len(p), nil
	}
	w.written++
	w.logger.Warn(strings.TrimSpace(strings.TrimPrefix(string(p), "http: ")), "component", "net/http")
	return len(p), nil
}

// reportDropped says how many lines the cap dropped; w.mu must be held.
func (w *serverLogWriter) reportDropped() {
	if w.dropped > 0 {
		w.logger.Warn("HTTP server log lines dropped by the rate limit", "dropped", w.dropped, "limit", serverLogBurst, "window", w.window)
		w.dropped = 0
	}
}
