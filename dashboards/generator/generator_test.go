package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedDashboardsAreGenerated: the JSON in dashboards/ is exactly
// what this generator writes, so nobody edits one and forgets the other.
func TestCommittedDashboardsAreGenerated(t *testing.T) {
	for name, build := range dashboards {
		want, err := render(build)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("dashboards/%s differs from the generator's output; run `go run .` in dashboards/generator", name)
		}
	}
}

// TestPanelsAreDocumented: every panel says what it shows and in which
// unit, and the dashboards keep their uids (links and provisioning rely on them).
func TestPanelsAreDocumented(t *testing.T) {
	uids := map[string]string{"appstream-overview.json": "appstream-overview", "appstream-exporter.json": "appstream-exporter"}
	for name, build := range dashboards {
		out, err := render(build)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			UID    string `json:"uid"`
			Panels []struct {
				Type, Title, Description string
				FieldConfig              struct {
					Defaults struct {
						Unit     string `json:"unit"`
						Mappings []any  `json:"mappings"`
					} `json:"defaults"`
				} `json:"fieldConfig"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(out, &d); err != nil {
			t.Fatal(err)
		}
		if d.UID != uids[name] {
			t.Errorf("%s: uid %q, want %q", name, d.UID, uids[name])
		}
		for _, p := range d.Panels {
			if p.Type == "row" {
				continue
			}
			if p.Description == "" {
				t.Errorf("%s: panel %q has no description", name, p.Title)
			}
			if p.FieldConfig.Defaults.Unit == "" && len(p.FieldConfig.Defaults.Mappings) == 0 && p.Type != "heatmap" {
				t.Errorf("%s: panel %q has no unit", name, p.Title)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", name, p.Title)
			}
		}
	}
}
