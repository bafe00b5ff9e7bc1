package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/exporter"
	"github.com/appstream-exporter/appstream_exporter/internal/memlimit"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// exporterApp holds what survives a reload: the metrics registry, the
// reload state and the current exporter.
type exporterApp struct {
	logger          *slog.Logger
	configFile      string
	configSetByUser bool
	demo            []demoAccount // set in --demo mode
	demoSnapshot    bool          // --demo.data: the demo's accounts are a snapshot's
	lifecycle       bool          // POST /-/reload is allowed

	metrics         *exporter.Metrics
	memory          *memlimit.Tuner
	reloadSuccess   prometheus.Gauge
	reloadTimestamp prometheus.Gauge

	reloadMu sync.Mutex
	current  atomic.Pointer[exporter.Exporter]
	ready    atomic.Bool // latched: once ready, a reload does not flap readiness
}

// registry holds the exporter's own metrics; their values survive reloads.
func (a *exporterApp) registry(demo bool) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector("aliyun_appstream_exporter"),
		collectors.NewGoCollector(),
		exporter.NewProcessCollector(),
	)
	a.metrics = exporter.NewMetrics(reg)
	a.reloadSuccess = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "aliyun_appstream_config_last_reload_successful",
		Help: "1 when the newest configuration load or reload succeeded, else 0.",
	})
	a.reloadTimestamp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "aliyun_appstream_config_last_reload_success_timestamp_seconds",
		Help: "Unix time of the newest successful configuration load or reload.",
	})
	reg.MustRegister(a.reloadSuccess, a.reloadTimestamp)
	if demo {
		// One series that marks every other series of this target as made
		// up: alerts and dashboards can leave it out with
		// `unless on(job, instance) aliyun_appstream_demo`.
		demoMark := prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "aliyun_appstream_demo",
			Help: "1: this exporter runs with --demo and serves simulated delivery groups, not a real account.",
		})
		demoMark.Set(1)
		reg.MustRegister(demoMark)
	}
	return reg
}

// loadConfig reads the config file; in demo mode it points the result at
// the demo endpoint, and a missing default file means demo defaults. It
// returns the file it read, "" for none.
func (a *exporterApp) loadConfig() (*config.Config, string, error) {
	_, statErr := os.Stat(a.configFile)
	if len(a.demo) == 0 {
		if errors.Is(statErr, fs.ErrNotExist) && !a.configSetByUser {
			return nil, "", fmt.Errorf("no configuration file %q (the default --config.file): copy config.example.yml to %s and edit it, "+
				"or try the exporter without an Alibaba Cloud account with --demo", a.configFile, a.configFile)
		}
		cfg, err := config.LoadFile(a.configFile)
		return cfg, a.configFile, err
	}
	if statErr != nil && !a.configSetByUser {
		cfg, err := demoDefaults(a.demo)
		return cfg, "", err
	}
	cfg, err := config.LoadFile(a.configFile)
	if err != nil {
		return nil, "", err
	}
	if a.demoSnapshot && len(cfg.AccountConfigs()) != len(a.demo) {
		return nil, "", fmt.Errorf("--demo.data: the snapshot has %d account(s) and %s %d: replay it with the configuration it was taken with, or without --config.file",
			len(a.demo), a.configFile, len(cfg.AccountConfigs()))
	}
	// Every account of a file asks a demo simulator, the i-th account the
	// i-th (round robin): the demo never calls a real endpoint.
	err = cfg.Redirect(func(i int, c *config.Config) {
		d := a.demo[i%len(a.demo)]
		c.Endpoint = d.url
		c.Credentials = &config.Credentials{AccessKeyID: d.key.ID, AccessKeySecret: promconfig.Secret(d.key.Secret)}
		c.AppInstances.Enabled = d.appInstances // the demo shows the session panels too
		if a.demoSnapshot {
			// The filters chose the snapshot's groups when it was taken,
			// and may name values it replaced: its groups are served as
			// they are.
			c.Filters = config.Filters{}
		}
	})
	if err != nil {
		return nil, "", err
	}
	return cfg, a.configFile, nil
}

