// Command generator writes the Grafana dashboards of appstream_exporter.
// The dashboards are Go code built with the Grafana Foundation SDK, so their
// JSON follows Grafana's published schema; run `go run .` here after a
// change and commit the JSON it writes to ../.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// dashboards maps each output file to its builder.
var dashboards = map[string]func() *dashboard.DashboardBuilder{
	"appstream-overview.json": overview,
	"appstream-exporter.json": exporter,
}

// render builds one dashboard as indented JSON.
func render(build func() *dashboard.DashboardBuilder) ([]byte, error) {
	d, err := build().Build()
	if err != nil {
		return nil, err
	}
	// The SDK gives every variable the interval-only fields auto, auto_min
	// and auto_count; Grafana's schema knows them on interval variables only.
	for i := range d.Templating.List {
		if v := &d.Templating.List[i]; v.Type != dashboard.VariableTypeInterval {
			v.Auto, v.AutoMin, v.AutoCount = nil, nil, nil
		}
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func main() {
	dir := flag.String("out", "..", "directory to write the dashboards to")
	flag.Parse()
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
