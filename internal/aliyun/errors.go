package aliyun

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
)

// Failure classes: what went wrong, in words an operator can act on. They
// are the Class of an *apiFailure and what ErrorClass returns.
const (
	classDNS           = "dns"            // the endpoint's host name does not resolve
	classConnect       = "connect"        // refused, no route, reset, proxy unreachable
	classTLS           = "tls"            // certificate not trusted, or the handshake failed
	classTimeout       = "timeout"        // no answer within the attempt or refresh_timeout
	classNetwork       = "network"        // any other transport failure
	classThrottled     = "throttled"      // Throttling.*, HTTP 429
	classServer        = "server"         // HTTP 5xx, ServiceUnavailable, InternalError
	classAccessKey     = "access_key"     // InvalidAccessKeyId.*: unknown or disabled key
	classSignature     = "signature"      // wrong secret or clock skew
	classSecurityToken = "security_token" // InvalidSecurityToken.*
	classPermission    = "permission"     // RAM policy does not allow the action
	classParameter     = "parameter"      // the API refused a parameter from the config
	classAssumeRole    = "assume_role"    // STS refused AssumeRole for role_arn
	classCredentials   = "credentials"    // no key to sign with (files, default chain)
	classMalformed     = "malformed"      // an answer that cannot be read
	classCanceled      = "canceled"       // the exporter was closed (reload, shutdown)
	classAPI           = "api"            // any other API error code
	classOther         = "other"          // not a failed call: e.g. pages that do not add up
)

// apiFailure is a failed call explained: one sentence that says what is
// wrong and what to do, the API's RequestId when there is one, then the raw
// API code and message or transport error (redacted, clipped, URL-free:
// the URL carries the AccessKeyId, the signature and any STS token).
type apiFailure struct {
	Class string
	// Permanent failures repeat at every refresh until someone changes the
	// config, the key or its RAM policy: worth one error, not one per refresh.
	Permanent bool
	Code      string // API error code, HTTP<status> without one; "" when no API answered
	RequestID string

	sentence string
	detail   string
	ctxErr   error // context.Canceled or DeadlineExceeded, for errors.Is
}

func (f *apiFailure) Error() string {
	var b strings.Builder
	b.WriteString(f.sentence)
	if f.RequestID != "" {
		b.WriteString(" (RequestId " + f.RequestID + ")")
	}
	if f.detail != "" {
		b.WriteString("; " + f.detail)
	}
	return b.String()
}

// Unwrap exposes only context errors: the transport error under a failure
// still names the URL.
func (f *apiFailure) Unwrap() error { return f.ctxErr }

// key identifies a failure for "log once per change": class and API code.
func (f *apiFailure) key() string { return f.Class + "/" + f.Code }

// ErrorClass tells how a call or a refresh failed: the failure class (""
// for nil) and whether it is permanent, i.e. will not pass without someone
// acting.
func ErrorClass(err error) (class string, permanent bool) {
	if err == nil {
		return "", false
	}
	var f *apiFailure
	switch {
	case errors.As(err, &f):
		return f.Class, f.Permanent
	case errors.Is(err, context.Canceled):
		return classCanceled, false
	case errors.Is(err, context.DeadlineExceeded):
		return classTimeout, false
	}
	return classOther, false
}

// FailureDetails are what the status page shows of a failure besides its
// message: the class, the API error code ("" when no API answered) and
// the API's RequestId ("" without one).
func FailureDetails(err error) (class, code, requestID string) {
	class, _ = ErrorClass(err)
	var f *apiFailure
	if errors.As(err, &f) {
		code, requestID = f.Code, f.RequestID
	}
	return class, code, requestID
}

// FailureKey is ErrorClass's class plus the API code, if any ("permission/
// Forbidden.RAM"): the same key at the next refresh is the same failure.
func FailureKey(err error) string {
	var f *apiFailure
	switch {
	case err == nil:
		return ""
	case errors.As(err, &f):
		return f.key()
	}
	class, _ := ErrorClass(err)
	return class + "/"
}

