// Annotation text of the alerts: Go template snippets and the dashboard
// links.

package main

import (
	"fmt"
	"strconv"
)

// Go template snippets for annotations. They query Prometheus, so they
// report the group's current name and state even while an alert is held.
const (
	// account="" matches the series of the single-account form, which
	// have no account label.
	groupMatch = `{job=%q,account=%q,group_id=%q,region=%q}`
	groupArgs  = `$labels.job $labels.account $labels.group_id $labels.region`
	poolMatch  = `{job=%q,account=%q,group_id=%q,region=%q,node_pool_id=%q}`
	poolArgs   = groupArgs + ` $labels.node_pool_id`

	groupName = `{{ with printf "aliyun_appstream_group_info` + groupMatch + `" ` + groupArgs + ` | query }}{{ . | first | label "group_name" }}{{ else }}{{ $labels.group_id }}{{ end }}`
	groupText = `{{ with printf "aliyun_appstream_group_info` + groupMatch + `" ` + groupArgs + ` | query }}{{ . | first | label "group_name" }} ({{ $labels.group_id }}){{ else }}{{ $labels.group_id }}{{ end }} in region {{ $labels.region }}{{ with $labels.account }} of account {{ . }}{{ end }}`
	statusNow = `{{ with printf "aliyun_appstream_group_status` + groupMatch + ` == 1" ` + groupArgs + ` | query }} (status {{ . | first | label "status" }}){{ end }}`
	heldText  = `{{ if not (printf "group:aliyun_appstream_group_info:fresh` + groupMatch + `" ` + groupArgs + ` | query) }} No fresh data for this group: the exporter that reports it, or the API, is down, so this alert holds its last known state until data returns.{{ end }}`
	// expiryText is true in every state: before expiry, after it (an alert
	// held on cached data), and with no current data at all.
	expiryText = `{{ with printf "aliyun_appstream_group_expiry_timestamp_seconds` + groupMatch + ` - time() > 0" ` + groupArgs + ` | query }}expires in {{ . | first | value | humanizeDuration }}{{ else }}{{ with printf "aliyun_appstream_group_expiry_timestamp_seconds` + groupMatch + `" ` + groupArgs + ` | query }}reached its expiry time{{ else }}expires soon{{ end }}{{ end }}{{ with printf "aliyun_appstream_group_expiry_timestamp_seconds` + groupMatch + `" ` + groupArgs + ` | query }} ({{ . | first | value | humanizeTimestamp }}){{ end }}`
	expiredAgo = `{{ with printf "time() - aliyun_appstream_group_expiry_timestamp_seconds` + groupMatch + `" ` + groupArgs + ` | query }} {{ . | first | value | humanizeDuration }} ago{{ end }}`
)

// poolNow is a pool's current value of metric, formatted between before
// and after; nothing at all while there is no current value (a held alert).
func poolNow(metric, before, format, after string) string {
	return `{{ with printf "` + metric + poolMatch + `" ` + poolArgs + ` | query }}` + before + `{{ . | first | value | ` + format + ` }}` + after + `{{ end }}`
}

// poolAbove is text, its pool's current value of metric in between, while
// that value is above the pool's current value of limit; nothing otherwise.
func poolAbove(metric, limit, before, after string) string {
	return `{{ with printf "` + metric + poolMatch + ` > ` + limit + poolMatch + `" ` + poolArgs + ` ` + poolArgs + ` | query }}` +
		before + `{{ . | first | value | humanize }}` + after + `{{ end }}`
}

// percent is a ratio in per cent, rounded to 10 digits so 0.95 is 95 (as
// the chart's decimal arithmetic gives it), not 94.99999999999999.
func percent(ratio float64) string { return strconv.FormatFloat(ratio*100, 'g', 10, 64) }

// days is d days, as text.
func days(d float64) string {
	if d == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%g days", d)
}

// varAccount narrows a dashboard link to the alert's account; a
// single-account exporter has none, and the variable stays All.
const varAccount = "{{ with $labels.account }}&var-account={{ . }}{{ end }}"

// dash links the Overview dashboard filtered to the alert's group.
func (b builder) dash() string {
	return b.p.GrafanaURL + "/d/appstream-overview/appstream-overview?var-job={{ $labels.job }}" + varAccount + "&var-region={{ $labels.region }}&var-group={{ $labels.group_id }}"
}

// exporterDash links the exporter dashboard filtered to the alert's target.
func (b builder) exporterDash() string {
	return b.p.GrafanaURL + "/d/appstream-exporter/appstream-exporter?var-job={{ $labels.job }}" + varAccount + "&var-instance={{ $labels.instance }}"
}
