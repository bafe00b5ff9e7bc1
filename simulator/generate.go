package simulator

import (
	"encoding/json"
	"fmt"
	"time"
)

// Generate returns n delivery groups shaped like the demo's (pools, apps,
// tags, schedules, every status), with IDs and names made unique; the
// benchmarks and load tests use it.
func Generate(n int, now time.Time) (Dataset, error) {
	demo, err := DemoDataset(now)
	if err != nil {
		return Dataset{}, err
	}
	templates := make([]map[string]any, len(demo.AppInstanceGroupModels))
	names := make([]any, len(templates))
	for i, raw := range demo.AppInstanceGroupModels {
		if err := json.Unmarshal(raw, &templates[i]); err != nil {
			return Dataset{}, err
		}
		names[i] = templates[i]["AppInstanceGroupName"]
	}
	out := Dataset{AppInstanceGroupModels: make([]json.RawMessage, 0, n)}
	for i := range n {
		// The template is reused: every field changed here is set afresh.
		g := templates[i%len(templates)]
		g["AppInstanceGroupId"] = fmt.Sprintf("aig-gen%07d", i)
		g["AppInstanceGroupName"] = fmt.Sprintf("%s #%d", names[i%len(templates)], i/len(templates))
		if pools, ok := g["NodePool"].([]any); ok {
			for j, p := range pools {
				p.(map[string]any)["NodePoolId"] = fmt.Sprintf("rg-gen%07d-%d", i, j)
			}
		}
		raw, err := json.Marshal(g)
		if err != nil {
			return Dataset{}, err
		}
		out.AppInstanceGroupModels = append(out.AppInstanceGroupModels, raw)
	}
	return out, nil
}
