package main

// The inhibit rules of alerts/alertmanager.yml in a real Alertmanager:
// alert pairs go in through its API, and its own status of each target
// says whether it is inhibited, and by what.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
)

// alertmanagerServer starts Debian's alertmanager with config, on loopback
// and without clustering. Without the binary the test is skipped, unless
// APPSTREAM_E2E_REQUIRED is set (as .ci/run does).
func alertmanagerServer(t *testing.T, config string) string {
	t.Helper()
	bin := requireTool(t, "prometheus-alertmanager", "APPSTREAM_E2E_REQUIRED", "apt-get install -y prometheus-alertmanager")
	config, err := filepath.Abs(config)
	if err != nil {
		t.Fatal(err)
	}
	// An empty cluster address turns gossip off: one instance, no port 9094.
	return startServer(t, "alertmanager", bin, "--config.file="+config, "--storage.path="+t.TempDir(),
		"--cluster.listen-address=", "--log.level=warn")
}

// Label sets as the rules of appstream.rules.yml write them.

func groupAlert(alertname, groupID string, more ...string) map[string]string {
	l := map[string]string{"alertname": alertname, "severity": "critical", "job": "appstream",
		"group_id": groupID, "region": "cn-hangzhou", "tag_department": "design"}
	for i := 0; i+1 < len(more); i += 2 {
		l[more[i]] = more[i+1]
	}
	return l
}

func poolAlert(alertname, groupID, poolID string, more ...string) map[string]string {
	return groupAlert(alertname, groupID, append([]string{"severity", "warning",
		"node_pool_id", poolID, "node_instance_type", "appstreaming.general.4c8g"}, more...)...)
}

// exporterAlert: an empty value leaves the label out, as Prometheus does
// (biz_region="" of the unfiltered query).
func exporterAlert(alertname, instance string, more ...string) map[string]string {
	l := map[string]string{"alertname": alertname, "severity": "warning", "job": "appstream", "instance": instance}
	for i := 0; i+1 < len(more); i += 2 {
		if more[i+1] != "" {
			l[more[i]] = more[i+1]
		}
	}
	return l
}

