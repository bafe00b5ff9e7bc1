package aliyun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// instancesEnv serves group g with n app instances in the given states,
// in turn, and other instances for group "other".
func instancesEnv(t *testing.T, n int, states ...[2]string) *env {
	t.Helper()
	e := newEnv(t, nil)
	var list, others []json.RawMessage
	for i := range n {
		st := states[i%len(states)]
		in := map[string]any{"AppInstanceId": fmt.Sprintf("ai-%04d", i), "AppInstanceGroupId": "aig-1", "Status": st[0],
			"BindInfo": map[string]any{"EndUserId": "alice", "UsageDuration": 60}}
		if st[1] != "" {
			in["SessionStatus"] = st[1]
		}
		b, _ := json.Marshal(in)
		list = append(list, b)
	}
	others = append(others, json.RawMessage(`{"AppInstanceId":"ai-x","AppInstanceGroupId":"other","Status":"RUNNING","SessionStatus":"connect"}`))
	if err := e.sim.SetData(simulator.Dataset{AppInstances: map[string][]json.RawMessage{"aig-1": list, "other": others}}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) sessions(groupID string, wait RateWait) (GroupSessions, error) {
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.RefreshTimeout.D())
	defer cancel()
	return e.client.ListAppInstances(ctx, groupID, wait)
}

// TestListAppInstancesCountsAcrossPages: 250 instances in three pages are
// counted by Status and SessionStatus, each page asked for once, every
// parameter in the query string where the SDKs send it.
func TestListAppInstancesCountsAcrossPages(t *testing.T) {
	e := instancesEnv(t, 250, [2]string{"RUNNING", "connect"}, [2]string{"RUNNING", "connect"}, [2]string{"RUNNING", "disconnect"},
		[2]string{"BOUND", ""}, [2]string{"INIT", ""})
	got, err := e.sessions("aig-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[SessionKey]int{{"RUNNING", "connect"}: 100, {"RUNNING", "disconnect"}: 50, {"BOUND", ""}: 50, {"INIT", ""}: 50}
	if !maps.Equal(got.Counts, want) || got.Pages != 3 {
		t.Errorf("counted %v in %d pages, want %v in 3", got.Counts, got.Pages, want)
	}
	log := e.sim.Log()
	if len(log) != 3 {
		t.Fatalf("%d requests, want 3", len(log))
	}
	for i, r := range log {
		if r.Action != "ListAppInstances" || r.Code != "Success" || len(r.Misplaced) > 0 || len(r.Form) > 0 {
			t.Errorf("request %d: %s answered %s, misplaced %v, body %v", i+1, r.Action, r.Code, r.Misplaced, r.Form)
		}
		for k, v := range map[string]string{"AppInstanceGroupId": "aig-1", "PageNumber": fmt.Sprint(i + 1), "PageSize": "100", "RegionId": e.cfg.RegionID} {
			if got := r.Query.Get(k); got != v {
				t.Errorf("request %d: %s=%q, want %q", i+1, k, got, v)
			}
		}
	}
}

// TestListAppInstancesEmptyGroup: a group without instances is one
// request and no counts.
func TestListAppInstancesEmptyGroup(t *testing.T) {
	e := instancesEnv(t, 3, [2]string{"RUNNING", "connect"})
	got, err := e.sessions("aig-empty", nil)
	if err != nil || len(got.Counts) != 0 || got.Pages != 1 {
		t.Errorf("got %v in %d pages, %v; want nothing in 1", got.Counts, got.Pages, err)
	}
}

// TestListAppInstancesFilterIgnored: an answer that lists another group's
// instances fails instead of counting them as this group's.
func TestListAppInstancesFilterIgnored(t *testing.T) {
	e := instancesEnv(t, 3, [2]string{"RUNNING", "connect"})
	e.sim.Inject(simulator.Fault{Status: 200, Body: `{"RequestId":"r","TotalCount":2,"AppInstanceModels":[` +
		`{"AppInstanceId":"ai-1","AppInstanceGroupId":"aig-1","Status":"RUNNING"},{"AppInstanceId":"ai-x","AppInstanceGroupId":"other","Status":"RUNNING"}]}`})
	_, err := e.sessions("aig-1", nil)
	if err == nil || !strings.Contains(err.Error(), "listed an instance of group other: the AppInstanceGroupId filter was not applied") {
		t.Errorf("got %v", err)
	}
}

// TestListAppInstancesWaitsBeforeEveryAttempt: the request budget is
// asked before each attempt, retries included, and its refusal ends the
// call without a request.
func TestListAppInstancesWaitsBeforeEveryAttempt(t *testing.T) {
	e := instancesEnv(t, 3, [2]string{"RUNNING", "connect"})
	e.sim.Inject(simulator.ThrottlingUser.For("ListAppInstances"))
	var waits atomic.Int32
	got, err := e.sessions("aig-1", func(context.Context) error { waits.Add(1); return nil })
	if err != nil || got.Counts[SessionKey{"RUNNING", "connect"}] != 3 {
		t.Fatalf("got %v, %v", got.Counts, err)
	}
	if n, reqs := waits.Load(), len(e.sim.Log()); n != 2 || reqs != 2 {
		t.Errorf("%d waits for %d requests, want 2 and 2 (one throttled, one retry)", n, reqs)
	}
	refused := errors.New("no budget left")
	if _, err := e.sessions("aig-1", func(context.Context) error { return refused }); !errors.Is(err, refused) {
		t.Errorf("refused wait: got %v", err)
	}
	if reqs := len(e.sim.Log()); reqs != 2 {
		t.Errorf("a refused wait sent a request: %d requests", reqs)
	}
}

// TestListAppInstancesFaultForOtherAction: a fault queued for
// ListAppInstanceGroup leaves ListAppInstances alone.
func TestListAppInstancesFaultForOtherAction(t *testing.T) {
	e := instancesEnv(t, 1, [2]string{"INIT", ""})
	e.sim.Inject(simulator.ForbiddenRAM.For("ListAppInstanceGroup"))
	if _, err := e.sessions("aig-1", nil); err != nil {
		t.Errorf("a fault for another action answered: %v", err)
	}
	_, err := e.fetch("")
	if class, _ := ErrorClass(err); class != classPermission {
		t.Errorf("ListAppInstanceGroup after it: %v (class %q), want the queued permission fault", err, class)
	}
}
