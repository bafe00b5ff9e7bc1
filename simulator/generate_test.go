package simulator

import (
	"encoding/json"
	"testing"
	"time"
)

func TestGenerateUniqueIDs(t *testing.T) {
	d, err := Generate(95, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, raw := range d.AppInstanceGroupModels {
		var g struct {
			AppInstanceGroupId string
			NodePool           []struct{ NodePoolId string }
		}
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatal(err)
		}
		for _, id := range append([]string{g.AppInstanceGroupId}, func() (p []string) {
			for _, np := range g.NodePool {
				p = append(p, np.NodePoolId)
			}
			return
		}()...) {
			if ids[id] {
				t.Fatalf("%s generated twice", id)
			}
			ids[id] = true
		}
	}
	if len(d.AppInstanceGroupModels) != 95 {
		t.Errorf("%d groups, want 95", len(d.AppInstanceGroupModels))
	}
}

func TestGenerateScalesLinearly(t *testing.T) {
	size := func(n int) int {
		d, err := Generate(n, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, g := range d.AppInstanceGroupModels {
			total += len(g)
		}
		return total
	}
	if small, big := size(300), size(3000); big > 11*small {
		t.Errorf("3000 groups take %d bytes, 300 take %d: more than 10x", big, small)
	}
}
