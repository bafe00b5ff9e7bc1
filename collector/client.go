package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"golang.org/x/sync/errgroup"

	"github.com/appstream-exporter/appstream_exporter/config"
)

// API identity of ListAppInstanceGroup.
const (
	APIProduct = "appstream-center"
	APIVersion = "2021-09-01"
	APIAction  = "ListAppInstanceGroup"
)

const (
	// maxGroups bounds one query: an API that never stops paging (or a
	// TotalCount of a billion) fails the refresh instead of running forever.
	maxGroups = 100_000
	// maxBodyBytes caps what is read of one answer; a 100-group page is
	// well under 1 MiB.
	maxBodyBytes = 64 << 20
	// maxAttemptTimeout caps one HTTP attempt so a hung connection leaves
	// time in refresh_timeout for a retry.
	maxAttemptTimeout = 10 * time.Second
	defaultRetryBase  = 500 * time.Millisecond
	maxRetryDelay     = 8 * time.Second
	// maxAttempts per page: enough to ride out a throttling burst, few
	// enough not to feed an outage or a rate limit.
	maxAttempts = 5
)

// apiClient fetches ListAppInstanceGroup through the Alibaba Cloud SDK. It
// is the only code that talks to the SDK, and the only place that retries,
// so api_requests_total counts every real HTTP request exactly once.
type apiClient struct {
	cfg       *config.Config
	maxGroups int // per query; tests lower it
	creds     credentials.CredentialsProvider
	transport http.RoundTripper
	metrics   *APIMetrics
	logger    *slog.Logger
	redact    func(string) string
	retryBase time.Duration
}

// fetchAll reads every page of one query: page 1, then the rest with
// max_concurrent_pages in parallel. Any failed page fails the whole fetch,
// and so does a page set that stays incomplete (fewer groups than
// TotalCount) when read twice: serving it would make groups vanish.
func (c *apiClient) fetchAll(ctx context.Context, bizRegion string) ([]*Group, int, error) {
	if c.logger.Enabled(ctx, slog.LevelDebug) {
		query, body := c.requestParams(bizRegion)
		c.logger.Debug(APIAction+" request", "biz_region", bizRegion, "query", query, "body", body,
			"paging", "PageNumber left out: page N is sent with PageNumber=N")
	}
	ps, err := c.fetchPages(ctx, bizRegion)
	if err != nil || ps.consistent() {
		return ps.groups, ps.pages, err
	}
	// Groups were added or removed while paging (TotalCount moved), or
	// items shifted between pages: read the whole set once more.
	c.logger.Debug("page set inconsistent; reading all pages again", "biz_region", bizRegion, "why", ps.why())
	again, err := c.fetchPages(ctx, bizRegion)
	pages := ps.pages + again.pages
	switch {
	case err != nil:
		return nil, pages, err
	case again.total > 0 && again.items < again.total:
		return nil, pages, fmt.Errorf("the pages listed %d of TotalCount %d groups, twice in a row; keeping the previous data", again.items, again.total)
	case again.drifted:
		c.logger.Warn("TotalCount changed while paging, twice in a row; serving the pages as read", "biz_region", bizRegion)
	}
	return again.groups, pages, nil
}

// pageSet is the result of reading all pages once.
type pageSet struct {
	groups  []*Group
	pages   int
	items   int  // groups listed, repeats included
	total   int  // TotalCount of page 1 (0: not given)
	drifted bool // a later page reported another TotalCount
}

// consistent: TotalCount held still and the pages listed that many items
// (a repeated group still counts: TotalCount counts it too).
func (ps *pageSet) consistent() bool {
	return !ps.drifted && (ps.total == 0 || ps.items >= ps.total)
}

func (ps *pageSet) why() string {
	if ps.drifted {
		return "TotalCount changed"
	}
	return fmt.Sprintf("%d of TotalCount %d groups listed", ps.items, ps.total)
}

