package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// sel narrows every overview query to the variables' choice.
const sel = `job=~"$job", account=~"$account", region=~"$region", charge_type=~"$charge_type", group_id=~"$group"`

const day = 86400.0

// A group is its group_id in its region of its account (and job); a pool,
// a node_pool_id of a group. The same ID in two accounts is two groups. Aggregating to these labels drops the tag labels and the
// instance (two exporters of one job count once) and keeps answers small.
const (
	groupKey    = "job, account, region, group_id"
	groupLabels = "job, account, region, charge_type, group_id, group_name"
	poolLabels  = "job, account, region, group_id, group_name, node_pool_id"
)

// topPools is how many pools the per-pool panels show.
const topPools = "20"

// Columns that add nothing to a group table.
var plumbing = []string{"Time", "__name__", "job", "instance", "Value"}

// The column names of group and pool tables.
var groupColumns = map[string]string{"account": "Account", "group_name": "Group", "group_id": "ID", "region": "Region", "charge_type": "Charge type", "node_pool_id": "Pool"}

// byPool selects the series of expr of the pools in top (an expression
// aggregated to poolLabels), aggregated to poolLabels too.
func byPool(expr, top string) string {
	return "max by (" + poolLabels + ") (" + expr + ")\n  and on (" + poolLabels + ")\n" + top
}

// busiest is the topPools pools using the largest share of their
// subscription nodes (the per-pool bar gauge and the busiest pools table).
const busiest = "topk(" + topPools + ", max by (" + poolLabels + ") (pool:aliyun_appstream_node_pool_nodes_used:ratio{" + sel + "}))"

// shortfall is the topPools pools of an active scheduled-scaling window
// furthest below their target: target - nodes.
const shortfall = "topk(" + topPools + ",\n  max by (" + poolLabels + ") (aliyun_appstream_node_pool_schedule_target_nodes{" + sel + "})\n  - on (" + poolLabels + ")\n  max by (" + poolLabels + ") (aliyun_appstream_node_pool_nodes{" + sel + "})\n)"

// nextWindows is the topPools pools whose next scheduled-scaling window
// (the first to start after the scrape) starts soonest: its start time.
const nextWindows = "bottomk(" + topPools + ", max by (" + poolLabels + ") (aliyun_appstream_node_pool_schedule_next_start_timestamp_seconds{" + sel + "}))"

func overview() *dashboard.DashboardBuilder {
	d := newDashboard("AppStream overview", "appstream-overview",
		"WUYING Cloud Application delivery groups: status, expiry, capacity and scheduled scaling, from appstream_exporter.",
		"AppStream exporter").
		WithVariable(queryVariable("region", "Region", `label_values(region_status:aliyun_appstream_group_status:sum{job=~"$job", account=~"$account"}, region)`,
			"Region of the delivery group (RegionId), from the recording rule region_status:aliyun_appstream_group_status:sum (alerts/appstream.rules.yml).")).
		WithVariable(resultVariable("charge_type", "Charge type",
			`count by (charge_type) (aliyun_appstream_group_info{job=~"$job", account=~"$account", region=~"$region"})`,
			`/charge_type="(?<value>[^"]*)"/`,
			"PrePaid (subscription) or PostPaid (pay-as-you-go).")).
		WithVariable(resultVariable("group", "Delivery group",
			`max by (group_id, group_name) (aliyun_appstream_group_info{job=~"$job", account=~"$account", region=~"$region", charge_type=~"$charge_type"})`,
			`/group_id="(?<value>[^"]*)".*group_name="(?<text>[^"]*)"/`,
			"Delivery groups of the selected regions, shown by name, selected by ID: pick a region first in a large fleet."))
	withRow(d, "Fleet", fleetPanels()...)
	withRow(d, "Expiry and problems", problemPanels()...)
	withRow(d, "Capacity", capacityPanels()...)
	withRow(d, "Sessions", sessionPanels()...)
	return d
}

