package exporter

import (
	"bytes"
	"math"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// appendFamilyText appends mf in the text format, byte for byte as
// expfmt.MetricFamilyToText writes it. That one took a fifth of gathering
// the exporter's own metrics at every scrape, mostly to check every name
// of every line and to escape through a strings.Replacer; here names are
// checked once per family. A family this does not write the common way
// (a name to quote, a series missing its value, no series) is left to
// expfmt, whose error it returns.
func appendFamilyText(b []byte, mf *dto.MetricFamily) ([]byte, error) {
	if !plainFamily(mf) {
		var buf bytes.Buffer
		_, err := expfmt.MetricFamilyToText(&buf, mf)
		return append(b, buf.Bytes()...), err
	}
	name := mf.GetName()
	if mf.Help != nil {
		b = append(b, "# HELP "...)
		b = append(b, name...)
		b = append(b, ' ')
		b = appendEscaped(b, mf.GetHelp(), false)
		b = append(b, '\n')
	}
	b = append(b, "# TYPE "...)
	b = append(b, name...)
	switch mf.GetType() {
	case dto.MetricType_COUNTER:
		b = append(b, " counter\n"...)
	case dto.MetricType_GAUGE:
		b = append(b, " gauge\n"...)
	case dto.MetricType_SUMMARY:
		b = append(b, " summary\n"...)
	case dto.MetricType_UNTYPED:
		b = append(b, " untyped\n"...)
	default: // plainFamily lets no other type through but histograms
		b = append(b, " histogram\n"...)
	}
	for _, m := range mf.Metric {
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			b = appendSample(b, name, "", m, "", 0, m.Counter.GetValue())
		case dto.MetricType_GAUGE:
			b = appendSample(b, name, "", m, "", 0, m.Gauge.GetValue())
		case dto.MetricType_UNTYPED:
			b = appendSample(b, name, "", m, "", 0, m.Untyped.GetValue())
		case dto.MetricType_SUMMARY:
			for _, q := range m.Summary.Quantile {
				b = appendSample(b, name, "", m, "quantile", q.GetQuantile(), q.GetValue())
			}
			b = appendSample(b, name, "_sum", m, "", 0, m.Summary.GetSampleSum())
			b = appendSample(b, name, "_count", m, "", 0, float64(m.Summary.GetSampleCount()))
		default:
			h := m.Histogram
			infSeen := false
			for _, bucket := range h.Bucket {
				v := bucket.GetCumulativeCountFloat()
				if v == 0 {
					v = float64(bucket.GetCumulativeCount())
				}
				b = appendSample(b, name, "_bucket", m, "le", bucket.GetUpperBound(), v)
				infSeen = infSeen || math.IsInf(bucket.GetUpperBound(), +1)
			}
			count := h.GetSampleCountFloat()
			if count == 0 {
				count = float64(h.GetSampleCount())
			}
			if !infSeen {
				b = appendSample(b, name, "_bucket", m, "le", math.Inf(+1), count)
			}
			b = appendSample(b, name, "_sum", m, "", 0, h.GetSampleSum())
			b = appendSample(b, name, "_count", m, "", 0, count)
		}
	}
	return b, nil
}

// plainFamily tells whether every name of mf is written bare and every
// series holds the value its type needs.
func plainFamily(mf *dto.MetricFamily) bool {
	if len(mf.Metric) == 0 || !bareName(mf.GetName()) {
		return false
	}
	for _, m := range mf.Metric {
		for _, l := range m.Label {
			if !bareName(l.GetName()) {
				return false
			}
		}
		var ok bool
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			ok = m.Counter != nil
		case dto.MetricType_GAUGE:
			ok = m.Gauge != nil
		case dto.MetricType_UNTYPED:
			ok = m.Untyped != nil
		case dto.MetricType_SUMMARY:
			ok = m.Summary != nil
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			ok = m.Histogram != nil
		}
		if !ok {
			return false
		}
	}
	return true
}

// bareName: a name of the legacy character set, [a-zA-Z_:][a-zA-Z0-9_:]*,
// which the text format writes without quotes.
func bareName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || c >= '0' && c <= '9' && i > 0 {
			continue
		}
		return false
	}
	return true
}

// appendSample appends one line: name and suffix, the labels (and one
// more, whose value is a float), the value and any timestamp.
func appendSample(b []byte, name, suffix string, m *dto.Metric, extraName string, extraValue, value float64) []byte {
	b = append(append(b, name...), suffix...)
	sep := byte('{')
	for _, l := range m.Label {
		b = append(append(b, sep), l.GetName()...)
		b = append(b, `="`...)
		b = append(appendEscaped(b, l.GetValue(), true), '"')
		sep = ','
	}
	if extraName != "" {
		b = append(append(b, sep), extraName...)
		b = append(b, `="`...)
		b = append(appendFloat(b, extraValue), '"')
		sep = ','
	}
	if sep == ',' {
		b = append(b, '}')
	}
	b = appendFloat(append(b, ' '), value)
	if m.TimestampMs != nil {
		b = strconv.AppendInt(append(b, ' '), m.GetTimestampMs(), 10)
	}
	return append(b, '\n')
}

// appendEscaped escapes '\' and newline, and '"' in label values.
func appendEscaped(b []byte, s string, quote bool) []byte {
	if strings.IndexByte(s, '\\') < 0 && strings.IndexByte(s, '\n') < 0 && (!quote || strings.IndexByte(s, '"') < 0) {
		return append(b, s...) // most often: nothing to escape, found a word at a time
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendFloat writes a value as the text format does.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case f == 1:
		return append(b, '1')
	case f == 0:
		return append(b, '0')
	case f == -1:
		return append(b, "-1"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, +1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}
