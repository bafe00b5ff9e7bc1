package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// sel narrows every overview query to the variables' choice.
const sel = `job=~"$job", region=~"$region", charge_type=~"$charge_type", group_id=~"$group"`

const day = 86400.0

// Columns that add nothing to a group table.
var plumbing = []string{"Time", "__name__", "job", "instance", "Value"}

func overview() *dashboard.DashboardBuilder {
	return newDashboard("AppStream overview", "appstream-overview",
		"WUYING Cloud Application delivery groups: status, expiry, capacity and scheduled scaling, from appstream_exporter.",
		"AppStream exporter").
		WithVariable(queryVariable("region", "Region", `label_values(aliyun_appstream_group_info{job=~"$job"}, region)`,
			"Region of the delivery group (RegionId).")).
		WithVariable(queryVariable("charge_type", "Charge type", `label_values(aliyun_appstream_group_info{job=~"$job", region=~"$region"}, charge_type)`,
			"PrePaid (subscription) or PostPaid (pay-as-you-go).")).
		WithVariable(queryVariable("group", "Delivery group",
			`query_result(aliyun_appstream_group_info{job=~"$job", region=~"$region", charge_type=~"$charge_type"})`,
			"Delivery groups, shown by name, selected by ID.").
			Regex(`/group_id="(?<value>[^"]*)".*group_name="(?<text>[^"]*)"/`)).
		WithRow(dashboard.NewRowBuilder("Fleet")).
		WithPanel(statPanel().
			Title("Delivery groups").
			Description("Delivery groups exported (after the variables' filters).").
			Span(4).Height(4).
			Unit("short").
			GraphMode(common.BigValueGraphModeNone).
			WithTarget(query(`count(aliyun_appstream_group_info{`+sel+`}) or vector(0)`, "groups"))).
		WithPanel(statPanel().
			Title("Need attention").
			Description("Groups ceased for an overdue payment, expired, failed to publish or update, or with unavailable resources.").
			Span(5).Height(4).
			Unit("short").
			ColorMode(common.BigValueColorModeBackground).
			GraphMode(common.BigValueGraphModeNone).
			Thresholds(thresholds("green", 1.0, "red")).
			WithTarget(query(`count(
  max by (job, group_id) (aliyun_appstream_group_status{`+sel+`, status=~"CEASED|EXPIRED|EXPIRED_RECYCLING|FAILED|MAINTAIN_FAILED"} == 1)
  or
  max by (job, group_id) (aliyun_appstream_group_resource_status{`+sel+`, resource_status="UNAVAILABLE"} == 1)
) or vector(0)`, "groups"))).
		WithPanel(statPanel().
			Title("Expire within 7 days").
			Description("Groups whose ExpiredTime is less than 7 days away.").
			Span(5).Height(4).
			Unit("short").
			ColorMode(common.BigValueColorModeBackground).
			GraphMode(common.BigValueGraphModeNone).
			Thresholds(thresholds("green", 1.0, "orange")).
			WithTarget(query(`count(aliyun_appstream_group_expires_in_seconds{`+sel+`} > 0 < 7 * 86400) or vector(0)`, "groups"))).
		WithPanel(statPanel().
			Title("OTA updates available").
			Description("Groups with a newer OTA version available (OtaInfo.NewOtaVersion).").
			Span(5).Height(4).
			Unit("short").
			GraphMode(common.BigValueGraphModeNone).
			Thresholds(thresholds("green", 1.0, "blue")).
			WithTarget(query(`sum(aliyun_appstream_group_ota_update_available{`+sel+`}) or vector(0)`, "groups"))).
		WithPanel(statPanel().
			Title("Nodes in use").
			Description("Nodes in use across the selected pools, subscription and scaled.").
			Span(5).Height(4).
			Unit("short").
			GraphMode(common.BigValueGraphModeArea).
			WithTarget(query(`sum(aliyun_appstream_node_pool_nodes_used{`+sel+`}) + sum(aliyun_appstream_node_pool_scaling_nodes_used{`+sel+`})`, "nodes used"))).
		WithPanel(barGauge().
			Title("Groups by status").
			Description("Delivery groups per Status.").
			Span(12).Height(7).
			Unit("short").
			DisplayMode(common.BarGaugeDisplayModeBasic).
			Orientation(common.VizOrientationHorizontal).
			Thresholds(thresholds("blue")).
			WithTarget(query(`sum by (status) (aliyun_appstream_group_status{`+sel+`})`, "{{status}}"))).
		WithPanel(barGauge().
			Title("Groups by resource status").
			Description("Delivery groups per ResourceStatus.").
			Span(12).Height(7).
			Unit("short").
			DisplayMode(common.BarGaugeDisplayModeBasic).
			Orientation(common.VizOrientationHorizontal).
			Thresholds(thresholds("blue")).
			WithTarget(query(`sum by (resource_status) (aliyun_appstream_group_resource_status{`+sel+`})`, "{{resource_status}}"))).
		WithRow(dashboard.NewRowBuilder("Expiry and problems")).
		WithPanel(table.NewPanelBuilder().Datasource(promDS).
			Title("Expiry countdown").
			Description("Time until each group's ExpiredTime, soonest first: red under 7 days, orange under 30 days, negative once expired.").
			Span(12).Height(10).
			Unit("dtdurations").
			Thresholds(thresholds("red", 7*day, "orange", 30*day, "green")).
			OverrideByName("Expires in", []dashboard.DynamicConfigValue{
				{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background", "mode": "basic"}},
			}).
			SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("Expires in")}).
			WithTarget(tableQuery(`aliyun_appstream_group_expires_in_seconds{`+sel+`}`, "A")).
			WithTransformation(organize(plumbing[:4],
				map[string]string{"Value": "Expires in", "group_name": "Group", "group_id": "ID", "region": "Region", "charge_type": "Charge type"},
				[]string{"group_name", "Value", "region", "charge_type", "group_id"}))).
		WithPanel(table.NewPanelBuilder().Datasource(promDS).
			Title("Ceased, expired, failed and unavailable groups").
			Description("Groups whose Status is CEASED, EXPIRED, EXPIRED_RECYCLING, FAILED or MAINTAIN_FAILED, or whose ResourceStatus is UNAVAILABLE.").
			Span(12).Height(10).
			Unit("string").
			WithTarget(tableQuery(`aliyun_appstream_group_status{`+sel+`, status=~"CEASED|EXPIRED|EXPIRED_RECYCLING|FAILED|MAINTAIN_FAILED"} == 1`, "A")).
			WithTarget(tableQuery(`label_replace(aliyun_appstream_group_resource_status{`+sel+`, resource_status="UNAVAILABLE"} == 1, "status", "UNAVAILABLE (resources)", "", "")`, "B")).
			WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
			WithTransformation(organize(append(plumbing, "resource_status"),
				map[string]string{"group_name": "Group", "group_id": "ID", "region": "Region", "charge_type": "Charge type", "status": "Problem"},
				[]string{"group_name", "status", "region", "charge_type", "group_id"}))).
		WithRow(dashboard.NewRowBuilder("Capacity")).
		WithPanel(lines().
			Title("Nodes used and nodes per pool").
			Description("Subscription nodes in use (NodeUsed) against the pool's subscription nodes (NodeAmount).").
			Span(12).Height(8).
			Unit("short").
			Min(0).
			WithTarget(query(`aliyun_appstream_node_pool_nodes_used{`+sel+`}`, "{{group_name}} {{node_pool_id}} used")).
			WithTarget(query(`aliyun_appstream_node_pool_nodes{`+sel+`}`, "{{group_name}} {{node_pool_id}} nodes"))).
		WithPanel(barGauge().
			Title("Node use per pool").
			Description("Share of each pool's subscription nodes in use: orange from 75 %, red from 90 % (the AppStreamNodePoolSaturated alert).").
			Span(12).Height(8).
			Unit("percentunit").
			Min(0).Max(1).
			DisplayMode(common.BarGaugeDisplayModeGradient).
			Orientation(common.VizOrientationHorizontal).
			Thresholds(thresholds("green", 0.75, "orange", 0.9, "red")).
			WithTarget(query(`aliyun_appstream_node_pool_nodes_used{`+sel+`} / (aliyun_appstream_node_pool_nodes{`+sel+`} > 0)`, "{{group_name}} {{node_pool_id}}"))).
		WithPanel(lines().
			Title("Session capacity per pool").
			Description("Sessions a pool can hold: (subscription nodes + scaled nodes) x sessions per node (NodeCapacity).").
			Span(12).Height(8).
			Unit("short").
			Min(0).
			WithTarget(query(`(aliyun_appstream_node_pool_nodes{`+sel+`} + aliyun_appstream_node_pool_scaling_nodes{`+sel+`}) * aliyun_appstream_node_pool_node_session_capacity{`+sel+`}`, "{{group_name}} {{node_pool_id}}"))).
		WithPanel(barGauge().
			Title("Scaling headroom").
			Description("Nodes each pool may still add by scaling out: MaxScalingAmount - ScalingNodeAmount. Zero for a pool at its limit.").
			Span(12).Height(8).
			Unit("short").
			Min(0).
			DisplayMode(common.BarGaugeDisplayModeBasic).
			Orientation(common.VizOrientationHorizontal).
			Thresholds(thresholds("red", 1.0, "green")).
			WithTarget(query(`aliyun_appstream_node_pool_max_scaling_nodes{`+sel+`} - aliyun_appstream_node_pool_scaling_nodes{`+sel+`}`, "{{group_name}} {{node_pool_id}}"))).
		WithPanel(lines().
			Title("Scheduled scaling: target and nodes").
			Description("For pools with scheduled scaling: the target amount of the active window, and the pool's nodes.").
			Span(24).Height(8).
			Unit("short").
			Min(0).
			WithTarget(query(`aliyun_appstream_node_pool_schedule_target_nodes{`+sel+`}`, "{{group_name}} {{node_pool_id}} target")).
			WithTarget(query(`aliyun_appstream_node_pool_nodes{`+sel+`} and on (job, instance, group_id, node_pool_id) aliyun_appstream_node_pool_schedule_active{`+sel+`}`, "{{group_name}} {{node_pool_id}} nodes")))
}