// fleetPanels: the freshness of the data, counts of groups and nodes, and
// groups by status.
func fleetPanels() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		dataFreshness(),
		statPanel().
			Title("Delivery groups").
			Description("Delivery groups exported (after the variables' filters).").
			Span(3).Height(4).
			Unit("short").
			WithTarget(instant(`count(aliyun_appstream_group_info{`+sel+`})`, "groups", "A")),
		statPanel().
			Title("Need attention").
			Description("Groups ceased for an overdue payment, expired, failed to publish or update, or with unavailable resources (a group is its ID in its region). 0 when none; no data when nothing is scraped.").
			Span(4).Height(4).
			Unit("short").
			ColorMode(common.BigValueColorModeBackground).
			Thresholds(thresholds("green", 1.0, "red")).
			WithTarget(instant(`sum(
  max by (`+groupKey+`) (
    aliyun_appstream_group_status{`+sel+`, status=~"CEASED|EXPIRED|EXPIRED_RECYCLING|FAILED|MAINTAIN_FAILED"}
    or
    aliyun_appstream_group_resource_status{`+sel+`, resource_status="UNAVAILABLE"}
  )
)`, "groups", "A")),
		statPanel().
			Title("Expire within 7 days").
			Description("Groups whose ExpiredTime is less than 7 days away, or whose ResourceStatus is EXPIRED_IN_7_DAYS (as the AppStreamGroupExpiringSoon alert counts them). 0 when none; no data when nothing is scraped.").
			Span(4).Height(4).
			Unit("short").
			ColorMode(common.BigValueColorModeBackground).
			Thresholds(thresholds("green", 1.0, "orange")).
			WithTarget(instant(`sum(
  max by (`+groupKey+`) (
    (aliyun_appstream_group_expires_in_seconds{`+sel+`} > bool 0)
      * (aliyun_appstream_group_expires_in_seconds{`+sel+`} < bool 7 * 86400)
    or
    aliyun_appstream_group_resource_status{`+sel+`, resource_status="EXPIRED_IN_7_DAYS"}
  )
)`, "groups", "A")),
		statPanel().
			Title("OTA updates available").
			Description("Groups with a newer OTA version available (OtaInfo.NewOtaVersion). 0 when none; no data when nothing is scraped.").
			Span(4).Height(4).
			Unit("short").
			Thresholds(thresholds("green", 1.0, "blue")).
			WithTarget(instant(`sum(max by (`+groupKey+`) (aliyun_appstream_group_ota_update_available{`+sel+`}))`, "groups", "A")),
		statPanel().
			Title("Nodes in use").
			Description("Nodes in use across the selected pools, subscription and scaled.").
			Span(3).Height(4).
			Unit("short").
			WithTarget(instant(`sum(aliyun_appstream_node_pool_nodes_used{`+sel+`}) + sum(aliyun_appstream_node_pool_scaling_nodes_used{`+sel+`})`, "nodes used", "A")),
		groupsBy("status", "Groups by status", "Delivery groups per Status."),
		groupsBy("resource_status", "Groups by resource status", "Delivery groups per ResourceStatus."),
	}
}

// dataFreshness is the scrape status and the age of the data per exporter.
func dataFreshness() *stat.PanelBuilder {
	return statPanel().
		Title("Data freshness").
		Description("Whether Prometheus reaches each exporter (up; DOWN: the scrape fails), and the age of the data each query serves (aliyun_appstream_data_age_seconds): it grows up to cache_ttl between refreshes; orange from 5 minutes, red from 15 minutes (the AppStreamDataStale alert). No data: nothing scraped any more, so every other panel is empty too.").
		Span(6).Height(4).
		Unit("s").
		Decimals(0).
		ColorMode(common.BigValueColorModeBackground).
		TextMode(common.BigValueTextModeValueAndName).
		Thresholds(thresholds("green", 300.0, "orange", 900.0, "red")).
		OverrideByQuery("A", []dashboard.DynamicConfigValue{
			{Id: "unit", Value: "none"},
			{Id: "mappings", Value: valueText("0", "DOWN", "red", "1", "UP", "green")},
			{Id: "thresholds", Value: buildThresholds(thresholds("red", 1.0, "green"))},
		}).
		WithTarget(instant(`up{job=~"$job"}`, "scrape {{instance}}", "A")).
		WithTarget(instant(`aliyun_appstream_data_age_seconds{job=~"$job", account=~"$account"}`, "data age {{instance}} {{account}} {{biz_region}}", "B"))
}

// groupsBy is a bar per value of label of aliyun_appstream_group_<label>:
// the number of groups with it.
func groupsBy(label, title, description string) *bargauge.PanelBuilder {
	return barGauge().
		Title(title).
		Description(description).
		Span(12).Height(7).
		Unit("short").
		DisplayMode(common.BarGaugeDisplayModeBasic).
		Orientation(common.VizOrientationHorizontal).
		Thresholds(thresholds("blue")).
		WithTarget(instant(`sum by (`+label+`) (aliyun_appstream_group_`+label+`{`+sel+`})`, "{{"+label+"}}", "A"))
}

