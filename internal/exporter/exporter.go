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
	"github.com/appstream-exporter/appstream_exporter/internal/memlimit"
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

	// Record, if set, is given every successful API answer's body with
	// its account and action (--snapshot.dump).
	Record func(account, action string, body []byte)

	// MemoryLimit, if set, is told when refreshes run, so that it sets
	// the runtime's memory limit only from what is held between them.
	MemoryLimit *memlimit.Tuner

	retryBase time.Duration // tests shorten the retry backoff
}

// Exporter serves one configuration: each of its accounts (one in the
// single-account form) with its own API client, caches and failures, and
// the request slots they share.
type Exporter struct {
	cfg      *config.Config
	now      func() time.Time
	accounts []*account
	cancel   context.CancelFunc
}

// account is one account's part of an Exporter: one cache per query (biz
// region), the API client behind them, and the rendering of their data.
// Nothing of it is shared with another account but the request slots and
// the process's metrics, so one account's failure, throttling or
// slowness leaves the others' data alone.
type account struct {
	cfg     *config.Config
	logger  *slog.Logger
	now     func() time.Time
	client  *aliyun.Client
	metrics *Metrics
	memory  *memlimit.Tuner
	queries []*cache.Cache[*exposition.Snapshot]
	// sessions are the app-instance caches, one per query beside
	// queries; nil unless app_instances is enabled. budget is their
	// requests' budget.
	sessions []*cache.Cache[*exposition.Sessions]
	budget   *aliyun.Budget

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
	ctx, cancel := context.WithCancel(context.Background())
	e := &Exporter{cfg: cfg, now: o.Now, cancel: cancel}
	slots := make(chan struct{}, max(1, cfg.MaxConcurrentRequests))
	// One account may hold all slots but one for each other account: an
	// account whose requests hang leaves the others a slot each.
	accounts := cfg.AccountConfigs()
	perAccount := max(1, cap(slots)-(len(accounts)-1))
	for _, ac := range accounts {
		a, err := newAccount(ctx, ac, o, slots, perAccount)
		if err != nil {
			e.Close()
			return nil, err
		}
		e.accounts = append(e.accounts, a)
	}
	return e, nil
}

// newAccount makes an account's client and caches; each query whose
// identity an account of o.Previous had takes over its data.
func newAccount(ctx context.Context, cfg *config.Config, o Options, slots chan struct{}, maxSlots int) (*account, error) {
	logger := o.Logger
	if cfg.Account() != "" {
		logger = logger.With("account", cfg.Account())
	}
	var record func(action string, body []byte)
	if o.Record != nil {
		record = func(action string, body []byte) { o.Record(cfg.Account(), action, body) }
	}
	client, err := aliyun.NewClient(cfg, aliyun.Options{Logger: logger, Metrics: o.Metrics.api, RetryBase: o.retryBase,
		Slots: slots, MaxSlots: maxSlots, Record: record})
	if err != nil {
		return nil, err
	}
	a := &account{
		cfg:                cfg,
		logger:             logger,
		now:                o.Now,
		client:             client,
		metrics:            o.Metrics,
		memory:             o.MemoryLimit,
		seenProblems:       map[exposition.Problem]bool{},
		lastFailure:        map[string]string{},
		lastSessionFailure: map[string]string{},
	}
	var previous []*account
	if o.Previous != nil {
		previous = o.Previous.accounts
	}
	// The account's name is written into every series, like the tag labels.
	rendering := fmt.Sprintf("%q %q %q %q", cfg.TagLabels, cfg.TagLabelsOn, cfg.Timezone, cfg.Account())
	for _, biz := range cfg.Queries() {
		q := cache.New(cache.Options[*exposition.Snapshot]{
			Name:     biz,
			TTL:      cfg.CacheTTL.D(),
			MaxStale: cfg.MaxStale.D(),
			Timeout:  cfg.RefreshTimeout.D(),
			Now:      o.Now,
			Refresh: func(ctx context.Context, prev *exposition.Snapshot) (*exposition.Snapshot, error) {
				defer a.memory.Refreshing()()
				return a.refresh(ctx, biz, prev)
			},
			OnResult:  a.recordResult,
			Parent:    ctx,
			Identity:  a.client.ListAppInstanceGroupIdentity(biz),
			Rendering: rendering,
		})
		for _, p := range previous {
			for _, prev := range p.queries {
				if prev.Identity() == q.Identity() {
					q.TakeOver(prev)
				}
			}
		}
		for _, result := range []string{"success", "failure"} {
			o.Metrics.refreshes.WithLabelValues(cfg.Account(), biz, result)
		}
		a.queries = append(a.queries, q)
	}
	a.newSessionCaches(ctx, previous)
	return a, nil
}

