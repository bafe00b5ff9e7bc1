package exporter

import (
	"bytes"
	"math"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

// textFamilies are families as the exporter's registry gathers them (the
// runtime, the process, the build, the API's histograms and counters),
// and made up ones with what the text format escapes, quotes or adds.
func textFamilies(t *testing.T) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), NewProcessCollector(), versioncollector.NewCollector("aliyun_appstream_exporter"))
	NewMetrics(reg)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	label := func(name, value string) *dto.LabelPair { return &dto.LabelPair{Name: &name, Value: &value} }
	gauge := func(v float64, labels ...*dto.LabelPair) *dto.Metric {
		return &dto.Metric{Label: labels, Gauge: &dto.Gauge{Value: &v}}
	}
	family := func(name, help string, typ dto.MetricType, metrics ...*dto.Metric) *dto.MetricFamily {
		return &dto.MetricFamily{Name: &name, Help: &help, Type: &typ, Metric: metrics}
	}
	var values []*dto.Metric
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -1, 0.1, -2.5, 1e-7, 1e21, 123456789.123, math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64} {
		values = append(values, gauge(v, label("v", "x")))
	}
	withTime := gauge(3, label("a", "b"))
	withTime.TimestampMs = proto.Int64(1_700_000_000_123)
	noHelp := family("no_help", "", dto.MetricType_UNTYPED, &dto.Metric{Untyped: &dto.Untyped{Value: proto.Float64(2)}})
	noHelp.Help = nil
	summary := &dto.Metric{Label: []*dto.LabelPair{label("s", "1")}, Summary: &dto.Summary{SampleCount: proto.Uint64(7), SampleSum: proto.Float64(1.5),
		Quantile: []*dto.Quantile{{Quantile: proto.Float64(0.5), Value: proto.Float64(0.2)}, {Quantile: proto.Float64(0.99), Value: proto.Float64(math.NaN())}}}}
	noInf := &dto.Metric{Histogram: &dto.Histogram{SampleCount: proto.Uint64(4), SampleSum: proto.Float64(2),
		Bucket: []*dto.Bucket{{UpperBound: proto.Float64(0.5), CumulativeCount: proto.Uint64(1)}, {UpperBound: proto.Float64(1), CumulativeCount: proto.Uint64(3)}}}}
	floatCounts := &dto.Metric{Histogram: &dto.Histogram{SampleCountFloat: proto.Float64(4.5), SampleSum: proto.Float64(2),
		Bucket: []*dto.Bucket{{UpperBound: proto.Float64(1), CumulativeCountFloat: proto.Float64(2.5)}, {UpperBound: proto.Float64(math.Inf(1)), CumulativeCountFloat: proto.Float64(4.5)}}}}
	return append(mfs,
		family("escapes", "Help with \\ backslash,\nnewline and \"quotes\".", dto.MetricType_GAUGE,
			gauge(1, label("path", `C:\dir`), label("quote", `say "hi"`), label("nl", "a\nb")),
			gauge(2, label("tag", "办公应用"), label("empty", ""))),
		family("utf8_label", "A label name the text format quotes.", dto.MetricType_GAUGE, gauge(1, label("部门", "x"))),
		family("timestamped", "With a timestamp.", dto.MetricType_GAUGE, withTime),
		family("values", "Values.", dto.MetricType_GAUGE, values...),
		family("colon:name", "A name with a colon.", dto.MetricType_COUNTER, &dto.Metric{Counter: &dto.Counter{Value: proto.Float64(5)}}),
		family("needs quoting", "A name the text format quotes.", dto.MetricType_GAUGE, gauge(1, label("ok", "1"))),
		family("dotted.name", "Another.", dto.MetricType_GAUGE, gauge(1, label("ok", "1"))),
		family("bad_label", "A label name the text format quotes.", dto.MetricType_GAUGE, gauge(1, label("1st", "x"))),
		family("summary", "A summary.", dto.MetricType_SUMMARY, summary),
		family("histogram", "Histograms.", dto.MetricType_HISTOGRAM, noInf, floatCounts),
		family("gauge_histogram", "A gauge histogram.", dto.MetricType_GAUGE_HISTOGRAM, noInf),
		family("no_series", "None.", dto.MetricType_GAUGE),
		family("missing_value", "A gauge without its value.", dto.MetricType_GAUGE, &dto.Metric{Counter: &dto.Counter{Value: proto.Float64(1)}}),
		noHelp)
}

// TestFamilyTextAsExpfmt: the exporter's own metrics are written as
// expfmt writes them, byte for byte, errors included.
func TestFamilyTextAsExpfmt(t *testing.T) {
	families := textFamilies(t)
	if len(families) < 30 {
		t.Fatalf("only %d families", len(families))
	}
	for _, mf := range families {
		var want bytes.Buffer
		_, wantErr := expfmt.MetricFamilyToText(&want, mf)
		got, err := appendFamilyText([]byte("before\n"), mf)
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%s: error %v, expfmt's %v", mf.GetName(), err, wantErr)
		}
		if string(got) != "before\n"+want.String() {
			t.Errorf("%s:\n%s\nexpfmt writes:\n%s", mf.GetName(), got, want.Bytes())
		}
	}
}
