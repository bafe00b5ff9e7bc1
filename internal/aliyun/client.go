// Package aliyun makes signed RPC calls to the appstream-center API through
// the Alibaba Cloud SDK: one action-agnostic call layer (signing, retries,
// deadlines, the body cap, redaction, request metrics) and one file per
// action for its parameters, paging and response model.
package aliyun

import (
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/appstream-exporter/appstream_exporter/config"
)

// The API every action is part of.
const (
	apiProduct = "appstream-center"
	apiVersion = "2021-09-01"
)

const (
	// MaxBodyBytes caps what is read of one answer; a 100-group page is
	// well under 1 MiB.
	MaxBodyBytes = 64 << 20
	// MaxAttempts per call: enough to ride out a throttling burst, few
	// enough not to feed an outage or a rate limit.
	MaxAttempts = 5
	// defaultMaxGroups bounds one ListAppInstanceGroup query: an API that
	// never stops paging (or a TotalCount of a billion) fails the refresh
	// instead of running forever.
	defaultMaxGroups = 100_000

	// maxAttemptTimeout caps one HTTP attempt so a hung connection leaves
	// time in refresh_timeout for a retry.
	maxAttemptTimeout = 10 * time.Second
	defaultRetryBase  = 500 * time.Millisecond
	maxRetryDelay     = 8 * time.Second
)

// Client calls the API for one configuration. It is the only code that
// talks to the SDK, and the only place that retries, so
// aliyun_appstream_api_requests_total counts every real HTTP request
// exactly once. It is safe for concurrent use.
type Client struct {
	cfg       *config.Config
	creds     credentials.CredentialsProvider
	transport *http.Transport
	metrics   *APIMetrics
	logger    *slog.Logger
	redact    func(string) string
	retryBase time.Duration
	account   string                           // the account label of its metrics; "" for none
	slots     chan struct{}                    // shared with the other accounts' clients; nil: no bound
	ownSlots  chan struct{}                    // how many of slots this client holds
	record    func(action string, body []byte) // Options.Record

	// MaxGroups bounds one ListAppInstanceGroup query; tests lower it
	// before the first call.
	MaxGroups int
}

// Options are the parts of a Client that do not come from the config file.
type Options struct {
	Logger  *slog.Logger // nil: discard
	Metrics *APIMetrics  // nil: counted in a registry of its own
	// RetryBase is the first retry's backoff; 0 means 500ms. Tests
	// shorten it.
	RetryBase time.Duration
	// Slots, if set, are the request slots every account's client shares
	// (max_concurrent_requests): an attempt holds one while it is sent.
	Slots chan struct{}
	// MaxSlots is how many of Slots this client may hold at once; 0: all.
	MaxSlots int
	// Record, if set, is given each successful answer's body as it
	// arrived (--snapshot.dump); it must not keep body past the call
	// without copying it.
	Record func(action string, body []byte)
}

// NewClient builds the client of a validated configuration: its credential
// provider, its connection pool and its redaction of the secrets it knows.
// It makes no API call.
func NewClient(cfg *config.Config, o Options) (*Client, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NewAPIMetrics(prometheus.NewRegistry())
	}
	if o.RetryBase == 0 {
		o.RetryBase = defaultRetryBase
	}
	creds, err := newCredentialsProvider(cfg)
	if err != nil {
		return nil, err
	}
	conns := cfg.MaxConcurrentPages
	o.Metrics.prepare(cfg.Account(), listAppInstanceGroup)
	if cfg.AppInstances.Enabled {
		o.Metrics.prepare(cfg.Account(), listAppInstances)
		conns = max(conns, cfg.AppInstances.MaxConcurrentGroups)
	}
	return &Client{
		cfg:       cfg,
		creds:     creds,
		transport: newTransport(conns),
		metrics:   o.Metrics,
		logger:    o.Logger,
		redact:    secretRedactor(cfg),
		retryBase: o.RetryBase,
		account:   cfg.Account(),
		slots:     o.Slots,
		ownSlots:  make(chan struct{}, ownSlots(o)),
		record:    o.Record,
		MaxGroups: defaultMaxGroups,
	}, nil
}

// ownSlots is the size of a client's own share of the shared slots.
func ownSlots(o Options) int {
	if o.MaxSlots > 0 {
		return min(o.MaxSlots, cap(o.Slots))
	}
	return max(1, cap(o.Slots))
}

// Close lets go of idle connections; calls in flight are ended by their
// context.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// newTransport is shared by every attempt of a client: connections are
// reused across pages and refreshes. Proxies come from HTTPS_PROXY/NO_PROXY.
func newTransport(maxConns int) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          maxConns * 2,
		MaxIdleConnsPerHost:   maxConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: maxAttemptTimeout,
	}
}

// identity names what the answers to req depend on: where it asks, who
// asks, and what it asks for. unrelated are query parameters that do not
// change what the answers add up to (paging).
func (c *Client) identity(req request, unrelated ...string) string {
	params := url.Values{}
	for k, v := range req.query {
		params.Set("q:"+k, v)
	}
	for k, v := range req.body {
		params.Set("f:"+k, v)
	}
	for _, k := range unrelated {
		params.Del("q:" + k)
	}
	who := "default credential chain"
	if cr := c.cfg.Credentials; cr != nil {
		who = strings.Join([]string{cr.AccessKeyID, string(cr.AccessKeySecret), cr.AccessKeySecretFile,
			cr.SecurityTokenFile, cr.RoleARN, cr.RoleSessionName}, "\x00")
	}
	return strings.Join([]string{c.cfg.EndpointURL().String(), c.cfg.RegionID, who, req.action, params.Encode()}, "\x01")
}