// apiCodeFailure explains an error answer to action.
func (c *Client) apiCodeFailure(action, code string, status int, requestID, message string) *apiFailure {
	class, permanent := codeClass(code, status)
	return &apiFailure{
		Class:     class,
		Permanent: permanent,
		Code:      code,
		RequestID: clipCode(c.redact(requestID)),
		sentence:  codeSentence(action, class, code, status),
		detail:    c.rawAPIError(code, status, message),
	}
}

func (c *Client) rawAPIError(code string, status int, message string) string {
	s := fmt.Sprintf("API error %s (HTTP %d)", code, status)
	if m := c.redact(stripURLs(message)); m != "" {
		s += ": " + clip(m, 300)
	}
	return s
}

func codeClass(code string, status int) (class string, permanent bool) {
	switch {
	case strings.HasPrefix(code, "Throttling") || status == 429:
		return classThrottled, false
	case code == "ServiceUnavailable" || code == "InternalError" || status >= 500:
		return classServer, false
	case strings.HasPrefix(code, "InvalidAccessKeyId") || code == "Forbidden.AccessKeyDisabled":
		return classAccessKey, true
	case code == "SignatureDoesNotMatch" || code == "IncompleteSignature" || strings.HasPrefix(code, "InvalidTimeStamp"):
		return classSignature, true
	case strings.HasPrefix(code, "InvalidSecurityToken"):
		return classSecurityToken, true
	case strings.HasPrefix(code, "Forbidden") || strings.HasPrefix(code, "NoPermission"):
		return classPermission, true
	case strings.HasPrefix(code, "InvalidParameter") || strings.HasPrefix(code, "MissingParameter") ||
		strings.HasPrefix(code, "InvalidRegionId"):
		return classParameter, true
	}
	return classAPI, false
}

// codeSentence says what an API error code means and what to do about it.
func codeSentence(action, class, code string, status int) string {
	switch class {
	case classThrottled:
		return "the API throttled " + action + "; it is retried with backoff, and if this persists raise cache_ttl or lower max_concurrent_pages"
	case classServer:
		return "the API failed on its side; it is retried with backoff"
	case classAccessKey:
		if strings.HasSuffix(code, ".Inactive") || code == "Forbidden.AccessKeyDisabled" {
			return "the access key is disabled: enable it in the RAM console, or configure an active key in credentials.access_key_id"
		}
		return "Alibaba Cloud does not know the access key ID: check credentials.access_key_id (or ALIBABA_CLOUD_ACCESS_KEY_ID) and that the key was not deleted"
	case classSignature:
		return "Alibaba Cloud rejected the request signature or its timestamp: check that the access key secret belongs to access_key_id, and that the system clock is right (NTP)"
	case classSecurityToken:
		return "Alibaba Cloud rejected the STS security token: it has expired or was not issued with access_key_id; renew security_token_file together with the key"
	case classPermission:
		return "the RAM user or role of the access key may not call " + action + ": attach a RAM policy that allows the action appstreaming:" + action
	case classParameter:
		return "the API refused a parameter of " + action + ": check product_type, biz_regions and filters"
	}
	return fmt.Sprintf("the API refused %s (HTTP %d)", action, status)
}

// target is the far end of a call: the API, or STS for role_arn.
type target struct {
	what    string // "the API endpoint"
	setting string // what in the config names it
}

var (
	apiTarget = target{what: "the API endpoint", setting: "endpoint"}
	stsTarget = target{what: "the STS endpoint for role_arn", setting: "region_id (it picks the STS endpoint)"}
)

