package main

import (
	"fmt"
	"strings"
)

type rule struct {
	comment     string // written above the rule, one "# " line per line
	record      string
	alert       string
	expr        string
	forDuration string
	severity    string
	summary     string
	description string
	dashboard   string // dashboard_url annotation, empty for none
}

type ruleGroup struct {
	name  string
	rules []rule
}

// render writes the rules file by hand rather than through a YAML encoder:
// comments stay, expressions are literal blocks, and annotations are folded
// blocks, which need no escaping whatever template text they hold.
func render(header string, groups []ruleGroup, p Params) string {
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
			if ri > 0 && r.alert != "" {
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
			if r.alert == "" {
				continue
			}
			if r.forDuration != "" {
				fmt.Fprintf(&b, "        for: %s\n", r.forDuration)
			}
			fmt.Fprintf(&b, "        labels:\n          severity: %s\n        annotations:\n", r.severity)
			folded(&b, "summary", r.summary)
			folded(&b, "description", r.description)
			fmt.Fprintf(&b, "          runbook_url: %s#%s\n", p.RunbookURL, strings.ToLower(r.alert))
			if r.dashboard != "" {
				folded(&b, "dashboard_url", r.dashboard)
			}
		}
	}
	return b.String()
}

// folded writes a YAML folded block scalar (>-) wrapped near 90 columns.
// Lines break only at single spaces, which folding turns back into one
// space, so the value read back is exactly text.
func folded(b *strings.Builder, key, text string) {
	if strings.Contains(text, "  ") || strings.Contains(text, "\n") || strings.HasPrefix(text, " ") || strings.HasSuffix(text, " ") {
		panic(fmt.Sprintf("annotation %s cannot be folded safely: %q", key, text))
	}
	fmt.Fprintf(b, "          %s: >-\n", key)
	const indent = "            "
	line := ""
	for _, word := range strings.Split(text, " ") {
		if line != "" && len(indent)+len(line)+1+len(word) > 90 {
			b.WriteString(indent + line + "\n")
			line = word
			continue
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	b.WriteString(indent + line + "\n")
}

// indent prefixes every line but the first with n spaces, so a
// sub-expression can be placed inside a larger one.
func indent(n int, s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n"+strings.Repeat(" ", n))
}
