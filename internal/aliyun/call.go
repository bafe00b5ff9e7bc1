package aliyun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
)

// request is one call before signing: the action, and each parameter where
// the API reads it, the query string or the form body. The SDK adds the
// signer's parameters to the query when it sends it.
type request struct {
	action string
	query  map[string]string
	body   map[string]string
	// decode reads an answer's body into the action's response model and
	// returns the model's envelope. Each answer is decoded once, by it: a
	// page of groups takes milliseconds to decode.
	decode func(body []byte) (model any, env *Envelope, err error)
	// before, if set, is waited for before every attempt (a request
	// budget); its error ends the call.
	before RateWait
}

// response is a successful answer: its raw body, what the action's decode
// made of it, and the envelope.
type response struct {
	body       []byte
	model      any
	envelope   *Envelope
	httpStatus int
}

// Envelope is what every answer carries besides the action's own fields;
// each action's response model embeds it.
type Envelope struct {
	RequestID Str `json:"RequestId"`
	// An error answer can arrive with HTTP 200 (gateways, throttling).
	Code    Str `json:"Code"`
	Message Str `json:"Message"`
}

// call sends req until it is answered, retrying what may pass: throttling,
// HTTP 429 and 5xx, and transport errors, with jittered exponential backoff
// inside ctx's deadline. Auth, parameter and malformed answers are final.
// logAttrs name the call in the retry log line.
func (c *Client) call(ctx context.Context, req request, logAttrs ...any) (*response, error) {
	for attempt := 0; ; attempt++ {
		if req.before != nil {
			if err := req.before(ctx); err != nil {
				if errors.Is(ctx.Err(), context.Canceled) {
					return nil, canceledFailure()
				}
				return nil, err
			}
		}
		if held, ok := c.acquireSlot(ctx); !ok {
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil, canceledFailure()
			}
			return nil, c.noSlotFailure(held)
		}
		resp, res := c.attempt(ctx, req)
		c.releaseSlot()
		if res.err == nil {
			if c.record != nil {
				c.record(req.action, resp.body)
			}
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
		if attempt+1 >= MaxAttempts {
			return nil, fmt.Errorf("%w (gave up after %d attempts)", res.err, MaxAttempts)
		}
		delay := backoff(c.retryBase, attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay {
			return nil, fmt.Errorf("%w (no time left in refresh_timeout to retry)", res.err)
		}
		c.logger.Debug("retrying", slices.Concat(logAttrs, []any{"attempt", attempt + 1, "delay", delay, "err", res.err})...)
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

// attempt sends req as exactly one HTTP request. Each attempt gets its own
// SDK client: sdk.Client rewrites its http.Client's timeout and transport
// on every call, so a shared client races under parallel calls.
func (c *Client) attempt(ctx context.Context, req request) (resp *response, res attemptResult) {
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
			c.metrics.requests.WithLabelValues(c.account, req.action, code).Inc()
			c.metrics.duration.WithLabelValues(c.account, req.action).Observe(time.Since(start).Seconds())
		}
	}()

	cfg := sdk.NewConfig()
	cfg.AutoRetry = false // retries happen in call only
	cfg.Transport = tr    // not an *http.Transport, so the SDK leaves it alone
	cfg.Scheme = strings.ToUpper(c.cfg.EndpointURL().Scheme)
	client, err := sdk.NewClientWithOptions(c.cfg.RegionID, cfg, c.creds)
	if err != nil {
		return nil, attemptResult{err: fmt.Errorf("creating the SDK client: %s", c.redact(err.Error()))}
	}
	out, err := client.ProcessCommonRequest(c.commonRequest(ctx, req))
	resp, code, res = c.outcome(ctx, req, tr, out, err)
	return resp, res
}

// acquireSlot takes one of the request slots the accounts share, waiting
// for one until ctx ends; without shared slots it always succeeds.
// An account first takes one of its own slots, fewer than the shared
// ones when other accounts share them, so that one account whose requests
// hang cannot hold every shared slot.
func (c *Client) acquireSlot(ctx context.Context) (held slotHolder, ok bool) {
	if c.slots == nil {
		return 0, true
	}
	select {
	case c.ownSlots <- struct{}{}:
	case <-ctx.Done():
		return heldByOwnQueries, false
	}
	select {
	case c.slots <- struct{}{}:
		return 0, true
	case <-ctx.Done():
		<-c.ownSlots
		return heldByOthers, false
	}
}

// slotHolder says whose requests held the slots a request waited for in
// vain: its own account's (its share is full) or other accounts'.
type slotHolder int

const (
	heldByOwnQueries slotHolder = iota + 1
	heldByOthers
)

func (c *Client) releaseSlot() {
	if c.slots != nil {
		<-c.slots
		<-c.ownSlots
	}
}

// commonRequest is req as the SDK takes it, built afresh for each attempt
// because signing writes into it.
func (c *Client) commonRequest(ctx context.Context, req request) *requests.CommonRequest {
	u := c.cfg.EndpointURL()
	r := requests.NewCommonRequest()
	r.Method = requests.POST
	r.Scheme = strings.ToUpper(u.Scheme)
	r.Domain = u.Hostname()
	r.Port = u.Port()
	r.Product = apiProduct
	r.Version = apiVersion
	r.ApiName = req.action
	maps.Copy(r.QueryParams, req.query)
	maps.Copy(r.FormParams, req.body)
	if dl, ok := ctx.Deadline(); ok {
		r.ReadTimeout = min(time.Until(dl), maxAttemptTimeout)
	} else {
		r.ReadTimeout = maxAttemptTimeout
	}
	r.ConnectTimeout = min(r.ReadTimeout, 5*time.Second)
	return r
}

// outcome reads what one attempt came to, and the code it is counted
// under: Success, the API error code, HTTP<status>, malformed, transport,
// canceled, or "" when nothing was sent.
func (c *Client) outcome(ctx context.Context, req request, tr *attemptTransport, out *responses.CommonResponse, err error) (*response, string, attemptResult) {
	if !tr.sent.Load() {
		switch {
		case errors.Is(ctx.Err(), context.Canceled):
			return nil, "", attemptResult{err: canceledFailure()}
		case ctx.Err() != nil:
			// refresh_timeout ran out before the request left: not a
			// credentials problem, and the endpoint was never asked.
			return nil, "", attemptResult{err: c.beforeSendFailure()}
		}
		// Nothing went on the wire: the credential provider or signing failed.
		return nil, "", attemptResult{err: c.credentialsFailure(err)}
	}
	var se *sdkerrors.ServerError
	switch {
	case errors.As(err, &se):
		code := serverErrorCode(se)
		return nil, code, attemptResult{
			err:   c.apiCodeFailure(req.action, code, se.HttpStatus(), requestIDOf(se.RequestId(), se.RespHeaders), se.Message()),
			retry: retryable(code, se.HttpStatus()),
		}
	case tr.tooLarge.Load():
		return nil, "malformed", attemptResult{err: malformedFailure(fmt.Sprintf("answer larger than %d MiB; refusing to read it", MaxBodyBytes>>20))}
	case err != nil:
		code, res := c.transportOutcome(ctx, err)
		return nil, code, res
	}
	return c.answer(req, tr, out)
}

// transportOutcome explains a request that got no answer.
func (c *Client) transportOutcome(ctx context.Context, err error) (string, attemptResult) {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		// Closed on reload or shutdown: not the API's doing, and not
		// worth a retry.
		return "canceled", attemptResult{err: canceledFailure()}
	case ctx.Err() != nil:
		return "transport", attemptResult{err: c.deadlineFailure()}
	}
	f := transportFailure(err, apiTarget, c.cfg.EndpointURL().Host, c.redact)
	// The attempt's timeout may be what was left of refresh_timeout and
	// fire a hair before the context does.
	if dl, ok := ctx.Deadline(); ok && f.Class == classTimeout && time.Until(dl) < 100*time.Millisecond {
		return "transport", attemptResult{err: c.deadlineFailure()}
	}
	return "transport", attemptResult{err: f, retry: !f.Permanent}
}

