package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
	"github.com/appstream-exporter/appstream_exporter/internal/cache"
	"github.com/appstream-exporter/appstream_exporter/internal/exposition"
)

// Options are the parts of an Exporter that do not come from the config file.
type Options struct {
	Logger  *slog.Logger
	Metrics *Metrics
	// Now is the clock for countdowns, schedules, cache age and timestamps;
	// tests pin it. Defaults to time.Now.
	Now func() time.Time

	// Previous is the exporter this one replaces on reload: each query whose
	// identity is unchanged takes over its data and cache age.
	Previous *Exporter

	retryBase time.Duration // tests shorten the retry backoff
}

// Exporter serves one configuration: one cache per query (biz region), the
// API client behind them, and the rendering of their data.
type Exporter struct {
	cfg     *config.Config
	logger  *slog.Logger
	now     func() time.Time
	client  *aliyun.Client
	metrics *Metrics
	queries []*cache.Cache[*exposition.Snapshot]
	// sessions are the app-instance caches, one per query beside
	// queries; nil unless app_instances is enabled. budget is their
	// requests' budget.
	sessions []*cache.Cache[*exposition.Sessions]
	budget   *aliyun.Budget
	cancel   context.CancelFunc

	problemsMu   sync.Mutex
	seenProblems map[exposition.Problem]bool

	failuresMu         sync.Mutex
	lastFailure        map[string]string // by biz region: aliyun.FailureKey of the newest refresh
	lastSessionFailure map[string]string // the same for app instance refreshes

	zonelessLogged sync.Map // time field names logged as read without a zone
}

