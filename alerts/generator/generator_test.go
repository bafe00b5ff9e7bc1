package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// The committed rules are the defaults' rendering.
func TestCommittedRulesAreGenerated(t *testing.T) {
	want := render(header, buildGroups(defaults()), defaults())
	got, err := os.ReadFile("../appstream.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatal("alerts/appstream.rules.yml is not what the generator writes: run `go run ./alerts/generator`")
	}
}

type rulesFile struct {
	Groups []struct {
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func parse(t *testing.T, text string) map[string]string {
	t.Helper()
	var f rulesFile
	if err := yaml.Unmarshal([]byte(text), &f); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			out[r.Alert+r.Record] = r.Expr + "\x00" + r.For + "\x00" + fmt.Sprint(r.Labels) + "\x00" + strings.Join([]string{r.Annotations["summary"], r.Annotations["description"], r.Annotations["dashboard_url"]}, "\x00")
		}
	}
	return out
}

// Folded annotations read back exactly as the generator wrote them.
func TestAnnotationsRoundTrip(t *testing.T) {
	p := defaults()
	groups := buildGroups(p)
	var f rulesFile
	if err := yaml.Unmarshal([]byte(render(header, groups, p)), &f); err != nil {
		t.Fatal(err)
	}
	i := 0
	for gi, g := range groups {
		for ri, r := range g.rules {
			got := f.Groups[gi].Rules[ri]
			if got.Annotations["summary"] != r.summary || got.Annotations["description"] != r.description || got.Annotations["dashboard_url"] != r.dashboard {
				t.Errorf("%s%s: annotations changed on the way through YAML", r.alert, r.record)
			}
			i++
		}
	}
	if i < 20 {
		t.Fatalf("only %d rules", i)
	}
}