// problemPanels: the expiry countdown and the groups in trouble.
func problemPanels() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		groupTable().
			Title("Expiry countdown").
			Description(listsAll("Time until each group's ExpiredTime, soonest first: red under 7 days, orange under 30 days, negative once expired. A row opens the overview of its group.")).
			Span(12).Height(10).
			Unit("dtdurations").
			Thresholds(thresholds("red", 7*day, "orange", 30*day, "green")).
			OverrideByName("Expires in", []dashboard.DynamicConfigValue{
				{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background", "mode": "basic"}},
			}).
			SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("Expires in")}).
			WithTarget(tableQuery(`sort(max by (`+groupLabels+`) (aliyun_appstream_group_expires_in_seconds{`+sel+`}))`, "A")).
			WithTransformation(organize(plumbing[:4],
				with(groupColumns, "Value", "Expires in"),
				[]string{"group_name", "account", "Value", "region", "charge_type", "group_id"})),
		groupTable().
			Title("Ceased, expired, failed and unavailable groups").
			Description(listsAll("Groups whose Status is CEASED, EXPIRED, EXPIRED_RECYCLING, FAILED or MAINTAIN_FAILED, or whose ResourceStatus is UNAVAILABLE. A row opens the overview of its group.")).
			Span(12).Height(10).
			Unit("string").
			WithTarget(tableQuery(`max by (`+groupLabels+`, status) (aliyun_appstream_group_status{`+sel+`, status=~"CEASED|EXPIRED|EXPIRED_RECYCLING|FAILED|MAINTAIN_FAILED"} == 1)`, "A")).
			WithTarget(tableQuery(`label_replace(max by (`+groupLabels+`) (aliyun_appstream_group_resource_status{`+sel+`, resource_status="UNAVAILABLE"} == 1), "status", "UNAVAILABLE (resources)", "", "")`, "B")).
			WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
			WithTransformation(organize(append(plumbing, "resource_status"),
				with(groupColumns, "status", "Problem"),
				[]string{"group_name", "account", "status", "region", "charge_type", "group_id"})),
	}
}

// capacityPanels: nodes and sessions over time, the busiest pools and
// those with the least scaling headroom, and scheduled scaling.
func capacityPanels() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		lines().
			Title("Nodes used and nodes").
			Description("Across the selected pools: subscription nodes in use (NodeUsed) against subscription nodes (NodeAmount), and scaled nodes in use (ScalingNodeUsed) against scaled nodes (ScalingNodeAmount). Select a group for its own pools; the busiest pools are in the table below.").
			Span(12).Height(8).
			Unit("short").
			Min(0).
			WithTarget(query(`sum(aliyun_appstream_node_pool_nodes_used{`+sel+`})`, "subscription nodes used", "A")).
			WithTarget(query(`sum(aliyun_appstream_node_pool_nodes{`+sel+`})`, "subscription nodes", "B")).
			WithTarget(query(`sum(aliyun_appstream_node_pool_scaling_nodes_used{`+sel+`})`, "scaled nodes used", "C")).
			WithTarget(query(`sum(aliyun_appstream_node_pool_scaling_nodes{`+sel+`})`, "scaled nodes", "D")),
		lines().
			Title("Session capacity by region").
			Description("Sessions the selected pools can hold, per region: (subscription nodes + scaled nodes) x sessions per node (NodeCapacity), from the recording rule pool:aliyun_appstream_node_pool_session_capacity:sum.").
			Span(12).Height(8).
			Unit("short").
			Min(0).
			WithTarget(query(`sum by (region) (pool:aliyun_appstream_node_pool_session_capacity:sum{`+sel+`})`, "{{region}}", "A")),
		barGauge().
			Title("Node use per pool (top " + topPools + ")").
			Description("The " + topPools + " pools using the largest share of their subscription nodes, from the recording rule pool:aliyun_appstream_node_pool_nodes_used:ratio (pools with no subscription nodes left out): orange from 75 %, red from 90 % (the AppStreamNodePoolSaturated alert). A bar opens the overview of its group.").
			Span(12).Height(10).
			Unit("percentunit").
			Min(0).Max(1).
			DisplayMode(common.BarGaugeDisplayModeGradient).
			Orientation(common.VizOrientationHorizontal).
			Thresholds(thresholds("green", 0.75, "orange", 0.9, "red")).
			DataLinks(groupLink(true)).
			WithTarget(instant(`sort_desc(`+busiest+`)`, "{{group_name}} {{node_pool_id}}", "A")),
		barGauge().
			Title("Scaling headroom (elastic pools, lowest " + topPools + ")").
			Description("Nodes each pool with elastic scaling (MaxScalingAmount > 0) may still add by scaling out: MaxScalingAmount - ScalingNodeAmount, from the recording rule pool:aliyun_appstream_node_pool_scaling_nodes:headroom; the " + topPools + " lowest. Red: at its limit (the AppStreamNodePoolScalingExhausted alert). Pools without elastic scaling are left out. A bar opens the overview of its group.").
			Span(12).Height(10).
			Unit("short").
			Min(0).
			Decimals(0).
			DisplayMode(common.BarGaugeDisplayModeBasic).
			Orientation(common.VizOrientationHorizontal).
			Thresholds(thresholds("red", 1.0, "green")).
			DataLinks(groupLink(true)).
			WithTarget(instant(`sort(bottomk(`+topPools+`,
  max by (`+poolLabels+`) (
    pool:aliyun_appstream_node_pool_scaling_nodes:headroom{`+sel+`}
      and on (job, instance, region, group_id, node_pool_id)
    (aliyun_appstream_node_pool_max_scaling_nodes{`+sel+`} > 0)
  )
))`, "{{group_name}} {{node_pool_id}}", "A")),
		busiestPools(),
		scheduledScaling(),
		nextScheduledWindows(),
	}
}

