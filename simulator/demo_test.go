package simulator

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"
)

func TestDemoDataset(t *testing.T) {
	d, err := DemoDataset(time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.AppInstanceGroupModels); n != 30 {
		t.Errorf("%d demo groups, want 30", n)
	}
	seen := map[string]bool{}
	for _, raw := range d.AppInstanceGroupModels {
		var g struct{ Status, ResourceStatus, ChargeType, ChargeResourceMode string }
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatal(err)
		}
		seen[g.Status], seen[g.ResourceStatus], seen[g.ChargeType], seen[g.ChargeResourceMode] = true, true, true, true
	}
	for _, want := range []string{"PUBLISHED", "FAILED", "MAINTAIN_FAILED", "EXPIRED", "MAINTAINING", "CEASED", "EXPIRED_RECYCLING", "DEPLOYING",
		"AVAILABLE", "RELEASED", "EXPIRED_IN_7_DAYS", "UNAVAILABLE", "UPGRADING", "CREATING", "PrePaid", "PostPaid", "AppInstance", "Node"} {
		if !seen[want] {
			t.Errorf("the demo data set has no group with %s", want)
		}
	}
}

// TestDemoSessions: the demo's app instances fit each group: never more
// than it can run, some groups near their limit (a session-billed one
// among them), and every state shown: connected, disconnected, bound and
// initialising. Only published groups have any.
func TestDemoSessions(t *testing.T) {
	d, err := DemoDataset(time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	nearFull, sessionBilledNearFull := 0, false
	for _, raw := range d.AppInstanceGroupModels {
		var g struct {
			ID                 string `json:"AppInstanceGroupId"`
			Status, Mode       string
			ChargeResourceMode string
			MaxAmount          any
			NodePool           []struct{ NodeAmount, ScalingNodeAmount, NodeCapacity any }
		}
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatal(err)
		}
		num := func(v any) float64 { // numbers come as numbers or numeric strings
			f, _ := strconv.ParseFloat(fmt.Sprint(v), 64)
			return f
		}
		capacity := 0.0
		for _, p := range g.NodePool {
			capacity += (num(p.NodeAmount) + num(p.ScalingNodeAmount)) * num(p.NodeCapacity)
		}
		if len(g.NodePool) == 0 {
			capacity = num(g.MaxAmount)
		}
		instances := d.AppInstances[g.ID]
		if g.Status != "PUBLISHED" && len(instances) > 0 {
			t.Errorf("%s (%s) has app instances", g.ID, g.Status)
		}
		connected := 0.0
		for _, raw := range instances {
			var in struct{ AppInstanceGroupID, Status, SessionStatus string }
			if err := json.Unmarshal(raw, &in); err != nil {
				t.Fatal(err)
			}
			states[in.Status+"/"+in.SessionStatus]++
			if in.SessionStatus == "connect" {
				connected++
			}
		}
		if float64(len(instances)) > capacity {
			t.Errorf("%s has %d instances, more than the %v it can run", g.ID, len(instances), capacity)
		}
		if capacity > 0 && connected/capacity >= 0.9 {
			nearFull++
			sessionBilledNearFull = sessionBilledNearFull || g.ChargeResourceMode == "AppInstance"
		}
	}
	for _, s := range []string{"RUNNING/connect", "RUNNING/disconnect", "BOUND/", "INIT/"} {
		if states[s] == 0 {
			t.Errorf("no demo instance is %s (states: %v)", s, states)
		}
	}
	if nearFull < 2 || !sessionBilledNearFull {
		t.Errorf("%d groups at 90%% or more of their sessions, a session-billed one among them: %v; want 2 or more, and yes", nearFull, sessionBilledNearFull)
	}
}

// TestDemoIntlDataset: the demo's second account is healthy (the
// end-to-end test expects its groups to raise no alert) and has app
// instances, so its session panels show data too.
func TestDemoIntlDataset(t *testing.T) {
	d, err := DemoIntlDataset(time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.AppInstanceGroupModels); n != 3 {
		t.Errorf("%d groups, want 3", n)
	}
	for _, raw := range d.AppInstanceGroupModels {
		var g struct {
			ID                     string `json:"AppInstanceGroupId"`
			Status, ResourceStatus string
			RegionID               string `json:"RegionId"`
		}
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatal(err)
		}
		if g.Status != "PUBLISHED" || g.ResourceStatus != "AVAILABLE" || g.RegionID != "ap-southeast-1" {
			t.Errorf("%s: %s/%s in %s, want PUBLISHED/AVAILABLE in ap-southeast-1", g.ID, g.Status, g.ResourceStatus, g.RegionID)
		}
		if len(d.AppInstances[g.ID]) == 0 {
			t.Errorf("%s has no app instances", g.ID)
		}
	}
	if DemoIntlKey == DemoKey {
		t.Error("the demo's two accounts share a key")
	}
}
