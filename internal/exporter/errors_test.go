package exporter

// How the exporter handles failed refreshes; how each failure is explained
// is tested with the client (internal/aliyun).

import (
	"strings"
	"testing"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// TestCanceledRefresh: closing the exporter (reload, shutdown) cuts the
// request in flight; that is counted as canceled, not as a transport
// failure, and not retried.
func TestCanceledRefresh(t *testing.T) {
	t.Run("exporter closed", func(t *testing.T) {
		e := newEnv(t, fixtures, nil)
		e.sim.SetSticky(&simulator.Hang)
		t.Cleanup(func() { e.sim.SetSticky(nil) })
		e.exp.Start()
		testkit.WaitFor(t, "the request to reach the API", func() bool { return e.sim.Requests() == 1 })
		e.exp.Close()
		testkit.WaitFor(t, "the canceled request to be counted", func() bool {
			_, n := testkit.Find(testkit.Gather(t, e.reg), "aliyun_appstream_api_requests_total", "code", "canceled")
			return n == 1
		})
		if n := e.sim.Requests(); n != 1 {
			t.Errorf("%d requests, want 1: a canceled request is not retried", n)
		}
	})
}

// TestPermanentFailureLoggedOncePerChange: a missing permission repeats at
// every refresh; it is an ERROR line when it starts and when it changes,
// debug in between, and a transient failure stays a warning every time.
func TestPermanentFailureLoggedOncePerChange(t *testing.T) {
	e := newEnv(t, []string{"testdata/reference.json"}, nil)
	errorLines := func() int { return strings.Count(e.logs.String(), `level=ERROR msg="refresh failed"`) }
	refresh := func(f simulator.Fault) {
		e.sim.SetSticky(&f)
		e.clock.Advance(2 * e.cfg.CacheTTL.D())
		e.check(0)
	}
	for range 3 {
		refresh(simulator.ForbiddenRAM)
	}
	if n := errorLines(); n != 1 {
		t.Errorf("three refreshes failing with Forbidden.RAM logged %d ERROR lines, want 1; log:\n%s", n, e.logs)
	}
	if n := strings.Count(e.logs.String(), `level=DEBUG msg="refresh failed"`); n != 2 {
		t.Errorf("the repeats logged %d debug lines, want 2", n)
	}
	refresh(simulator.AccessKeyInactive)
	refresh(simulator.AccessKeyInactive)
	if n := errorLines(); n != 2 {
		t.Errorf("a new permanent failure: %d ERROR lines in all, want 2", n)
	}
	refresh(simulator.Fault{Status: 400, Code: "Throttling.User", Message: "Request was denied due to user flow control."})
	refresh(simulator.Fault{Status: 400, Code: "Throttling.User", Message: "Request was denied due to user flow control."})
	if n := strings.Count(e.logs.String(), `level=WARN msg="refresh failed"`); n != 2 {
		t.Errorf("transient failures logged %d warnings, want one per refresh (2)", n)
	}
	e.sim.SetSticky(nil)
	for range 2 {
		e.clock.Advance(2 * e.cfg.CacheTTL.D())
		e.check(1)
	}
	if n := strings.Count(e.logs.String(), `level=INFO msg="refresh succeeded again"`); n != 1 {
		t.Errorf("recovery logged %d info lines, want 1 (then quiet); log:\n%s", n, e.logs)
	}
}