// demoAccount is one simulated account of --demo.
type demoAccount struct {
	name, url    string
	key          simulator.Key
	appInstances bool // its data has app instances
}

// demoAccountsOf lists the running demo's accounts.
func demoAccountsOf(d *simulator.Demo) []demoAccount {
	out := make([]demoAccount, 0, len(d.Accounts))
	for _, acc := range d.Accounts {
		out = append(out, demoAccount{name: acc.Name, url: acc.URL, key: acc.Key, appInstances: acc.AppInstances})
	}
	return out
}

// demoDefaults is the demo's configuration without a file: each demo
// account with its own endpoint and key, written as a user would write
// it, so it goes through the same parsing and checks.
func demoDefaults(accounts []demoAccount) (*config.Config, error) {
	var b strings.Builder
	b.WriteString("tag_labels: [department, cost-center]\n")
	if len(accounts) == 1 && accounts[0].name == "" {
		// A snapshot of a single-account configuration: served as one.
		acc := accounts[0]
		fmt.Fprintf(&b, "endpoint: %q\ncredentials: {access_key_id: %q, access_key_secret: %q}\napp_instances: {enabled: %t}\n",
			acc.url, acc.key.ID, acc.key.Secret, acc.appInstances)
		return config.Parse([]byte(b.String()), "")
	}
	b.WriteString("accounts:\n")
	for _, acc := range accounts {
		fmt.Fprintf(&b, "  - name: %s\n    endpoint: %q\n    credentials: {access_key_id: %q, access_key_secret: %q}\n    app_instances: {enabled: %t}\n",
			acc.name, acc.url, acc.key.ID, acc.key.Secret, acc.appInstances)
	}
	return config.Parse([]byte(b.String()), "")
}

// demoEndpointText stands for the demo's loopback endpoint in
// --config.check, which does not start it.
const demoEndpointText = "the demo's simulated endpoint on loopback"

// demoCheckURL is the endpoint --config.check --demo validates in place of
// the demo's, which it does not start.
const demoCheckURL = "http://127.0.0.1:1"

func (a *exporterApp) check(stdout, stderr io.Writer, demo bool, demoData string, groups int) int {
	if demo {
		// The demo's accounts and keys, at an address validated, never called.
		specs, err := demoSpecs(demoData)
		if err != nil {
			fmt.Fprintf(stderr, "FAILED: %v\n", err)
			return 1
		}
		for _, spec := range specs {
			a.demo = append(a.demo, demoAccount{spec.Name, demoCheckURL, spec.Key, len(spec.Data.AppInstances) > 0})
		}
		a.demoSnapshot = demoData != ""
	}
	cfg, file, err := a.loadConfig()
	if err != nil {
		fmt.Fprintf(stderr, "FAILED: %v\n", err)
		return 1
	}
	summary := cfg.Summary()
	if demo {
		summary = strings.ReplaceAll(summary, demoCheckURL, demoEndpointText)
	}
	if file == "" {
		fmt.Fprintf(stdout, "OK: demo mode, no config file (demo defaults): %s\n", summary)
	} else {
		fmt.Fprintf(stdout, "OK: config file %q: %s\n", file, summary)
	}
	if file != "" {
		for _, w := range cfg.Warnings() {
			fmt.Fprintf(stdout, "WARNING: %s\n", w)
		}
	}
	counts := []int{10, 100, 1000}
	if groups > 0 {
		counts = []int{groups}
	}
	for _, ac := range cfg.AccountConfigs() {
		for _, line := range ac.AppInstancesCostLines(counts...) {
			if ac.Account() != "" {
				line = "account " + ac.Account() + ": " + line
			}
			fmt.Fprintln(stdout, line)
		}
	}
	return 0
}