// sessionsOff is what the session panels show without data: the exporter
// collects app instances only with app_instances enabled.
const sessionsOff = "No data: app instance collection is off (app_instances.enabled in the exporter's configuration) or has not run yet"

// fullest is the topPools groups using the largest share of their session
// capacity.
const fullest = "topk(" + topPools + ", max by (" + groupLabels + ") (group:aliyun_appstream_sessions_connected:ratio{" + sel + "}))"

// sessionPanels: app instances by status over time, session use against
// the scale-out threshold, and the fullest groups (app_instances only).
func sessionPanels() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		lines().
			Title("App instances by status").
			Description("App instances (sessions) of the selected groups by Status and SessionStatus, from ListAppInstances (aliyun_appstream_group_app_instances): RUNNING/connect is a user connected, RUNNING/disconnect a session kept after its user left (until SessionTimeout), BOUND reserved for a user, INIT being prepared. Select a group for its own. " + sessionsOff + ".").
			Span(12).Height(8).
			Unit("short").
			Min(0).
			NoValue(sessionsOff).
			WithTarget(query(`sum by (status, session_status) (aliyun_appstream_group_app_instances{`+sel+`})`, "{{status}} {{session_status}}", "A")),
		lines().
			Title("Session use against scale-out threshold (top 10 groups)").
			Description("Connected sessions over what each group can hold (the recording rule group:aliyun_appstream_sessions_connected:ratio: (nodes + scaled nodes) x sessions per node over the group's pools, or MaxAmount for a session-billed group), for the 10 fullest groups at each moment, against their pools' scale-out threshold (ScalingUsageThreshold, dashed). The AppStreamSessionCapacityLow alert fires at 90 %. "+sessionsOff+".").
			Span(12).Height(8).
			Unit("percentunit").
			Min(0).
			NoValue(sessionsOff).
			OverrideByRegexp("^threshold .*", []dashboard.DynamicConfigValue{
				{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}},
				{Id: "custom.fillOpacity", Value: 0},
			}).
			WithTarget(query(`topk(10, max by (`+groupLabels+`) (group:aliyun_appstream_sessions_connected:ratio{`+sel+`}))`, "{{group_name}}", "A")).
			WithTarget(query(`max by (`+groupLabels+`) (aliyun_appstream_node_pool_scaling_usage_threshold_ratio{`+sel+`})
  and on (`+groupLabels+`)
topk(10, max by (`+groupLabels+`) (group:aliyun_appstream_sessions_connected:ratio{`+sel+`}))`, "threshold {{group_name}}", "B")),
		fullestGroups(),
	}
}

