package main

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// Params are the knobs an operator turns without editing the rules. The
// zero-config rendering (defaults()) is alerts/appstream.rules.yml.
type Params struct {
	// TargetSelector picks Prometheus' own `up` series of the exporter's
	// scrape job, for the target-down and target-absent alerts.
	TargetSelector string `yaml:"target_selector"`
	// Lookback is how far back group and pool alerts look for the newest
	// sample, so a missed scrape does not reset their `for` timers.
	Lookback model.Duration `yaml:"lookback"`

	ExpiryInfoDays     float64 `yaml:"expiry_info_days"`     // info below this many days
	ExpiryWarningDays  float64 `yaml:"expiry_warning_days"`  // warning below this
	ExpiryCriticalDays float64 `yaml:"expiry_critical_days"` // critical below this
	// ExpiredPagingDays: an expired group pages (critical) this long after
	// its expiry; later it is a ticket (warning).
	ExpiredPagingDays float64 `yaml:"expired_paging_days"`

	SaturationRatio    float64 `yaml:"saturation_ratio"`
	SaturationMinNodes int     `yaml:"saturation_min_nodes"`
	// SessionCapacityRatio: a group whose connected sessions reach this
	// share of what it can hold (app_instances collected) is nearly full.
	SessionCapacityRatio float64 `yaml:"session_capacity_ratio"`

	// DataStaleGrace is added to twice the exporter's cache_ttl.
	DataStaleGrace model.Duration `yaml:"data_stale_grace"`
	ThrottledRatio float64        `yaml:"throttled_ratio"`

	// Groups whose SkipUserAuthCheck is intended (kiosks): by ID, or by
	// any label matcher (say tag_purpose!="kiosk").
	SkipUserAuthExemptGroupIDs []string `yaml:"skip_user_auth_exempt_group_ids"`
	SkipUserAuthMatchers       []string `yaml:"skip_user_auth_matchers"`

	// TagLabelsInAlerts keeps the groups' tag_* labels on group and pool
	// alerts, so Alertmanager can route by them; a tag edit then makes a new
	// alert (the old one resolves). false: identity is job, group_id, region.
	TagLabelsInAlerts bool `yaml:"tag_labels_in_alerts"`

	// RunbookURL is the runbook document; each alert links to its section,
	// #<alertname lowercased>, the anchor GitHub gives a heading that is
	// the alert's name (TestRunbookSections checks docs/runbooks.md).
	RunbookURL string `yaml:"runbook_url"`
	GrafanaURL string `yaml:"grafana_url"` // base of the dashboard links

	// Alerts tunes single alerts by name: off, another for: or severity,
	// extra labels for routing.
	Alerts map[string]AlertParams `yaml:"alerts"`
}

// AlertParams change one alert; unset fields keep the generator's choice.
type AlertParams struct {
	Enabled  *bool             `yaml:"enabled"`
	For      string            `yaml:"for"`
	Severity string            `yaml:"severity"`
	Labels   map[string]string `yaml:"labels"`
}

func defaults() Params {
	return Params{
		TargetSelector:       `job="appstream"`,
		Lookback:             model.Duration(10 * time.Minute),
		ExpiryInfoDays:       30,
		ExpiryWarningDays:    7,
		ExpiryCriticalDays:   1,
		ExpiredPagingDays:    1,
		SaturationRatio:      0.9,
		SaturationMinNodes:   2,
		SessionCapacityRatio: 0.9,
		DataStaleGrace:       model.Duration(15 * time.Minute),
		ThrottledRatio:       0.25,
		TagLabelsInAlerts:    true,
		RunbookURL:           "https://github.com/appstream-exporter/appstream_exporter/blob/main/docs/runbooks.md",
		GrafanaURL:           "http://localhost:3000",
	}
}

// loadParams reads a YAML file of overrides on top of the defaults; an
// unknown key is an error, so a typo cannot silently keep a default.
func loadParams(path string) (Params, error) {
	p := defaults()
	if path == "" {
		return p, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return p, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && err.Error() != "EOF" {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	return p, p.validate(path)
}

// severityRE keeps a severity to what Alertmanager routes compare plainly.
var severityRE = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

var matcherRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"$`)

func (p Params) validate(path string) error {
	var problems []string
	bad := func(key, format string, a ...any) {
		problems = append(problems, fmt.Sprintf("%s: %s: %s", path, key, fmt.Sprintf(format, a...)))
	}
	if !matcherRE.MatchString(p.TargetSelector) {
		bad("target_selector", "%q is not one label matcher such as job=\"appstream\"", p.TargetSelector)
	}
	if p.Lookback <= 0 {
		bad("lookback", "must be positive, e.g. 10m")
	}
	if !(p.ExpiryCriticalDays > 0 && p.ExpiryCriticalDays < p.ExpiryWarningDays && p.ExpiryWarningDays < p.ExpiryInfoDays) {
		bad("expiry_*_days", "need 0 < expiry_critical_days < expiry_warning_days < expiry_info_days (got %g, %g, %g)",
			p.ExpiryCriticalDays, p.ExpiryWarningDays, p.ExpiryInfoDays)
	}
	if p.ExpiredPagingDays <= 0 {
		bad("expired_paging_days", "must be positive")
	}
	if p.SaturationRatio <= 0 || p.SaturationRatio > 1 {
		bad("saturation_ratio", "must be in (0, 1], e.g. 0.9")
	}
	if p.SessionCapacityRatio <= 0 || p.SessionCapacityRatio > 1 {
		bad("session_capacity_ratio", "must be in (0, 1], e.g. 0.9")
	}
	if p.ThrottledRatio <= 0 || p.ThrottledRatio > 1 {
		bad("throttled_ratio", "must be in (0, 1], e.g. 0.25")
	}
	for _, m := range p.SkipUserAuthMatchers {
		if !matcherRE.MatchString(m) {
			bad("skip_user_auth_matchers", "%q is not one label matcher such as tag_purpose!=\"kiosk\"", m)
		}
	}
	known := alertNames()
	for _, name := range slices.Sorted(maps.Keys(p.Alerts)) {
		a, key := p.Alerts[name], "alerts."+name
		if !slices.Contains(known, name) {
			bad(key, "no such alert; the alerts are %s", strings.Join(known, ", "))
			continue
		}
		if _, err := model.ParseDuration(a.For); a.For != "" && err != nil {
			bad(key+".for", "%q is not a duration such as 15m", a.For)
		}
		if a.Severity != "" && !severityRE.MatchString(a.Severity) {
			bad(key+".severity", "%q is not a label value of letters, digits, _ and - such as critical", a.Severity)
		}
		for _, label := range slices.Sorted(maps.Keys(a.Labels)) {
			if !model.LegacyValidation.IsValidLabelName(label) || label == "severity" || label == "alertname" {
				bad(key+".labels", "%q cannot be an extra label (severity has its own key; alertname is the alert's)", label)
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return nil
}
