package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
)

// esel narrows every exporter query to the chosen job, account and
// instance.
const esel = `job=~"$job", account=~"$account", instance=~"$instance"`

// isel is esel for the series of the whole process (reloads, the scrape's
// up), which carry no account label.
const isel = `job=~"$job", instance=~"$instance"`

func exporter() *dashboard.DashboardBuilder {
	d := newDashboard("AppStream exporter", "appstream-exporter",
		"Health of appstream_exporter: refreshes, API requests and errors, data age, configuration reloads.",
		"AppStream overview").
		WithVariable(queryVariable("instance", "Instance", `label_values(aliyun_appstream_up{job=~"$job", account=~"$account"}, instance)`,
			"Exporter instance."))
	withRow(d, "Status", statusPanels()...)
	withRow(d, "Refreshes", refreshPanels()...)
	withRow(d, "API", apiPanels()...)
	withRow(d, "App instances", appInstancePanels()...)
	return d
}

// appInstancePanels: the app instance collection's own health (only with
// app_instances enabled).
func appInstancePanels() []cog.Builder[dashboard.Panel] {
	const off = "No data: app instance collection is off (app_instances.enabled)"
	return []cog.Builder[dashboard.Panel]{
		statPanel().
			Title("App instances up per query").
			Description("aliyun_appstream_app_instances_up per biz_region: UP when the newest ListAppInstances refresh succeeded. Independent of the group data's up. " + off + ".").
			Span(8).Height(5).
			ColorMode(common.BigValueColorModeBackground).
			TextMode(common.BigValueTextModeValueAndName).
			Mappings(valueText("0", "DOWN", "red", "1", "UP", "green")).
			NoValue(off).
			WithTarget(instant(`aliyun_appstream_app_instances_up{`+esel+`}`, "{{instance}} {{account}} {{biz_region}}", "A")),
		statPanel().
			Title("Pages per app instance refresh").
			Description("ListAppInstances pages the refresh of the data being served read, one request each (retries are in the API panels), and the groups it listed: at least one page per group. " + off + ".").
			Span(8).Height(5).
			Unit("short").
			NoValue(off).
			WithTarget(instant(`aliyun_appstream_app_instances_refresh_pages{`+esel+`}`, "pages {{instance}} {{account}} {{biz_region}}", "A")).
			WithTarget(instant(`aliyun_appstream_app_instances_groups{`+esel+`}`, "groups {{instance}} {{account}} {{biz_region}}", "B")),
		lines().
			Title("App instance data age and refresh duration").
			Description("Age of the app instance data being served (grows up to app_instances.cache_ttl between refreshes), and the wall time of the newest refresh: all groups at max_requests_per_second. " + off + ".").
			Span(8).Height(5).
			Unit("s").
			Min(0).
			NoValue(off).
			WithTarget(query(`aliyun_appstream_app_instances_data_age_seconds{`+esel+`}`, "age {{instance}} {{account}} {{biz_region}}", "A")).
			WithTarget(query(`aliyun_appstream_app_instances_refresh_duration_seconds{`+esel+`}`, "refresh {{instance}} {{account}} {{biz_region}}", "B")),
	}
}

// statusPanels: whether each query and scrape is up, the groups served and
// the configuration.
func statusPanels() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		statPanel().
			Title("Up per query").
			Description("aliyun_appstream_up per biz_region: UP when the newest refresh succeeded (empty biz_region: the unfiltered query); and Prometheus' up per exporter (scrape): DOWN when the scrape fails. No data: nothing scraped any more.").
			Span(8).Height(5).
			ColorMode(common.BigValueColorModeBackground).
			TextMode(common.BigValueTextModeValueAndName).
			Mappings(valueText("0", "DOWN", "red", "1", "UP", "green")).
			WithTarget(instant(`aliyun_appstream_up{`+esel+`}`, "{{instance}} {{account}} {{biz_region}}", "A")).
			WithTarget(instant(`up{`+isel+`}`, "{{instance}} scrape", "B")),
		statPanel().
			Title("Groups served").
			Description("Delivery groups in the data being served, per query.").
			Span(6).Height(5).
			Unit("short").
			WithTarget(instant(`aliyun_appstream_groups{`+esel+`}`, "{{instance}} {{account}} {{biz_region}}", "A")),
		statPanel().
			Title("Configuration").
			Description("Whether the newest configuration load or reload succeeded. A failed reload keeps the previous configuration in force.").
			Span(5).Height(5).
			ColorMode(common.BigValueColorModeBackground).
			Mappings(valueText("0", "RELOAD FAILED", "red", "1", "OK", "green")).
			WithTarget(instant(`aliyun_appstream_config_last_reload_successful{`+isel+`}`, "{{instance}}", "A")),
		statPanel().
			Title("Configuration loaded").
			Description("When the configuration in force was loaded.").
			Span(5).Height(5).
			Unit("dateTimeFromNow").
			WithTarget(instant(`aliyun_appstream_config_last_reload_success_timestamp_seconds{`+isel+`} * 1000`, "{{instance}}", "A")),
	}
}