// Config is the configuration the exporter serves.
func (e *Exporter) Config() *config.Config { return e.cfg }

// Start begins the first refresh of every query in the background, so the
// exporter becomes ready without waiting for a scrape.
func (e *Exporter) Start() {
	for _, a := range e.accounts {
		for _, q := range a.queries {
			q.Start()
		}
		for _, s := range a.sessions {
			s.Start()
		}
	}
}

// Ready reports whether every query has finished a first refresh of its
// groups, good or not. App instances are not waited for: listing them
// group by group within the request budget may take much longer.
func (e *Exporter) Ready() bool {
	for _, a := range e.accounts {
		for _, q := range a.queries {
			if !q.Ready() {
				return false
			}
		}
	}
	return true
}

// Close cancels refreshes in flight; the exporter must not be used after.
func (e *Exporter) Close() {
	e.cancel()
	for _, a := range e.accounts {
		a.client.Close()
	}
}

func (a *account) refresh(ctx context.Context, bizRegion string, prev *exposition.Snapshot) (*exposition.Snapshot, error) {
	// Each page is rendered as it arrives, so its decoded groups can go.
	var rf *exposition.Refresh
	pages, err := a.client.ListAppInstanceGroup(ctx, bizRegion, func() aliyun.PageReader {
		rf = exposition.NewRefresh(a.cfg, prev, bizRegion)
		return rf.Page
	})
	if err != nil {
		return nil, err
	}
	r := rf.Finish(a.now(), pages)
	a.logProblems(bizRegion, r.Problems)
	a.logZoneless(bizRegion, r.Zoneless)
	return r.Snapshot, nil
}

