package simulator

import (
	"encoding/json"
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
