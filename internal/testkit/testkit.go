// Package testkit holds the helpers and fixtures that the tests of several
// packages share: the simulator's test key, a generated data set, series
// lookup in gathered or parsed metric families, a goroutine-safe log buffer
// and small file and polling helpers. It is for tests only: no non-test
// code imports it (TestOnlyTestsImport checks).
//
// It imports neither config nor any package that does, so that config's own
// tests can use it; the config-aware fixtures live in testkit/testconfig.
package testkit

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// Key is the key the simulator accepts in tests; the secret must never show
// up in logs or errors.
var Key = simulator.Key{ID: "LTAItestKeyID0001", Secret: "test-secret-MUST-NOT-LEAK-7f3a9c"}

// SyncBuffer is a bytes.Buffer that goroutines may write and read at once,
// for logs written while a test reads them.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WaitFor polls cond until it holds, failing after 20 seconds.
func WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			tb.Fatalf("timed out waiting for %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// WriteFile writes content to path (mode 0600), failing the test on error.
func WriteFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// MustRead returns the content of path, failing the test on error.
func MustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Logger is a debug-level text logger writing to the returned buffer. When
// the test ends, it fails if Key's secret reached the buffer.
func Logger(tb testing.TB) (*slog.Logger, *SyncBuffer) {
	tb.Helper()
	logs := &SyncBuffer{}
	tb.Cleanup(func() {
		if strings.Contains(logs.String(), Key.Secret) {
			tb.Errorf("the access key secret reached the log:\n%s", logs)
		}
	})
	return slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), logs
}