// transportFailure explains a request that got no answer. host is where it
// went; err is from net/http, so it is read for its kind, and printed
// without its URL.
func transportFailure(err error, to target, host string, redact func(string) string) *apiFailure {
	f := &apiFailure{Class: classNetwork, detail: "cause: " + clip(redact(stripURLs(netCause(err))), 300)}
	var (
		dnsErr   *net.DNSError
		opErr    *net.OpError
		certErr  *tls.CertificateVerificationError
		authErr  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		recErr   tls.RecordHeaderError
		alertErr tls.AlertError
		netErr   net.Error
	)
	proxy := errors.As(err, &opErr) && opErr.Op == "proxyconnect"
	switch {
	case proxy:
		f.Class = classConnect
		f.sentence = fmt.Sprintf("cannot connect to the proxy (HTTPS_PROXY) on the way to %s %s: check HTTPS_PROXY and NO_PROXY, and that the proxy is up", to.what, host)
	case errors.As(err, &dnsErr):
		f.Class = classDNS
		f.sentence = fmt.Sprintf("cannot resolve the host name %s of %s: check %s, DNS, and the proxy settings (HTTPS_PROXY, NO_PROXY)", dnsErr.Name, to.what, to.setting)
	case errors.As(err, &certErr), errors.As(err, &authErr), errors.As(err, &hostErr), errors.As(err, &invalid):
		// A certificate that is not trusted now will not be at the next
		// attempt: usually a proxy that intercepts HTTPS.
		f.Class, f.Permanent = classTLS, true
		f.sentence = fmt.Sprintf("TLS with %s %s failed because its certificate is not trusted: check %s, and if a proxy or firewall intercepts HTTPS, add its CA to the system trust store (or SSL_CERT_FILE)", to.what, host, to.setting)
	case errors.As(err, &recErr), errors.As(err, &alertErr), strings.Contains(err.Error(), "tls: "),
		// net/http replaces the RecordHeaderError of a plain-HTTP answer.
		strings.Contains(err.Error(), "HTTP response to HTTPS client"):
		f.Class = classTLS
		f.sentence = fmt.Sprintf("the TLS handshake with %s %s failed: check %s (with https, the port must speak TLS), and any proxy or firewall that intercepts HTTPS", to.what, host, to.setting)
	case errors.As(err, &netErr) && netErr.Timeout():
		f.Class = classTimeout
		f.sentence = fmt.Sprintf("no answer from %s %s in time: raise refresh_timeout, or check the network path and proxy (HTTPS_PROXY) to it", to.what, host)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		f.Class = classConnect
		f.sentence = fmt.Sprintf("cannot connect to %s %s (%s): check %s, and that the network or a proxy (HTTPS_PROXY) lets the exporter reach it", to.what, host, dialReason(err), to.setting)
	default:
		f.sentence = fmt.Sprintf("the connection to %s %s failed: check %s, and the network or proxy (HTTPS_PROXY) on the way", to.what, host, to.setting)
	}
	return f
}

func dialReason(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to host"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	}
	return "connect failed"
}

// netCause is the transport error without the `Post "https://..."` that
// net/http puts in front.
func netCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// urlHost is the host of the URL in a net/http error, or fallback.
func urlHost(err error, fallback string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			return u.Host
		}
	}
	return fallback
}

// canceledFailure: the exporter was closed while a refresh ran (a config
// reload or shutdown); nothing went wrong with the API.
func canceledFailure() *apiFailure {
	return &apiFailure{
		Class:    classCanceled,
		sentence: "the refresh was canceled: the exporter is reloading its configuration or stopping",
		ctxErr:   context.Canceled,
	}
}

// noSlotFailure: refresh_timeout ran out before a request slot came free.
func (c *Client) noSlotFailure(held slotHolder) *apiFailure {
	f := &apiFailure{Class: classTimeout, ctxErr: context.DeadlineExceeded}
	if held == heldByOthers {
		f.sentence = fmt.Sprintf("refresh_timeout (%s) ran out waiting for a request slot: other accounts' requests held the %d slots of max_concurrent_requests; raise it",
			c.cfg.RefreshTimeout.D(), cap(c.slots))
		return f
	}
	f.sentence = fmt.Sprintf("refresh_timeout (%s) ran out waiting for a request slot: this account's other requests held all %d it may hold "+
		"(max_concurrent_requests, less one for each other account); they are slow or hanging, see their errors",
		c.cfg.RefreshTimeout.D(), cap(c.ownSlots))
	return f
}