func (c *apiClient) fetchPages(ctx context.Context, bizRegion string) (pageSet, error) {
	first, err := c.fetchPage(ctx, bizRegion, 1)
	if err != nil {
		return pageSet{pages: 1}, err
	}
	pageSize := c.cfg.PageSize
	if ps := first.PageSize; ps.Set && ps.V >= 1 && int(ps.V) < pageSize {
		pageSize = int(ps.V) // the API capped our PageSize: page by what it serves
	}
	ps := pageSet{pages: 1}
	results := []*ListResponse{first}
	collect := newGroupCollector(bizRegion)
	collect.add(first)

	if total := first.TotalCount; total.Set {
		if total.V > float64(c.maxGroups) {
			return ps, fmt.Errorf("TotalCount %.0f exceeds the limit of %d groups per query; narrow it with filters or biz_regions", total.V, c.maxGroups)
		}
		ps.total = int(total.V)
		n := int(math.Ceil(total.V / float64(pageSize)))
		results = append(results, make([]*ListResponse, max(0, n-1))...)
		eg, egctx := errgroup.WithContext(ctx)
		eg.SetLimit(c.cfg.MaxConcurrentPages)
		for p := 2; p <= n; p++ {
			eg.Go(func() error {
				r, err := c.fetchPage(egctx, bizRegion, p)
				results[p-1] = r
				return err
			})
		}
		ps.pages = max(1, n)
		if err := eg.Wait(); err != nil {
			return ps, err
		}
		for _, r := range results[1:] {
			if r.TotalCount.Set && r.TotalCount.V != total.V {
				ps.drifted = true
			}
			collect.add(r)
		}
	} else {
		// No TotalCount: page until a short page. An API that ignores
		// PageNumber repeats what it sent; one that never ends hits the cap.
		maxPages := (c.maxGroups + pageSize - 1) / pageSize
		for last := first; len(last.Groups.Items) >= pageSize; {
			if ps.pages >= maxPages {
				return ps, fmt.Errorf("still paging after %d pages without a TotalCount; giving up", maxPages)
			}
			r, err := c.fetchPage(ctx, bizRegion, ps.pages+1)
			ps.pages++
			if err != nil {
				return ps, err
			}
			results = append(results, r)
			if collect.add(r) == 0 && len(r.Groups.Items) > 0 {
				return ps, fmt.Errorf("page %d repeats groups of earlier pages and no TotalCount is given: the API seems to ignore PageNumber", ps.pages)
			}
			last = r
		}
	}
	ps.groups = collect.groups
	for _, r := range results {
		ps.items += len(r.Groups.Items)
	}
	return ps, nil
}

// groupCollector gathers groups across pages, each once. A group is known
// by its ID and region: the same ID in another region is another group
// (its series carry another region label).
type groupCollector struct {
	bizRegion string
	seen      map[string]bool
	groups    []*Group
}

func newGroupCollector(bizRegion string) *groupCollector {
	return &groupCollector{bizRegion: bizRegion, seen: map[string]bool{}}
}

// add takes the page's groups it has not seen and returns how many.
func (gc *groupCollector) add(r *ListResponse) int {
	added := 0
	for i := range r.Groups.Items {
		g := &r.Groups.Items[i]
		region := strings.TrimSpace(g.RegionID.V)
		if region == "" {
			region = gc.bizRegion
		}
		key := strings.TrimSpace(g.AppInstanceGroupID.V) + "\x00" + region
		if g.AppInstanceGroupID.V != "" && gc.seen[key] {
			continue
		}
		gc.seen[key] = true
		gc.groups = append(gc.groups, g)
		added++
	}
	return added
}

