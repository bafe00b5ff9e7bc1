// The alerts, family by family: a group's state, its pools, and the
// exporter itself.

package main

import (
	"fmt"
	"strings"
	"time"
)

func (b builder) ceasedAlert() rule {
	return rule{alert: "AppStreamGroupCeased", forDuration: "5m", severity: "critical",
		expr:        b.guarded("AppStreamGroupCeased", b.status("CEASED"), statusLabel, nil),
		summary:     "Delivery group " + groupName + " has ceased for an overdue payment.",
		description: "Delivery group " + groupText + " has status CEASED: the account is overdue and its users cannot start sessions." + heldText,
		dashboard:   b.dash()}
}

// expiredStatus is a group the API reports expired.
func (b builder) expiredStatus() string { return b.status("EXPIRED|EXPIRED_RECYCLING") }

// longExpired is a group past the paging window of its expiry.
func (b builder) longExpired() string {
	return fmt.Sprintf(`%s <= -%s
or
%s
or
(%s and %s %s)`,
		b.prepaidCountdown(), seconds(b.p.ExpiredPagingDays),
		b.status("EXPIRED_RECYCLING"),
		b.resource("RELEASED"), sameGroup, b.status("EXPIRED"))
}

// expiryAlerts are the expiry windows, latest first: each hands over to
// the later ones, which must be evaluated before it (TestHandOverOrder).
func (b builder) expiryAlerts() []rule {
	p, countdown, expiredStatus := b.p, b.countdown(), b.expiredStatus()
	return []rule{
		{alert: "AppStreamGroupLongExpired", forDuration: "5m", severity: "warning",
			comment: fmt.Sprintf(`Expired more than %s ago, recycling, or released: nothing to do at
night, so a ticket rather than a page.`, days(p.ExpiredPagingDays)),
			expr:        b.guarded("AppStreamGroupLongExpired", b.longExpired(), nil, []string{"status", "resource_status"}),
			summary:     "Delivery group " + groupName + " expired more than " + days(p.ExpiredPagingDays) + " ago.",
			description: "Delivery group " + groupText + " expired" + expiredAgo + statusNow + ". Renew it if it is still needed, or delete it." + heldText,
			dashboard:   b.dash()},

		{alert: "AppStreamGroupExpired", forDuration: "5m", severity: "critical",
			comment: fmt.Sprintf(`Expired within the last %s: status EXPIRED, or a PrePaid group's
countdown at or below zero. Later it is AppStreamGroupLongExpired.`, days(p.ExpiredPagingDays)),
			expr: b.guarded("AppStreamGroupExpired", fmt.Sprintf(`(
  %s <= 0
  or
  %s
)
unless %s
(
  %s
)`, b.prepaidCountdown(), b.status("EXPIRED"), sameGroup, indent(2, b.longExpired())), nil, statusLabel, "AppStreamGroupLongExpired"),
			summary:     "Delivery group " + groupName + " has expired.",
			description: "Delivery group " + groupText + " expired" + expiredAgo + statusNow + ": its users cannot start sessions. Renew it before its resources are released." + heldText,
			dashboard:   b.dash()},

		{alert: "AppStreamGroupExpiryImminent", forDuration: "5m", severity: "critical",
			expr: b.guarded("AppStreamGroupExpiryImminent", fmt.Sprintf(`%s > 0 < %s
unless %s
%s`, countdown, seconds(p.ExpiryCriticalDays), sameGroup, expiredStatus), nil, nil,
				"AppStreamGroupExpired", "AppStreamGroupLongExpired"),
			summary:     "Delivery group " + groupName + " expires within " + days(p.ExpiryCriticalDays) + ".",
			description: "Delivery group " + groupText + " " + expiryText + ". Renew it now, or its users lose access." + heldText,
			dashboard:   b.dash()},

		{alert: "AppStreamGroupExpiringSoon", forDuration: "10m", severity: "warning",
			comment: `ResourceStatus EXPIRED_IN_7_DAYS counts too, unless the countdown
already says less than a day.`,
			expr: b.guarded("AppStreamGroupExpiringSoon", fmt.Sprintf(`(
  %s >= %s < %s
  or
  (%s unless %s %s < %s)
)
unless %s
%s`, countdown, seconds(p.ExpiryCriticalDays), seconds(p.ExpiryWarningDays),
				b.resource("EXPIRED_IN_7_DAYS"), sameGroup, countdown, seconds(p.ExpiryCriticalDays),
				sameGroup, expiredStatus), nil, resourceLabel,
				"AppStreamGroupExpiryImminent", "AppStreamGroupExpired", "AppStreamGroupLongExpired"),
			summary:     "Delivery group " + groupName + " expires within " + days(p.ExpiryWarningDays) + ".",
			description: "Delivery group " + groupText + ` {{ with printf "aliyun_appstream_group_expiry_timestamp_seconds` + groupMatch + `" ` + groupArgs + ` | query }}` + expiryText + `{{ else }}{{ with printf "aliyun_appstream_group_resource_status` + groupMatch[:len(groupMatch)-1] + `,resource_status=\"EXPIRED_IN_7_DAYS\"} == 1" ` + groupArgs + ` | query }}has ResourceStatus EXPIRED_IN_7_DAYS; the API gives no expiry time{{ else }}expires within ` + days(p.ExpiryWarningDays) + `{{ end }}{{ end }}. Renew it, or plan its users' move.` + heldText,
			dashboard:   b.dash()},

		{alert: "AppStreamGroupExpiryApproaching", forDuration: "30m", severity: "info",
			expr: b.guarded("AppStreamGroupExpiryApproaching", fmt.Sprintf(`%s >= %s < %s
unless %s
(
  %s
  or
  %s
)`, countdown, seconds(p.ExpiryWarningDays), seconds(p.ExpiryInfoDays), sameGroup, b.resource("EXPIRED_IN_7_DAYS"), expiredStatus), nil, nil,
				"AppStreamGroupExpiringSoon", "AppStreamGroupExpiryImminent", "AppStreamGroupExpired", "AppStreamGroupLongExpired"),
			summary:     "Delivery group " + groupName + " expires within " + days(p.ExpiryInfoDays) + ".",
			description: "Delivery group " + groupText + " " + expiryText + "." + heldText,
			dashboard:   b.dash()},
	}
}

