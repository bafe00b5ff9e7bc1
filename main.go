// Command appstream_exporter exports Alibaba Cloud WUYING Cloud Application
// (App Streaming) delivery groups as Prometheus metrics.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	_ "time/tzdata" // schedule windows and dates need zoneinfo even in a scratch image

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	webflag "github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/appstream-exporter/appstream_exporter/collector"
	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

const programName = "appstream_exporter"

// sdkDebugRemoved marks a process started again without DEBUG=sdk.
const sdkDebugRemoved = "APPSTREAM_EXPORTER_SDK_DEBUG_REMOVED"

func main() {
	if env, found := withoutSDKDebug(os.Environ()); found {
		// The Alibaba Cloud SDK reads DEBUG when it is loaded, before main
		// runs, and with "sdk" in it prints every request URL to stdout,
		// STS security token and signature included. Start again without it.
		exe, err := os.Executable()
		if err == nil {
			err = syscall.Exec(exe, os.Args, append(env, sdkDebugRemoved+"=1")) //nolint:gosec // our own binary, our own arguments
		}
		fmt.Fprintf(os.Stderr, "%s: error: DEBUG=sdk would print credentials and restarting without it failed (%v); unset DEBUG\n", programName, err)
		os.Exit(1)
	}
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// withoutSDKDebug returns env with "sdk" removed from DEBUG, and whether
// it was there.
func withoutSDKDebug(env []string) ([]string, bool) {
	out := make([]string, 0, len(env))
	found := false
	for _, kv := range env {
		value, ok := strings.CutPrefix(kv, "DEBUG=")
		if !ok {
			out = append(out, kv)
			continue
		}
		var keep []string
		for _, part := range strings.Split(value, ",") {
			if part == "sdk" {
				found = true
			} else {
				keep = append(keep, part)
			}
		}
		if len(keep) > 0 {
			out = append(out, "DEBUG="+strings.Join(keep, ","))
		}
	}
	return out, found
}

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := kingpin.New(programName, "Prometheus exporter for Alibaba Cloud WUYING Cloud Application (App Streaming) delivery groups.")
	var configSetByUser bool
	configFile := app.Flag("config.file", "Path to the configuration file.").
		Default(programName + ".yml").IsSetByUser(&configSetByUser).String()
	configCheck := app.Flag("config.check", "Validate the configuration file, print a one-line verdict and exit (0 valid, 1 invalid) without calling the API.").Bool()
	metricsPath := app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
	demo := app.Flag("demo", "Serve a simulated appstream-center endpoint with 30 demo delivery groups on loopback and export those; no Alibaba Cloud account needed.").Bool()
	enableLifecycle := app.Flag("web.enable-lifecycle", "Enable configuration reload via HTTP request (POST /-/reload). SIGHUP always reloads.").Bool()
	webConfig := webflag.AddFlags(app, ":9937")
	logConfig := &promslog.Config{Writer: stderr}
	promslogflag.AddFlags(app, logConfig)
	app.Version(version.Print(programName))
	app.HelpFlag.Short('h')
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)

	if _, err := app.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: error: %v (try --help)\n", programName, err)
		return 1
	}
	logger := promslog.New(logConfig)

	a := &exporterApp{
		logger:          logger,
		configFile:      *configFile,
		configSetByUser: configSetByUser,
		lifecycle:       *enableLifecycle,
	}
	if *configCheck {
		return a.check(stdout, stderr, *demo)
	}
	if !strings.HasPrefix(*metricsPath, "/") {
		logger.Error("--web.telemetry-path must start with /", "path", *metricsPath)
		return 1
	}
	if err := web.Validate(*webConfig.WebConfigFile); err != nil {
		logger.Error("invalid web config file", "file", *webConfig.WebConfigFile, "err", err)
		return 1
	}

	logger.Info("starting "+programName, "version", version.Info(), "build_context", version.BuildContext())
	if os.Getenv(sdkDebugRemoved) != "" {
		logger.Warn("DEBUG=sdk was ignored: the Alibaba Cloud SDK's request tracing prints credentials (STS tokens, signatures)")
	}
	if *demo {
		d, err := simulator.StartDemo(time.Now())
		if err != nil {
			logger.Error("cannot start the demo endpoint", "err", err)
			return 1
		}
		defer d.Close()
		a.demoURL = d.URL
		logger.Warn("DEMO MODE: exporting simulated delivery groups from a loopback endpoint, not a real account", "endpoint", d.URL)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector("aliyun_appstream_exporter"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	a.metrics = collector.NewMetrics(reg)
	a.reloadSuccess = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "aliyun_appstream_config_last_reload_successful",
		Help: "1 when the newest configuration load or reload succeeded, else 0.",
	})
	a.reloadTimestamp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "aliyun_appstream_config_last_reload_success_timestamp_seconds",
		Help: "Unix time of the newest successful configuration load or reload.",
	})
	reg.MustRegister(a.reloadSuccess, a.reloadTimestamp)
	if *demo {
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

	server := &http.Server{
		Handler: a.mux(*metricsPath, reg),
		// A slow client may take 10 s to send its headers and keeps an
		// idle connection 2 minutes. Writes are bounded per response (the
		// metrics handler sets its own deadline from the scrape timeout).
		// No ReadTimeout: it would cancel a scrape that waits for a slow
		// refresh longer than the timeout, through the request context.
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          newServerErrorLog(logger),
	}
	// Listen before the first refresh, so that a port in use stops the
	// exporter before it spends an API call. Serve calls BaseContext once
	// per listener it serves.
	listening := make(chan struct{}, 64)
	server.BaseContext = func(net.Listener) context.Context {
		select {
		case listening <- struct{}{}:
		default:
		}
		return context.Background()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.ListenAndServe(server, webConfig, logger) }()
	wantListeners := len(*webConfig.WebListenAddresses)
	if *webConfig.WebSystemdSocket {
		wantListeners = 1
	}
	for range wantListeners {
		select {
		case <-listening:
		case err := <-serveErr:
			logger.Error("cannot listen", "err", err)
			return 1
		}
	}

	if err := a.reload(); err != nil {
		logger.Error("cannot load configuration", "err", err)
		return 1
	}
	defer func() {
		if e := a.current.Load(); e != nil {
			e.Close()
		}
	}()

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(signals)
	for {
		select {
		case err := <-serveErr:
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("serving HTTP failed", "err", err)
				return 1
			}
			return 0
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				if err := a.reload(); err != nil {
					logger.Error("reload failed; the previous configuration stays in force", "err", err)
				}
				continue
			}
			logger.Info("shutting down", "signal", sig.String())
			return shutdown(server, logger)
		case <-ctx.Done():
			return shutdown(server, logger)
		}
	}
}

