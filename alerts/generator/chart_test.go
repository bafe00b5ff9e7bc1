package main

// The chart's PrometheusRule, rendered by helm, against the generator's
// rules: the defaults give alerts/appstream.rules.yml byte for byte, and
// each value gives what the same parameter gives the generator.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const chartDir = "../../charts/appstream-exporter"

// The committed template is what the generator writes.
func TestChartTemplateIsGenerated(t *testing.T) {
	got, err := os.ReadFile(filepath.Join(chartDir, "templates/_rules.tpl"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != renderChart() {
		t.Fatal("charts/appstream-exporter/templates/_rules.tpl is not what the generator writes: run `go run ./alerts/generator`")
	}
}

// chartRules is the spec of the chart's PrometheusRule for values (YAML)
// and --set arguments, as the text of a rules file.
func chartRules(t *testing.T, values string, set ...string) string {
	t.Helper()
	var args []string
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, err := helm(t, values, args...)
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	_, spec, ok := strings.Cut(out, "\nspec:\n")
	if !ok {
		t.Fatalf("no spec in:\n%s", out)
	}
	lines := strings.Split(strings.TrimRight(spec, "\n"), "\n")
	for i, line := range lines {
		lines[i] = strings.TrimPrefix(line, "  ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// helm renders the chart's PrometheusRule for values (YAML under
// prometheusRule) and further arguments.
func helm(t *testing.T, values string, args ...string) (string, error) {
	t.Helper()
	helm, err := exec.LookPath("helm")
	if err != nil {
		if os.Getenv("APPSTREAM_HELM_REQUIRED") != "" {
			t.Fatal("helm is not installed (go install helm.sh/helm/v3/cmd/helm@v3.22.0)")
		}
		t.Skip("helm is not installed (go install helm.sh/helm/v3/cmd/helm@v3.22.0); skipping")
	}
	file := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(file, []byte("prometheusRule:\n  enabled: true\n"+values), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(helm, append([]string{"template", "r", chartDir, "-f", file, "--show-only", "templates/prometheusrule.yaml"}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if err != nil {
		return stderr.String(), err
	}
	return stdout.String(), nil
}

func TestChartDefaultsAreTheRulesFile(t *testing.T) {
	want, err := os.ReadFile("../appstream.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := chartRules(t, ""); got != string(want) {
		t.Fatalf("the chart's default PrometheusRule is not alerts/appstream.rules.yml byte for byte:\n%s", firstDifference(string(want), got))
	}
}

func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			return "line " + strconv.Itoa(i+1) + ":\n want " + w[i] + "\n got  " + g[i]
		}
	}
	return "lengths differ: " + strconv.Itoa(len(w)) + " and " + strconv.Itoa(len(g)) + " lines"
}

// rulesByName reads a rules file into its rules by alert or record name.
func rulesByName(t *testing.T, text string) map[string]any {
	t.Helper()
	var f struct {
		Groups []struct {
			Rules []map[string]any `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal([]byte(text), &f); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	out := map[string]any{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			name, _ := r["alert"].(string)
			if name == "" {
				name, _ = r["record"].(string)
			}
			out[name] = r
		}
	}
	return out
}

// Each value changes exactly the rules its parameter changes, and the same
// way the generator's parameters file does (folding aside: the rules read
// back equal).
func TestChartValuesMatchTheGenerator(t *testing.T) {
	cases := []struct {
		name    string
		values  string   // under prometheusRule
		set     []string // --set, whose integers are int64 to Helm rather than float64
		params  string   // the generator's parameters file
		changed []string
	}{
		{name: "warning days", values: "  thresholds: {expiryWarningDays: 10}\n", params: "expiry_warning_days: 10\n",
			changed: []string{"AppStreamGroupExpiringSoon", "AppStreamGroupExpiryApproaching"}},
		{name: "info days by --set", set: []string{"prometheusRule.thresholds.expiryInfoDays=45"}, params: "expiry_info_days: 45\n",
			changed: []string{"AppStreamGroupExpiryApproaching"}},
		{name: "critical days", values: "  thresholds: {expiryCriticalDays: 2}\n", params: "expiry_critical_days: 2\n",
			changed: []string{"AppStreamGroupExpiryImminent", "AppStreamGroupExpiringSoon"}},
		{name: "half a day", values: "  thresholds: {expiryCriticalDays: 0.5}\n", params: "expiry_critical_days: 0.5\n",
			changed: []string{"AppStreamGroupExpiryImminent", "AppStreamGroupExpiringSoon"}},
		{name: "paging days", values: "  thresholds: {expiredPagingDays: 3}\n", params: "expired_paging_days: 3\n",
			changed: []string{"AppStreamGroupExpired", "AppStreamGroupLongExpired"}},
		{name: "saturation", values: "  thresholds: {saturationRatio: 0.95}\n", params: "saturation_ratio: 0.95\n",
			changed: []string{"AppStreamNodePoolSaturated"}},
		{name: "saturation by --set", set: []string{"prometheusRule.thresholds.saturationRatio=0.85"}, params: "saturation_ratio: 0.85\n",
			changed: []string{"AppStreamNodePoolSaturated"}},
		{name: "min nodes", values: "  thresholds: {saturationMinNodes: 4}\n", params: "saturation_min_nodes: 4\n",
			changed: []string{"AppStreamNodePoolSaturated"}},
		{name: "sessions", values: "  thresholds: {sessionCapacityRatio: 0.8}\n", params: "session_capacity_ratio: 0.8\n",
			changed: []string{"AppStreamSessionCapacityLow"}},
		{name: "throttled", values: "  thresholds: {throttledRatio: 0.1}\n", params: "throttled_ratio: 0.1\n",
			changed: []string{"AppStreamApiThrottled"}},
		{name: "target selector", values: "  targetSelector: job=~\"appstream|wuying\"\n", params: "target_selector: job=~\"appstream|wuying\"\n",
			changed: []string{"AppStreamExporterTargetDown", "AppStreamExporterAbsent"}},
		{name: "job name", set: []string{"serviceMonitor.jobName=wuying"}, params: "target_selector: job=\"wuying\"\n",
			changed: []string{"AppStreamExporterTargetDown", "AppStreamExporterAbsent"}},
		{name: "grafana", values: "  grafanaUrl: https://grafana.example.com\n", params: "grafana_url: https://grafana.example.com\n",
			changed: alertsWhere(func(r rule) bool { return r.dashboard != "" })},
		{name: "one alert tuned", values: "  alerts:\n    AppStreamGroupExpiringSoon: {for: 30m, severity: critical, labels: {team: vdi, pager: \"yes: now\"}}\n",
			params:  "alerts:\n  AppStreamGroupExpiringSoon: {for: 30m, severity: critical, labels: {team: vdi, pager: \"yes: now\"}}\n",
			changed: []string{"AppStreamGroupExpiringSoon"}},
		{name: "for where there was none", values: "  alerts: {AppStreamExporterDemoMode: {for: 1m}}\n",
			params: "alerts: {AppStreamExporterDemoMode: {for: 1m}}\n", changed: []string{"AppStreamExporterDemoMode"}},
		{name: "one alert off", values: "  alerts: {AppStreamGroupStuck: {enabled: false}, AppStreamGroupFailed: {enabled: true}}\n",
			params: "alerts: {AppStreamGroupStuck: {enabled: false}, AppStreamGroupFailed: {enabled: true}}\n", changed: []string{"AppStreamGroupStuck"}},
	}
	base := rulesByName(t, chartRules(t, ""))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := chartRules(t, c.values, c.set...)
			got := rulesByName(t, text)
			path := filepath.Join(t.TempDir(), "params.yml")
			if err := os.WriteFile(path, []byte(c.params), 0o600); err != nil {
				t.Fatal(err)
			}
			p, err := loadParams(path)
			if err != nil {
				t.Fatal(err)
			}
			if want := rulesByName(t, render(header, buildGroups(p), p)); !reflect.DeepEqual(got, want) {
				for name := range want {
					if !reflect.DeepEqual(got[name], want[name]) {
						t.Errorf("%s: chart %v\ngenerator %v", name, got[name], want[name])
					}
				}
				t.Fatalf("the chart's rules differ from the generator's for %q", c.params)
			}
			var changed []string
			for name, r := range base {
				if !reflect.DeepEqual(got[name], r) {
					changed = append(changed, name)
				}
			}
			if strings.Join(sorted(changed), ",") != strings.Join(sorted(c.changed), ",") {
				t.Errorf("changed %v, want %v", sorted(changed), sorted(c.changed))
			}
		})
	}
}

// Values the rules cannot use are refused, naming the key.
func TestChartBadRuleValues(t *testing.T) {
	for values, want := range map[string]string{
		"  thresholds: {expiryWarnDays: 10}\n":                        "prometheusRule.thresholds.expiryWarnDays: no such threshold",
		"  thresholds: {expiryWarningDays: 40}\n":                     "need 0 < expiryCriticalDays < expiryWarningDays < expiryInfoDays (got 1, 40, 30)",
		"  thresholds: {saturationRatio: 90}\n":                       "prometheusRule.thresholds.saturationRatio: must be in (0, 1]",
		"  thresholds: {saturationMinNodes: 2.5}\n":                   "saturationMinNodes: must be a whole number",
		"  thresholds: {throttledRatio: high}\n":                      "prometheusRule.thresholds.throttledRatio: high is not a number",
		"  alerts: {AppStreamGroupExpiring: {enabled: false}}\n":      "prometheusRule.alerts.AppStreamGroupExpiring: no such alert",
		"  alerts: {AppStreamGroupStuck: {enable: false}}\n":          "prometheusRule.alerts.AppStreamGroupStuck.enable: no such setting",
		"  alerts: {AppStreamGroupStuck: {enabled: \"no\"}}\n":        "AppStreamGroupStuck.enabled: must be true or false",
		"  alerts: {AppStreamGroupStuck: {for: 1 hour}}\n":            "AppStreamGroupStuck.for: \"1 hour\" is not a duration",
		"  alerts: {AppStreamGroupStuck: {severity: \"page me\"}}\n":  "AppStreamGroupStuck.severity: \"page me\" is not a label value",
		"  alerts: {AppStreamGroupStuck: {labels: {severity: x}}}\n":  "AppStreamGroupStuck.labels: \"severity\" cannot be an extra label",
		"  alerts: {AppStreamGroupStuck: {labels: {team-name: x}}}\n": "AppStreamGroupStuck.labels: \"team-name\" cannot be an extra label",
		"  runbookUrl: https://wiki.example.com/a page\n":             "prometheusRule.runbookUrl: \"https://wiki.example.com/a page\" has a space",
	} {
		out, err := helm(t, values)
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("%s: helm template %v, want a failure saying %q:\n%s", values, err, want, out)
		}
	}
}

// A rules file of the generator's, given whole, is used as it is.
func TestChartRenderedRules(t *testing.T) {
	p := defaults()
	p.TagLabelsInAlerts = false
	text := render(header, buildGroups(p), p)
	file := filepath.Join(t.TempDir(), "my.rules.yml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := helm(t, "", "--set-file", "prometheusRule.renderedRules="+file)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	_, spec, _ := strings.Cut(out, "\nspec:\n")
	if !reflect.DeepEqual(rulesByName(t, spec), rulesByName(t, text)) {
		t.Fatal("the PrometheusRule is not the rendered rules file")
	}
}