// statusAlerts are a group's failed or stuck tasks and unavailable resources.
func (b builder) statusAlerts() []rule {
	return []rule{
		{alert: "AppStreamGroupFailed", forDuration: "5m", severity: "warning",
			expr:        b.guarded("AppStreamGroupFailed", b.status("FAILED|MAINTAIN_FAILED"), statusLabel, nil),
			summary:     "Delivery group " + groupName + ` failed to {{ if eq $labels.status "FAILED" }}publish{{ else }}update{{ end }}.`,
			description: "Delivery group " + groupText + " has status {{ $labels.status }}." + heldText,
			dashboard:   b.dash()},

		{alert: "AppStreamGroupStuck", forDuration: "1h", severity: "warning",
			expr:        b.guarded("AppStreamGroupStuck", b.status("DEPLOYING|MAINTAINING"), statusLabel, nil),
			summary:     "Delivery group " + groupName + " has been {{ $labels.status }} for over an hour.",
			description: "Delivery group " + groupText + " has had status {{ $labels.status }} for more than one hour." + heldText,
			dashboard:   b.dash()},

		{alert: "AppStreamGroupUnavailable", forDuration: "5m", severity: "critical",
			expr:        b.guarded("AppStreamGroupUnavailable", b.resource("UNAVAILABLE"), resourceLabel, nil),
			summary:     "Delivery group " + groupName + " is unavailable.",
			description: "The resources of delivery group " + groupText + statusNow + " have ResourceStatus UNAVAILABLE: its users cannot start sessions." + heldText,
			dashboard:   b.dash()},
	}
}