// beforeSendFailure: refresh_timeout ran out before a request left, after
// its slot came free (late) or while credentials were fetched and the
// request signed.
func (c *Client) beforeSendFailure() *apiFailure {
	return &apiFailure{
		Class: classTimeout,
		sentence: fmt.Sprintf("refresh_timeout (%s) ran out before the request to %s could be sent: the request slots (max_concurrent_requests) "+
			"were held by slow requests until then, or fetching credentials took that long", c.cfg.RefreshTimeout.D(), c.cfg.EndpointURL().Host),
		ctxErr: context.DeadlineExceeded,
	}
}

// deadlineFailure: refresh_timeout ran out while a request was on its way.
func (c *Client) deadlineFailure() *apiFailure {
	return &apiFailure{
		Class: classTimeout,
		sentence: fmt.Sprintf("refresh_timeout (%s) ran out waiting for %s %s: raise refresh_timeout, or check the network path and proxy (HTTPS_PROXY) to it",
			c.cfg.RefreshTimeout.D(), apiTarget.what, c.cfg.EndpointURL().Host),
		ctxErr: context.DeadlineExceeded,
	}
}

func malformedFailure(msg string) *apiFailure {
	return &apiFailure{Class: classMalformed, sentence: msg}
}

// credentialsFailure explains why no request could be signed: the key could
// not be read, the default chain found nothing, or AssumeRole failed.
func (c *Client) credentialsFailure(err error) *apiFailure {
	if err == nil {
		err = errors.New("unknown error")
	}
	var are *assumeRoleError
	if errors.As(err, &are) {
		return c.assumeRoleFailure(are.err)
	}
	sentence := "could not read the access key to sign requests: check the credentials block (access_key_id, access_key_secret or access_key_secret_file, security_token_file)"
	if c.cfg.Credentials == nil {
		sentence = "the default credential chain found no usable access key: add a credentials block, or provide ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, RRSA (OIDC), a CLI profile or an ECS RAM role"
	}
	return &apiFailure{
		Class:     classCredentials,
		Permanent: true,
		sentence:  sentence,
		detail:    "cause: " + clip(c.redact(stripURLs(err.Error())), 300),
	}
}

func (c *Client) assumeRoleFailure(err error) *apiFailure {
	var (
		se *sdkerrors.ServerError
		ue *url.Error
	)
	switch {
	case errors.As(err, &se):
		code := serverErrorCode(se)
		f := &apiFailure{
			Class:     classAssumeRole,
			Permanent: true,
			Code:      code,
			RequestID: clipCode(c.redact(requestIDOf(se.RequestId(), se.RespHeaders))),
			sentence:  "STS refused AssumeRole for credentials.role_arn: check role_arn, the role's trust policy (it must trust the account or RAM user of the access key), and that the access key may call sts:AssumeRole",
			detail:    c.rawAPIError(code, se.HttpStatus(), se.Message()),
		}
		switch class, _ := codeClass(code, se.HttpStatus()); class {
		case classThrottled, classServer:
			f.Permanent = false
		case classAccessKey, classSignature, classSecurityToken:
			// The key that signs AssumeRole is at fault, not the role.
			f.Class = class
			f.sentence = "AssumeRole for role_arn: " + codeSentence("AssumeRole", class, code, se.HttpStatus())
		}
		return f
	case errors.As(err, &ue):
		return transportFailure(err, stsTarget, urlHost(err, "sts"), c.redact)
	}
	return &apiFailure{
		Class:    classAssumeRole,
		sentence: "STS answered AssumeRole for credentials.role_arn with something unreadable; it is tried again at the next refresh",
		detail:   "cause: " + clip(c.redact(stripURLs(err.Error())), 300),
	}
}

// serverErrorCode is the API error code of an error answer the SDK read,
// HTTP<status> when the answer has none.
func serverErrorCode(se *sdkerrors.ServerError) string {
	code := se.ErrorCode()
	if code == "" {
		code = "HTTP" + strconv.Itoa(se.HttpStatus())
	}
	return clipCode(code)
}

// requestIDOf is the RequestId of the body, else of the x-acs-request-id
// header: answers without a JSON body (HTTP 429, a gateway's 5xx) carry it
// there.
func requestIDOf(body string, headers map[string][]string) string {
	if body != "" {
		return body
	}
	for k, v := range headers {
		if strings.EqualFold(k, "x-acs-request-id") && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}
