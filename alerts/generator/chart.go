// The chart's template of the rules: the same rules as the file, with the
// parameters a Helm user tunes written as Helm actions that read
// .Values.prometheusRule. One generator writes both, so the PromQL has one
// source; Helm only fills in numbers, names and links.

package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// chartTunable is a number the chart's values set: key is its name under
// prometheusRule.thresholds and its Helm variable. sentinel stands for it
// while the rules are built (see renderChart): a literal, so its %g has no
// float noise that would make one sentinel a prefix of another.
type chartTunable struct {
	key      string
	field    func(*Params) *float64
	kind     string // "days" or "ratio"
	sentinel float64
}

var chartTunables = []chartTunable{
	{"expiryInfoDays", func(p *Params) *float64 { return &p.ExpiryInfoDays }, "days", 900001},
	{"expiryWarningDays", func(p *Params) *float64 { return &p.ExpiryWarningDays }, "days", 900002},
	{"expiryCriticalDays", func(p *Params) *float64 { return &p.ExpiryCriticalDays }, "days", 900003},
	{"expiredPagingDays", func(p *Params) *float64 { return &p.ExpiredPagingDays }, "days", 900004},
	{"saturationRatio", func(p *Params) *float64 { return &p.SaturationRatio }, "ratio", 0.7770011},
	{"sessionCapacityRatio", func(p *Params) *float64 { return &p.SessionCapacityRatio }, "ratio", 0.7770022},
	{"throttledRatio", func(p *Params) *float64 { return &p.ThrottledRatio }, "ratio", 0.7770033},
}

// Sentinels stand for the chart's values while the rules are built; each
// of their renderings is then replaced by a Helm action. Their digits occur
// nowhere else, so a rendering the replacement misses is found.
const (
	sentinelTarget  = `job="chart-target-sentinel"`
	sentinelGrafana = "https://grafana-sentinel.invalid"
	sentinelMinNode = 900009
)

var leftoverSentinel = regexp.MustCompile(`90000[0-9]|0\.777|77\.7|sentinel`)

// renderChart writes the Helm template; see prometheusrule.yaml for its use
// and _helpers.tpl for the checks of the values it reads.
func renderChart() string {
	d, p := defaults(), defaults()
	var replace []string                 // sentinel rendering, Helm action; in order
	widths := []string{`{{"{{"}}`, "{{"} // Helm action, its width at the defaults
	action := func(sentinelText, helm, atDefault string) {
		replace = append(replace, sentinelText, helm)
		widths = append(widths, helm, atDefault)
	}
	var vars strings.Builder
	for _, t := range chartTunables {
		def, s := *t.field(&d), t.sentinel
		*t.field(&p) = s
		v := "{{$" + t.key + "}}"
		fmt.Fprintf(&vars, "{{- $%s := $t.%s }}\n", t.key, t.key)
		switch t.kind {
		case "days":
			unit := "{{$" + t.key + "Unit}}"
			fmt.Fprintf(&vars, "{{- $%sUnit := ternary \"day\" \"days\" (eq (float64 $t.%s) 1.0) }}\n", t.key, t.key)
			// "N days" first: the bare number is also in "N * 86400".
			replace = append(replace, days(s), v+" "+unit)
			widths = append(widths, unit, strings.TrimPrefix(days(def), fmt.Sprintf("%g ", def)))
			action(fmt.Sprintf("%g", s), v, fmt.Sprintf("%g", def))
		case "ratio":
			pct := "{{$" + t.key + "Percent}}"
			fmt.Fprintf(&vars, "{{- $%sPercent := mulf $t.%s 100 }}\n", t.key, t.key)
			action(percent(s), pct, percent(def))
			action(fmt.Sprintf("%g", s), v, fmt.Sprintf("%g", def))
		}
	}
	fmt.Fprintf(&vars, "{{- $saturationMinNodes := $t.saturationMinNodes }}\n")
	p.SaturationMinNodes = sentinelMinNode
	action(fmt.Sprint(sentinelMinNode), "{{$saturationMinNodes}}", fmt.Sprint(d.SaturationMinNodes))
	p.TargetSelector = sentinelTarget
	action(sentinelTarget, "{{$targetSelector}}", d.TargetSelector)
	p.GrafanaURL = sentinelGrafana
	action(sentinelGrafana, "{{$grafanaUrl}}", d.GrafanaURL)

	// Prometheus' own template text is escaped first, so Helm copies it.
	escape := strings.NewReplacer("{{", `{{"{{"}}`)
	fill := strings.NewReplacer(replace...)
	// A brace before an action, as in up{<selector>}, would open it.
	braceBefore := strings.NewReplacer("{{{$", `{{"{"}}{{$`)
	widths = append(widths, `{{"{"}}`, "{")
	text := func(s string) string { return braceBefore.Replace(fill.Replace(escape.Replace(s))) }
	groups := buildGroups(p)
	var names []string
	for _, g := range groups {
		for i, r := range g.rules {
			r.comment, r.expr, r.summary, r.description, r.dashboard =
				text(r.comment), text(r.expr), text(r.summary), text(r.description), text(r.dashboard)
			g.rules[i] = r
			if r.alert != "" {
				names = append(names, r.alert)
			}
		}
	}
	atDefault := strings.NewReplacer(widths...)
	rules := renderStyle(escape.Replace(header), groups, style{
		runbookURL: "{{ $runbookUrl }}",
		width:      func(w string) int { return len(atDefault.Replace(w)) },
		chart:      true,
	})
	if m := leftoverSentinel.FindString(rules); m != "" {
		panic(fmt.Sprintf("the chart's rules still hold the sentinel %q: a parameter is rendered in a form chart.go does not replace", m))
	}
	list, err := json.Marshal(names)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf(`{{- /*
Written by alerts/generator (go run ./alerts/generator) from the rules of
alerts/appstream.rules.yml; edit the generator, not this file. With the
chart's default values it renders that file byte for byte.
*/ -}}

{{- define "appstream-exporter.alertNames" -}}
%s
{{- end }}

{{- define "appstream-exporter.rules" -}}
{{- $r := .Values.prometheusRule }}
{{- $t := $r.thresholds }}
{{- $alerts := $r.alerts | default dict }}
{{- $o := dict }}
{{- $runbookUrl := $r.runbookUrl | default %q }}
{{- $grafanaUrl := $r.grafanaUrl | default %q }}
{{- $targetSelector := $r.targetSelector | default (printf "job=%%q" .Values.serviceMonitor.jobName) }}
%s{{- /* the rules */ -}}
%s{{- end }}
`, list, d.RunbookURL, d.GrafanaURL, vars.String(), rules)
}
