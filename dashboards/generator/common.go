package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Every panel and variable queries the data source the user picks.
var promDS = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

// newDashboard is the frame both dashboards share: tags, refresh, time
// range, a link to the other one, and the data source and job variables.
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
			IncludeVars(false)).
		WithVariable(datasourceVariable()).
		WithVariable(queryVariable("job", "Job", `label_values(aliyun_appstream_up, job)`,
			"Prometheus job(s) scraping appstream_exporter."))
}

func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder("datasource").
		Label("Data source").
		Type("prometheus")
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

func query(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend)
}

// tableQuery is an instant query shaped as a table, one row per series.
func tableQuery(expr, refID string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).Instant().Format(prometheus.PromQueryFormatTable).RefId(refID)
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

// lastValue reduces a series to its newest value (stat and bar gauge panels).
func lastValue() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)
}

func statPanel() *stat.PanelBuilder {
	return stat.NewPanelBuilder().Datasource(promDS).ReduceOptions(lastValue()).Orientation(common.VizOrientationAuto)
}

func barGauge() *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().Datasource(promDS).ReduceOptions(lastValue())
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