// recordResult counts and logs a finished refresh.
func (e *account) recordResult(bizRegion string, snap *exposition.Snapshot, err error, took time.Duration, canceled bool) {
	if canceled {
		e.logger.Debug("refresh canceled: the exporter was reloaded or is shutting down", "biz_region", bizRegion, "took", took.Round(time.Millisecond))
		return
	}
	result := "success"
	if err != nil {
		result = "failure"
	}
	e.metrics.refreshes.WithLabelValues(e.cfg.Account(), bizRegion, result).Inc()

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
func (e *account) logProblems(bizRegion string, problems []exposition.Problem) {
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
func (e *account) logZoneless(bizRegion string, fields map[string]string) {
	for _, field := range slices.Sorted(maps.Keys(fields)) {
		if _, logged := e.zonelessLogged.LoadOrStore(field, true); logged {
			continue
		}
		e.logger.Info("time without a zone in API answer; read in the configured timezone",
			"biz_region", bizRegion, "field", field, "timezone", e.cfg.Location().String(), "example", fields[field])
	}
}

// view is what one scrape serves: every query's state at one instant, by
// account, with the cache_ttl of the exporter that served it.
type view struct {
	now      time.Time
	accounts []accountView // none: no exporter, no configuration in force
}

// accountView is one account's part of a view.
type accountView struct {
	name     string // the account label's value; "" for none
	cacheTTL time.Duration
	states   []cache.State[*exposition.Snapshot]
	// With app_instances: each query's app-instance state, beside states.
	sessions    []cache.State[*exposition.Sessions]
	sessionsTTL time.Duration
}

// collect brings every query up to date as far as ctx allows: refreshes due
// are started together and waited for until ctx ends (app instance
// refreshes only while they have no counts yet); whatever has finished by
// then is served. An account whose refresh hangs delays the answer at most
// to the scrape's timeout; the other accounts' fresh data is in it.
func (e *Exporter) collect(ctx context.Context) *view {
	var waits []<-chan struct{}
	for _, a := range e.accounts {
		for _, q := range a.queries {
			waits = append(waits, q.Start())
		}
		for _, s := range a.sessions {
			// Listing every group's sessions at the request budget can take
			// longer than a scrape may wait: once there are counts to serve,
			// a refresh runs beside the scrapes, which serve the previous
			// counts.
			if w := s.Start(); w != nil && s.State().Data == nil {
				waits = append(waits, w)
			}
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
	v := &view{now: e.now()}
	for _, a := range e.accounts {
		av := accountView{name: a.cfg.Account(), cacheTTL: a.cfg.CacheTTL.D()}
		for _, q := range a.queries {
			av.states = append(av.states, q.State())
		}
		if a.sessions != nil {
			av.sessionsTTL = a.cfg.AppInstances.CacheTTL.D()
			for _, s := range a.sessions {
				av.sessions = append(av.sessions, s.State())
			}
		}
		v.accounts = append(v.accounts, av)
	}
	return v
}

// queries are the view's data, one per query of every account (nil where
// none is served).
func (v *view) queries() []exposition.Query {
	var q []exposition.Query
	for _, a := range v.accounts {
		for i, s := range a.states {
			var sessions *exposition.Sessions
			if a.sessions != nil {
				sessions = a.sessions[i].Data
			}
			q = append(q, exposition.Query{Groups: s.Data, Sessions: sessions})
		}
	}
	return q
}

// accountBiz are the labels of a query's health series. The account label
// is empty in the single-account form, which the handler leaves out.
var accountBiz = []string{"account", "biz_region"}

var (
	upDesc = healthDesc("aliyun_appstream_up",
		"1 when the newest refresh of the query (biz_region, empty for the unfiltered query) succeeded, else 0.", accountBiz)
	groupsDesc = healthDesc("aliyun_appstream_groups",
		"Delivery groups in the data being served for the query.", accountBiz)
	lastSuccessDesc = healthDesc("aliyun_appstream_last_refresh_success_timestamp_seconds",
		"Unix time of the newest successful refresh of the query.", accountBiz)
	dataAgeDesc = healthDesc("aliyun_appstream_data_age_seconds",
		"Age of the data being served for the query; absent when none is served.", accountBiz)
	refreshDurationDesc = healthDesc("aliyun_appstream_refresh_duration_seconds",
		"Wall time of the newest finished refresh of the query, all pages and retries.", accountBiz)
	// Present only while the newest refresh failed, so a query that
	// recovered leaves no series behind; class and code are bounded sets
	// (the request ID, which is not, is on the status page).
	lastErrorDesc = healthDesc("aliyun_appstream_last_refresh_error_info",
		"1 while the newest refresh of the query failed: the failure's class and API error code (empty when no API answered).",
		append(slices.Clone(accountBiz), "class", "code"))
	// Alerts on data age and refresh rate derive their thresholds from it,
	// so it is read from the exporter that served the scrape: a reload
	// changes it together with the data it describes.
	cacheTTLDesc = healthDesc("aliyun_appstream_cache_ttl_seconds",
		"The configured cache_ttl: how long a refreshed result is served before the next scrape refreshes it.", []string{"account"})
)

// collectHealth reports the state of the queries as one scrape saw it, so
// the health series agree with the group series written beside them.
func collectHealth(v *view, emit func(prometheus.Metric)) {
	for _, a := range v.accounts {
		emit(prometheus.MustNewConstMetric(cacheTTLDesc, prometheus.GaugeValue, a.cacheTTL.Seconds(), a.name))
		for _, s := range a.states {
			biz := s.Name
			emit(prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, b2f(s.Up), a.name, biz))
			n := 0
			if s.Data != nil {
				n = s.Data.Groups()
				emit(prometheus.MustNewConstMetric(dataAgeDesc, prometheus.GaugeValue, v.now.Sub(s.Data.FetchedAt()).Seconds(), a.name, biz))
			}
			emit(prometheus.MustNewConstMetric(groupsDesc, prometheus.GaugeValue, float64(n), a.name, biz))
			if !s.LastSuccess.IsZero() {
				emit(prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, float64(s.LastSuccess.UnixMilli())/1000, a.name, biz))
			}
			if s.Finished {
				emit(prometheus.MustNewConstMetric(refreshDurationDesc, prometheus.GaugeValue, s.LastDuration.Seconds(), a.name, biz))
			}
			if s.Finished && !s.Up && s.LastError != nil {
				class, code, _ := aliyun.FailureDetails(s.LastError)
				emit(prometheus.MustNewConstMetric(lastErrorDesc, prometheus.GaugeValue, 1, a.name, biz, class, code))
			}
		}
		collectSessions(emit, v.now, &a)
	}
}
