// Command appstream_exporter exports Alibaba Cloud WUYING Cloud Application
// (App Streaming) delivery groups as Prometheus metrics.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	webflag "github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/appstream-exporter/appstream_exporter/collector"
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
		logger.Info("demo mode: exporting a simulated appstream-center endpoint, not a real account", "endpoint", d.URL)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector("aliyun_appstream_exporter"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	a.apiMetrics = collector.NewAPIMetrics(reg)
	a.reloadSuccess = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "aliyun_appstream_config_last_reload_successful",
		Help: "1 when the newest configuration load or reload succeeded, else 0.",
	})
	a.reloadTimestamp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "aliyun_appstream_config_last_reload_success_timestamp_seconds",
		Help: "Unix time of the newest successful configuration load or reload.",
	})
	reg.MustRegister(a.reloadSuccess, a.reloadTimestamp)

	if err := a.reload(); err != nil {
		logger.Error("cannot load configuration", "err", err)
		return 1
	}
	defer func() {
		if e := a.current.Load(); e != nil {
			e.Close()
		}
	}()

	server := &http.Server{
		Handler:           a.mux(*metricsPath, reg),
		ReadHeaderTimeout: 10 * time.Second,
	}
	serveErr := make(chan error, 1)
	if *webConfig.WebSystemdSocket {
		go func() { serveErr <- web.ListenAndServe(server, webConfig, logger) }()
	} else {
		listeners, err := listen(webConfig)
		if err != nil {
			logger.Error("cannot listen", "err", err)
			return 1
		}
		go func() { serveErr <- web.ServeMultiple(listeners, server, webConfig, logger) }()
	}

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

// listen opens every --web.listen-address up front, so a port in use is a
// clear startup error rather than a failure inside the server goroutine.
func listen(flags *web.FlagConfig) ([]net.Listener, error) {
	var ls []net.Listener
	for _, addr := range *flags.WebListenAddresses {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			for _, o := range ls {
				o.Close()
			}
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// exporterApp holds what survives a reload: the metrics registry, the
// reload state and the current exporter.
type exporterApp struct {
	logger          *slog.Logger
	configFile      string
	configSetByUser bool
	demoURL         string // set in --demo mode

	apiMetrics      *collector.APIMetrics
	reloadSuccess   prometheus.Gauge
	reloadTimestamp prometheus.Gauge

	reloadMu sync.Mutex
	current  atomic.Pointer[collector.Exporter]
	ready    atomic.Bool // latched: once ready, a reload does not flap readiness
}

// loadConfig reads the config file; in demo mode it points the result at
// the demo endpoint, and a missing default file means demo defaults.
func (a *exporterApp) loadConfig() (*collector.Config, error) {
	if a.demoURL == "" {
		return collector.LoadFile(a.configFile)
	}
	cfg := collector.DefaultConfig()
	cfg.TagLabels = []string{"department", "cost-center"}
	if _, err := os.Stat(a.configFile); err == nil || a.configSetByUser {
		loaded, err := collector.LoadFile(a.configFile)
		if err != nil {
			return nil, err
		}
		cfg = loaded
	}
	cfg.Endpoint = a.demoURL
	cfg.Credentials = &collector.Credentials{AccessKeyID: simulator.DemoKey.ID, AccessKeySecret: config.Secret(simulator.DemoKey.Secret)}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (a *exporterApp) check(stdout, stderr io.Writer, demo bool) int {
	if demo {
		a.demoURL = "http://127.0.0.1:1"
	}
	cfg, err := a.loadConfig()
	if err != nil {
		fmt.Fprintf(stderr, "FAILED: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "OK: config file %q: %s\n", a.configFile, cfg.Summary())
	return 0
}

// reload loads the config and swaps in a new exporter; on error the old
// one stays in force.
func (a *exporterApp) reload() error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	cfg, err := a.loadConfig()
	if err == nil {
		var e *collector.Exporter
		e, err = collector.NewExporter(cfg, collector.Options{Logger: a.logger, Metrics: a.apiMetrics})
		if err == nil {
			e.Start()
			if old := a.current.Swap(e); old != nil {
				old.Close()
			}
			a.reloadSuccess.Set(1)
			a.reloadTimestamp.SetToCurrentTime()
			a.logger.Info("configuration loaded", "file", a.configFile, "summary", cfg.Summary())
			return nil
		}
	}
	a.reloadSuccess.Set(0)
	return err
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
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "AppStream Exporter",
			Description: "Prometheus exporter for Alibaba Cloud WUYING Cloud Application delivery groups",
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
