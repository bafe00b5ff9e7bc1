package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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

// TestPanelsShowCurrentValues: stat and bar gauge panels run instant
// queries (a range query reduced to its last value shows a dead exporter's
// last value), show "No data" rather than a zero made up by `or vector(0)`,
// tables of groups link to the overview of the row's group, and the links
// between the dashboards carry the time range and the variables.
func TestPanelsShowCurrentValues(t *testing.T) {
	for name, build := range dashboards {
		out, err := render(build)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Links []struct {
				KeepTime    bool `json:"keepTime"`
				IncludeVars bool `json:"includeVars"`
			} `json:"links"`
			Panels []struct {
				Type, Title, Description string
				FieldConfig              struct {
					Defaults struct {
						NoValue string `json:"noValue"`
						Links   []struct {
							URL string `json:"url"`
						} `json:"links"`
					} `json:"defaults"`
				} `json:"fieldConfig"`
				Targets []struct {
					Expr    string `json:"expr"`
					Instant bool   `json:"instant"`
					Range   bool   `json:"range"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(out, &d); err != nil {
			t.Fatal(err)
		}
		for _, l := range d.Links {
			if !l.KeepTime || !l.IncludeVars {
				t.Errorf("%s: a dashboard link drops the time range or the variables", name)
			}
		}
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				if strings.Contains(tg.Expr, "vector(0)") {
					t.Errorf("%s: panel %q makes up a zero: %s", name, p.Title, tg.Expr)
				}
				if (p.Type == "stat" || p.Type == "bargauge" || p.Type == "table") && (!tg.Instant || tg.Range) {
					t.Errorf("%s: panel %q (%s) runs a range query", name, p.Title, p.Type)
				}
			}
			// "No data", or "No data: " and why (the app instance panels).
			if (p.Type == "stat" || p.Type == "bargauge") && p.FieldConfig.Defaults.NoValue != noData && !strings.HasPrefix(p.FieldConfig.Defaults.NoValue, noData+": ") {
				t.Errorf("%s: panel %q has noValue %q", name, p.Title, p.FieldConfig.Defaults.NoValue)
			}
			if p.Type == "table" {
				if len(p.FieldConfig.Defaults.Links) == 0 || !strings.Contains(p.FieldConfig.Defaults.Links[0].URL, "/d/appstream-overview?var-region=${__data.fields.region}&var-group=${__data.fields.group_id}") {
					t.Errorf("%s: table %q does not link its rows to their group", name, p.Title)
				}
			}
			if strings.Contains(p.Description, listsAllMarker) && p.Type != "table" {
				t.Errorf("%s: panel %q is marked as listing every group but is a %s", name, p.Title, p.Type)
			}
		}
	}
}

// TestPanelDocIsGenerated: docs/dashboards.md is what the generator writes
// from the dashboards' own titles and descriptions.
func TestPanelDocIsGenerated(t *testing.T) {
	want, err := panelDoc()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(docFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s differs from the generator's output; run `go run .` in dashboards/generator", docFile)
	}
}

// TestImportable: each dashboard carries the envelope Grafana's "Import
// dashboard" reads: one Prometheus data source input, which the
// datasource variable starts at (so the pick at import is used), and a
// requirement for each panel type it has.
func TestImportable(t *testing.T) {
	for name, build := range dashboards {
		out, err := render(build)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Inputs []struct {
				Name string `json:"name"`
			} `json:"__inputs"`
			Requires []struct {
				Type, ID string
			} `json:"__requires"`
			Panels     []struct{ Type string } `json:"panels"`
			Templating struct {
				List []struct {
					Name    string
					Current struct {
						Value any `json:"value"`
					} `json:"current"`
				} `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(out, &d); err != nil {
			t.Fatal(err)
		}
		if len(d.Inputs) != 1 || d.Inputs[0].Name != importInputName {
			t.Errorf("%s: __inputs %+v, want one %s", name, d.Inputs, importInputName)
		}
		required := map[string]bool{}
		for _, r := range d.Requires {
			required[r.Type+"/"+r.ID] = true
		}
		for _, want := range []string{"grafana/grafana", "datasource/prometheus"} {
			if !required[want] {
				t.Errorf("%s: __requires lacks %s", name, want)
			}
		}
		for _, p := range d.Panels {
			if p.Type != "row" && !required["panel/"+p.Type] {
				t.Errorf("%s: __requires lacks panel %s", name, p.Type)
			}
		}
		for _, v := range d.Templating.List {
			if v.Name == "datasource" && v.Current.Value != "${"+importInputName+"}" {
				t.Errorf("%s: the datasource variable starts at %v, not the import's pick", name, v.Current.Value)
			}
		}
	}
}
