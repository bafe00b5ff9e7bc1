package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Every panel and variable queries the data source the user picks.
var promDS = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

// newDashboard is the frame both dashboards share: tags, refresh, time
// range, a link to the other one (carrying the time range and the
// variables), and the data source, job and account variables.
func newDashboard(title, uid, description, linkTo string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{"appstream", "alibaba-cloud"}).
		Refresh("1m").
		Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder(linkTo).
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"appstream"}).
			AsDropdown(false).
			KeepTime(true).
			IncludeVars(true)).
		WithVariable(datasourceVariable()).
		WithVariable(queryVariable("job", "Job", `label_values(aliyun_appstream_up, job)`,
			"Prometheus job(s) scraping appstream_exporter.")).
		WithVariable(queryVariable("account", "Account", `label_values(aliyun_appstream_up{job=~"$job"}, account)`,
			"Alibaba Cloud account(s), as named under accounts: in the exporter's configuration. "+
				"An exporter configured for one account exports no account label; All includes its series."))
}

func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	importPick := "${" + importInputName + "}"
	return dashboard.NewDatasourceVariableBuilder("datasource").
		Label("Data source").
		Type("prometheus").
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{String: &importPick},
			Value: dashboard.StringOrArrayOfString{String: &importPick},
		})
}

// queryVariable is a multi-select variable with "All" meaning any value,
// the empty one included.
func queryVariable(name, label, query, description string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Description(description).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Datasource(promDS).
		Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		}).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*")
}

// resultVariable is a queryVariable whose values come out of an instant
// query's series by regex (Grafana's query_result): an aggregation keeps
// the answer to one short series per value, however many series match.
func resultVariable(name, label, expr, regex, description string) *dashboard.QueryVariableBuilder {
	return queryVariable(name, label, "query_result("+expr+")", description).Regex(regex)
}

// query is a range query (time series panels).
func query(expr, legend, refID string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend).Range().RefId(refID)
}

// instant is an instant query at the end of the time range: stat and bar
// gauge panels show the current value, and nothing (noData) once the series
// are gone, never the last value of a dead exporter.
func instant(expr, legend, refID string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend).Instant().RefId(refID)
}

// tableQuery is an instant query shaped as a table, one row per series.
func tableQuery(expr, refID string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).Instant().Format(prometheus.PromQueryFormatTable).RefId(refID)
}

// noData is what stat, bar gauge and table panels show when their query
// returns nothing: no data, not a reassuring zero.
const noData = "No data"

// listsAllMarker, in a table's description, says the table lists every
// matching group, so its rows grow with the fleet; every other panel
// returns a bounded number of series. The scale test (scale_e2e_test.go in
// the repository root) reads it; keep the two in step.
const listsAllMarker = "Lists every matching group"

// listsAll marks a table's description with listsAllMarker.
func listsAll(description string) string {
	return description + " " + listsAllMarker + " (a table, searchable and sorted; no top-N cut)."
}

// groupLink opens the overview narrowed to the group of a table row (or of
// a bar: fieldLabels), keeping the time range, data source, job and
// account selection (a single-account exporter has no account field to
// take it from the row).
func groupLink(fieldLabels bool) []cog.Builder[dashboard.DashboardLink] {
	region, group := "${__data.fields.region}", "${__data.fields.group_id}"
	if fieldLabels {
		region, group = "${__field.labels.region}", "${__field.labels.group_id}"
	}
	return []cog.Builder[dashboard.DashboardLink]{
		dashboard.NewDashboardLinkBuilder("Show this delivery group").
			Type(dashboard.DashboardLinkTypeLink).
			Url("/d/appstream-overview?var-region=" + region + "&var-group=" + group +
				"&${datasource:queryparam}&${job:queryparam}&${account:queryparam}&${__url_time_range}"),
	}
}

func thresholds(base string, steps ...any) *dashboard.ThresholdsConfigBuilder {
	list := []dashboard.Threshold{{Color: base}}
	for i := 0; i+1 < len(steps); i += 2 {
		list = append(list, dashboard.Threshold{Value: cog.ToPtr(steps[i].(float64)), Color: steps[i+1].(string)})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(list)
}

// valueText maps exact values to a text and a color (UP/DOWN, OK/FAILED).
func valueText(pairs ...string) []dashboard.ValueMapping {
	vm := dashboard.NewValueMap()
	for i := 0; i+2 < len(pairs)+1; i += 3 {
		vm.Options[pairs[i]] = dashboard.ValueMappingResult{Text: cog.ToPtr(pairs[i+1]), Color: cog.ToPtr(pairs[i+2]), Index: cog.ToPtr(int32(i / 3))}
	}
	return []dashboard.ValueMapping{{ValueMap: vm}}
}

// lastValue reduces a series to its value (stat and bar gauge panels, whose
// instant queries return one sample per series).
func lastValue() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)
}

// statPanel shows current values: its queries are instant ones.
func statPanel() *stat.PanelBuilder {
	return stat.NewPanelBuilder().Datasource(promDS).ReduceOptions(lastValue()).Orientation(common.VizOrientationAuto).
		GraphMode(common.BigValueGraphModeNone).
		NoValue(noData)
}

// barGauge shows current values: its queries are instant ones.
func barGauge() *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().Datasource(promDS).ReduceOptions(lastValue()).NoValue(noData)
}

// groupTable is a table of group (or pool) rows, each linking to the
// overview narrowed to its group.
func groupTable() *table.PanelBuilder {
	return table.NewPanelBuilder().Datasource(promDS).NoValue(noData).DataLinks(groupLink(false))
}

func lines() *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Datasource(promDS).
		LineWidth(1).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			Calcs([]string{"lastNotNull", "max"}).
			ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
}

// organize hides and renames table columns.
func organize(hide []string, rename map[string]string, order []string) dashboard.DataTransformerConfig {
	excluded := map[string]bool{}
	for _, h := range hide {
		excluded[h] = true
	}
	index := map[string]int{}
	for i, o := range order {
		index[o] = i
	}
	return dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
		"excludeByName": excluded,
		"renameByName":  rename,
		"indexByName":   index,
	}}
}

// withRow adds a row and its panels to d.
func withRow(d *dashboard.DashboardBuilder, title string, panels ...cog.Builder[dashboard.Panel]) {
	d.WithRow(dashboard.NewRowBuilder(title))
	for _, p := range panels {
		d.WithPanel(p)
	}
}