func labelKey(l map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, l[k]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// inhibitCase is one source and one target alert, firing together. Each
// case has label values of its own (group_id, instance, job), so no other
// case's alert can inhibit its target.
type inhibitCase struct {
	rule      int // index in inhibit_rules
	name      string
	source    map[string]string
	target    map[string]string
	inhibited bool
}

var inhibitCases = []inhibitCase{
	{0, "Ceased mutes Unavailable", groupAlert("AppStreamGroupCeased", "aig-r0a"),
		groupAlert("AppStreamGroupUnavailable", "aig-r0a"), true},
	{0, "Expired mutes Unavailable", groupAlert("AppStreamGroupExpired", "aig-r0b"),
		groupAlert("AppStreamGroupUnavailable", "aig-r0b"), true},
	{0, "LongExpired mutes a pool's Saturated", groupAlert("AppStreamGroupLongExpired", "aig-r0c"),
		poolAlert("AppStreamNodePoolSaturated", "aig-r0c", "rg-r0c"), true},
	{0, "Ceased mutes a pool's ScalingExhausted", groupAlert("AppStreamGroupCeased", "aig-r0d"),
		poolAlert("AppStreamNodePoolScalingExhausted", "aig-r0d", "rg-r0d"), true},
	{0, "Ceased does not mute Unavailable of another group_id", groupAlert("AppStreamGroupCeased", "aig-r0e"),
		groupAlert("AppStreamGroupUnavailable", "aig-r0f"), false},
	{0, "Expired does not mute Unavailable in another region", groupAlert("AppStreamGroupExpired", "aig-r0g"),
		groupAlert("AppStreamGroupUnavailable", "aig-r0g", "region", "cn-shanghai"), false},
	{0, "Ceased does not mute Failed (not a target)", groupAlert("AppStreamGroupCeased", "aig-r0h"),
		groupAlert("AppStreamGroupFailed", "aig-r0h", "severity", "warning"), false},

	{1, "ScalingExhausted mutes Saturated", poolAlert("AppStreamNodePoolScalingExhausted", "aig-r1a", "rg-r1a"),
		poolAlert("AppStreamNodePoolSaturated", "aig-r1a", "rg-r1a"), true},
	{1, "ScalingExhausted does not mute Saturated of another node_pool_id", poolAlert("AppStreamNodePoolScalingExhausted", "aig-r1b", "rg-r1b"),
		poolAlert("AppStreamNodePoolSaturated", "aig-r1b", "rg-r1c"), false},

	{2, "ScalingExhausted mutes its group's SessionCapacityLow", poolAlert("AppStreamNodePoolScalingExhausted", "aig-r2c", "rg-r2c"),
		groupAlert("AppStreamSessionCapacityLow", "aig-r2c", "severity", "warning"), true},
	{2, "ScalingExhausted does not mute another group's SessionCapacityLow", poolAlert("AppStreamNodePoolScalingExhausted", "aig-r2d", "rg-r2d"),
		groupAlert("AppStreamSessionCapacityLow", "aig-r2e", "severity", "warning"), false},
	{0, "Ceased mutes SessionCapacityLow", groupAlert("AppStreamGroupCeased", "aig-r0i"),
		groupAlert("AppStreamSessionCapacityLow", "aig-r0i", "severity", "warning"), true},

	{3, "ExporterDown mutes DataStale", exporterAlert("AppStreamExporterDown", "exporter-r2a:9937", "biz_region", "cn-shanghai"),
		exporterAlert("AppStreamDataStale", "exporter-r2a:9937", "biz_region", "cn-shanghai"), true},
	{3, "ExporterDown does not mute DataStale of another biz_region", exporterAlert("AppStreamExporterDown", "exporter-r2b:9937", "biz_region", "cn-shanghai"),
		exporterAlert("AppStreamDataStale", "exporter-r2b:9937", "biz_region", "cn-hangzhou"), false},

	// Targets of one TargetDown differ in biz_region, so that rule 3 has
	// nothing to say about them.
	{4, "TargetDown mutes ExporterDown", exporterAlert("AppStreamExporterTargetDown", "exporter-r3a:9937"),
		exporterAlert("AppStreamExporterDown", "exporter-r3a:9937", "biz_region", "cn-shanghai"), true},
	{4, "TargetDown mutes DataStale", exporterAlert("AppStreamExporterTargetDown", "exporter-r3a:9937"),
		exporterAlert("AppStreamDataStale", "exporter-r3a:9937", "biz_region", "cn-hangzhou"), true},
	{4, "TargetDown mutes ApiThrottled", exporterAlert("AppStreamExporterTargetDown", "exporter-r3a:9937"),
		exporterAlert("AppStreamApiThrottled", "exporter-r3a:9937"), true},
	{4, "TargetDown mutes ConfigReloadFailed", exporterAlert("AppStreamExporterTargetDown", "exporter-r3a:9937"),
		exporterAlert("AppStreamConfigReloadFailed", "exporter-r3a:9937"), true},
	{4, "TargetDown mutes AppInstancesDown", exporterAlert("AppStreamExporterTargetDown", "exporter-r3a:9937"),
		exporterAlert("AppStreamAppInstancesDown", "exporter-r3a:9937", "biz_region", "cn-beijing"), true},
	{4, "TargetDown does not mute ExporterDown of another instance", exporterAlert("AppStreamExporterTargetDown", "exporter-r3b:9937"),
		exporterAlert("AppStreamExporterDown", "exporter-r3c:9937", "biz_region", ""), false},

	{5, "DemoMode mutes the demo's group alerts", exporterAlert("AppStreamExporterDemoMode", "127.0.0.1:9937", "job", "appstream-demo", "severity", "info"),
		groupAlert("AppStreamGroupCeased", "aig-r4a", "job", "appstream-demo"), true},
	{5, "DemoMode mutes the demo's exporter alerts", exporterAlert("AppStreamExporterDemoMode", "127.0.0.1:9937", "job", "appstream-demo", "severity", "info"),
		exporterAlert("AppStreamExporterDown", "127.0.0.1:9937", "job", "appstream-demo", "biz_region", ""), true},
	{5, "DemoMode does not mute alerts of another job", exporterAlert("AppStreamExporterDemoMode", "127.0.0.1:9938", "job", "appstream-demo-b", "severity", "info"),
		groupAlert("AppStreamGroupCeased", "aig-r4b"), false},
	// Two demo targets in one job. Alertmanager itself never lets an alert
	// that matches both sides inhibit another such alert; the rule's
	// alertname!= says it outright.
	{5, "DemoMode does not mute DemoMode", exporterAlert("AppStreamExporterDemoMode", "127.0.0.1:9939", "job", "appstream-demo-c", "severity", "info"),
		exporterAlert("AppStreamExporterDemoMode", "127.0.0.1:9940", "job", "appstream-demo-c", "severity", "info"), false},
}

type amStatus struct {
	Labels      map[string]string `json:"labels"`
	Fingerprint string            `json:"fingerprint"`
	Status      struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

func postAlerts(t *testing.T, base string, sets []map[string]string) {
	t.Helper()
	type alert struct {
		Labels   map[string]string `json:"labels"`
		StartsAt time.Time         `json:"startsAt"`
		EndsAt   time.Time         `json:"endsAt"`
	}
	now := time.Now()
	var alerts []alert
	for _, l := range sets {
		alerts = append(alerts, alert{l, now.Add(-time.Minute), now.Add(time.Hour)})
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: %s", resp.Status)
	}
}

// TestAlertmanagerInhibitRules: each target alert of inhibitCases is
// inhibited by its own source, and only by it, exactly when the case says
// so; every rule of alerts/alertmanager.yml has a case where it inhibits
// and one where it must not.
func TestAlertmanagerInhibitRules(t *testing.T) {
	checkInhibitCasesCoverRules(t)
	base := alertmanagerServer(t, "alerts/alertmanager.yml")
	posted := postInhibitCases(t, base)
	byLabels := waitForInhibitions(t, base, posted)
	for _, c := range inhibitCases {
		source, target := byLabels[labelKey(c.source)], byLabels[labelKey(c.target)]
		var want []string
		if c.inhibited {
			want = []string{source.Fingerprint}
		}
		if got := target.Status.InhibitedBy; !slices.Equal(got, want) {
			t.Errorf("rule %d, %s: target %s inhibitedBy %v, want %v (source %s)",
				c.rule, c.name, labelKey(c.target), got, want, labelKey(c.source))
		}
	}
}

// checkInhibitCasesCoverRules: every rule of alerts/alertmanager.yml has a
// case of inhibitCases where it inhibits and one where it does not.
func checkInhibitCasesCoverRules(t *testing.T) {
	var config struct {
		InhibitRules []any `yaml:"inhibit_rules"`
	}
	if err := yaml.Unmarshal(testkit.MustRead(t, "alerts/alertmanager.yml"), &config); err != nil {
		t.Fatal(err)
	}
	covered := map[int]map[bool]bool{}
	for _, c := range inhibitCases {
		if covered[c.rule] == nil {
			covered[c.rule] = map[bool]bool{}
		}
		covered[c.rule][c.inhibited] = true
	}
	for i := range config.InhibitRules {
		if !covered[i][true] || !covered[i][false] {
			t.Errorf("inhibit rule %d of alerts/alertmanager.yml lacks a case where it inhibits and one where it does not", i)
		}
	}
}

// postInhibitCases posts the sources and targets of inhibitCases and
// returns the label keys of every alert posted.
func postInhibitCases(t *testing.T, base string) map[string]bool {
	// Sources first, in one request, a case that inhibits last: Alertmanager
	// takes a request's alerts in order, so once every target that should
	// be inhibited is, every source has been seen, and what the other
	// targets show is final.
	var sources, targets []map[string]string
	last := -1
	for i, c := range inhibitCases {
		if c.inhibited {
			last = i
		}
	}
	for i, c := range inhibitCases {
		if i != last {
			sources = append(sources, c.source)
		}
		targets = append(targets, c.target)
	}
	sources = append(sources, inhibitCases[last].source)
	postAlerts(t, base, sources)
	postAlerts(t, base, targets)

	posted := map[string]bool{}
	for _, s := range append(sources, targets...) {
		posted[labelKey(s)] = true
	}
	return posted
}

// waitForInhibitions waits, up to 10 s, until Alertmanager lists every
// alert posted and inhibits every target that should be, and returns its
// alerts by label key; it fails the test unless it lists exactly those
// posted.
func waitForInhibitions(t *testing.T, base string, posted map[string]bool) map[string]amStatus {
	var byLabels map[string]amStatus
	settled := func() bool {
		var list []amStatus
		apiGet(t, base+"/api/v2/alerts", &list)
		byLabels = map[string]amStatus{}
		for _, a := range list {
			byLabels[labelKey(a.Labels)] = a
		}
		if len(byLabels) != len(posted) {
			return false
		}
		for _, c := range inhibitCases {
			if c.inhibited && len(byLabels[labelKey(c.target)].Status.InhibitedBy) == 0 {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(10 * time.Second)
	for !settled() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for key := range posted {
		if _, ok := byLabels[key]; !ok {
			t.Errorf("alertmanager does not list %s", key)
		}
	}
	if len(byLabels) != len(posted) {
		t.Fatalf("alertmanager lists %d alerts, want the %d posted", len(byLabels), len(posted))
	}
	return byLabels
}
