package testkit

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Gather gathers g into families by name, failing the test on error.
func Gather(tb testing.TB, g prometheus.Gatherer) map[string]*dto.MetricFamily {
	tb.Helper()
	list, err := g.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	mfs := map[string]*dto.MetricFamily{}
	for _, mf := range list {
		mfs[mf.GetName()] = mf
	}
	return mfs
}

// Value returns the value of the one series of family name whose labels
// include all of want (name, value, name, value, ...); it fails when there
// is not exactly one.
func Value(tb testing.TB, mfs map[string]*dto.MetricFamily, name string, want ...string) float64 {
	tb.Helper()
	v, n := Find(mfs, name, want...)
	if n != 1 {
		tb.Fatalf("%s%v: %d series, want 1", name, want, n)
	}
	return v
}

// Find counts the series of family name whose labels include all of want
// and returns the value of the last of them (a gauge's, counter's or
// untyped sample's).
func Find(mfs map[string]*dto.MetricFamily, name string, want ...string) (float64, int) {
	var v float64
	n := 0
	for _, m := range mfs[name].GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		n++
		switch {
		case m.Gauge != nil:
			v = m.Gauge.GetValue()
		case m.Counter != nil:
			v = m.Counter.GetValue()
		case m.Untyped != nil:
			v = m.Untyped.GetValue()
		}
	}
	return v, n
}

// hasLabels tells whether m has every label pair of want.
func hasLabels(m *dto.Metric, want []string) bool {
	for i := 0; i+1 < len(want); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == want[i] && lp.GetValue() == want[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