// answer decodes an answer the SDK took for a success: its body may still
// carry an error code.
func (c *Client) answer(req request, tr *attemptTransport, out *responses.CommonResponse) (*response, string, attemptResult) {
	model, env, err := req.decode(tr.body)
	if err != nil {
		return nil, "malformed", attemptResult{err: malformedFailure(fmt.Sprintf("undecodable answer (HTTP %d): %s", out.GetHttpStatus(), err))}
	}
	if apiCode := strings.TrimSpace(env.Code.V); apiCode != "" && !isSuccessCode(apiCode) {
		code := clipCode(apiCode)
		return nil, code, attemptResult{
			err:   c.apiCodeFailure(req.action, code, out.GetHttpStatus(), requestIDOf(env.RequestID.V, out.GetHttpHeaders()), env.Message.V),
			retry: retryable(code, out.GetHttpStatus()),
		}
	}
	return &response{body: tr.body, model: model, envelope: env, httpStatus: out.GetHttpStatus()}, "Success", attemptResult{}
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

// attemptTransport carries one attempt: it ties the request to ctx (SDK
// calls take no context), notes that a request was sent, and caps the body
// it reads.
type attemptTransport struct {
	ctx      context.Context
	base     http.RoundTripper
	sent     atomic.Bool
	tooLarge atomic.Bool
	body     []byte // of a success (HTTP 2xx), read by RoundTrip
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
	body := &cappedBody{rc: resp.Body, left: MaxBodyBytes, tooLarge: &t.tooLarge, done: func() { stop(); cancel() }}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		resp.Body = body // the SDK reads the error code from it
		return resp, nil
	}
	// A success is read here, into one buffer of its announced size, and
	// the SDK gets an empty body: it would read the body through
	// io.ReadAll and keep it as bytes and as a string, three to four
	// times a page's size allocated for nothing, since it does not parse
	// a CommonResponse's success.
	t.body, err = readBody(body, resp.ContentLength)
	body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = http.NoBody
	return resp, nil
}

// readBody reads all of body, announced as length bytes (-1: not
// announced, as in a chunked answer), into one buffer: of that length
// when announced, else grown as the bytes come. An announced length is
// trusted up to preallocLimit only, so that an answer cannot make the
// exporter allocate what it does not send. Nothing is pooled: a buffer
// kept between refreshes would stay in the heap that the garbage
// collector sizes its next goal from.
func readBody(body io.Reader, length int64) ([]byte, error) {
	var buf bytes.Buffer
	if length >= 0 {
		buf.Grow(int(min(length, preallocLimit)) + bytes.MinRead) // room to see the end without growing
	}
	_, err := buf.ReadFrom(body)
	return buf.Bytes(), err
}

// preallocLimit is well above a page of 100 groups (about 200 kB).
const preallocLimit = 8 << 20

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
