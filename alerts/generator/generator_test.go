package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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
			out[r.Alert+r.Record] = r.Expr + "\x00" + r.For + "\x00" + strings.Join([]string{r.Annotations["summary"], r.Annotations["description"], r.Annotations["dashboard_url"]}, "\x00")
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
		{"expiry_critical_days: 2\n", []string{"AppStreamGroupExpiryImminent", "AppStreamGroupExpiringSoon"}},
		{"expired_paging_days: 3\n", []string{"AppStreamGroupExpired", "AppStreamGroupLongExpired"}},
		{"target_selector: job=\"wuying\"\n", []string{"AppStreamExporterTargetDown", "AppStreamExporterAbsent"}},
		{"skip_user_auth_exempt_group_ids: [aig-kiosk1, aig-kiosk2]\n", []string{"AppStreamGroupSkipsUserAuth"}},
		{"data_stale_grace: 30m\n", []string{"AppStreamDataStale"}},
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
		"saturation_ratio: 90\n":                     "saturation_ratio: must be in (0, 1]",
		"expiry_warning_days: 0.5\n":                 "expiry_*_days",
		"target_selector: appstream\n":               "target_selector",
		"skip_user_auth_matchers: ['tag_x=kiosk']\n": "skip_user_auth_matchers",
		"saturaton_ratio: 0.8\n":                     "field saturaton_ratio not found",
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