// fullestGroups is a table of the groups using the largest share of their
// session capacity: use, connected sessions, capacity, scale-out threshold.
func fullestGroups() *table.PanelBuilder {
	byGroup := func(expr string) string {
		return "max by (" + groupLabels + ") (" + expr + ")\n  and on (" + groupLabels + ")\n" + fullest
	}
	return groupTable().
		Title("Fullest groups (top "+topPools+" by session use)").
		Description("The "+topPools+" groups with the largest share of their session capacity in use: Use (connected / capacity; red from 90 %, the AppStreamSessionCapacityLow alert), connected sessions, the sessions they can hold, and their pools' scale-out threshold (ScalingUsageThreshold; blank for a session-billed group). A row opens the overview of its group. "+sessionsOff+".").
		Span(24).Height(10).
		Unit("short").
		Decimals(0).
		NoValue(sessionsOff).
		OverrideByName("Use", []dashboard.DynamicConfigValue{
			{Id: "unit", Value: "percentunit"},
			{Id: "decimals", Value: 0},
			{Id: "min", Value: 0},
			{Id: "max", Value: 1},
			{Id: "thresholds", Value: buildThresholds(thresholds("green", 0.75, "orange", 0.9, "red"))},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "gauge", "mode": "basic"}},
		}).
		OverrideByName("Scale-out at", []dashboard.DynamicConfigValue{
			{Id: "unit", Value: "percentunit"},
		}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("Use").Desc(true)}).
		WithTarget(tableQuery(fullest, "A")).
		WithTarget(tableQuery(byGroup(`aliyun_appstream_group_sessions_connected{`+sel+`}`), "B")).
		WithTarget(tableQuery(byGroup(`group:aliyun_appstream_session_capacity:sum{`+sel+`}`), "C")).
		WithTarget(tableQuery(byGroup(`aliyun_appstream_node_pool_scaling_usage_threshold_ratio{`+sel+`}`), "D")).
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(organize([]string{"Time", "job"},
			with(groupColumns, "Value #A", "Use", "Value #B", "Connected", "Value #C", "Can hold", "Value #D", "Scale-out at"),
			[]string{"group_name", "account", "Value #A", "Value #B", "Value #C", "Value #D", "region", "charge_type", "group_id"}))
}

// busiestPools is a table of the busiest pools' nodes, headroom and
// session capacity.
func busiestPools() *table.PanelBuilder {
	return groupTable().
		Title("Busiest pools (top "+topPools+" by node use)").
		Description("The "+topPools+" pools using the largest share of their subscription nodes: nodes used and nodes, subscription and scaled; scaling headroom (pools with elastic scaling only) and session capacity. A row opens the overview of its group.").
		Span(24).Height(10).
		Unit("short").
		Decimals(0).
		OverrideByName("Use", []dashboard.DynamicConfigValue{
			{Id: "unit", Value: "percentunit"},
			{Id: "decimals", Value: 0},
			{Id: "min", Value: 0},
			{Id: "max", Value: 1},
			{Id: "thresholds", Value: buildThresholds(thresholds("green", 0.75, "orange", 0.9, "red"))},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "gauge", "mode": "basic"}},
		}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("Use").Desc(true)}).
		WithTarget(tableQuery(busiest, "A")).
		WithTarget(tableQuery(byPool(`aliyun_appstream_node_pool_nodes_used{`+sel+`}`, busiest), "B")).
		WithTarget(tableQuery(byPool(`aliyun_appstream_node_pool_nodes{`+sel+`}`, busiest), "C")).
		WithTarget(tableQuery(byPool(`aliyun_appstream_node_pool_scaling_nodes_used{`+sel+`}`, busiest), "D")).
		WithTarget(tableQuery(byPool(`aliyun_appstream_node_pool_scaling_nodes{`+sel+`}`, busiest), "E")).
		WithTarget(tableQuery(byPool(`pool:aliyun_appstream_node_pool_scaling_nodes:headroom{`+sel+`}
    and on (job, instance, region, group_id, node_pool_id)
  (aliyun_appstream_node_pool_max_scaling_nodes{`+sel+`} > 0)`, busiest), "F")).
		WithTarget(tableQuery(byPool(`pool:aliyun_appstream_node_pool_session_capacity:sum{`+sel+`}`, busiest), "G")).
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(organize([]string{"Time", "job"},
			with(groupColumns, "Value #A", "Use", "Value #B", "Nodes used", "Value #C", "Nodes",
				"Value #D", "Scaled nodes used", "Value #E", "Scaled nodes", "Value #F", "Scaling headroom", "Value #G", "Session capacity"),
			[]string{"group_name", "account", "node_pool_id", "Value #A", "Value #B", "Value #C", "Value #D", "Value #E", "Value #F", "Value #G", "region", "group_id"}))
}