// refreshPanels: the age of the data, the time since the last successful
// refresh, refresh durations and results.
func refreshPanels() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		lines().
			Title("Data age").
			Description("Age of the data being served, per query. It grows up to cache_ttl between refreshes; beyond that refreshes are failing.").
			Span(8).Height(8).
			Unit("s").
			Min(0).
			WithTarget(query(`aliyun_appstream_data_age_seconds{`+esel+`}`, "{{instance}} {{account}} {{biz_region}}", "A")),
		lines().
			Title("Time since last successful refresh").
			Description("The AppStreamDataStale alert fires above 15 minutes.").
			Span(8).Height(8).
			Unit("s").
			Min(0).
			Thresholds(thresholds("green", 900.0, "red")).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine)).
			WithTarget(query(`time() - aliyun_appstream_last_refresh_success_timestamp_seconds{`+esel+`}`, "{{instance}} {{account}} {{biz_region}}", "A")),
		lines().
			Title("Refresh duration").
			Description("Wall time of the newest refresh of each query: all pages and retries.").
			Span(8).Height(8).
			Unit("s").
			Min(0).
			WithTarget(query(`aliyun_appstream_refresh_duration_seconds{`+esel+`}`, "{{instance}} {{account}} {{biz_region}}", "A")),
		barGauge().
			Title("Refreshes by result").
			Description("Finished refreshes in the dashboard's time range, per query (biz_region; empty: the unfiltered query) and result: whole numbers, the increase over the range rounded.").
			Span(12).Height(8).
			Unit("short").
			Decimals(0).
			Min(0).
			DisplayMode(common.BarGaugeDisplayModeBasic).
			Orientation(common.VizOrientationHorizontal).
			Thresholds(thresholds("blue")).
			OverrideByRegexp(".*failure$", []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "red"}}}).
			OverrideByRegexp(".*success$", []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "green"}}}).
			WithTarget(instant(`round(sum by (account, biz_region, result) (increase(aliyun_appstream_refreshes_total{`+esel+`}[$__range])))`, "{{account}} {{biz_region}} {{result}}", "A")),
	}
}

// apiPanels: API requests by code, and their latency.
func apiPanels() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		lines().
			Title("API requests by code").
			Description("HTTP requests to appstream-center per second, by result code: Success, the API error code (Throttling.User, ...), HTTP<status>, malformed, transport, or canceled (cut by a reload or shutdown).").
			Span(12).Height(8).
			Unit("reqps").
			Min(0).
			WithTarget(query(`sum by (code) (rate(aliyun_appstream_api_requests_total{`+esel+`}[$__rate_interval]))`, "{{code}}", "A")),
		heatmap.NewPanelBuilder().Datasource(promDS).
			Title("API request latency").
			Description("Distribution of appstream-center request durations, body included: requests per bucket (le, in seconds) and interval.").
			Span(12).Height(8).
			Calculate(false).
			YAxis(heatmap.NewYAxisConfigBuilder().Unit("s")).
			RowsFrame(heatmap.NewRowsHeatmapOptionsBuilder().Layout(common.HeatmapCellLayoutLe)).
			WithTarget(query(`sum by (le) (increase(aliyun_appstream_api_request_duration_seconds_bucket{`+esel+`}[$__rate_interval]))`, "{{le}}", "A").
				Format("heatmap")),
		lines().
			Title("API request duration quantiles").
			Description("Median, 90th and 99th percentile of appstream-center request durations per action, over each $__rate_interval (interpolated within the histogram's buckets: 50 ms to 20 s).").
			Span(12).Height(8).
			Unit("s").
			Min(0).
			WithTarget(query(quantile("0.5"), "p50 {{action}}", "A")).
			WithTarget(query(quantile("0.9"), "p90 {{action}}", "B")).
			WithTarget(query(quantile("0.99"), "p99 {{action}}", "C")),
	}
}

// quantile is a quantile of the API request durations per action.
func quantile(q string) string {
	return `histogram_quantile(` + q + `, sum by (le, action) (rate(aliyun_appstream_api_request_duration_seconds_bucket{` + esel + `}[$__rate_interval])))`
}
