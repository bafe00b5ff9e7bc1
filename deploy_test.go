package main

// The Helm chart rendered with `helm template`: what a user gets with the
// default values, with an existing Secret, with RRSA and with every option.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
)

const chart = "charts/appstream-exporter"

// helmTemplate renders the chart with extra values files; without helm the
// test is skipped unless APPSTREAM_HELM_REQUIRED is set (as .ci/run does).
func helmTemplate(t *testing.T, valuesYAML ...string) map[string][]map[string]any {
	t.Helper()
	helm := requireTool(t, "helm", "APPSTREAM_HELM_REQUIRED", "go install helm.sh/helm/v3/cmd/helm@v3.22.0")
	args := []string{"template", "r", chart}
	for i, v := range valuesYAML {
		args = append(args, "-f", writeFile(t, t.TempDir(), "values"+string(rune('0'+i))+".yaml", v))
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(helm, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr.String())
	}
	out := map[string][]map[string]any{}
	dec := yaml.NewDecoder(&stdout)
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			break
		}
		if doc != nil {
			out[doc["kind"].(string)] = append(out[doc["kind"].(string)], doc)
		}
	}
	return out
}

// at walks a decoded YAML document: at(doc, "spec", "template", 0, "name").
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not a mapping at %q", path, k)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("%v: no item %d", path, k)
			}
			v = l[k]
		}
	}
	return v
}

func renderedConfig(t *testing.T, docs map[string][]map[string]any) string {
	t.Helper()
	return at(t, docs["ConfigMap"][0], "data", "appstream_exporter.yml").(string)
}

func TestChartDefaults(t *testing.T) {
	docs := helmTemplate(t)
	for _, kind := range []string{"Deployment", "Service", "ConfigMap", "ServiceAccount"} {
		if len(docs[kind]) != 1 {
			t.Errorf("%d %s, want 1", len(docs[kind]), kind)
		}
	}
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule", "AlertmanagerConfig"} {
		if len(docs[kind]) != 0 {
			t.Errorf("%s rendered although disabled by default", kind)
		}
	}
	pod := at(t, docs["Deployment"][0], "spec", "template", "spec")
	c := at(t, pod, "containers", 0)
	if at(t, pod, "securityContext", "runAsNonRoot") != true || at(t, c, "securityContext", "readOnlyRootFilesystem") != true ||
		!reflect.DeepEqual(at(t, c, "securityContext", "capabilities", "drop"), []any{"ALL"}) ||
		at(t, c, "securityContext", "allowPrivilegeEscalation") != false {
		t.Errorf("container is not locked down: %v", at(t, c, "securityContext"))
	}
	if at(t, c, "livenessProbe", "httpGet", "path") != "/-/healthy" || at(t, c, "readinessProbe", "httpGet", "path") != "/-/ready" {
		t.Errorf("probes: %v %v", at(t, c, "livenessProbe"), at(t, c, "readinessProbe"))
	}
	if at(t, c, "resources", "limits", "memory") == nil {
		t.Errorf("no memory limit")
	}
	// The rendered config is valid for the exporter itself.
	if _, err := config.Parse([]byte(renderedConfig(t, docs)), ""); err != nil {
		t.Errorf("rendered config: %v", err)
	}
}

// TestChartExistingSecret is the README's Kubernetes path: a values file
// naming an existing Secret yields a Deployment that mounts it and a
// ServiceMonitor that scrapes /metrics.
func TestChartExistingSecret(t *testing.T) {
	docs := helmTemplate(t, `credentials:
  existingSecret: appstream-credentials
serviceMonitor:
  enabled: true
  labels: {release: kube-prometheus-stack}
`)
	pod := at(t, docs["Deployment"][0], "spec", "template", "spec")
	if at(t, pod, "volumes", 1, "secret", "secretName") != "appstream-credentials" {
		t.Errorf("the Secret is not a volume: %v", at(t, pod, "volumes"))
	}
	c := at(t, pod, "containers", 0)
	if at(t, c, "volumeMounts", 1, "mountPath") != "/etc/appstream_exporter/credentials" {
		t.Errorf("the Secret is not mounted: %v", at(t, c, "volumeMounts"))
	}
	env := at(t, c, "env", 0)
	if at(t, env, "name") != "ALIBABA_CLOUD_ACCESS_KEY_ID" || at(t, env, "valueFrom", "secretKeyRef", "name") != "appstream-credentials" {
		t.Errorf("the access key ID does not come from the Secret: %v", env)
	}
	if cfg := renderedConfig(t, docs); !strings.Contains(cfg, "access_key_secret_file: /etc/appstream_exporter/credentials/access-key-secret") {
		t.Errorf("the config does not read the mounted secret:\n%s", cfg)
	}
	ep := at(t, docs["ServiceMonitor"][0], "spec", "endpoints", 0)
	if at(t, ep, "path") != "/metrics" || at(t, ep, "port") != "http" {
		t.Errorf("ServiceMonitor endpoint: %v", ep)
	}
	if at(t, docs["ServiceMonitor"][0], "metadata", "labels", "release") != "kube-prometheus-stack" {
		t.Errorf("ServiceMonitor lacks its selector label")
	}
}

