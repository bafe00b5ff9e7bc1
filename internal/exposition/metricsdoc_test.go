package exposition

import (
	"os"
	"strings"
	"testing"
)

const metricsDocPath = "../../docs/metrics.md"

// metricsDoc is docs/metrics.md, written from the family table.
func metricsDoc() string {
	var b strings.Builder
	b.WriteString(`# Metrics

<!-- Generated from the family table in internal/exposition/families.go by
     go test ./internal/exposition -run TestMetricsDoc -update
     Edit the table, not this file. -->

Every group and pool series carries the identity labels ` + "`group_id`, `group_name`, `region`, `charge_type`" + `
and, with ` + "`tag_labels_on: all`" + ` (the default), one ` + "`tag_*`" + ` label per ` + "`tag_labels`" + ` entry.
Pool series add ` + "`node_pool_id`" + ` and ` + "`node_instance_type`" + `. A family marked *per scrape*
is computed from the clock at every scrape; the others are rendered once per refresh.
The README's Metrics section explains the labels, the billing modes and how
schedules are read; its Exporter health table lists the exporter's own metrics.
`)
	sections := []struct {
		title    string
		subjects []subject
	}{{"Groups", []subject{groupSubject, appSubject}}, {"Resource pools", []subject{poolSubject}}}
	for _, s := range sections {
		b.WriteString("\n## " + s.title + "\n\n| metric | type | extra labels | source field | unit | help |\n|---|---|---|---|---|---|\n")
		for _, f := range families {
			if !containsSubject(s.subjects, f.subject) {
				continue
			}
			labels := make([]string, len(f.labels))
			for i, l := range f.labels {
				labels[i] = "`" + l + "`"
			}
			extra := strings.Join(labels, ", ")
			if f.subject == appSubject {
				extra += " only"
			}
			source := f.source
			if f.scrape != nil {
				source += "; *per scrape*"
			}
			b.WriteString("| `" + f.name + "` | " + f.typeName() + " | " + extra + " | " + source + " | " + f.unit + " | " + f.help + " |\n")
		}
	}
	return b.String()
}

func containsSubject(list []subject, s subject) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestMetricsDoc keeps docs/metrics.md what the family table says.
func TestMetricsDoc(t *testing.T) {
	want := metricsDoc()
	if *update {
		if err := os.WriteFile(metricsDocPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(metricsDocPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is not what the family table says; run: go test ./internal/exposition -run TestMetricsDoc -update", metricsDocPath)
	}
}
