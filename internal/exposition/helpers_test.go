package exposition

import (
	"bufio"
	"bytes"
	"flag"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/appstream-exporter/appstream_exporter/config"
)

var update = flag.Bool("update", false, "rewrite docs/metrics.md from the family table")

// fixtures are the recorded API answers the exporter's golden test serves:
// the reference's example group and edge cases.
var fixtures = []string{"../exporter/testdata/reference.json", "../exporter/testdata/edge_cases.json", "../exporter/testdata/app_instances.json"}

// testConfig is a validated configuration; rendering reads only its tag
// labels and time zone.
func testConfig(t testing.TB, edit func(*config.Config)) *config.Config {
	t.Helper()
	cfg := config.DefaultConfig()
	if edit != nil {
		edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// writeText is what a scrape at now writes of snaps.
func writeText(t testing.TB, now time.Time, snaps ...*Snapshot) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(bufio.NewWriter(&buf), now, groupsOnly(snaps...)); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// parse reads an exposition into families, failing on invalid text.
func parse(t testing.TB, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("invalid exposition: %v\n%s", err, text)
	}
	return mfs
}

// groupsOnly is the queries of snaps, without sessions.
func groupsOnly(snaps ...*Snapshot) []Query {
	q := make([]Query, len(snaps))
	for i, s := range snaps {
		q[i] = Query{Groups: s}
	}
	return q
}
