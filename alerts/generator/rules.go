// The rules file's layout and the expressions its rules share: the
// builder, the guard of group and pool alerts, and the recording and
// freshness rules. The alerts are in alerts.go, their annotation text in
// annotations.go.

package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

const header = `
Recording and alerting rules for appstream_exporter, written by
alerts/generator (go run ./alerts/generator); edit the generator or pass it a
parameters file, not this file. README.md#alerts explains the choices.

Group and pool alerts:
- read the newest sample of the last lookback window, so a missed scrape does
  not reset their "for" timers;
- start only on fresh data: the query that covers the group's region (its
  biz_region, or the exporter's one unfiltered query) refreshed successfully
  within the window. Stale data never starts an alert;
- hold while the data is not fresh: a firing alert keeps firing (from its own
  ALERTS series) until fresh data says otherwise, so a dead exporter or an API
  outage never resolves a page;
- carry the group's stable identity (job, account, group_id, region, tag
  labels; no account label without accounts), not group_name, charge_type or
  instance, so a rename, a charge-type change, an
  exporter restart or a second exporter of an HA pair never splits an alert.
`

// buildGroups is the rules file: recording rules, the group and pool alerts
// (after the freshness rules they read, in the order the expiry hand-over
// needs), and the exporter's own alerts.
func buildGroups(p Params) []ruleGroup {
	b := newBuilder(p)
	groupRules := slices.Concat(
		b.freshnessRules(),
		[]rule{b.ceasedAlert()},
		b.expiryAlerts(),
		b.statusAlerts(),
		b.configurationAlerts(),
		b.capacityAlerts(),
		b.schedulingAlerts(),
		[]rule{demoModeAlert()},
	)
	return tune([]ruleGroup{
		b.recordingGroup(),
		{name: "appstream.groups", rules: groupRules},
		b.exporterGroup(),
	}, p.Alerts)
}

// tune applies the per-alert parameters: a disabled alert is left out.
func tune(groups []ruleGroup, alerts map[string]AlertParams) []ruleGroup {
	for gi, g := range groups {
		kept := g.rules[:0:0]
		for _, r := range g.rules {
			a, ok := alerts[r.alert]
			if ok && r.alert != "" {
				if a.Enabled != nil && !*a.Enabled {
					continue
				}
				r.forDuration = cmp.Or(a.For, r.forDuration)
				r.severity = cmp.Or(a.Severity, r.severity)
				r.labels = a.Labels
			}
			kept = append(kept, r)
		}
		groups[gi].rules = kept
	}
	return groups
}

// alertNames are the generated alerts, in file order.
func alertNames() []string {
	return alertsWhere(func(r rule) bool { return r.alert != "" })
}

// alertsWhere names the default rules' alerts that keep says to, in file order.
func alertsWhere(keep func(rule) bool) []string {
	var names []string
	for _, g := range buildGroups(defaults()) {
		for _, r := range g.rules {
			if keep(r) {
				names = append(names, r.alert)
			}
		}
	}
	return names
}

// Labels of a condition that group and pool alerts keep (see guarded).
var (
	statusLabel   = []string{"status"}
	resourceLabel = []string{"resource_status"}
	poolLabels    = []string{"node_pool_id", "node_instance_type"}
)

// sameGroup joins two group conditions of one exporter's group.
const sameGroup = "on (job, instance, account, group_id, region)"

// builder writes the expressions and links of the rules for one set of
// parameters.
type builder struct {
	p     Params
	lb    string // the lookback window
	twice string // twice the lookback window
}

func newBuilder(p Params) builder {
	return builder{p: p, lb: p.Lookback.String(), twice: (2 * p.Lookback).String()}
}

// last is the newest sample of sel in the lookback window.
func (b builder) last(sel string) string { return "last_over_time(" + sel + "[" + b.lb + "])" }

// status is a group whose status matches the regular expression re.
func (b builder) status(re string) string {
	return b.last(`aliyun_appstream_group_status{status=~"`+re+`"}`) + " == 1"
}