// configurationAlerts are group settings that need a decision.
func (b builder) configurationAlerts() []rule {
	exempt := []string{}
	if len(b.p.SkipUserAuthExemptGroupIDs) > 0 {
		exempt = append(exempt, fmt.Sprintf(`group_id!~%q`, strings.Join(b.p.SkipUserAuthExemptGroupIDs, "|")))
	}
	exempt = append(exempt, b.p.SkipUserAuthMatchers...)
	return []rule{
		{alert: "AppStreamGroupSkipsUserAuth", forDuration: "10m", severity: "info",
			comment: "Exempt kiosks with skip_user_auth_exempt_group_ids or skip_user_auth_matchers.",
			expr:    b.guarded("AppStreamGroupSkipsUserAuth", b.last("aliyun_appstream_group_skip_user_auth_check"+braces(exempt))+" == 1", nil, nil),
			summary: "Delivery group " + groupName + " skips user authorization checks.",
			description: "Delivery group " + groupText + " has SkipUserAuthCheck enabled: any user who can reach it may open its apps." +
				" If that is intended (a kiosk), exempt it in the alert parameters." + heldText,
			dashboard: b.dash()},
	}
}

// capacityAlerts are pools whose users will not get a session.
func (b builder) capacityAlerts() []rule {
	p, pool := b.p, b.pool
	return []rule{
		{alert: "AppStreamNodePoolSaturated", forDuration: "15m", severity: "warning",
			comment: fmt.Sprintf(`Pools without elastic scaling (MaxScalingAmount 0) and at least %d
nodes: pools that can scale are AppStreamNodePoolScalingExhausted's.`, p.SaturationMinNodes),
			expr: b.guarded("AppStreamNodePoolSaturated", fmt.Sprintf(`%s / (%s >= %d) >= %g
and
%s == 0`, pool("nodes_used"), pool("nodes"), p.SaturationMinNodes, p.SaturationRatio, pool("max_scaling_nodes")), poolLabels, nil),
			summary: "Resource pool {{ $labels.node_pool_id }} of " + groupName + " is nearly full and cannot scale.",
			description: "Resource pool {{ $labels.node_pool_id }} ({{ $labels.node_instance_type }}) of delivery group " + groupText +
				" has" + poolNow("aliyun_appstream_node_pool_nodes_used", " ", "humanize", " of") + poolNow("aliyun_appstream_node_pool_nodes", " ", "humanize", "") +
				" nodes in use (threshold " + percent(p.SaturationRatio) + " %) and no elastic scaling." + heldText,
			dashboard: b.dash()},

		{alert: "AppStreamNodePoolScalingExhausted", forDuration: "15m", severity: "warning",
			comment: `At its scaling limit and busier than the scale-out threshold: the next
users will not get a session. Busy is the group's connected sessions over
what it can hold where app instances are collected, else the pool's nodes
in use. Every operand of a comparison has the same labels, or joins on the
group's identity, so no join can fail when the group's labels change.`,
			expr: b.guarded("AppStreamNodePoolScalingExhausted", fmt.Sprintf(`(
  (%[1]s + %[2]s)
    / ((%[3]s + %[4]s) > 0)
    > %[5]s
    unless on (job, instance, account, group_id, region)
  %[8]s
  or
  %[5]s
    < on (job, instance, account, group_id, region) group_left ()
  (
    %[9]s
  )
)
and
%[4]s >= %[6]s
and
%[7]s > 0`, pool("nodes_used"), pool("scaling_nodes_used"), pool("nodes"), pool("scaling_nodes"),
				pool("scaling_usage_threshold_ratio"), pool("max_scaling_nodes"), pool("max_scaling_nodes"),
				b.last("aliyun_appstream_group_sessions_connected"), indent(4, b.sessionUse())), poolLabels, nil),
			summary: "Resource pool {{ $labels.node_pool_id }} of " + groupName + " cannot scale out any further.",
			description: "Resource pool {{ $labels.node_pool_id }} of delivery group " + groupText +
				" runs all its scalable nodes" + poolNow("aliyun_appstream_node_pool_max_scaling_nodes", " (", "humanize", ")") +
				" and is above its scale-out threshold" + poolNow("aliyun_appstream_node_pool_scaling_usage_threshold_ratio", " of ", "humanizePercentage", "") +
				`{{ with printf "aliyun_appstream_group_sessions_connected` + groupMatch + `" ` + groupArgs + ` | query }} ({{ . | first | value | humanize }} sessions connected){{ end }}.` + heldText,
			dashboard: b.dash()},

		{alert: "AppStreamSessionCapacityLow", forDuration: "15m", severity: "warning",
			comment: `Connected sessions at ` + percent(p.SessionCapacityRatio) + ` % or more of what the group can hold, from
the app instances (app_instances collected): the next users may not get a
session. Each operand carries the group's labels.`,
			expr: b.guarded("AppStreamSessionCapacityLow", fmt.Sprintf(`%s
>= %g`, b.sessionUse(), p.SessionCapacityRatio), nil, nil),
			summary: "Delivery group " + groupName + " is nearly out of sessions.",
			description: "Delivery group " + groupText + " has" +
				`{{ with printf "aliyun_appstream_group_sessions_connected` + groupMatch + `" ` + groupArgs + ` | query }} {{ . | first | value | humanize }}{{ end }}` +
				" sessions connected" +
				`{{ with printf "group:aliyun_appstream_sessions_connected:ratio` + groupMatch + `" ` + groupArgs + ` | query }}, {{ . | first | value | humanizePercentage }} of what it can hold{{ end }}` +
				" (threshold " + percent(p.SessionCapacityRatio) + " %). Add nodes or raise its scaling limit before users are turned away." + heldText,
			dashboard: b.dash()},
	}
}

