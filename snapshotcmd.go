package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"

	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
	"github.com/appstream-exporter/appstream_exporter/internal/exporter"
	"github.com/appstream-exporter/appstream_exporter/internal/snapshot"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// demoSpecs are the accounts --demo serves: the built-in two, or a
// snapshot's (--demo.data), each with a key of its own.
func demoSpecs(demoData string) ([]simulator.DemoSpec, error) {
	now := time.Now()
	if demoData == "" {
		cn, err := simulator.DemoDataset(now)
		if err != nil {
			return nil, err
		}
		intl, err := simulator.DemoIntlDataset(now)
		if err != nil {
			return nil, err
		}
		return []simulator.DemoSpec{{Name: "cn-prod", Key: simulator.DemoKey, Data: cn}, {Name: "intl", Key: simulator.DemoIntlKey, Data: intl}}, nil
	}
	f, err := snapshot.Read(demoData)
	if err != nil {
		return nil, fmt.Errorf("--demo.data: %w", err)
	}
	specs := make([]simulator.DemoSpec, 0, len(f.Accounts))
	for i, acc := range f.Accounts {
		key := simulator.Key{ID: fmt.Sprintf("LTAI5tSnapshot%d", i+1), Secret: fmt.Sprintf("snapshot-%d-not-a-real-secret", i+1)}
		specs = append(specs, simulator.DemoSpec{Name: acc.Name, Key: key, Data: acc.Dataset})
	}
	return specs, nil
}

// startDemo starts the simulated endpoints of --demo.
func startDemo(demoData string) (*simulator.Demo, error) {
	specs, err := demoSpecs(demoData)
	if err != nil {
		return nil, err
	}
	return simulator.StartDemoWith(specs)
}

// dumpSnapshot refreshes every query of the configuration once, recording
// the answers, and writes them with the identifiers hidden.
func (a *exporterApp) dumpSnapshot(ctx context.Context, path string, stdout, stderr io.Writer) int {
	cfg, _, err := a.loadConfig()
	if err == nil {
		err = snapshot.CheckTarget(path) // before any API call
	}
	if err != nil {
		fmt.Fprintf(stderr, "FAILED: %v\n", err)
		return 1
	}
	rec := &snapshot.Recorder{}
	e, err := exporter.NewExporter(cfg, exporter.Options{Logger: a.logger, Metrics: exporter.NewMetrics(prometheus.NewRegistry()), Record: rec.Record})
	if err != nil {
		fmt.Fprintf(stderr, "FAILED: %v\n", err)
		return 1
	}
	defer e.Close()
	// Groups, then app instances at their request budget: as long as
	// their refresh_timeouts allow.
	limit := cfg.RefreshTimeout.D()
	var accounts, secrets []string
	for _, ac := range cfg.AccountConfigs() {
		limit = max(limit, 2*ac.RefreshTimeout.D()) // groups, then app instances
		accounts = append(accounts, ac.Account())
		// The answers never carry these; the snapshot is checked anyway.
		secrets = append(secrets, aliyun.KnownSecrets(ac)...)
		if c := ac.Credentials; c != nil {
			secrets = append(secrets, c.AccessKeyID)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, limit+5*time.Second)
	defer cancel()
	statuses := e.RefreshAll(ctx)
	failed := 0
	for _, st := range statuses {
		if !st.Up {
			failed++
			reason := "did not finish"
			if st.Error != nil {
				reason = st.Error.Message
			}
			fmt.Fprintf(stderr, "FAILED: %s: %s\n", queryName(st), reason)
		}
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "no snapshot written: %d of %d queries failed\n", failed, len(statuses))
		return 1
	}
	f, err := rec.Build(accounts, time.Now(), version.Info(), secrets)
	if err == nil {
		err = snapshot.Write(path, f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "FAILED: %v\n", err)
		return 1
	}
	groups, instances := 0, 0
	for _, acc := range f.Accounts {
		groups += len(acc.AppInstanceGroupModels)
		for _, list := range acc.AppInstances {
			instances += len(list)
		}
	}
	fmt.Fprintf(stdout, "OK: snapshot %q: %d account(s), %d groups, %d app instances; replaced: %v. Serve it with --demo --demo.data=%s\n",
		path, len(f.Accounts), groups, instances, f.Snapshot.Hidden, path)
	return 0
}

// queryName names a query in messages: its account, biz region and data.
func queryName(st exporter.QueryStatus) string {
	name := "the " + st.Data + " query"
	if st.BizRegion != "" {
		name += " of biz region " + st.BizRegion
	}
	if st.Account != "" {
		name += " of account " + st.Account
	}
	return name
}