// reload loads the config and puts it in force; on error the old one stays.
// An unchanged configuration keeps the running exporter and its cache; a
// changed one hands each query's data to the new exporter when the query
// itself is unchanged, so a reload costs no API call and loses no data.
func (a *exporterApp) reload() error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	cfg, file, err := a.loadConfig()
	if err != nil {
		a.reloadSuccess.Set(0)
		return err
	}
	if file == "" {
		// Demo defaults: the simulated endpoint has no regions to miss.
		file = "none (demo defaults)"
	} else {
		for _, w := range cfg.Warnings() {
			a.logger.Warn("configuration: "+w, "file", file)
		}
	}
	old := a.current.Load()
	if old != nil && old.Config().Equal(cfg) {
		a.reloadSuccess.Set(1)
		a.reloadTimestamp.SetToCurrentTime()
		a.logger.Info("configuration unchanged; the running exporter and its cache stay", "file", file)
		return nil
	}
	e, err := exporter.NewExporter(cfg, exporter.Options{Logger: a.logger, Metrics: a.metrics, Previous: old, MemoryLimit: a.memory})
	if err != nil {
		a.reloadSuccess.Set(0)
		return err
	}
	e.Start()
	a.current.Store(e)
	if old != nil {
		old.Close()
	}
	a.reloadSuccess.Set(1)
	a.reloadTimestamp.SetToCurrentTime()
	a.logger.Info("configuration loaded", "file", file, "summary", cfg.Summary())
	return nil
}

func (a *exporterApp) mux(metricsPath string, reg *prometheus.Registry) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(metricsPath, exporter.NewHandler(a.current.Load, reg, a.logger))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "Healthy.")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, r *http.Request) {
		if !a.ready.Load() {
			if e := a.current.Load(); e != nil && e.Ready() {
				a.ready.Store(true)
			}
		}
		if !a.ready.Load() {
			http.Error(w, "Not ready: the first refresh has not finished.", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready.")
	})
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if !a.lifecycle {
			// A simple POST is all a web page needs to send here (CSRF):
			// off unless asked for, as in Prometheus.
			http.Error(w, "Lifecycle API is not enabled: start with --web.enable-lifecycle to reload over HTTP, or send SIGHUP.", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "This endpoint requires a POST request.", http.StatusMethodNotAllowed)
			return
		}
		if err := a.reload(); err != nil {
			a.logger.Error("reload failed; the previous configuration stays in force", "err", err)
			http.Error(w, "Reload failed, the previous configuration stays in force: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "Configuration reloaded.")
	})
	if metricsPath != "/" {
		description := "Prometheus exporter for Alibaba Cloud WUYING Cloud Application delivery groups"
		extraHTML := ""
		if len(a.demo) > 0 {
			description = "DEMO MODE: simulated delivery groups, not a real account. " + description
			extraHTML = `<p class="demo"><strong>Demo mode.</strong> Every group served here is made up by the built-in simulator; ` +
				`alerts on it are not real. Every series of this target can be left out with ` +
				`<code>unless on(job, instance) aliyun_appstream_demo</code>.</p>`
		}
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "AppStream Exporter",
			Description: description,
			ExtraHTML:   extraHTML + statusMarker,
			ExtraCSS:    ".demo { background: #fff3cd; border: 2px solid #d39e00; padding: 0.8em; }\n" + statusCSS,
			Version:     version.Info(),
			Profiling:   "false",
			Links: []web.LandingLinks{
				{Address: metricsPath, Text: "Metrics"},
				{Address: "/-/healthy", Text: "Health"},
				{Address: "/-/ready", Text: "Readiness"},
			},
		})
		if err != nil {
			a.logger.Error("building the landing page", "err", err)
		} else {
			mux.Handle("/", newStatusPage(landing, a.current.Load))
		}
	}
	return mux
}