// schedulingAlerts are pools whose scheduled scaling does not do what it says.
func (b builder) schedulingAlerts() []rule {
	pool := b.pool
	return []rule{
		{alert: "AppStreamNodePoolScheduleTargetNotMet", forDuration: "15m", severity: "warning",
			comment: `A scheduled-scaling window is active and the pool has fewer nodes than
its target.`,
			expr: b.guarded("AppStreamNodePoolScheduleTargetNotMet", fmt.Sprintf(`%s > (%s + %s)
and
%s == 1`, pool("schedule_target_nodes"), pool("nodes"), pool("scaling_nodes"), pool("schedule_active")), poolLabels, nil),
			summary: "Resource pool {{ $labels.node_pool_id }} of " + groupName + " is below its scheduled target.",
			description: "Resource pool {{ $labels.node_pool_id }} of delivery group " + groupText +
				" has fewer nodes than the target of its active scheduled-scaling window" +
				poolNow("aliyun_appstream_node_pool_schedule_target_nodes", " (", "humanize", ")") +
				poolNow("aliyun_appstream_node_pool_nodes", ": it has ", "humanize", " subscription") +
				poolNow("aliyun_appstream_node_pool_scaling_nodes", " and ", "humanize", " scaled nodes") + "." + heldText,
			dashboard: b.dash()},

		{alert: "AppStreamScheduledTargetAboveMax", forDuration: "15m", severity: "warning",
			comment: `A scheduled-scaling window, the next one or the one active now, targets
more nodes than the pool's MaxScalingAmount: caught when the schedule is
set, not on the morning the window falls short. One condition for both
windows, so the alert keeps firing, unsplit, when the next window starts.
Pools with MaxScalingAmount 0 are left out: the API asks for it only with
usage-based scaling, so on a scheduled pool 0 reads as unset, not as a
limit of no nodes (the demo's scheduled pools are such). The targets and
the maximum move only when someone edits the pool, and the window is
usually hours away, so 15 minutes lets an edit made in steps settle before
a ticket, as for the other pool alerts.`,
			expr: b.guarded("AppStreamScheduledTargetAboveMax", fmt.Sprintf(`(
  %[1]s
    > %[3]s
  or
  %[2]s
    > %[3]s
)
and
%[3]s > 0`, pool("schedule_next_target_nodes"), pool("schedule_target_nodes"), pool("max_scaling_nodes")), poolLabels, nil),
			summary: "Resource pool {{ $labels.node_pool_id }} of " + groupName + " is scheduled above its scaling maximum.",
			description: "Resource pool {{ $labels.node_pool_id }} of delivery group " + groupText +
				" has a scheduled-scaling target above its MaxScalingAmount" +
				poolNow("aliyun_appstream_node_pool_max_scaling_nodes", " of ", "humanize", "") + "." +
				poolAbove("aliyun_appstream_node_pool_schedule_target_nodes", "aliyun_appstream_node_pool_max_scaling_nodes",
					" The window active now targets ", " nodes.") +
				poolAbove("aliyun_appstream_node_pool_schedule_next_target_nodes", "aliyun_appstream_node_pool_max_scaling_nodes",
					" The next window targets ", " nodes"+
						poolNow("aliyun_appstream_node_pool_schedule_next_start_timestamp_seconds", " and starts ", "humanizeTimestamp", "")+
						`{{ with printf "aliyun_appstream_node_pool_schedule_next_start_timestamp_seconds`+poolMatch+` - time() > 0" `+poolArgs+` | query }} (in {{ . | first | value | humanizeDuration }}){{ end }}.`) +
				" Raise MaxScalingAmount or lower the target." + heldText,
			dashboard: b.dash()},
	}
}