// shutdown lets scrapes in flight finish, then exits 0.
func shutdown(server *http.Server, logger *slog.Logger) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := server.Shutdown(ctx); err != nil {
		logger.Error("shutdown did not finish cleanly", "err", err)
		return 1
	}
	return 0
}

// exporterApp holds what survives a reload: the metrics registry, the
// reload state and the current exporter.
type exporterApp struct {
	logger          *slog.Logger
	configFile      string
	configSetByUser bool
	demoURL         string // set in --demo mode
	lifecycle       bool   // POST /-/reload is allowed

	metrics         *collector.Metrics
	reloadSuccess   prometheus.Gauge
	reloadTimestamp prometheus.Gauge

	reloadMu sync.Mutex
	current  atomic.Pointer[collector.Exporter]
	ready    atomic.Bool // latched: once ready, a reload does not flap readiness
}

// loadConfig reads the config file; in demo mode it points the result at
// the demo endpoint, and a missing default file means demo defaults. It
// returns the file it read, "" for none.
func (a *exporterApp) loadConfig() (*config.Config, string, error) {
	_, statErr := os.Stat(a.configFile)
	if a.demoURL == "" {
		if errors.Is(statErr, fs.ErrNotExist) && !a.configSetByUser {
			return nil, "", fmt.Errorf("no configuration file %q (the default --config.file): copy config.example.yml to %s and edit it, "+
				"or try the exporter without an Alibaba Cloud account with --demo", a.configFile, a.configFile)
		}
		cfg, err := config.LoadFile(a.configFile)
		return cfg, a.configFile, err
	}
	cfg := config.DefaultConfig()
	cfg.TagLabels = config.TagLabelsOf("department", "cost-center")
	file := ""
	if statErr == nil || a.configSetByUser {
		loaded, err := config.LoadFile(a.configFile)
		if err != nil {
			return nil, "", err
		}
		cfg, file = loaded, a.configFile
	}
	cfg.Endpoint = a.demoURL
	cfg.Credentials = &config.Credentials{AccessKeyID: simulator.DemoKey.ID, AccessKeySecret: promconfig.Secret(simulator.DemoKey.Secret)}
	if err := cfg.Validate(); err != nil {
		return nil, "", err
	}
	return cfg, file, nil
}

// demoEndpointText stands for the demo's loopback endpoint in
// --config.check, which does not start it.
const demoEndpointText = "the demo's simulated endpoint on loopback"

func (a *exporterApp) check(stdout, stderr io.Writer, demo bool) int {
	if demo {
		a.demoURL = "http://127.0.0.1:1" // validated, never called
	}
	cfg, file, err := a.loadConfig()
	if err != nil {
		fmt.Fprintf(stderr, "FAILED: %v\n", err)
		return 1
	}
	summary := cfg.Summary()
	if demo {
		summary = strings.ReplaceAll(summary, a.demoURL, demoEndpointText)
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
	e, err := collector.NewExporter(cfg, collector.Options{Logger: a.logger, Metrics: a.metrics, Previous: old})
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
	mux.Handle(metricsPath, collector.NewHandler(a.current.Load, reg, a.logger))
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
		if a.demoURL != "" {
			description = "DEMO MODE: simulated delivery groups, not a real account. " + description
			extraHTML = `<p class="demo"><strong>Demo mode.</strong> Every group served here is made up by the built-in simulator; ` +
				`alerts on it are not real. Every series of this target can be left out with ` +
				`<code>unless on(job, instance) aliyun_appstream_demo</code>.</p>`
		}
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "AppStream Exporter",
			Description: description,
			ExtraHTML:   extraHTML,
			ExtraCSS:    ".demo { background: #fff3cd; border: 2px solid #d39e00; padding: 0.8em; }",
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
			mux.Handle("/", landing)
		}
	}
	return mux
}