// fetchPage reads one page, retrying what may pass: throttling, HTTP 429
// and 5xx, and transport errors, with jittered exponential backoff inside
// the refresh deadline. Auth, parameter and malformed answers are final.
func (c *apiClient) fetchPage(ctx context.Context, bizRegion string, pageNumber int) (*ListResponse, error) {
	for attempt := 0; ; attempt++ {
		// A fresh request each attempt: signing writes into it.
		resp, res := c.attempt(ctx, c.request(bizRegion, pageNumber))
		if res.err == nil {
			return resp, nil
		}
		if !res.retry {
			return nil, res.err
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, canceledFailure()
		}
		if ctx.Err() != nil {
			return nil, res.err
		}
		if attempt+1 >= maxAttempts {
			return nil, fmt.Errorf("%w (gave up after %d attempts)", res.err, maxAttempts)
		}
		delay := backoff(c.retryBase, attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay {
			return nil, fmt.Errorf("%w (no time left in refresh_timeout to retry)", res.err)
		}
		c.logger.Debug("retrying", "biz_region", bizRegion, "page", pageNumber, "attempt", attempt+1, "delay", delay, "err", res.err)
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil, canceledFailure()
			}
			return nil, res.err
		case <-time.After(delay):
		}
	}
}

// backoff is exponential with equal jitter: half fixed, half random, so
// retries of parallel pages spread out but never fire at once.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base << min(attempt, 10)
	if d > maxRetryDelay || d <= 0 {
		d = maxRetryDelay
	}
	return d/2 + rand.N(d/2+1) //nolint:gosec // jitter needs no cryptographic randomness
}

type attemptResult struct {
	err   error
	retry bool
}

// attempt sends req (from request, unsigned) as exactly one HTTP request.
// Each attempt gets its own SDK client: sdk.Client rewrites its
// http.Client's timeout and transport on every call, so a shared client
// races under parallel pages.
func (c *apiClient) attempt(ctx context.Context, req *requests.CommonRequest) (resp *ListResponse, res attemptResult) {
	tr := &attemptTransport{ctx: ctx, base: c.transport}
	code := ""
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			// The SDK type-asserts fields of error bodies and panics on an
			// odd one ("Code": 42); treat it as an undecodable answer.
			code = "malformed"
			resp, res = nil, attemptResult{err: malformedFailure(fmt.Sprintf("undecodable answer (SDK panic: %v)", p))}
		}
		if tr.sent.Load() {
			c.metrics.requests.WithLabelValues(APIAction, code).Inc()
			c.metrics.duration.WithLabelValues(APIAction).Observe(time.Since(start).Seconds())
		}
	}()

	cfg := sdk.NewConfig()
	cfg.AutoRetry = false // retries happen in fetchPage only
	cfg.Transport = tr    // not an *http.Transport, so the SDK leaves it alone
	cfg.Scheme = strings.ToUpper(c.cfg.EndpointURL().Scheme)
	client, err := sdk.NewClientWithOptions(c.cfg.RegionID, cfg, c.creds)
	if err != nil {
		return nil, attemptResult{err: fmt.Errorf("creating the SDK client: %s", c.redact(err.Error()))}
	}
	dl, hasDeadline := ctx.Deadline()
	if hasDeadline {
		req.ReadTimeout = min(time.Until(dl), maxAttemptTimeout)
	} else {
		req.ReadTimeout = maxAttemptTimeout
	}
	req.ConnectTimeout = min(req.ReadTimeout, 5*time.Second)

	out, err := client.ProcessCommonRequest(req)
	if !tr.sent.Load() {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, attemptResult{err: canceledFailure()}
		}
		// Nothing went on the wire: the credential provider or signing failed.
		return nil, attemptResult{err: c.credentialsFailure(err)}
	}
	var se *sdkerrors.ServerError
	switch {
	case errors.As(err, &se):
		code = se.ErrorCode()
		if code == "" {
			code = "HTTP" + strconv.Itoa(se.HttpStatus())
		}
		code = clipCode(code)
		return nil, attemptResult{
			err:   c.apiCodeFailure(code, se.HttpStatus(), requestIDOf(se.RequestId(), se.RespHeaders), se.Message()),
			retry: retryable(code, se.HttpStatus()),
		}
	case tr.tooLarge.Load():
		code = "malformed"
		return nil, attemptResult{err: malformedFailure(fmt.Sprintf("answer larger than %d MiB; refusing to read it", maxBodyBytes>>20))}
	case err != nil:
		code = "transport"
		switch {
		case errors.Is(ctx.Err(), context.Canceled):
			// Closed on reload or shutdown: not the API's doing, and not
			// worth a retry.
			code = "canceled"
			return nil, attemptResult{err: canceledFailure()}
		case ctx.Err() != nil:
			return nil, attemptResult{err: c.deadlineFailure()}
		}
		f := transportFailure(err, apiTarget, c.cfg.EndpointURL().Host, c.redact)
		// The attempt's timeout may be what was left of refresh_timeout and
		// fire a hair before the context does.
		if f.Class == classTimeout && hasDeadline && time.Until(dl) < 100*time.Millisecond {
			return nil, attemptResult{err: c.deadlineFailure()}
		}
		return nil, attemptResult{err: f, retry: !f.Permanent}
	}

	resp, err = DecodeListResponse(out.GetHttpContentBytes())
	if err != nil {
		code = "malformed"
		return nil, attemptResult{err: malformedFailure(fmt.Sprintf("undecodable answer (HTTP %d): %s", out.GetHttpStatus(), err))}
	}
	if apiCode := strings.TrimSpace(resp.Code.V); apiCode != "" && !isSuccessCode(apiCode) {
		code = clipCode(apiCode)
		return nil, attemptResult{
			err:   c.apiCodeFailure(code, out.GetHttpStatus(), requestIDOf(resp.RequestID.V, out.GetHttpHeaders()), resp.Message.V),
			retry: retryable(code, out.GetHttpStatus()),
		}
	}
	code = "Success"
	return resp, attemptResult{}
}