// demoModeAlert says an exporter serves made-up groups. It comes last in
// the alerts' group, to see the state of their alerts of this round.
func demoModeAlert() rule {
	return rule{alert: "AppStreamExporterDemoMode", severity: "info",
		comment: `--demo serves made-up groups; this alert says so, and inhibits the
alerts they raise (alerts/alertmanager.yml). It holds while its job's
targets are all down and while any group or pool alert of its job still
fires, so killing or removing a demo pages nobody. It is evaluated after the
group and pool alerts, in their group, to see their state of this round.`,
		expr: `aliyun_appstream_demo == 1
or
(
  max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamExporterDemoMode", alertstate="firing"})
    unless on (job) (up == 1)
    and on (job)
  (
    max by (job) (up) == 0
    or
    group by (job) (ALERTS{alertname=~"AppStream(Group|NodePool).+|AppStreamScheduledTargetAboveMax|AppStreamSessionCapacityLow", alertstate="firing"})
  )
)`,
		summary: "appstream_exporter {{ $labels.instance }} runs with --demo; its delivery groups are simulated.",
		description: "Every delivery group {{ $labels.instance }} exports is made up by the built-in simulator, and the alerts they raise are not real. " +
			"Run it without --demo, or stop scraping it."}
}

// exporterGroup alerts on the exporter itself: its scrape, its refreshes,
// its data's age, the API's throttling and its configuration.
func (b builder) exporterGroup() ruleGroup {
	p, exporterDash := b.p, b.exporterDash()
	throttled := `sum by (job, instance, account) (increase(aliyun_appstream_api_requests_total{code=~"Throttling.*|HTTP429"}[15m]))
  / sum by (job, instance, account) (increase(aliyun_appstream_api_requests_total[15m]))`
	return ruleGroup{name: "appstream.exporter", rules: []rule{
		{alert: "AppStreamExporterTargetDown", forDuration: "5m", severity: "warning",
			comment: "Prometheus cannot scrape the exporter. Group alerts hold meanwhile.",
			expr:    "up{" + p.TargetSelector + "} == 0",
			summary: "Prometheus cannot scrape appstream_exporter {{ $labels.instance }}.",
			description: "The scrape target {{ $labels.instance }} of job {{ $labels.job }} has been down for 5 minutes: " +
				"no delivery group is being watched there. Firing group alerts hold their state until it returns.",
			dashboard: exporterDash},

		{alert: "AppStreamExporterAbsent", forDuration: "15m", severity: "warning",
			comment: "No target of the exporter's job at all (service discovery lost it, or it was never set up).",
			expr:    "absent(up{" + p.TargetSelector + "})",
			summary: "Prometheus has no appstream_exporter target.",
			description: "No scrape target matches up{" + p.TargetSelector + "} for 15 minutes: no delivery group is being watched. " +
				"Check the scrape configuration, or set the alerts' target_selector to your job."},

		{alert: "AppStreamExporterDown", forDuration: "10m", severity: "warning",
			expr:    "last_over_time(aliyun_appstream_up[5m]) == 0",
			summary: "appstream_exporter cannot read delivery groups{{ with $labels.biz_region }} in {{ . }}{{ end }}.",
			description: `The newest refreshes of {{ $labels.instance }}{{ with $labels.biz_region }} for biz_region {{ . }}{{ end }} have failed for 10 minutes: ` +
				"the API answers with errors or not at all. Group alerts there hold their state; no new one starts.",
			dashboard: exporterDash},

		{alert: "AppStreamAppInstancesDown", forDuration: "15m", severity: "warning",
			comment: `Session counts (app_instances) cannot be read; the group data is
not affected. Session alerts there hold their state; no new one starts.`,
			expr:    "last_over_time(aliyun_appstream_app_instances_up[5m]) == 0",
			summary: "appstream_exporter cannot list app instances{{ with $labels.biz_region }} in {{ . }}{{ end }}.",
			description: `The newest app instance refreshes (ListAppInstances) of {{ $labels.instance }}{{ with $labels.biz_region }} for biz_region {{ . }}{{ end }} have failed for 15 minutes. ` +
				"Its log says why: a missing appstreaming:ListAppInstances permission, throttling, a request budget too small for refresh_timeout, or no group data to list them for.",
			dashboard: exporterDash},

		{alert: "AppStreamDataStale", forDuration: "5m", severity: "warning",
			comment: `Older than two refresh cycles plus a grace: derived from the exporter's
own cache_ttl, so a long cache_ttl is not stale by itself. Each account has
its own cache_ttl (no account label without accounts).`,
			expr: fmt.Sprintf(`time() - last_over_time(aliyun_appstream_last_refresh_success_timestamp_seconds[10m])
  > on (job, instance, account) group_left ()
(2 * last_over_time(aliyun_appstream_cache_ttl_seconds[10m]) + %g)`, time.Duration(p.DataStaleGrace).Seconds()),
			summary:     "AppStream data{{ with $labels.biz_region }} for {{ . }}{{ end }} is stale.",
			description: `The last successful refresh of {{ $labels.instance }}{{ with $labels.biz_region }} for biz_region {{ . }}{{ end }} was {{ $value | humanizeDuration }} ago: more than two refresh cycles (cache_ttl) and a grace of ` + p.DataStaleGrace.String() + `.`,
			dashboard:   exporterDash},

		{alert: "AppStreamApiThrottled", forDuration: "10m", severity: "warning",
			comment: `Throttling that costs something: at least ` + percent(p.ThrottledRatio) + ` % of the requests of
the last 15 minutes, or any while refreshes failed. Retried throttles that
still succeed are only counted.`,
			expr: fmt.Sprintf(`(
  %s
) >= %g
or
(
  %s
) > 0
  and on (job, instance, account)
sum by (job, instance, account) (increase(aliyun_appstream_refreshes_total{result="failure"}[15m])) > 0`, indent(2, throttled), p.ThrottledRatio, indent(2, throttled)),
			summary: "The appstream-center API is throttling appstream_exporter {{ $labels.instance }}.",
			description: "{{ $value | humanizePercentage }} of the API requests of {{ $labels.instance }} were throttled in the last 15 minutes" +
				`{{ with printf "sum(increase(aliyun_appstream_refreshes_total{job=%q,instance=%q,result=\"failure\"}[15m])) > 0" $labels.job $labels.instance | query }}, and {{ . | first | value | humanize }} refreshes failed{{ end }}.`,
			dashboard: exporterDash},

		{alert: "AppStreamConfigReloadFailed", forDuration: "10m", severity: "warning",
			expr:        "aliyun_appstream_config_last_reload_successful == 0",
			summary:     "appstream_exporter {{ $labels.instance }} failed to reload its configuration.",
			description: "The last configuration reload of {{ $labels.instance }} failed; it keeps running with the previous configuration. Its log says why; fix the file and reload again.",
			dashboard:   exporterDash},
	}}
}