// A parameters file changes exactly the rules that use the parameter.
func TestParameterChangesOnlyItsRules(t *testing.T) {
	cases := []struct {
		params string
		want   []string
	}{
		{"saturation_ratio: 0.8\n", []string{"AppStreamNodePoolSaturated"}},
		{"session_capacity_ratio: 0.8\n", []string{"AppStreamSessionCapacityLow"}},
		{"expiry_critical_days: 2\n", []string{"AppStreamGroupExpiryImminent", "AppStreamGroupExpiringSoon"}},
		{"expired_paging_days: 3\n", []string{"AppStreamGroupExpired", "AppStreamGroupLongExpired"}},
		{"target_selector: job=\"wuying\"\n", []string{"AppStreamExporterTargetDown", "AppStreamExporterAbsent"}},
		{"skip_user_auth_exempt_group_ids: [aig-kiosk1, aig-kiosk2]\n", []string{"AppStreamGroupSkipsUserAuth"}},
		{"data_stale_grace: 30m\n", []string{"AppStreamDataStale"}},
		{"alerts: {AppStreamGroupStuck: {for: 2h}}\n", []string{"AppStreamGroupStuck"}},
		{"alerts: {AppStreamGroupCeased: {labels: {team: billing}}}\n", []string{"AppStreamGroupCeased"}},
		{"tag_labels_in_alerts: false\n", []string{
			"AppStreamGroupCeased", "AppStreamGroupExpired", "AppStreamGroupLongExpired", "AppStreamGroupExpiryImminent",
			"AppStreamGroupExpiringSoon", "AppStreamGroupExpiryApproaching", "AppStreamGroupFailed", "AppStreamGroupStuck",
			"AppStreamGroupUnavailable", "AppStreamGroupSkipsUserAuth", "AppStreamNodePoolSaturated",
			"AppStreamNodePoolScalingExhausted", "AppStreamSessionCapacityLow", "AppStreamNodePoolScheduleTargetNotMet", "AppStreamScheduledTargetAboveMax"}},
	}
	base := parse(t, render(header, buildGroups(defaults()), defaults()))
	for _, c := range cases {
		path := filepath.Join(t.TempDir(), "params.yml")
		if err := os.WriteFile(path, []byte(c.params), 0o600); err != nil {
			t.Fatal(err)
		}
		p, err := loadParams(path)
		if err != nil {
			t.Fatalf("%q: %v", c.params, err)
		}
		got := parse(t, render(header, buildGroups(p), p))
		var changed []string
		for name, text := range base {
			if got[name] != text {
				changed = append(changed, name)
			}
		}
		if strings.Join(sorted(changed), ",") != strings.Join(sorted(c.want), ",") {
			t.Errorf("%q changed %v, want %v", c.params, changed, c.want)
		}
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// Bad parameters are refused with the file and key named.
func TestBadParameters(t *testing.T) {
	for params, want := range map[string]string{
		"saturation_ratio: 90\n":                                   "saturation_ratio: must be in (0, 1]",
		"expiry_warning_days: 0.5\n":                               "expiry_*_days",
		"target_selector: appstream\n":                             "target_selector",
		"skip_user_auth_matchers: ['tag_x=kiosk']\n":               "skip_user_auth_matchers",
		"saturaton_ratio: 0.8\n":                                   "field saturaton_ratio not found",
		"alerts: {AppStreamGroupExpiring: {enabled: false}}\n":     "alerts.AppStreamGroupExpiring: no such alert; the alerts are AppStreamGroupCeased,",
		"alerts: {AppStreamGroupStuck: {for: 1 hour}}\n":           "alerts.AppStreamGroupStuck.for: \"1 hour\" is not a duration",
		"alerts: {AppStreamGroupStuck: {severity: page me}}\n":     "alerts.AppStreamGroupStuck.severity",
		"alerts: {AppStreamGroupStuck: {labels: {severity: x}}}\n": "alerts.AppStreamGroupStuck.labels: \"severity\" cannot be an extra label",
		"alerts: {AppStreamGroupStuck: {enable: false}}\n":         "field enable not found",
	} {
		path := filepath.Join(t.TempDir(), "p.yml")
		if err := os.WriteFile(path, []byte(params), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := loadParams(path)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%q: error %v, want one naming %s and %q", params, err, path, want)
		}
	}
}

// With tag_labels_in_alerts: false, a tag edit mid-incident leaves one
// alert, firing throughout: run in promtool against the rendered rules.
func TestTagEditWithoutTagLabels(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("APPSTREAM_E2E_REQUIRED") != "" {
			t.Fatal("promtool not found: apt-get install -y prometheus")
		}
		t.Skip("promtool not found (apt-get install -y prometheus)")
	}
	p := defaults()
	p.TagLabelsInAlerts = false
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(render(header, buildGroups(p), p)), 0o600); err != nil {
		t.Fatal(err)
	}
	const group = `job="appstream",instance="exporter:9937",group_id="aig-t",group_name="Payroll",region="cn-shanghai",charge_type="PrePaid"`
	alert := `ALERTS{alertname="AppStreamGroupCeased",alertstate="firing",severity="critical",job="appstream",group_id="aig-t",region="cn-shanghai",status="CEASED"}`
	test := `rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'aliyun_appstream_up{job="appstream",instance="exporter:9937"}'
        values: '1x60'
      - series: 'aliyun_appstream_group_info{` + group + `,tag_department="hr"}'
        values: '1x30 stale'
      - series: 'aliyun_appstream_group_status{` + group + `,tag_department="hr",status="CEASED"}'
        values: '1x30 stale'
      - series: 'aliyun_appstream_group_info{` + group + `,tag_department="finance"}'
        values: '_x30 1x30'
      - series: 'aliyun_appstream_group_status{` + group + `,tag_department="finance",status="CEASED"}'
        values: '_x30 1x30'
    promql_expr_test:
`
	for _, at := range []string{"25m", "33m", "38m", "45m", "55m"} {
		test += "      - expr: ALERTS{alertname=\"AppStreamGroupCeased\"}\n        eval_time: " + at + "\n        exp_samples:\n          - labels: '" + alert + "'\n            value: 1\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "test.yml"), []byte(test), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "test", "rules", "test.yml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
}

// An expiry alert hands over to the next window while that one is pending,
// which it can only see if the next window's rule is evaluated before it
// in the same group.
func TestHandOverOrder(t *testing.T) {
	for _, g := range buildGroups(defaults()) {
		seen := map[string]bool{}
		for _, r := range g.rules {
			for _, m := range handOverRE.FindAllStringSubmatch(r.expr, -1) {
				for _, next := range strings.Split(m[1], "|") {
					if !seen[next] {
						t.Errorf("%s hands over to %s, which is evaluated after it", r.alert, next)
					}
				}
			}
			seen[r.alert] = true
		}
	}
}

var handOverRE = regexp.MustCompile(`ALERTS\{alertname=~"([^"]+)", alertstate="pending"\}`)

// Every alert's runbook_url is docs/runbooks.md at the anchor GitHub gives
// the heading of its own section; the sections follow the rules file's
// order, and every heading but the title names an alert.
func TestRunbookSections(t *testing.T) {
	const doc = "https://github.com/appstream-exporter/appstream_exporter/blob/main/docs/runbooks.md"
	p := defaults()
	if p.RunbookURL != doc {
		t.Errorf("default runbook_url %s, want %s", p.RunbookURL, doc)
	}
	var f rulesFile
	if err := yaml.Unmarshal([]byte(render(header, buildGroups(p), p)), &f); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile("../../docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	headings := markdownHeadings(string(text))
	if len(headings) == 0 || headings[0].level != 1 {
		t.Fatal("docs/runbooks.md does not start with a title")
	}
	anchors := map[string]string{} // anchor: heading
	var sections []string
	for _, h := range headings[1:] {
		anchors[h.anchor] = h.text
		sections = append(sections, h.text)
	}
	var alerts []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts = append(alerts, r.Alert)
			url := r.Annotations["runbook_url"]
			anchor, ok := strings.CutPrefix(url, doc+"#")
			if !ok {
				t.Errorf("%s: runbook_url %s is not in %s", r.Alert, url, doc)
				continue
			}
			if anchors[anchor] != r.Alert {
				t.Errorf("%s: runbook_url anchor #%s is no heading %q of docs/runbooks.md", r.Alert, anchor, r.Alert)
			}
		}
	}
	if !slices.Equal(sections, alerts) {
		t.Errorf("docs/runbooks.md sections:\n  %s\nwant one per alert, in the rules file's order:\n  %s",
			strings.Join(sections, "\n  "), strings.Join(alerts, "\n  "))
	}
}

