package aliyun

import "github.com/prometheus/client_golang/prometheus"

// APIMetrics count the client's HTTP requests. They live as long as the
// process, across config reloads, and are written only by call.
type APIMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewAPIMetrics registers the API request counter and latency histogram.
func NewAPIMetrics(reg prometheus.Registerer) *APIMetrics {
	m := &APIMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aliyun_appstream_api_requests_total",
			Help: "HTTP requests sent to the appstream-center API, by action and result code (Success, the API error code, HTTP<status>, malformed, transport, or canceled: cut by a reload or shutdown).",
		}, []string{"account", "action", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aliyun_appstream_api_request_duration_seconds",
			Help:    "Duration of HTTP requests to the appstream-center API, body included.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20},
		}, []string{"account", "action"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// prepare makes an action's series exist before its first request, so
// that the first request shows as an increase. ListAppInstanceGroup's
// exist from the start; ListAppInstances' once a configuration enables it.
func (m *APIMetrics) prepare(account, action string) {
	m.requests.WithLabelValues(account, action, "Success")
	m.duration.WithLabelValues(account, action)
}