// NewExporter builds an exporter for a validated configuration. It makes no
// API call until Start or the first scrape.
func NewExporter(cfg *config.Config, o Options) (*Exporter, error) {
	if cfg.EndpointURL() == nil || cfg.Location() == nil {
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	client, err := aliyun.NewClient(cfg, aliyun.Options{Logger: o.Logger, Metrics: o.Metrics.api, RetryBase: o.retryBase})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Exporter{
		cfg:                cfg,
		logger:             o.Logger,
		now:                o.Now,
		client:             client,
		metrics:            o.Metrics,
		cancel:             cancel,
		seenProblems:       map[exposition.Problem]bool{},
		lastFailure:        map[string]string{},
		lastSessionFailure: map[string]string{},
	}
	rendering := fmt.Sprintf("%q %q %q", cfg.TagLabels, cfg.TagLabelsOn, cfg.Timezone)
	for _, biz := range cfg.Queries() {
		q := cache.New(cache.Options[*exposition.Snapshot]{
			Name:     biz,
			TTL:      cfg.CacheTTL.D(),
			MaxStale: cfg.MaxStale.D(),
			Timeout:  cfg.RefreshTimeout.D(),
			Now:      o.Now,
			Refresh: func(ctx context.Context, prev *exposition.Snapshot) (*exposition.Snapshot, error) {
				return e.refresh(ctx, biz, prev)
			},
			OnResult:  e.recordResult,
			Parent:    ctx,
			Identity:  e.client.ListAppInstanceGroupIdentity(biz),
			Rendering: rendering,
		})
		if o.Previous != nil {
			for _, prev := range o.Previous.queries {
				if prev.Identity() == q.Identity() {
					q.TakeOver(prev)
				}
			}
		}
		for _, result := range []string{"success", "failure"} {
			o.Metrics.refreshes.WithLabelValues(biz, result)
		}
		e.queries = append(e.queries, q)
	}
	e.newSessionCaches(ctx, o.Previous)
	return e, nil
}

// Config is the configuration the exporter serves.
func (e *Exporter) Config() *config.Config { return e.cfg }

// Start begins the first refresh of every query in the background, so the
// exporter becomes ready without waiting for a scrape.
func (e *Exporter) Start() {
	for _, q := range e.queries {
		q.Start()
	}
	for _, s := range e.sessions {
		s.Start()
	}
}

// Ready reports whether every query has finished a first refresh of its
// groups, good or not. App instances are not waited for: listing them
// group by group within the request budget may take much longer.
func (e *Exporter) Ready() bool {
	for _, q := range e.queries {
		if !q.Ready() {
			return false
		}
	}
	return true
}

// Close cancels refreshes in flight; the exporter must not be used after.
func (e *Exporter) Close() {
	e.cancel()
	e.client.Close()
}

func (e *Exporter) refresh(ctx context.Context, bizRegion string, prev *exposition.Snapshot) (*exposition.Snapshot, error) {
	// Each page is rendered as it arrives, so its decoded groups can go.
	var rf *exposition.Refresh
	pages, err := e.client.ListAppInstanceGroup(ctx, bizRegion, func() aliyun.PageReader {
		rf = exposition.NewRefresh(e.cfg, prev, bizRegion)
		return rf.Page
	})
	if err != nil {
		return nil, err
	}
	r := rf.Finish(e.now(), pages)
	e.logProblems(bizRegion, r.Problems)
	e.logZoneless(bizRegion, r.Zoneless)
	return r.Snapshot, nil
}

// recordResult counts and logs a finished refresh.
func (e *Exporter) recordResult(bizRegion string, snap *exposition.Snapshot, err error, took time.Duration, canceled bool) {
	if canceled {
		e.logger.Debug("refresh canceled: the exporter was reloaded or is shutting down", "biz_region", bizRegion, "took", took.Round(time.Millisecond))
		return
	}
	result := "success"
	if err != nil {
		result = "failure"
	}
	e.metrics.refreshes.WithLabelValues(bizRegion, result).Inc()

	// A permanent failure (a bad key, a missing permission) repeats at every
	// refresh until someone acts: it is logged at error level when it
	// starts or changes, and at debug level while it stays the same.
	e.failuresMu.Lock()
	previous := e.lastFailure[bizRegion]
	key := aliyun.FailureKey(err)
	changed := previous != key
	e.lastFailure[bizRegion] = key
	e.failuresMu.Unlock()
	if err != nil {
		level := slog.LevelWarn
		if _, permanent := aliyun.ErrorClass(err); permanent {
			level = slog.LevelDebug
			if changed {
				level = slog.LevelError
			}
		}
		e.logger.Log(context.Background(), level, "refresh failed", "biz_region", bizRegion, "took", took.Round(time.Millisecond), "err", err)
		return
	}
	if previous != "" {
		// The failure was logged at warning or error level: say it is over.
		e.logger.Info("refresh succeeded again", "biz_region", bizRegion, "groups", snap.Groups(), "after", previous)
		return
	}
	e.logger.Debug("refresh done", "biz_region", bizRegion, "groups", snap.Groups(), "pages", snap.Pages(), "took", took.Round(time.Millisecond))
}

// maxRememberedProblems bounds the memory of which bad fields were logged.
const maxRememberedProblems = 10_000

// logProblems logs each unreadable field once at warning level; repeats
// (every refresh sees them again) go to debug.
func (e *Exporter) logProblems(bizRegion string, problems []exposition.Problem) {
	e.problemsMu.Lock()
	defer e.problemsMu.Unlock()
	for _, p := range problems {
		level := slog.LevelDebug
		if !e.seenProblems[p] {
			if len(e.seenProblems) >= maxRememberedProblems {
				clear(e.seenProblems)
			}
			e.seenProblems[p] = true
			level = slog.LevelWarn
		}
		e.logger.Log(context.Background(), level, "unreadable field in API answer; its series is dropped",
			"biz_region", bizRegion, "group_id", p.Group, "field", p.Field, "value", p.Value)
	}
}

// logZoneless says once per field, at info level, that times without a
// zone were read in the configured time zone: not a problem, but a reading
// the operator should know of.
func (e *Exporter) logZoneless(bizRegion string, fields map[string]string) {
	for _, field := range slices.Sorted(maps.Keys(fields)) {
		if _, logged := e.zonelessLogged.LoadOrStore(field, true); logged {
			continue
		}
		e.logger.Info("time without a zone in API answer; read in the configured timezone",
			"biz_region", bizRegion, "field", field, "timezone", e.cfg.Location().String(), "example", fields[field])
	}
}

// view is what one scrape serves: every query's state at one instant, and
// the cache_ttl of the exporter that served it.
type view struct {
	now      time.Time
	states   []cache.State[*exposition.Snapshot]
	cacheTTL time.Duration // 0: no exporter, no configuration in force
	// With app_instances: each query's app-instance state, beside states.
	sessions    []cache.State[*exposition.Sessions]
	sessionsTTL time.Duration
}

// collect brings every query up to date as far as ctx allows: refreshes due
// are started together and waited for until ctx ends (app instance
// refreshes only while they have no counts yet); whatever has finished by
// then is served.
func (e *Exporter) collect(ctx context.Context) *view {
	waits := make([]<-chan struct{}, 0, len(e.queries)+len(e.sessions))
	for _, q := range e.queries {
		waits = append(waits, q.Start())
	}
	for _, s := range e.sessions {
		// Listing every group's sessions at the request budget can take
		// longer than a scrape may wait: once there are counts to serve, a
		// refresh runs beside the scrapes, which serve the previous counts.
		if w := s.Start(); w != nil && s.State().Data == nil {
			waits = append(waits, w)
		}
	}
	for _, w := range waits {
		if w == nil {
			continue
		}
		select {
		case <-w:
		case <-ctx.Done():
		}
	}
	v := &view{now: e.now(), cacheTTL: e.cfg.CacheTTL.D()}
	for _, q := range e.queries {
		v.states = append(v.states, q.State())
	}
	if e.sessions != nil {
		v.sessionsTTL = e.cfg.AppInstances.CacheTTL.D()
		for _, s := range e.sessions {
			v.sessions = append(v.sessions, s.State())
		}
	}
	return v
}

// queries are the view's data, one per query (nil where none is served).
func (v *view) queries() []exposition.Query {
	q := make([]exposition.Query, len(v.states))
	for i, s := range v.states {
		q[i].Groups = s.Data
		if v.sessions != nil {
			q[i].Sessions = v.sessions[i].Data
		}
	}
	return q
}

var (
	upDesc = prometheus.NewDesc("aliyun_appstream_up",
		"1 when the newest refresh of the query (biz_region, empty for the unfiltered query) succeeded, else 0.", []string{"biz_region"}, nil)
	groupsDesc = prometheus.NewDesc("aliyun_appstream_groups",
		"Delivery groups in the data being served for the query.", []string{"biz_region"}, nil)
	lastSuccessDesc = prometheus.NewDesc("aliyun_appstream_last_refresh_success_timestamp_seconds",
		"Unix time of the newest successful refresh of the query.", []string{"biz_region"}, nil)
	dataAgeDesc = prometheus.NewDesc("aliyun_appstream_data_age_seconds",
		"Age of the data being served for the query; absent when none is served.", []string{"biz_region"}, nil)
	refreshDurationDesc = prometheus.NewDesc("aliyun_appstream_refresh_duration_seconds",
		"Wall time of the newest finished refresh of the query, all pages and retries.", []string{"biz_region"}, nil)
	// Alerts on data age and refresh rate derive their thresholds from it,
	// so it is read from the exporter that served the scrape: a reload
	// changes it together with the data it describes.
	cacheTTLDesc = prometheus.NewDesc("aliyun_appstream_cache_ttl_seconds",
		"The configured cache_ttl: how long a refreshed result is served before the next scrape refreshes it.", nil, nil)
)

// healthCollector reports the state of the queries as one scrape saw it, so
// the health series agree with the group series written beside them.
type healthCollector struct{ v *view }

func (h healthCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{upDesc, groupsDesc, lastSuccessDesc, dataAgeDesc, refreshDurationDesc, cacheTTLDesc,
		sessionsUpDesc, sessionsGroupsDesc, sessionsPagesDesc, sessionsLastSuccessDesc, sessionsDataAgeDesc, sessionsDurationDesc, sessionsCacheTTLDesc} {
		ch <- d
	}
}

func (h healthCollector) Collect(ch chan<- prometheus.Metric) {
	if h.v.cacheTTL > 0 {
		ch <- prometheus.MustNewConstMetric(cacheTTLDesc, prometheus.GaugeValue, h.v.cacheTTL.Seconds())
	}
	for _, s := range h.v.states {
		biz := s.Name
		up := 0.0
		if s.Up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up, biz)
		n := 0
		if s.Data != nil {
			n = s.Data.Groups()
			ch <- prometheus.MustNewConstMetric(dataAgeDesc, prometheus.GaugeValue, h.v.now.Sub(s.Data.FetchedAt()).Seconds(), biz)
		}
		ch <- prometheus.MustNewConstMetric(groupsDesc, prometheus.GaugeValue, float64(n), biz)
		if !s.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, float64(s.LastSuccess.UnixMilli())/1000, biz)
		}
		if s.Finished {
			ch <- prometheus.MustNewConstMetric(refreshDurationDesc, prometheus.GaugeValue, s.LastDuration.Seconds(), biz)
		}
	}
	h.collectSessions(ch)
}