// windowTable is a full-width table of scheduled-scaling windows, one row
// per pool.
func windowTable(title, description string) *table.PanelBuilder {
	return groupTable().
		Title(title).
		Description(description).
		Span(24).Height(8).
		Unit("short").
		Decimals(0)
}

// scheduledScaling is a table of the pools in an active scheduled-scaling
// window: target, nodes and shortfall.
func scheduledScaling() *table.PanelBuilder {
	return windowTable("Scheduled scaling (active windows)",
		"Pools in an active scheduled-scaling window (RecurrenceSchedules): the window's target amount against the pool's nodes, the "+topPools+" furthest below their target first (shortfall = target - nodes; negative: above the target). A row opens the overview of its group.").
		OverrideByName("Shortfall", []dashboard.DynamicConfigValue{
			{Id: "thresholds", Value: buildThresholds(thresholds("green", 1.0, "orange"))},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-text"}},
		}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("Shortfall").Desc(true)}).
		WithTarget(tableQuery(byPool(`aliyun_appstream_node_pool_schedule_target_nodes{`+sel+`}`, shortfall), "A")).
		WithTarget(tableQuery(byPool(`aliyun_appstream_node_pool_nodes{`+sel+`}`, shortfall), "B")).
		WithTarget(tableQuery(shortfall, "C")).
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(organize([]string{"Time", "job"},
			with(groupColumns, "Value #A", "Target", "Value #B", "Nodes", "Value #C", "Shortfall"),
			[]string{"group_name", "account", "node_pool_id", "Value #A", "Value #B", "Value #C", "region", "group_id"}))
}

// nextScheduledWindows is a table of the pools' next scheduled-scaling
// windows: start, target, and the pool's MaxScalingAmount beside it.
func nextScheduledWindows() *table.PanelBuilder {
	return windowTable("Scheduled scaling (next windows)",
		"The next scheduled-scaling window (RecurrenceSchedules) of each pool: the first to start after the exporter's scrape, whether or not a window is active now; the "+topPools+" starting soonest first. Next window: its start, in the dashboard's time zone; Next target: its target amount; Max scaling nodes: the pool's MaxScalingAmount; Target - max: red when the target is above it, blank where MaxScalingAmount is 0 (a pool that does not scale by usage has no such limit), as in the alert AppStreamScheduledTargetAboveMax. A row opens the overview of its group.").
		OverrideByName("Next window", []dashboard.DynamicConfigValue{
			{Id: "unit", Value: "dateTimeAsIso"},
		}).
		OverrideByName("Target - max", []dashboard.DynamicConfigValue{
			{Id: "thresholds", Value: buildThresholds(thresholds("transparent", 1.0, "red"))},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background", "mode": "basic"}},
		}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("Next window")}).
		WithTarget(tableQuery(nextWindows+" * 1000", "A")).
		WithTarget(tableQuery(byPool(`aliyun_appstream_node_pool_schedule_next_target_nodes{`+sel+`}`, nextWindows), "B")).
		WithTarget(tableQuery(byPool(`aliyun_appstream_node_pool_max_scaling_nodes{`+sel+`}`, nextWindows), "C")).
		WithTarget(tableQuery(`max by (`+poolLabels+`) (aliyun_appstream_node_pool_schedule_next_target_nodes{`+sel+`})
  - on (`+poolLabels+`)
max by (`+poolLabels+`) (aliyun_appstream_node_pool_max_scaling_nodes{`+sel+`} > 0)
  and on (`+poolLabels+`)
`+nextWindows, "D")).
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(organize([]string{"Time", "job"},
			with(groupColumns, "Value #A", "Next window", "Value #B", "Next target", "Value #C", "Max scaling nodes", "Value #D", "Target - max"),
			[]string{"group_name", "account", "node_pool_id", "Value #A", "Value #B", "Value #C", "Value #D", "region", "group_id"}))
}

// with is a copy of m with more key, value pairs.
func with(m map[string]string, pairs ...string) map[string]string {
	out := make(map[string]string, len(m)+len(pairs)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		out[pairs[i]] = pairs[i+1]
	}
	return out
}

// buildThresholds is a thresholds configuration as an override value.
func buildThresholds(b *dashboard.ThresholdsConfigBuilder) dashboard.ThresholdsConfig {
	t, err := b.Build()
	if err != nil {
		panic(err)
	}
	return t
}