// resource is a group whose resource status matches re.
func (b builder) resource(re string) string {
	return b.last(`aliyun_appstream_group_resource_status{resource_status=~"`+re+`"}`) + " == 1"
}

// pool is the newest sample of the pool metric aliyun_appstream_node_pool_<m>.
func (b builder) pool(m string) string { return b.last("aliyun_appstream_node_pool_" + m) }

func (b builder) countdown() string { return b.last("aliyun_appstream_group_expires_in_seconds") }

func (b builder) prepaidCountdown() string {
	return b.last(`aliyun_appstream_group_expires_in_seconds{charge_type="PrePaid"}`)
}

// guarded starts an alert only on fresh data and holds a firing one while
// no exporter that reported its group has fresh data, as long as its job
// has a scrape target at all (a job removed from Prometheus ends holds)
// and not all of them are healthy (then the group is gone: deleted while
// its exporter was down). keep lists the
// labels of the condition the alert keeps beyond the group's identity;
// split lists those that would split one group's alert (changing values,
// or several branches). next names the alerts that take over from this
// one (the expiry windows): it keeps firing while one of them is
// pending, so a move to the next window leaves no gap.
func (b builder) guarded(name, cond string, keep, split []string, next ...string) string {
	aggregate := "max without (" + strings.Join(append([]string{"instance", "group_name", "charge_type"}, split...), ", ") + ")"
	if !b.p.TagLabelsInAlerts {
		aggregate = "max by (" + strings.Join(append([]string{"job", "account", "group_id", "region"}, keep...), ", ") + ")"
	}
	expr := fmt.Sprintf(`%s (
  (
    %s
  )
    and on (job, instance, account, region) region:aliyun_appstream_up:fresh
)
or
(
  max without (alertname, alertstate, severity) (ALERTS{alertname=%q, alertstate="firing"})
    unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
    unless on (job) job:aliyun_appstream_up:healthy
    and on (job) group by (job) (up)
)`, aggregate, indent(4, cond), name)
	if len(next) > 0 {
		expr += fmt.Sprintf(`
or
(
  max without (alertname, alertstate, severity) (ALERTS{alertname=%q, alertstate="firing"})
    and on (job, account, group_id, region) ALERTS{alertname=~%q, alertstate="pending"}
)`, name, strings.Join(next, "|"))
	}
	return expr
}

func (b builder) recordingGroup() ruleGroup {
	return ruleGroup{name: "appstream.recording", rules: []rule{
		{comment: "Sessions a pool can hold: (subscription + scaled nodes) x sessions per node.",
			record: "pool:aliyun_appstream_node_pool_session_capacity:sum",
			expr: `(aliyun_appstream_node_pool_nodes + aliyun_appstream_node_pool_scaling_nodes)
  * aliyun_appstream_node_pool_node_session_capacity`},
		{comment: "Share of a pool's subscription nodes in use (pools with no nodes excluded).",
			record: "pool:aliyun_appstream_node_pool_nodes_used:ratio",
			expr: `aliyun_appstream_node_pool_nodes_used
  / (aliyun_appstream_node_pool_nodes > 0)`},
		{comment: "Nodes a pool may still add by scaling out.",
			record: "pool:aliyun_appstream_node_pool_scaling_nodes:headroom",
			expr: `aliyun_appstream_node_pool_max_scaling_nodes
  - aliyun_appstream_node_pool_scaling_nodes`},
		{comment: "Delivery groups per status and region.",
			record: "region_status:aliyun_appstream_group_status:sum",
			expr:   `sum by (job, account, region, status) (aliyun_appstream_group_status)`},
		{comment: `Sessions a group can hold: its pools' capacity, or MaxAmount for a
session-billed group (one without pools).`,
			record: "group:aliyun_appstream_session_capacity:sum",
			expr: `sum without (node_pool_id, node_instance_type) (pool:aliyun_appstream_node_pool_session_capacity:sum)
or
aliyun_appstream_group_max_amount`},
		{comment: `Share of a group's session capacity with a user connected (app_instances
collected; groups that can hold no session excluded).`,
			record: "group:aliyun_appstream_sessions_connected:ratio",
			expr: `aliyun_appstream_group_sessions_connected
  / (group:aliyun_appstream_session_capacity:sum > 0)`},
		{comment: "Connected sessions per region (app_instances collected).",
			record: "region:aliyun_appstream_sessions_connected:sum",
			expr:   `sum by (job, account, region) (aliyun_appstream_group_sessions_connected)`},
	}}
}

