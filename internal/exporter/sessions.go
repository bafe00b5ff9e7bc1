package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
	"github.com/appstream-exporter/appstream_exporter/internal/cache"
	"github.com/appstream-exporter/appstream_exporter/internal/exposition"
)

// The app-instance collection (app_instances) has, per query, a cache of
// its own beside the groups' cache: its own cache_ttl, health and
// failures, so that a failing ListAppInstances never stales the group
// series, nor a failing ListAppInstanceGroup the sessions it already has
// (they are written for the groups served, so they wait for group data).
// Its refresh lists the sessions of the groups in the query's newest group
// data whose Status is in group_status, several groups at a time, every
// request through one budget of max_requests_per_second.

// newSessionCaches makes the app-instance cache of each query, taking over
// the data of prev's query with the same identity.
func (e *account) newSessionCaches(ctx context.Context, previous []*account) {
	a := e.cfg.AppInstances
	if !a.Enabled {
		return
	}
	e.budget = e.client.NewBudget()
	for i, biz := range e.cfg.Queries() {
		c := cache.New(cache.Options[*exposition.Sessions]{
			Name:     biz,
			TTL:      a.CacheTTL.D(),
			MaxStale: e.cfg.MaxStale.D(),
			Timeout:  e.cfg.RefreshTimeout.D(),
			Now:      e.now,
			Refresh: func(ctx context.Context, _ *exposition.Sessions) (*exposition.Sessions, error) {
				defer e.memory.Refreshing()()
				return e.refreshSessions(ctx, i)
			},
			OnResult: e.recordSessionsResult,
			Parent:   ctx,
			Identity: strings.Join([]string{e.client.ListAppInstancesIdentity(), e.queries[i].Identity(), strings.Join(a.GroupStatus, ",")}, "\x02"),
		})
		for _, prev := range previous {
			for _, p := range prev.sessions {
				if p.Identity() == c.Identity() {
					c.TakeOver(p)
				}
			}
		}
		for _, result := range []string{"success", "failure"} {
			e.metrics.sessionRefreshes.WithLabelValues(e.cfg.Account(), biz, result)
		}
		e.sessions = append(e.sessions, c)
	}
}

// errNoGroupData: the sessions are listed for the groups of the query's
// group data, and there is none to serve.
var errNoGroupData = errors.New("no group data to list app instances for: the query's ListAppInstanceGroup refresh has not succeeded (see aliyun_appstream_up)")

