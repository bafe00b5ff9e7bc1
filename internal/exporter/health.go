package exporter

import (
	"cmp"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"

	"github.com/prometheus/client_golang/prometheus"
)

// The health series (up, data age, the app instance caches...) describe
// the view a scrape serves, so they are made per scrape. They are turned
// into metric families here rather than by a registry made per scrape:
// that one, and merging its families with the exporter's own registry's,
// cost a third of gathering the exporter's own metrics.

// healthFamily is what a health series' family says of itself: Desc
// does not tell its name or help.
type healthFamily struct{ name, help string }

var healthFamilies = map[*prometheus.Desc]healthFamily{}

// healthDesc is a health gauge family's Desc, remembered with its name
// and help.
func healthDesc(name, help string, labels []string) *prometheus.Desc {
	d := prometheus.NewDesc(name, help, labels, nil)
	healthFamilies[d] = healthFamily{name: name, help: help}
	return d
}

// gatherHealth is the view's health series as metric families: sorted by
// name, and each family's series by their label values, as a registry
// sorts them.
func gatherHealth(v *view) ([]*dto.MetricFamily, error) {
	var (
		mfs   []*dto.MetricFamily
		byDsc = map[*prometheus.Desc]*dto.MetricFamily{}
		err   error
	)
	collectHealth(v, func(m prometheus.Metric) {
		mf := byDsc[m.Desc()]
		if mf == nil {
			f := healthFamilies[m.Desc()]
			mf = &dto.MetricFamily{Name: &f.name, Help: &f.help, Type: dto.MetricType_GAUGE.Enum()}
			byDsc[m.Desc()] = mf
			mfs = append(mfs, mf)
		}
		metric := new(dto.Metric)
		if werr := m.Write(metric); werr != nil {
			err = werr
			return
		}
		mf.Metric = append(mf.Metric, metric)
	})
	for _, mf := range mfs {
		slices.SortStableFunc(mf.Metric, compareLabelValues)
	}
	slices.SortFunc(mfs, compareNames)
	return mfs, err
}

// compareLabelValues orders series of one family, whose label pairs are
// sorted by name, by their values in turn.
func compareLabelValues(a, b *dto.Metric) int {
	for i := range min(len(a.Label), len(b.Label)) {
		if c := strings.Compare(a.Label[i].GetValue(), b.Label[i].GetValue()); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a.Label), len(b.Label))
}

func compareNames(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) }

// mergeFamilies merges two lists of families sorted by name into one; a
// family in both gets the series of both.
func mergeFamilies(a, b []*dto.MetricFamily) []*dto.MetricFamily {
	out := make([]*dto.MetricFamily, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch c := compareNames(a[0], b[0]); {
		case c < 0:
			out, a = append(out, a[0]), a[1:]
		case c > 0:
			out, b = append(out, b[0]), b[1:]
		default:
			a[0].Metric = append(a[0].Metric, b[0].Metric...)
			slices.SortStableFunc(a[0].Metric, compareLabelValues)
			out, a, b = append(out, a[0]), a[1:], b[1:]
		}
	}
	return append(append(out, a...), b...)
}
