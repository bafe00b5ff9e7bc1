package exporter

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// healthRegistryCollector is the health series as a collector, for a
// registry to gather as the handler once did.
type healthRegistryCollector struct{ v *view }

func (c healthRegistryCollector) Describe(ch chan<- *prometheus.Desc) {
	for d := range healthFamilies {
		ch <- d
	}
}

func (c healthRegistryCollector) Collect(ch chan<- prometheus.Metric) {
	collectHealth(c.v, func(m prometheus.Metric) { ch <- m })
}

// The handler makes the health series into families itself; what it
// gathers must be what client_golang makes of the same series in a
// registry of their own gathered with the exporter's: the same families,
// in the same order, each series in the same place. Two accounts, one
// with three queries and app instances, so that series of one family
// must be sorted and app instance health is there.
func TestGatherAsRegistriesWould(t *testing.T) {
	e := newAccountsEnv(t)
	e.env = startEnv(t, e.simA, e.apiA, e.config(t,
		"    biz_regions: [cn-shanghai, cn-hangzhou, cn-beijing]\n    app_instances: {enabled: true}\n", ""))
	e.scrape()
	v := e.exp.collect(context.Background())
	h := &handler{gatherer: e.reg, logger: slog.New(slog.DiscardHandler)}
	got := *h.gather(v)

	reg := prometheus.NewRegistry()
	reg.MustRegister(healthRegistryCollector{v})
	mfs, err := prometheus.Gatherers{e.reg, reg}.Gather()
	if err != nil {
		t.Fatal(err)
	}
	dropEmptyAccount(mfs)
	var want bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&want, mf); err != nil {
			t.Fatal(err)
		}
	}
	for _, series := range []string{
		`aliyun_appstream_up{account="a",biz_region="cn-beijing"} 1`,
		`aliyun_appstream_app_instances_up{account="a",biz_region="cn-hangzhou"} 1`,
		`aliyun_appstream_up{account="b",biz_region=""} 1`,
	} {
		if !bytes.Contains(got, []byte("\n"+series+"\n")) {
			t.Errorf("gathered no %s", series)
		}
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("gathered:\n%s\nregistries gather:\n%s", got, want.Bytes())
	}
}
