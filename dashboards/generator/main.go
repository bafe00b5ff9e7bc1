// Command generator writes the Grafana dashboards of appstream_exporter.
// The dashboards are Go code built with the Grafana Foundation SDK, so their
// JSON follows Grafana's published schema; run `go run .` here after a
// change and commit the JSON it writes to ../.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// dashboards maps each output file to its builder.
var dashboards = map[string]func() *dashboard.DashboardBuilder{
	"appstream-overview.json": overview,
	"appstream-exporter.json": exporter,
}

// importable is a dashboard with the envelope of grafana.com's dashboard
// files: Grafana's "Import dashboard" reads __inputs to ask for the data
// source and substitutes ${DS_PROMETHEUS}; provisioning (the chart's
// sidecar ConfigMaps) ignores both keys.
type importable struct {
	Inputs   []importInput `json:"__inputs"`
	Requires []requirement `json:"__requires"`
	*dashboard.Dashboard
}

type importInput struct {
	Name        string `json:"name"`
	Label       string `json:"label"`
	Description string `json:"description"`
	Type        string `json:"type"`
	PluginID    string `json:"pluginId"`
	PluginName  string `json:"pluginName"`
}

type requirement struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

// importInputName is the data source input of the import dialog; the
// datasource variable starts at it, so the pick at import becomes the
// variable's default, and a provisioned copy, where nothing substitutes it,
// falls back to Grafana's default Prometheus data source.
const importInputName = "DS_PROMETHEUS"

// grafanaVersion is the Grafana whose published schema the dashboards are
// checked against (dashboards/schema).
const grafanaVersion = "13.2.3"

// panelNames are the display names of the panel plugins the dashboards use.
var panelNames = map[string]string{"bargauge": "Bar gauge", "heatmap": "Heatmap", "stat": "Stat", "table": "Table", "timeseries": "Time series"}

// render builds one dashboard as indented JSON.
func render(build func() *dashboard.DashboardBuilder) ([]byte, error) {
	d, err := build().Build()
	if err != nil {
		return nil, err
	}
	out := importable{
		Inputs: []importInput{{Name: importInputName, Label: "Prometheus", Description: "The Prometheus that scrapes appstream_exporter",
			Type: "datasource", PluginID: "prometheus", PluginName: "Prometheus"}},
		Requires: []requirement{
			{Type: "grafana", ID: "grafana", Name: "Grafana", Version: grafanaVersion},
			{Type: "datasource", ID: "prometheus", Name: "Prometheus", Version: "1.0.0"},
		},
		Dashboard: &d,
	}
	types := map[string]bool{}
	for _, p := range d.Panels {
		if p.Panel != nil {
			types[p.Panel.Type] = true
		}
	}
	for _, t := range slices.Sorted(maps.Keys(types)) {
		name, ok := panelNames[t]
		if !ok {
			return nil, fmt.Errorf("panel type %q has no name in panelNames", t)
		}
		out.Requires = append(out.Requires, requirement{Type: "panel", ID: t, Name: name, Version: ""})
	}
	// The SDK gives every variable the interval-only fields auto, auto_min
	// and auto_count; Grafana's schema knows them on interval variables only.
	for i := range d.Templating.List {
		if v := &d.Templating.List[i]; v.Type != dashboard.VariableTypeInterval {
			v.Auto, v.AutoMin, v.AutoCount = nil, nil, nil
		}
	}
	text, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(text, '\n'), nil
}

func main() {
	dir := flag.String("out", "..", "directory to write the dashboards to")
	doc := flag.String("doc", docFile, "file to write the panel reference to")
	flag.Parse()
	text, err := panelDoc()
	if err == nil {
		err = os.WriteFile(*doc, []byte(text), 0o644) //nolint:gosec // committed, world-readable Markdown
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for name, build := range dashboards {
		out, err := render(build)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			os.Exit(1)
		}
		if err := os.WriteFile(filepath.Join(*dir, name), out, 0o644); err != nil { //nolint:gosec // committed, world-readable JSON
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
