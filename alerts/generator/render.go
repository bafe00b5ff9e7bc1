package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

type rule struct {
	comment     string // written above the rule, one "# " line per line
	record      string
	alert       string
	expr        string
	forDuration string
	severity    string
	labels      map[string]string // extra labels beside severity
	summary     string
	description string
	dashboard   string // dashboard_url annotation, empty for none
}

type ruleGroup struct {
	name  string
	rules []rule
}

// style is what differs between the rules file and the chart's template of
// it: how a rule's tunable parts are written, and how wide a word of
// annotation text is once rendered (folding breaks lines by that width, so
// the chart's defaults give the same bytes as the file).
type style struct {
	runbookURL string                // base of the runbook links
	width      func(word string) int // a word's rendered width
	// chart writes each alert inside Helm actions that read
	// .Values.prometheusRule.alerts.<name> (see chart.go).
	chart bool
}

// render writes the rules file by hand rather than through a YAML encoder:
// comments stay, expressions are literal blocks, and annotations are folded
// blocks, which need no escaping whatever template text they hold.
func render(header string, groups []ruleGroup, p Params) string {
	return renderStyle(header, groups, style{runbookURL: p.RunbookURL, width: func(w string) int { return len(w) }})
}

func renderStyle(header string, groups []ruleGroup, s style) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(header), "\n") {
		b.WriteString(strings.TrimRight("# "+line, " ") + "\n")
	}
	b.WriteString("groups:\n")
	for gi, g := range groups {
		if gi > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "  - name: %s\n    rules:\n", g.name)
		for ri, r := range g.rules {
			alert := r.alert != ""
			if alert && s.chart {
				// The trim markers eat the newline before them, and the
				// text in between starts with one: a disabled alert leaves
				// nothing behind, an enabled one the same bytes as the file.
				fmt.Fprintf(&b, `{{- $o = index $alerts %q | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}`+"\n", r.alert)
			}
			if ri > 0 && alert {
				b.WriteString("\n")
			}
			if r.comment != "" {
				for _, line := range strings.Split(strings.TrimSpace(r.comment), "\n") {
					b.WriteString(strings.TrimRight("      # "+line, " ") + "\n")
				}
			}
			if r.record != "" {
				fmt.Fprintf(&b, "      - record: %s\n", r.record)
			} else {
				fmt.Fprintf(&b, "      - alert: %s\n", r.alert)
			}
			b.WriteString("        expr: |\n")
			for _, line := range strings.Split(strings.TrimSpace(r.expr), "\n") {
				b.WriteString(strings.TrimRight("          "+line, " ") + "\n")
			}
			if !alert {
				continue
			}
			writeForAndLabels(&b, r, s.chart)
			b.WriteString("        annotations:\n")
			folded(&b, "summary", r.summary, s.width)
			folded(&b, "description", r.description, s.width)
			fmt.Fprintf(&b, "          runbook_url: %s#%s\n", s.runbookURL, strings.ToLower(r.alert))
			if r.dashboard != "" {
				folded(&b, "dashboard_url", r.dashboard, s.width)
			}
			if s.chart {
				b.WriteString("{{- end }}\n")
			}
		}
	}
	return b.String()
}

// writeForAndLabels writes an alert's for: and labels; for the chart, each
// falls back to the generator's choice when the values leave it unset.
func writeForAndLabels(b *strings.Builder, r rule, chart bool) {
	if !chart {
		if r.forDuration != "" {
			fmt.Fprintf(b, "        for: %s\n", r.forDuration)
		}
		fmt.Fprintf(b, "        labels:\n          severity: %s\n", r.severity)
		for _, name := range slices.Sorted(maps.Keys(r.labels)) {
			fmt.Fprintf(b, "          %s: %s\n", name, strconv.Quote(r.labels[name]))
		}
		return
	}
	if r.forDuration != "" {
		fmt.Fprintf(b, "        for: {{ $o.for | default %q }}\n", r.forDuration)
	} else {
		b.WriteString("{{- with $o.for }}\n        for: {{ . }}{{- end }}\n")
	}
	fmt.Fprintf(b, "        labels:\n          severity: {{ $o.severity | default %q }}\n", r.severity)
	// sprig's quote is Go's %q, as strconv.Quote above; range sorts keys.
	b.WriteString("{{- range $name, $value := $o.labels }}\n          {{ $name }}: {{ $value | toString | quote }}\n{{- end }}\n")
}

// folded writes a YAML folded block scalar (>-) wrapped near 90 columns.
// Lines break only at single spaces, which folding turns back into one
// space, so the value read back is exactly text.
func folded(b *strings.Builder, key, text string, width func(string) int) {
	if strings.Contains(text, "  ") || strings.Contains(text, "\n") || strings.HasPrefix(text, " ") || strings.HasSuffix(text, " ") {
		panic(fmt.Sprintf("annotation %s cannot be folded safely: %q", key, text))
	}
	fmt.Fprintf(b, "          %s: >-\n", key)
	const indent = "            "
	line, lineWidth := "", 0
	for _, word := range strings.Split(text, " ") {
		w := width(word)
		if line != "" && len(indent)+lineWidth+1+w > 90 {
			b.WriteString(indent + line + "\n")
			line, lineWidth = word, w
			continue
		}
		if line != "" {
			line += " "
			lineWidth++
		}
		line += word
		lineWidth += w
	}
	b.WriteString(indent + line + "\n")
}

// indent prefixes every line but the first with n spaces, so a
// sub-expression can be placed inside a larger one.
func indent(n int, s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n"+strings.Repeat(" ", n))
}