func TestChartRRSA(t *testing.T) {
	docs := helmTemplate(t, string(testkit.MustRead(t, chart+"/ci/rrsa-values.yaml")))
	c := at(t, docs["Deployment"][0], "spec", "template", "spec", "containers", 0)
	names := map[string]bool{}
	for _, e := range at(t, c, "env").([]any) {
		names[at(t, e, "name").(string)] = true
	}
	for _, n := range []string{"ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE"} {
		if !names[n] {
			t.Errorf("RRSA: no %s", n)
		}
	}
	vol := at(t, docs["Deployment"][0], "spec", "template", "spec", "volumes", 1)
	if at(t, vol, "projected", "sources", 0, "serviceAccountToken", "audience") != "sts.aliyuncs.com" {
		t.Errorf("RRSA: no token for sts.aliyuncs.com: %v", vol)
	}
	if strings.Contains(renderedConfig(t, docs), "credentials") {
		t.Errorf("RRSA: the config names credentials; the default chain must be used")
	}
}

// TestChartAllOptions: the PrometheusRule is alerts/appstream.rules.yml,
// the AlertmanagerConfig carries the inhibit rules of
// alerts/alertmanager.yml, and the dashboard ConfigMaps are
// dashboards/*.json, unchanged.
func TestChartAllOptions(t *testing.T) {
	docs := helmTemplate(t, string(testkit.MustRead(t, chart+"/ci/all-options-values.yaml")))
	var rules map[string]any
	if err := yaml.Unmarshal(testkit.MustRead(t, "alerts/appstream.rules.yml"), &rules); err != nil {
		t.Fatal(err)
	}
	if got := at(t, docs["PrometheusRule"][0], "spec"); !reflect.DeepEqual(got, rules) {
		t.Errorf("the PrometheusRule differs from alerts/appstream.rules.yml")
	}
	if len(docs["AlertmanagerConfig"]) != 1 || at(t, docs["AlertmanagerConfig"][0], "metadata", "labels", "alertmanagerConfig") != "appstream" {
		t.Errorf("no AlertmanagerConfig with its selector label: %v", docs["AlertmanagerConfig"])
	}
	if len(docs["ConfigMap"]) != 3 {
		t.Fatalf("%d ConfigMaps, want the config and two dashboards", len(docs["ConfigMap"]))
	}
	for _, cm := range docs["ConfigMap"][1:] {
		if at(t, cm, "metadata", "labels", "grafana_dashboard") != "1" {
			t.Errorf("dashboard ConfigMap without the sidecar label")
		}
		for name, text := range at(t, cm, "data").(map[string]any) {
			var got, want any
			if err := json.Unmarshal([]byte(text.(string)), &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(testkit.MustRead(t, "dashboards/"+name), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ConfigMap %s differs from dashboards/%s", at(t, cm, "metadata", "name"), name)
			}
		}
	}
	container := at(t, docs["Deployment"][0], "spec", "template", "spec", "containers", 0)
	args := fmt.Sprint(at(t, container, "args"))
	for _, want := range []string{"--web.config.file=/etc/appstream_exporter/web/web-config.yml", "--web.enable-lifecycle"} {
		if !strings.Contains(args, want) {
			t.Errorf("container args %s lack %s", args, want)
		}
	}
	if at(t, container, "readinessProbe", "tcpSocket", "port") != "http" {
		t.Errorf("with basic auth the readiness probe must not need credentials: %v", at(t, container, "readinessProbe"))
	}
	volumes := fmt.Sprint(at(t, docs["Deployment"][0], "spec", "template", "spec", "volumes"))
	if !strings.Contains(volumes, "secretName:appstream-web-config") {
		t.Errorf("the web config Secret is not mounted: %s", volumes)
	}
	if at(t, docs["ServiceMonitor"][0], "spec", "endpoints", 0, "scheme") != "https" ||
		at(t, docs["ServiceMonitor"][0], "spec", "endpoints", 0, "basicAuth", "username", "name") != "appstream-scrape" {
		t.Errorf("the ServiceMonitor does not scrape over HTTPS with basic auth: %v", at(t, docs["ServiceMonitor"][0], "spec", "endpoints"))
	}
	cfg := renderedConfig(t, docs)
	for _, want := range []string{"role_arn: acs:ram::1234567890123456:role/appstream-readonly", "security_token_file: /etc/appstream_exporter/credentials/security-token", "- cn-hangzhou"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("rendered config lacks %q:\n%s", want, cfg)
		}
	}
}