// request builds one page's call, unsigned: the SDK adds the signature
// parameters when it sends it. Each parameter goes where Alibaba's
// generated SDKs put it for ListAppInstanceGroup: the list filters
// Status.N, UserGroupIds.N and ExcludedUserGroupIds.N in the form body,
// everything else in the query string. A gateway that reads a parameter
// only from its own place would ignore a filter sent in the other one,
// silently. RegionId is region_id: the SDK's signer would add that value
// anyway, and setting it here makes what is built (and logged) what is sent.
func (c *apiClient) request(bizRegion string, pageNumber int) *requests.CommonRequest {
	u := c.cfg.EndpointURL()
	req := requests.NewCommonRequest()
	req.Method = requests.POST
	req.Scheme = strings.ToUpper(u.Scheme)
	req.Domain = u.Hostname()
	req.Port = u.Port()
	req.Product = APIProduct
	req.Version = APIVersion
	req.ApiName = APIAction

	q, body := req.QueryParams, req.FormParams
	q["RegionId"] = c.cfg.RegionID
	q["ProductType"] = c.cfg.ProductType
	q["PageSize"] = strconv.Itoa(c.cfg.PageSize)
	q["PageNumber"] = strconv.Itoa(pageNumber)
	f := &c.cfg.Filters
	setIf := func(k, v string) {
		if v != "" {
			q[k] = v
		}
	}
	setIf("BizRegionId", bizRegion)
	setIf("AppInstanceGroupId", f.AppInstanceGroupID)
	setIf("AppInstanceGroupName", f.AppInstanceGroupName)
	setIf("AppCenterImageId", f.AppCenterImageID)
	setIf("NodeInstanceType", f.NodeInstanceType)
	setIf("OfficeSiteId", f.OfficeSiteID)
	for i, t := range f.Tags {
		q[fmt.Sprintf("Tag.%d.Key", i+1)] = t.Key
		q[fmt.Sprintf("Tag.%d.Value", i+1)] = t.Value
	}
	for i, s := range f.Status {
		body[fmt.Sprintf("Status.%d", i+1)] = s
	}
	for i, id := range f.UserGroupIDs {
		body[fmt.Sprintf("UserGroupIds.%d", i+1)] = id
	}
	for i, id := range f.ExcludedUserGroupIDs {
		body[fmt.Sprintf("ExcludedUserGroupIds.%d", i+1)] = id
	}
	return req
}