// sessionUse is the share of a group's session capacity with a user
// connected, from the newest samples: its pools' (nodes + scaling nodes) x
// sessions per node, or MaxAmount without pools. Absent for a group whose
// app instances are not collected. Every operand carries the group's
// labels, so no join can fail when they change.
func (b builder) sessionUse() string {
	return fmt.Sprintf(`%s
  / (
    (
      sum without (node_pool_id, node_instance_type) ((%s + %s) * %s)
      or
      %s
    ) > 0
  )`, b.last("aliyun_appstream_group_sessions_connected"), b.pool("nodes"), b.pool("scaling_nodes"), b.pool("node_session_capacity"),
		b.last("aliyun_appstream_group_max_amount"))
}

// freshnessRules are the recording rules the guard of group and pool
// alerts reads; they come first in the alerts' group.
func (b builder) freshnessRules() []rule {
	return []rule{
		{comment: `Fresh data per region: 1 for each region whose query refreshed
successfully within the lookback window. With biz_regions listed, a group's
region is its query's biz_region; with one unfiltered query, the regions of
the groups it returned. The alerts below are in this group, after these
rules, so they read this evaluation's values.`,
			record: "region:aliyun_appstream_up:fresh",
			expr: fmt.Sprintf(`max by (job, instance, account, region) (
  label_replace(%s == 1, "region", "$1", "biz_region", "(.+)")
)
or
max by (job, instance, account, region) (
  %s
    and on (job, instance, account) (%s == 1)
)`, b.last(`aliyun_appstream_up{biz_region!=""}`), b.last("aliyun_appstream_group_info"), b.last(`aliyun_appstream_up{biz_region=""}`))},
		{comment: `Fresh data of an exporter's one unfiltered query, whatever regions it
returned: a region left without groups must not hold alerts there.`,
			record: "instance:aliyun_appstream_up:fresh",
			expr:   fmt.Sprintf(`max by (job, instance, account) (%s == 1)`, b.last(`aliyun_appstream_up{biz_region=""}`))},
		{comment: fmt.Sprintf(`Groups whose data is fresh: reported within %s by an exporter whose
query for them is fresh now. A firing alert holds until its group is here
again, so another exporter's fresh data for the same region (a second
account in the same job) never ends the hold, while a restarted exporter,
or the other half of an HA pair, does. A deleted group's alert resolves
normally: its exporter stays fresh.`, b.twice),
			record: "group:aliyun_appstream_group_info:fresh",
			expr: fmt.Sprintf(`max by (job, instance, account, group_id, region) (
  last_over_time(aliyun_appstream_group_info[%[1]s])
    and on (job, instance, account, region) label_replace(%[2]s == 1, "region", "$1", "biz_region", "(.+)")
)
or
max by (job, instance, account, group_id, region) (
  last_over_time(aliyun_appstream_group_info[%[1]s])
    and on (job, instance, account) instance:aliyun_appstream_up:fresh
)`, b.twice, b.last(`aliyun_appstream_up{biz_region!=""}`))},

		{comment: `Jobs whose every exporter is up with every query fresh: a group none of
them reports is gone (deleted while its exporter was down), so its alerts
stop holding.`,
			record: "job:aliyun_appstream_up:healthy",
			expr: fmt.Sprintf(`min by (job) (up) == 1
  and on (job)
min by (job) (%s) == 1`, b.last("aliyun_appstream_up"))},
	}
}

// braces is a selector of matchers; nothing for none.
func braces(matchers []string) string {
	if len(matchers) == 0 {
		return ""
	}
	return "{" + strings.Join(matchers, ", ") + "}"
}

// seconds is d days in seconds, as PromQL.
func seconds(d float64) string { return fmt.Sprintf("%g * 86400", d) }
