package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
)

// esel narrows every exporter query to the chosen job and instance.
const esel = `job=~"$job", instance=~"$instance"`

func exporter() *dashboard.DashboardBuilder {
	return newDashboard("AppStream exporter", "appstream-exporter",
		"Health of appstream_exporter: refreshes, API requests and errors, data age, configuration reloads.",
		"AppStream overview").
		WithVariable(queryVariable("instance", "Instance", `label_values(aliyun_appstream_up{job=~"$job"}, instance)`,
			"Exporter instance.")).
		WithRow(dashboard.NewRowBuilder("Status")).
		WithPanel(statPanel().
			Title("Up per query").
			Description("aliyun_appstream_up per biz_region: UP when the newest refresh succeeded (empty biz_region: the unfiltered query).").
			Span(8).Height(5).
			ColorMode(common.BigValueColorModeBackground).
			GraphMode(common.BigValueGraphModeNone).
			Mappings(valueText("0", "DOWN", "red", "1", "UP", "green")).
			WithTarget(query(`aliyun_appstream_up{`+esel+`}`, "{{instance}} {{biz_region}}"))).
		WithPanel(statPanel().
			Title("Groups served").
			Description("Delivery groups in the data being served, per query.").
			Span(6).Height(5).
			Unit("short").
			GraphMode(common.BigValueGraphModeArea).
			WithTarget(query(`aliyun_appstream_groups{`+esel+`}`, "{{instance}} {{biz_region}}"))).
		WithPanel(statPanel().
			Title("Configuration").
			Description("Whether the newest configuration load or reload succeeded. A failed reload keeps the previous configuration in force.").
			Span(5).Height(5).
			ColorMode(common.BigValueColorModeBackground).
			GraphMode(common.BigValueGraphModeNone).
			Mappings(valueText("0", "RELOAD FAILED", "red", "1", "OK", "green")).
			WithTarget(query(`aliyun_appstream_config_last_reload_successful{`+esel+`}`, "{{instance}}"))).
		WithPanel(statPanel().
			Title("Configuration loaded").
			Description("When the configuration in force was loaded.").
			Span(5).Height(5).
			Unit("dateTimeFromNow").
			GraphMode(common.BigValueGraphModeNone).
			WithTarget(query(`aliyun_appstream_config_last_reload_success_timestamp_seconds{`+esel+`} * 1000`, "{{instance}}"))).
		WithRow(dashboard.NewRowBuilder("Refreshes")).
		WithPanel(lines().
			Title("Data age").
			Description("Age of the data being served, per query. It grows up to cache_ttl between refreshes; beyond that refreshes are failing.").
			Span(8).Height(8).
			Unit("s").
			Min(0).
			WithTarget(query(`aliyun_appstream_data_age_seconds{`+esel+`}`, "{{instance}} {{biz_region}}"))).
		WithPanel(lines().
			Title("Time since last successful refresh").
			Description("The AppStreamDataStale alert fires above 15 minutes.").
			Span(8).Height(8).
			Unit("s").
			Min(0).
			Thresholds(thresholds("green", 900.0, "red")).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine)).
			WithTarget(query(`time() - aliyun_appstream_last_refresh_success_timestamp_seconds{`+esel+`}`, "{{instance}} {{biz_region}}"))).
		WithPanel(lines().
			Title("Refresh duration").
			Description("Wall time of the newest refresh of each query: all pages and retries.").
			Span(8).Height(8).
			Unit("s").
			Min(0).
			WithTarget(query(`aliyun_appstream_refresh_duration_seconds{`+esel+`}`, "{{instance}} {{biz_region}}"))).
		WithPanel(lines().
			Title("Refreshes by result").
			Description("Finished refreshes per interval, successful and failed.").
			Span(12).Height(8).
			Unit("short").
			Min(0).
			WithTarget(query(`sum by (biz_region, result) (increase(aliyun_appstream_refreshes_total{`+esel+`}[$__rate_interval]))`, "{{biz_region}} {{result}}"))).
		WithRow(dashboard.NewRowBuilder("API")).
		WithPanel(lines().
			Title("API requests by code").
			Description("HTTP requests to appstream-center per second, by result code: Success, the API error code (Throttling.User, ...), HTTP<status>, malformed, transport, or canceled (cut by a reload or shutdown).").
			Span(12).Height(8).
			Unit("reqps").
			Min(0).
			WithTarget(query(`sum by (code) (rate(aliyun_appstream_api_requests_total{`+esel+`}[$__rate_interval]))`, "{{code}}"))).
		WithPanel(heatmap.NewPanelBuilder().Datasource(promDS).
			Title("API request latency").
			Description("Distribution of appstream-center request durations, body included.").
			Span(12).Height(8).
			Calculate(false).
			WithTarget(query(`sum by (le) (increase(aliyun_appstream_api_request_duration_seconds_bucket{`+esel+`}[$__rate_interval]))`, "{{le}}").
				Format("heatmap"))).
		WithPanel(lines().
			Title("Mean API request duration").
			Description("Mean duration of appstream-center requests since the exporter started.").
			Span(12).Height(8).
			Unit("s").
			Min(0).
			WithTarget(query(`aliyun_appstream_api_request_duration_seconds_sum{`+esel+`} / aliyun_appstream_api_request_duration_seconds_count{`+esel+`}`, "{{instance}}")))
}