type heading struct {
	level        int
	text, anchor string
}

// markdownHeadings are the ATX headings of a Markdown text outside fenced
// code, each with the anchor GitHub gives it: lower case, punctuation
// other than - and _ dropped, spaces as -, and -1, -2 … on repeats.
func markdownHeadings(text string) []heading {
	var out []heading
	seen := map[string]int{}
	fence := ""
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		m := headingRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		h := heading{level: len(m[1]), text: m[2]}
		var slug strings.Builder
		for _, r := range strings.ToLower(h.text) {
			switch {
			case r == ' ':
				slug.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				slug.WriteRune(r)
			}
		}
		h.anchor = slug.String()
		if n := seen[h.anchor]; n > 0 {
			seen[h.anchor]++
			h.anchor += "-" + strconv.Itoa(n)
		} else {
			seen[h.anchor] = 1
		}
		out = append(out, h)
	}
	return out
}

var headingRE = regexp.MustCompile(`^(#{1,6})\s+(.*?)(?:\s+#+)?\s*$`)

// Every group and pool alert (the guarded ones) keeps
// AppStreamExporterDemoMode holding while it fires, and every pool alert is
// muted by alerts/alertmanager.yml while its group is ceased or expired:
// both select them by name, which a new alert must match.
func TestGroupAlertsMatchDemoHoldAndInhibition(t *testing.T) {
	var am struct {
		InhibitRules []struct {
			SourceMatchers []string `yaml:"source_matchers"`
			TargetMatchers []string `yaml:"target_matchers"`
		} `yaml:"inhibit_rules"`
	}
	data, err := os.ReadFile("../alertmanager.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &am); err != nil {
		t.Fatal(err)
	}
	var poolTargets *regexp.Regexp
	for _, r := range am.InhibitRules {
		if slices.Contains(r.SourceMatchers, `alertname=~"AppStreamGroupCeased|AppStreamGroupExpired|AppStreamGroupLongExpired"`) {
			m := regexp.MustCompile(`^alertname=~"(.*)"$`).FindStringSubmatch(r.TargetMatchers[0])
			poolTargets = regexp.MustCompile("^(?:" + m[1] + ")$")
		}
	}
	if poolTargets == nil {
		t.Fatal("alerts/alertmanager.yml has no inhibit rule for a ceased or expired group")
	}
	var demoHold *regexp.Regexp
	var guarded, pools []string
	for _, g := range buildGroups(defaults()) {
		for _, r := range g.rules {
			if m := demoHoldRE.FindStringSubmatch(r.expr); r.alert == "AppStreamExporterDemoMode" && m != nil {
				demoHold = regexp.MustCompile("^(?:" + m[1] + ")$")
			}
			if strings.Contains(r.expr, "group:aliyun_appstream_group_info:fresh") {
				guarded = append(guarded, r.alert)
				if strings.Contains(r.expr, "aliyun_appstream_node_pool_") {
					pools = append(pools, r.alert)
				}
			}
		}
	}
	if demoHold == nil || len(guarded) < 14 || len(pools) < 4 {
		t.Fatalf("DemoMode's hold %v, %d group and pool alerts, %d pool alerts: the test no longer reads the rules", demoHold, len(guarded), len(pools))
	}
	for _, name := range guarded {
		if !demoHold.MatchString(name) {
			t.Errorf("%s does not keep AppStreamExporterDemoMode holding (%s)", name, demoHold)
		}
	}
	for _, name := range pools {
		if !poolTargets.MatchString(name) {
			t.Errorf("%s is not muted while its group is ceased or expired (%s)", name, poolTargets)
		}
	}
}

var demoHoldRE = regexp.MustCompile(`group by \(job\) \(ALERTS\{alertname=~"([^"]+)", alertstate="firing"\}\)`)
