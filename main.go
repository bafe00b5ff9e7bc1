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
	"syscall"
	"time"
	_ "time/tzdata" // schedule windows and dates need zoneinfo even in a scratch image

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	webflag "github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/appstream-exporter/appstream_exporter/internal/memlimit"
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

// flags are the command line.
type flags struct {
	configFile      string
	configSetByUser bool
	configCheck     bool
	checkGroups     int
	metricsPath     string
	demo            bool
	demoData        string
	snapshotDump    string
	lifecycle       bool
	web             *web.FlagConfig
	log             *promslog.Config
}

// parseFlags reads the command line; a mistake in it is reported on stderr
// and returns nil.
func parseFlags(args []string, stdout, stderr io.Writer) *flags {
	app := kingpin.New(programName, "Prometheus exporter for Alibaba Cloud WUYING Cloud Application (App Streaming) delivery groups.")
	f := &flags{log: &promslog.Config{Writer: stderr}}
	app.Flag("config.file", "Path to the configuration file.").
		Default(programName + ".yml").IsSetByUser(&f.configSetByUser).StringVar(&f.configFile)
	app.Flag("config.check", "Validate the configuration file, print a one-line verdict and exit (0 valid, 1 invalid) without calling the API.").BoolVar(&f.configCheck)
	app.Flag("config.check.groups", "With --config.check and app_instances enabled: the number of groups app_instances queries (aliyun_appstream_app_instances_groups), for its API cost; 0 prints it for 10, 100 and 1,000.").Default("0").IntVar(&f.checkGroups)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&f.metricsPath)
	app.Flag("demo", "Serve two simulated appstream-center accounts on loopback (cn-prod with 30 demo delivery groups, intl with 3) and export those; no Alibaba Cloud account needed.").BoolVar(&f.demo)
	app.Flag("demo.data", "With --demo: serve a snapshot written by --snapshot.dump instead of the demo's groups, one simulated endpoint per account of it.").PlaceHolder("FILE").StringVar(&f.demoData)
	app.Flag("snapshot.dump", "Refresh every query of the configuration once, write the API's answers to FILE with group IDs and names, tag values, office sites, apps, users and addresses replaced consistently, and exit (0 written, 1 not). Serve it with --demo --demo.data=FILE.").PlaceHolder("FILE").StringVar(&f.snapshotDump)
	app.Flag("web.enable-lifecycle", "Enable configuration reload via HTTP request (POST /-/reload). SIGHUP always reloads.").BoolVar(&f.lifecycle)
	f.web = webflag.AddFlags(app, ":9937")
	promslogflag.AddFlags(app, f.log)
	app.Version(version.Print(programName))
	app.HelpFlag.Short('h')
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)

	if _, err := app.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: error: %v (try --help)\n", programName, err)
		return nil
	}
	return f
}

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := parseFlags(args, stdout, stderr)
	if f == nil {
		return 1
	}
	logger := promslog.New(f.log)

	a := &exporterApp{
		logger:          logger,
		configFile:      f.configFile,
		configSetByUser: f.configSetByUser,
		lifecycle:       f.lifecycle,
		memory:          memlimit.New(logger),
	}
	if f.demoData != "" && !f.demo {
		fmt.Fprintf(stderr, "%s: error: --demo.data needs --demo (try --help)\n", programName)
		return 1
	}
	if f.configCheck {
		return a.check(stdout, stderr, f.demo, f.demoData, f.checkGroups)
	}
	if !strings.HasPrefix(f.metricsPath, "/") {
		logger.Error("--web.telemetry-path must start with /", "path", f.metricsPath)
		return 1
	}
	if err := web.Validate(*f.web.WebConfigFile); err != nil {
		logger.Error("invalid web config file", "file", *f.web.WebConfigFile, "err", err)
		return 1
	}

	logger.Info("starting "+programName, "version", version.Info(), "build_context", version.BuildContext())
	if os.Getenv(sdkDebugRemoved) != "" {
		logger.Warn("DEBUG=sdk was ignored: the Alibaba Cloud SDK's request tracing prints credentials (STS tokens, signatures)")
	}
	if f.demo {
		d, err := startDemo(f.demoData)
		if err != nil {
			logger.Error("cannot start the demo endpoint", "err", err)
			return 1
		}
		defer d.Close()
		a.demo, a.demoSnapshot = demoAccountsOf(d), f.demoData != ""
		for _, acc := range d.Accounts {
			logger.Warn("DEMO MODE: exporting simulated delivery groups from a loopback endpoint, not a real account", "account", acc.Name, "endpoint", acc.URL)
		}
	}

	if f.snapshotDump != "" {
		return a.dumpSnapshot(ctx, f.snapshotDump, stdout, stderr)
	}

	server := newServer(a.mux(f.metricsPath, a.registry(f.demo)), logger)
	serveErr, err := listen(server, f.web, logger)
	if err != nil {
		logger.Error("cannot listen", "err", err)
		return 1
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
	return a.serve(ctx, server, serveErr)
}

// newServer is the HTTP server for handler. A slow client may take 10 s to
// send its headers and keeps an idle connection 2 minutes. Writes are
// bounded per response (the metrics handler sets its own deadline from the
// scrape timeout). No ReadTimeout: it would cancel a scrape that waits for
// a slow refresh longer than the timeout, through the request context.
func newServer(handler http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          newServerErrorLog(logger),
	}
}

// listen starts serving and returns once every listener is bound: listening
// before the first refresh means a port in use stops the exporter before it
// spends an API call. The channel then receives what serving ends with.
func listen(server *http.Server, webConfig *web.FlagConfig, logger *slog.Logger) (<-chan error, error) {
	// Serve calls BaseContext once per listener it serves.
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
			return nil, err
		}
	}
	return serveErr, nil
}

// serve runs until serving fails, a signal other than SIGHUP (which
// reloads) arrives, or ctx ends; it returns the exit code.
func (a *exporterApp) serve(ctx context.Context, server *http.Server, serveErr <-chan error) int {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(signals)
	for {
		select {
		case err := <-serveErr:
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.logger.Error("serving HTTP failed", "err", err)
				return 1
			}
			return 0
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				if err := a.reload(); err != nil {
					a.logger.Error("reload failed; the previous configuration stays in force", "err", err)
				}
				continue
			}
			a.logger.Info("shutting down", "signal", sig.String())
			return shutdown(server, a.logger)
		case <-ctx.Done():
			return shutdown(server, a.logger)
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
