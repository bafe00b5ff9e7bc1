// Command generator writes alerts/appstream.rules.yml and the Helm chart's
// template of the same rules, or a copy of the rules tuned by a parameters
// file: go run ./alerts/generator -params my.yml -out my.rules.yml
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	params := flag.String("params", "", "YAML file of parameters to override (see alerts/generator/params.go); none: the defaults")
	out := flag.String("out", "alerts/appstream.rules.yml", "file to write; - for standard output")
	chart := flag.String("chart", "charts/appstream-exporter/templates/_rules.tpl", "the chart's template of the rules, written only without -params; empty: not written")
	flag.Parse()
	p, err := loadParams(*params)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	write(*out, render(header, buildGroups(p), p))
	if *params == "" && *chart != "" {
		write(*chart, renderChart())
	}
}

func write(path, text string) {
	if path == "-" {
		fmt.Print(text)
		return
	}
	// Prometheus, often another user, must read it: world-readable like any rules file.
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil { //nolint:gosec // see above
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