// refreshSessions lists the app instances of query i's groups.
func (e *account) refreshSessions(ctx context.Context, i int) (*exposition.Sessions, error) {
	groups := e.queries[i]
	if w := groups.Start(); w != nil {
		select {
		case <-w:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the query's group refresh: %w", ctx.Err())
		}
	}
	snap := groups.State().Data
	if snap == nil {
		return nil, errNoGroupData
	}
	a := e.cfg.AppInstances
	targets := snap.SessionTargets(a.GroupStatus)
	// Each page takes a request: when the budget cannot fit them in
	// refresh_timeout, say so now instead of spending it and failing.
	// Pages per group are the last refresh's (one for a group new to it).
	var last *exposition.Sessions
	if i < len(e.sessions) {
		last = e.sessions[i].State().Data
	}
	pagesNeeded := 0
	for _, t := range targets {
		pagesNeeded += max(1, last.GroupPages(t.Key))
	}
	if need := time.Duration(float64(pagesNeeded-1) / a.MaxRequestsPerSecond * float64(time.Second)); need > e.cfg.RefreshTimeout.D() {
		return nil, fmt.Errorf("%d groups to list (%d pages, by the last refresh) need at least %s at app_instances.max_requests_per_second %v, more than refresh_timeout (%s): raise either, or narrow app_instances.group_status",
			len(targets), pagesNeeded, need.Round(time.Second), a.MaxRequestsPerSecond, e.cfg.RefreshTimeout.D())
	}
	var mu sync.Mutex
	counts := make(map[string]map[aliyun.SessionKey]int, len(targets))
	groupPages := make(map[string]int, len(targets))
	pages := 0
	wait := e.client.Wait(e.budget)
	eg, egctx := errgroup.WithContext(ctx)
	eg.SetLimit(a.MaxConcurrentGroups)
	for _, t := range targets {
		eg.Go(func() error {
			got, err := e.client.ListAppInstances(egctx, t.ID, wait)
			mu.Lock()
			defer mu.Unlock()
			pages += got.Pages
			if err != nil {
				return fmt.Errorf("group %s: %w", t.ID, err)
			}
			counts[t.Key] = got.Counts
			groupPages[t.Key] = got.Pages
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return exposition.NewSessions(e.now(), pages, counts, groupPages), nil
}

// recordSessionsResult counts and logs a finished app-instance refresh,
// as recordResult does for groups: a lasting failure at error level once.
func (e *account) recordSessionsResult(bizRegion string, s *exposition.Sessions, err error, took time.Duration, canceled bool) {
	if canceled {
		return
	}
	result := "success"
	if err != nil {
		result = "failure"
	}
	e.metrics.sessionRefreshes.WithLabelValues(e.cfg.Account(), bizRegion, result).Inc()
	e.failuresMu.Lock()
	previous := e.lastSessionFailure[bizRegion]
	key := aliyun.FailureKey(err)
	if errors.Is(err, errNoGroupData) {
		key = "no_group_data"
	}
	e.lastSessionFailure[bizRegion] = key
	e.failuresMu.Unlock()
	switch {
	case err != nil:
		level := slog.LevelWarn
		if previous == key {
			level = slog.LevelDebug
		}
		e.logger.Log(context.Background(), level, "app instance refresh failed", "biz_region", bizRegion, "took", took.Round(time.Millisecond), "err", err)
	case previous != "":
		e.logger.Info("app instance refresh succeeded again", "biz_region", bizRegion, "groups", s.Groups(), "requests", s.Pages(), "after", previous)
	default:
		e.logger.Debug("app instance refresh done", "biz_region", bizRegion, "groups", s.Groups(), "requests", s.Pages(), "took", took.Round(time.Millisecond))
	}
}

var (
	sessionsUpDesc = healthDesc("aliyun_appstream_app_instances_up",
		"1 when the newest app instance refresh (ListAppInstances) of the query succeeded, else 0; present only with app_instances enabled.", accountBiz)
	sessionsGroupsDesc = healthDesc("aliyun_appstream_app_instances_groups",
		"Delivery groups whose app instances are in the data being served for the query.", accountBiz)
	sessionsPagesDesc = healthDesc("aliyun_appstream_app_instances_refresh_pages",
		"ListAppInstances pages the refresh of the data being served read, one request each; retries are counted in aliyun_appstream_api_requests_total.", accountBiz)
	sessionsLastSuccessDesc = healthDesc("aliyun_appstream_app_instances_last_refresh_success_timestamp_seconds",
		"Unix time of the newest successful app instance refresh of the query.", accountBiz)
	sessionsDataAgeDesc = healthDesc("aliyun_appstream_app_instances_data_age_seconds",
		"Age of the app instance data being served for the query; absent when none is served.", accountBiz)
	sessionsDurationDesc = healthDesc("aliyun_appstream_app_instances_refresh_duration_seconds",
		"Wall time of the newest finished app instance refresh of the query, all groups, pages and retries.", accountBiz)
	sessionsCacheTTLDesc = healthDesc("aliyun_appstream_app_instances_cache_ttl_seconds",
		"The configured app_instances.cache_ttl.", []string{"account"})
)

// collectSessions reports an account's app-instance caches as the scrape
// saw them.
func collectSessions(emit func(prometheus.Metric), now time.Time, a *accountView) {
	if a.sessionsTTL > 0 {
		emit(prometheus.MustNewConstMetric(sessionsCacheTTLDesc, prometheus.GaugeValue, a.sessionsTTL.Seconds(), a.name))
	}
	for _, s := range a.sessions {
		biz := s.Name
		emit(prometheus.MustNewConstMetric(sessionsUpDesc, prometheus.GaugeValue, b2f(s.Up), a.name, biz))
		n := 0
		if s.Data != nil {
			n = s.Data.Groups()
			emit(prometheus.MustNewConstMetric(sessionsDataAgeDesc, prometheus.GaugeValue, now.Sub(s.Data.FetchedAt()).Seconds(), a.name, biz))
			emit(prometheus.MustNewConstMetric(sessionsPagesDesc, prometheus.GaugeValue, float64(s.Data.Pages()), a.name, biz))
		}
		emit(prometheus.MustNewConstMetric(sessionsGroupsDesc, prometheus.GaugeValue, float64(n), a.name, biz))
		if !s.LastSuccess.IsZero() {
			emit(prometheus.MustNewConstMetric(sessionsLastSuccessDesc, prometheus.GaugeValue, float64(s.LastSuccess.UnixMilli())/1000, a.name, biz))
		}
		if s.Finished {
			emit(prometheus.MustNewConstMetric(sessionsDurationDesc, prometheus.GaugeValue, s.LastDuration.Seconds(), a.name, biz))
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
