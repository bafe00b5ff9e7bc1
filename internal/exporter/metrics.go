package exporter

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
)

// Metrics are the exporter's own telemetry. They live as long as the
// process, across config reloads.
type Metrics struct {
	api              *aliyun.APIMetrics
	refreshes        *prometheus.CounterVec
	sessionRefreshes *prometheus.CounterVec // its series exist once app_instances is enabled
}

// NewMetrics registers the API request metrics and the refresh counters.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	// Refreshes are counted here, for the process, not by the cache that
	// ran them: a reload replaces the caches and counters must not restart.
	m := &Metrics{
		api: aliyun.NewAPIMetrics(reg),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aliyun_appstream_refreshes_total",
			Help: "Finished refreshes of the query by result (success or failure).",
		}, []string{"account", "biz_region", "result"}),
		sessionRefreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aliyun_appstream_app_instances_refreshes_total",
			Help: "Finished app instance refreshes (ListAppInstances) of the query by result (success or failure).",
		}, []string{"account", "biz_region", "result"}),
	}
	reg.MustRegister(m.refreshes, m.sessionRefreshes)
	return m
}