// signerParams are what the SDK adds when it signs a request.
var signerParams = []string{"AccessKeyId", "BearerToken", "Format", "SecurityToken", "Signature", "SignatureMethod",
	"SignatureNonce", "SignatureType", "SignatureVersion", "Timestamp", "Action", "Version"}

// requestParams is a query's parameters for the debug log: page 1's query
// string without PageNumber, and its form body, sorted and not
// percent-encoded so tag keys in any script stay readable.
func (c *apiClient) requestParams(bizRegion string) (query, body string) {
	req := c.request(bizRegion, 1)
	delete(req.QueryParams, "PageNumber")
	return readableParams(req.QueryParams), readableParams(req.FormParams)
}

// readableParams writes k=v pairs in key order, joined by "&", unescaped.
// The request is not signed yet, so it holds no credential; the signer's
// parameters are left out all the same, should that ever change.
func readableParams(params map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if slices.Contains(signerParams, k) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + params[k])
	}
	return b.String()
}

// identity names what a query's answers depend on: where it asks, who
// asks, and what it asks for (the request's parameters but the paging).
func (c *apiClient) identity(bizRegion string) string {
	req := c.request(bizRegion, 1)
	params := url.Values{}
	for k, v := range req.QueryParams {
		params.Set("q:"+k, v)
	}
	for k, v := range req.FormParams {
		params.Set("f:"+k, v)
	}
	params.Del("q:PageSize")
	params.Del("q:PageNumber")
	who := "default credential chain"
	if cr := c.cfg.Credentials; cr != nil {
		who = strings.Join([]string{cr.AccessKeyID, string(cr.AccessKeySecret), cr.AccessKeySecretFile,
			cr.SecurityTokenFile, cr.RoleARN, cr.RoleSessionName}, "\x00")
	}
	return strings.Join([]string{c.cfg.EndpointURL().String(), c.cfg.RegionID, who, params.Encode()}, "\x01")
}

// retryable: throttling and server-side trouble may pass; everything else
// (auth, permissions, parameters) will not, and retrying it only burns quota.
func retryable(code string, status int) bool {
	return strings.HasPrefix(code, "Throttling") || status == http.StatusTooManyRequests ||
		status >= 500 || code == "ServiceUnavailable" || code == "InternalError"
}

func isSuccessCode(code string) bool {
	switch strings.ToLower(code) {
	case "200", "success", "ok":
		return true
	}
	return false
}

func clipCode(code string) string {
	return strings.ToValidUTF8(clip(code, 64), "?")
}

func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// attemptTransport carries one attempt: it ties the request to the refresh
// deadline (SDK calls take no context), notes that a request was sent, and
// caps the body it reads.
type attemptTransport struct {
	ctx      context.Context
	base     http.RoundTripper
	sent     atomic.Bool
	tooLarge atomic.Bool
}

func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.ctx.Err(); err != nil {
		// Cut before it left: not a request the API saw, so not counted.
		return nil, err
	}
	t.sent.Store(true)
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(t.ctx, cancel)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		stop()
		cancel()
		return nil, err
	}
	resp.Body = &cappedBody{rc: resp.Body, left: maxBodyBytes, tooLarge: &t.tooLarge, done: func() { stop(); cancel() }}
	return resp, nil
}

var errBodyTooLarge = errors.New("response body too large")

type cappedBody struct {
	rc       io.ReadCloser
	left     int64
	tooLarge *atomic.Bool
	done     func()
	once     sync.Once
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		b.tooLarge.Store(true)
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error {
	err := b.rc.Close()
	b.once.Do(b.done)
	return err
}

// lockedCredentials serialises a credential provider: the SDK's default
// chain and role providers update their cached state without a lock.
type lockedCredentials struct {
	mu    sync.Mutex
	inner credentials.CredentialsProvider
}

func (l *lockedCredentials) GetCredentials() (*credentials.Credentials, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inner.GetCredentials()
}

func (l *lockedCredentials) GetProviderName() string { return l.inner.GetProviderName() }

// newTransport is shared by every attempt of an exporter: connections are
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