// matcherRE is an Alertmanager matcher as alerts/alertmanager.yml writes
// them: name, operator, quoted value.
var matcherRE = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(".*")\s*$`)

// v1alpha1Matchers turns matchers into AlertmanagerConfig v1alpha1 ones, as
// YAML decodes them.
func v1alpha1Matchers(t *testing.T, matchers []string) []any {
	t.Helper()
	var out []any
	for _, m := range matchers {
		g := matcherRE.FindStringSubmatch(m)
		if g == nil {
			t.Fatalf("alerts/alertmanager.yml: matcher %q is not name op \"value\"", m)
		}
		value, err := strconv.Unquote(g[3])
		if err != nil {
			t.Fatalf("alerts/alertmanager.yml: matcher %q: %v", m, err)
		}
		out = append(out, map[string]any{"name": g[1], "matchType": g[2], "value": value})
	}
	return out
}

// TestChartAccounts: several accounts render into the configuration the
// exporter itself accepts, each Secret mounted where its account's
// credentials block reads it; a wrong entry fails the render and says why.
func TestChartAccounts(t *testing.T) {
	docs := helmTemplate(t, string(testkit.MustRead(t, chart+"/ci/accounts-values.yaml")))
	dir := t.TempDir()
	for _, i := range []string{"0", "1"} {
		writeFile(t, dir, i+"-access-key-id", "LTAI5tTest"+i)
		writeFile(t, dir, i+"-access-key-secret", "secret")
	}
	// The mounted files, here in one directory.
	text := regexp.MustCompile(`/etc/appstream_exporter/accounts/(\d)/`).ReplaceAllString(renderedConfig(t, docs), dir+"/$1-")
	cfg, err := config.Parse([]byte(text), "")
	if err != nil {
		t.Fatalf("the rendered configuration does not load: %v\n%s", err, text)
	}
	var got []string
	for _, ac := range cfg.AccountConfigs() {
		creds := "default chain"
		if ac.Credentials != nil {
			creds = ac.Credentials.AccessKeyIDFile + " " + ac.Credentials.RoleARN
		}
		got = append(got, fmt.Sprintf("%s %s %s %s", ac.Account(), ac.EndpointURL().Host, ac.CacheTTL.D(), strings.TrimSpace(strings.TrimPrefix(creds, dir+"/"))))
	}
	want := []string{
		"cn-prod appstream-center.cn-shanghai.aliyuncs.com 1m0s 0-access-key-id",
		"intl appstream-center.ap-southeast-1.aliyuncs.com 2m0s 1-access-key-id acs:ram::2222222222:role/appstream-read",
		"own appstream-center.cn-shanghai.aliyuncs.com 1m0s default chain",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("accounts:\n got %q\nwant %q", got, want)
	}

	pod := at(t, docs["Deployment"][0], "spec", "template", "spec")
	mounts := fmt.Sprint(at(t, pod, "containers", 0, "volumeMounts"))
	volumes := fmt.Sprint(at(t, pod, "volumes"))
	for i, secret := range []string{"appstream-cn-prod", "appstream-intl"} {
		if !strings.Contains(mounts, fmt.Sprintf("mountPath:/etc/appstream_exporter/accounts/%d name:account-%d", i, i)) ||
			!strings.Contains(volumes, "secretName:"+secret) {
			t.Errorf("account %d: its Secret %s is not mounted:\n%s\n%s", i, secret, mounts, volumes)
		}
	}

	helm := requireTool(t, "helm", "APPSTREAM_HELM_REQUIRED", "go install helm.sh/helm/v3/cmd/helm@v3.22.0")
	for values, want := range map[string]string{
		"accounts: [{name: a, config: {endpoint: x}}]":                               "accounts[0] (a): set existingSecret or rrsa: true, one of them",
		"accounts: [{name: a, rrsa: true}]":                                          "accounts[0] (a): rrsa needs credentials.rrsa.enabled",
		"accounts: [{existingSecret: s}]":                                            "accounts[0].name is required",
		"credentials: {existingSecret: s}\naccounts: [{name: a, existingSecret: t}]": "with accounts, each account names its own existingSecret",
	} {
		out, err := exec.Command(helm, "template", "r", chart, "-f", writeFile(t, t.TempDir(), "v.yaml", values)).CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) {
			t.Errorf("%s: helm template %v, want a failure saying %q:\n%s", values, err, want, out)
		}
	}
}

// TestChartRunbookURL: prometheusRule.runbookUrl moves every alert's
// runbook link to the operator's page, at the same section, and changes
// nothing else of the rules.
func TestChartRunbookURL(t *testing.T) {
	const base = "https://wiki.example.com/ops/appstream"
	docs := helmTemplate(t, "prometheusRule:\n  enabled: true\n  runbookUrl: "+base+"\n")
	var want map[string]any
	if err := yaml.Unmarshal(testkit.MustRead(t, "alerts/appstream.rules.yml"), &want); err != nil {
		t.Fatal(err)
	}
	got := at(t, docs["PrometheusRule"][0], "spec").(map[string]any)
	links := 0
	for gi, g := range at(t, got, "groups").([]any) {
		for ri, r := range at(t, g, "rules").([]any) {
			ann, ok := at(t, r, "annotations").(map[string]any)
			if !ok {
				continue // a recording rule
			}
			name := at(t, r, "alert").(string)
			if ann["runbook_url"] != base+"#"+strings.ToLower(name) {
				t.Errorf("%s: runbook_url %v, want %s#%s", name, ann["runbook_url"], base, strings.ToLower(name))
			}
			links++
			// Apart from the link, the rule is the committed one.
			wantRule := at(t, want, "groups", gi, "rules", ri).(map[string]any)
			wantAnn := maps.Clone(wantRule["annotations"].(map[string]any))
			wantAnn["runbook_url"] = ann["runbook_url"]
			wantRule = maps.Clone(wantRule)
			wantRule["annotations"] = wantAnn
			if !reflect.DeepEqual(r, any(wantRule)) {
				t.Errorf("%s: differs from alerts/appstream.rules.yml beyond runbook_url", name)
			}
		}
	}
	if links == 0 {
		t.Fatal("no alert with a runbook_url")
	}
}

// TestChartAlertmanagerConfig: with alertmanagerConfig.enabled the chart
// renders the inhibit rules of alerts/alertmanager.yml, rule for rule, with
// the same sources, targets and equal labels, and nothing else.
func TestChartAlertmanagerConfig(t *testing.T) {
	docs := helmTemplate(t, "alertmanagerConfig: {enabled: true}\n")
	if len(docs["AlertmanagerConfig"]) != 1 {
		t.Fatalf("%d AlertmanagerConfig, want 1", len(docs["AlertmanagerConfig"]))
	}
	amc := docs["AlertmanagerConfig"][0]
	if amc["apiVersion"] != "monitoring.coreos.com/v1alpha1" {
		t.Errorf("apiVersion %v", amc["apiVersion"])
	}
	var file struct {
		InhibitRules []yaml.Node `yaml:"inhibit_rules"`
	}
	if err := yaml.Unmarshal(testkit.MustRead(t, "alerts/alertmanager.yml"), &file); err != nil {
		t.Fatal(err)
	}
	var want []any
	for _, node := range file.InhibitRules {
		var r struct {
			SourceMatchers []string `yaml:"source_matchers"`
			TargetMatchers []string `yaml:"target_matchers"`
			Equal          []string `yaml:"equal"`
		}
		// Strict: source_match and the like would be left out, not compared.
		var buf bytes.Buffer
		if err := yaml.NewEncoder(&buf).Encode(&node); err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(&buf)
		dec.KnownFields(true)
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("alerts/alertmanager.yml, inhibit rule at line %d: %v", node.Line, err)
		}
		rule := map[string]any{
			"sourceMatch": v1alpha1Matchers(t, r.SourceMatchers),
			"targetMatch": v1alpha1Matchers(t, r.TargetMatchers),
		}
		if len(r.Equal) > 0 {
			var equal []any
			for _, e := range r.Equal {
				equal = append(equal, e)
			}
			rule["equal"] = equal
		}
		want = append(want, rule)
	}
	if len(want) == 0 {
		t.Fatal("alerts/alertmanager.yml has no inhibit_rules")
	}
	got, _ := at(t, amc, "spec", "inhibitRules").([]any)
	if len(got) != len(want) {
		t.Fatalf("%d inhibitRules rendered, alerts/alertmanager.yml has %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("inhibit rule %d:\n rendered %v\n want     %v (alerts/alertmanager.yml)", i, got[i], want[i])
		}
	}
	if spec := at(t, amc, "spec").(map[string]any); len(spec) != 1 {
		t.Errorf("spec has more than inhibitRules: %v", spec)
	}
}
