package aliyun

// Every failure class, produced for real: the SDK against the simulator,
// closed ports, an unresolvable name, servers with untrusted certificates,
// and an STS endpoint for role_arn. Each error must say what to do, carry
// the RequestId when the API sent one, and never show the request's URL,
// AccessKeyId or signature.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/simulator"

	"github.com/prometheus/client_golang/prometheus"
)

const testRoleARN = "acs:ram::1234567890123456:role/appstream-reader"

var requestIDRE = regexp.MustCompile(`\(RequestId [0-9A-Za-z-]{8,}\)`)

// wantFailure is what one class of failure must look like.
type wantFailure struct {
	class     string
	permanent bool
	requestID bool     // the API answered, so its RequestId is quoted
	says      []string // fragments of the sentence and of the raw detail
}

// fetchErr runs one refresh's fetch and returns its error.
func (e *env) fetchErr() error {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.RefreshTimeout.D())
	defer cancel()
	_, err := listGroups(ctx, e.client, "")
	if err == nil {
		e.t.Fatal("the fetch succeeded; want a failure")
	}
	return err
}

func checkFailure(t *testing.T, e *env, err error, want wantFailure) {
	t.Helper()
	msg := err.Error()
	t.Logf("error: %s", msg)
	class, permanent := ErrorClass(err)
	if class != want.class || permanent != want.permanent {
		t.Errorf("errorClass = %q, permanent %v; want %q, %v", class, permanent, want.class, want.permanent)
	}
	var f *apiFailure
	if !errors.As(err, &f) {
		t.Errorf("%T is not an *apiFailure", err)
	}
	for _, s := range want.says {
		if !strings.Contains(msg, s) {
			t.Errorf("the error does not say %q", s)
		}
	}
	if got := requestIDRE.MatchString(msg); got != want.requestID {
		t.Errorf("RequestId quoted: %v, want %v", got, want.requestID)
	}
	noURLOrKey(t, "the error", msg)
	noURLOrKey(t, "the log", e.logs.String())
}

// noURLOrKey: nothing of the signed request may show.
func noURLOrKey(t *testing.T, where, text string) {
	t.Helper()
	for _, s := range []string{"http://", "https://", "Post ", "AccessKeyId=", "AccessKeyId%3D", testkit.Key.ID, testkit.Key.Secret,
		"Signature=", "Signature%3D", "SignatureNonce", "POST&", "Action=", "RoleArn", "RoleSessionName"} {
		if strings.Contains(text, s) {
			t.Errorf("%s shows %q:\n%s", where, s, text)
		}
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestFailureDNS(t *testing.T) {
	e := failingEnv(t, "http://nonexistent.invalid", nil)
	start := time.Now()
	err := e.fetchErr()
	checkFailure(t, e, err, wantFailure{class: classDNS, says: []string{
		"cannot resolve the host name nonexistent.invalid of the API endpoint: check endpoint, DNS, and the proxy settings (HTTPS_PROXY, NO_PROXY)",
		"cause: dial tcp: lookup nonexistent.invalid",
	}})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the lookup took %v: not failing fast", took)
	}
}

func TestFailureConnectionRefused(t *testing.T) {
	addr := closedAddr(t)
	e := failingEnv(t, "http://"+addr, nil)
	err := e.fetchErr()
	checkFailure(t, e, err, wantFailure{class: classConnect, says: []string{
		"cannot connect to the API endpoint " + addr + " (connection refused): check endpoint, and that the network or a proxy (HTTPS_PROXY) lets the exporter reach it",
		"connect: connection refused",
		fmt.Sprintf("gave up after %d attempts", MaxAttempts),
	}})
}

func TestFailureTLS(t *testing.T) {
	t.Run("untrusted certificate", func(t *testing.T) {
		sim := simulator.New(testkit.Key)
		api := httptest.NewTLSServer(sim)
		t.Cleanup(api.Close)
		host := api.Listener.Addr().String()
		e := failingEnv(t, api.URL, nil)
		err := e.fetchErr()
		checkFailure(t, e, err, wantFailure{class: classTLS, permanent: true, says: []string{
			"TLS with the API endpoint " + host + " failed because its certificate is not trusted: check endpoint, and if a proxy or firewall intercepts HTTPS, add its CA to the system trust store (or SSL_CERT_FILE)",
			"x509: certificate signed by unknown authority",
		}})
		// A certificate is not trusted the next second either: no retry.
		if v := testkit.Value(t, testkit.Gather(t, e.reg), "aliyun_appstream_api_requests_total", "code", "transport"); v != 1 {
			t.Errorf("%v attempts, want 1", v)
		}
	})
	t.Run("https to a plain HTTP port", func(t *testing.T) {
		sim := simulator.New(testkit.Key)
		api := httptest.NewServer(sim)
		t.Cleanup(api.Close)
		host := api.Listener.Addr().String()
		e := failingEnv(t, "https://"+host, nil)
		err := e.fetchErr()
		checkFailure(t, e, err, wantFailure{class: classTLS, says: []string{
			"the TLS handshake with the API endpoint " + host + " failed: check endpoint (with https, the port must speak TLS), and any proxy or firewall that intercepts HTTPS",
			"server gave HTTP response to HTTPS client",
		}})
	})
}

func TestFailureTimeout(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.RefreshTimeout = config.Duration(time.Second) })
	e.sim.SetSticky(&simulator.Hang)
	t.Cleanup(func() { e.sim.SetSticky(nil) })
	err := e.fetchErr()
	checkFailure(t, e, err, wantFailure{class: classTimeout, says: []string{
		"the API endpoint " + e.cfg.EndpointURL().Host,
		"raise refresh_timeout, or check the network path and proxy (HTTPS_PROXY) to it",
	}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the error does not wrap context.DeadlineExceeded")
	}
}

func TestFailureThrottled(t *testing.T) {
	for _, f := range []simulator.Fault{simulator.ThrottlingUser, simulator.TooManyRequests} {
		t.Run(fmt.Sprint(f.Code, f.Status), func(t *testing.T) {
			e := newEnv(t, nil)
			e.sim.SetSticky(&f)
			raw := "API error Throttling.User (HTTP 400): Request was denied due to user flow control."
			if f.Code == "" {
				// No JSON body: the RequestId comes from x-acs-request-id.
				raw = "API error HTTP429 (HTTP 429): Too Many Requests"
			}
			checkFailure(t, e, e.fetchErr(), wantFailure{class: classThrottled, requestID: true, says: []string{
				"the API throttled ListAppInstanceGroup; it is retried with backoff, and if this persists raise cache_ttl or lower max_concurrent_pages",
				raw,
				fmt.Sprintf("gave up after %d attempts", MaxAttempts),
			}})
		})
	}
}

func TestFailureAccessKey(t *testing.T) {
	t.Run("unknown", func(t *testing.T) {
		e := newEnv(t, func(c *config.Config) { c.Credentials.AccessKeyID = "LTAIunknown" })
		checkFailure(t, e, e.fetchErr(), wantFailure{class: classAccessKey, permanent: true, requestID: true, says: []string{
			"Alibaba Cloud does not know the access key ID: check credentials.access_key_id (or ALIBABA_CLOUD_ACCESS_KEY_ID) and that the key was not deleted",
			"API error InvalidAccessKeyId.NotFound (HTTP 404): Specified access key is not found.",
		}})
	})
	t.Run("disabled", func(t *testing.T) {
		e := newEnv(t, nil)
		e.sim.SetSticky(&simulator.AccessKeyInactive)
		checkFailure(t, e, e.fetchErr(), wantFailure{class: classAccessKey, permanent: true, requestID: true, says: []string{
			"the access key is disabled: enable it in the RAM console, or configure an active key in credentials.access_key_id",
			"API error InvalidAccessKeyId.Inactive (HTTP 400)",
		}})
	})
}

func TestFailureSignature(t *testing.T) {
	sentence := "Alibaba Cloud rejected the request signature or its timestamp: check that the access key secret belongs to access_key_id, and that the system clock is right (NTP)"
	t.Run("wrong secret", func(t *testing.T) {
		e := newEnv(t, func(c *config.Config) {
			c.Credentials.AccessKeySecret = promconfig.Secret("wrong-secret-ALSO-MUST-NOT-LEAK")
		})
		err := e.fetchErr()
		checkFailure(t, e, err, wantFailure{class: classSignature, permanent: true, requestID: true, says: []string{
			sentence, "API error SignatureDoesNotMatch (HTTP 400): Specified signature is not matched with our calculation. server string to sign <redacted>",
		}})
		if n := e.sim.Requests(); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
	t.Run("clock skew", func(t *testing.T) {
		sim := simulator.New(testkit.Key)
		sim.Now = func() time.Time { return time.Now().Add(time.Hour) }
		e := newEnvWith(t, sim, nil)
		checkFailure(t, e, e.fetchErr(), wantFailure{class: classSignature, permanent: true, requestID: true, says: []string{
			sentence, "API error InvalidTimeStamp.Expired (HTTP 400): Specified time stamp or date value is expired.",
		}})
	})
}

func TestFailurePermission(t *testing.T) {
	for _, f := range []simulator.Fault{simulator.ForbiddenRAM, simulator.NoPermission} {
		t.Run(f.Code, func(t *testing.T) {
			e := newEnv(t, nil)
			e.sim.SetSticky(&f)
			checkFailure(t, e, e.fetchErr(), wantFailure{class: classPermission, permanent: true, requestID: true, says: []string{
				"the RAM user or role of the access key may not call ListAppInstanceGroup: attach a RAM policy that allows the action appstreaming:ListAppInstanceGroup",
				"API error " + f.Code + " (HTTP 403): " + f.Message,
			}})
			if n := e.sim.Requests(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

// withSTS points AssumeRole at a local TLS server answering with h, and
// makes the SDK's STS client trust that server: the SDK builds its client
// from http.DefaultTransport and offers no other way in.
func withSTS(t *testing.T, h http.HandlerFunc) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	dt := http.DefaultTransport.(*http.Transport)
	old := dt.TLSClientConfig
	dt.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	t.Cleanup(func() { dt.TLSClientConfig = old })
	setSTSEndpoint(t, srv.Listener.Addr().String())
}

func setSTSEndpoint(t *testing.T, host string) {
	t.Helper()
	old := stsEndpoint
	stsEndpoint = host
	t.Cleanup(func() { stsEndpoint = old })
}

// stsAnswer answers AssumeRole requests with status and body.
func stsAnswer(t *testing.T, status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Action") != "AssumeRole" || r.URL.Query().Get("AccessKeyId") != testkit.Key.ID {
			t.Errorf("STS got %s %s", r.Method, r.URL.Query().Get("Action"))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func withRole(c *config.Config) { c.Credentials.RoleARN = testRoleARN }

func TestFailureAssumeRole(t *testing.T) {
	t.Run("STS refuses", func(t *testing.T) {
		withSTS(t, stsAnswer(t, 403, `{"RequestId":"4C3E6C9B-7A2F-4E43-9D0B-1B2C3D4E5F60","HostId":"sts.aliyuncs.com","Code":"NoPermission",`+
			`"Message":"You are not authorized to do this action. You should be authorized by RAM.","Recommend":"https://api.aliyun.com/troubleshoot?q=NoPermission&product=Sts"}`))
		e := newEnv(t, withRole)
		checkFailure(t, e, e.fetchErr(), wantFailure{class: classAssumeRole, permanent: true, requestID: true, says: []string{
			"STS refused AssumeRole for credentials.role_arn: check role_arn, the role's trust policy (it must trust the account or RAM user of the access key), and that the access key may call sts:AssumeRole",
			"(RequestId 4C3E6C9B-7A2F-4E43-9D0B-1B2C3D4E5F60)",
			"API error NoPermission (HTTP 403): You are not authorized to do this action.",
		}})
		if n := e.sim.Requests(); n != 0 {
			t.Errorf("%d API requests without credentials", n)
		}
	})
	t.Run("STS rejects the signature", func(t *testing.T) {
		// STS echoes its string to sign: every parameter, the AccessKeyId
		// and the role included.
		withSTS(t, stsAnswer(t, 400, `{"RequestId":"5D4E3F2A-0000-4E43-9D0B-1B2C3D4E5F60","Code":"SignatureDoesNotMatch",`+
			`"Message":"Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3D`+testkit.Key.ID+`%26Action%3DAssumeRole%26RoleArn%3Dacs%253Aram"}`))
		e := newEnv(t, withRole)
		checkFailure(t, e, e.fetchErr(), wantFailure{class: classSignature, permanent: true, requestID: true, says: []string{
			"AssumeRole for role_arn: Alibaba Cloud rejected the request signature or its timestamp: check that the access key secret belongs to access_key_id, and that the system clock is right (NTP)",
			"API error SignatureDoesNotMatch (HTTP 400)",
		}})
	})
	t.Run("STS unreachable", func(t *testing.T) {
		addr := closedAddr(t)
		setSTSEndpoint(t, addr)
		e := newEnv(t, withRole)
		checkFailure(t, e, e.fetchErr(), wantFailure{class: classConnect, says: []string{
			"cannot connect to the STS endpoint for role_arn " + addr + " (connection refused): check region_id (it picks the STS endpoint), and that the network or a proxy (HTTPS_PROXY) lets the exporter reach it",
			"connect: connection refused",
		}})
	})
	t.Run("the key that signs AssumeRole is unreadable", func(t *testing.T) {
		setSTSEndpoint(t, closedAddr(t))
		secretFile := t.TempDir() + "/secret"
		testkit.WriteFile(t, secretFile, testkit.Key.Secret)
		e := newEnv(t, func(c *config.Config) {
			withRole(c)
			c.Credentials.AccessKeySecret = ""
			c.Credentials.AccessKeySecretFile = secretFile
		})
		if err := os.Remove(secretFile); err != nil {
			t.Fatal(err)
		}
		checkFailure(t, e, e.fetchErr(), wantFailure{class: classCredentials, permanent: true, says: []string{
			"could not read the access key to sign requests: check the credentials block (access_key_id, access_key_secret or access_key_secret_file, security_token_file)",
		}})
	})
	t.Run("STS grants the role", func(t *testing.T) {
		assumed := simulator.Key{ID: "STS.assumed", Secret: "assumed-secret-5e8c1a", SecurityToken: "assumed-token-5e8c1a"}
		answer, _ := json.Marshal(map[string]any{
			"RequestId": "6E5F4A3B-0000-4E43-9D0B-1B2C3D4E5F60",
			"Credentials": map[string]string{
				"AccessKeyId": assumed.ID, "AccessKeySecret": assumed.Secret, "SecurityToken": assumed.SecurityToken,
				"Expiration": time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05Z"),
			},
		})
		withSTS(t, stsAnswer(t, 200, string(answer)))
		sim := simulator.New(assumed)
		if err := sim.SetData(testkit.Generated(4, "cn-shanghai")); err != nil {
			t.Fatal(err)
		}
		e := newEnvWith(t, sim, withRole)
		if groups, err := e.fetch(""); err != nil || len(groups) != 4 {
			t.Errorf("%d groups, %v with the assumed role, want 4; log:\n%s", len(groups), err, e.logs)
		}
	})
}

func TestFailureDefaultChainFindsNothing(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "")
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA", "")
	t.Setenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "")
	t.Setenv("ALIBABA_CLOUD_CREDENTIALS_URI", "")
	t.Setenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
	t.Setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("HOME", t.TempDir())
	e := newEnv(t, func(c *config.Config) { c.Credentials = nil })
	checkFailure(t, e, e.fetchErr(), wantFailure{class: classCredentials, permanent: true, says: []string{
		"the default credential chain found no usable access key: add a credentials block, or provide ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
	}})
}

// TestCanceledRefresh: closing the exporter (reload, shutdown) cuts the
// request in flight; that is counted as canceled, not as a transport
// failure, and not retried.
func TestCanceledRefresh(t *testing.T) {
	t.Run("context canceled", func(t *testing.T) {
		e := newEnv(t, nil)
		e.sim.SetSticky(&simulator.Hang)
		t.Cleanup(func() { e.sim.SetSticky(nil) })
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := listGroups(ctx, e.client, "")
			done <- err
		}()
		testkit.WaitFor(t, "the request to reach the API", func() bool { return e.sim.Requests() == 1 })
		cancel()
		err := <-done
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%v does not wrap context.Canceled", err)
		}
		checkFailure(t, e, err, wantFailure{class: classCanceled, says: []string{
			"the refresh was canceled: the exporter is reloading its configuration or stopping",
		}})
		mfs := testkit.Gather(t, e.reg)
		if v := testkit.Value(t, mfs, "aliyun_appstream_api_requests_total", "code", "canceled"); v != 1 {
			t.Errorf("api_requests_total{code=canceled} = %v, want 1", v)
		}
		if _, n := testkit.Find(mfs, "aliyun_appstream_api_requests_total", "code", "transport"); n != 0 {
			t.Errorf("a canceled request is counted as transport")
		}
		if n := e.sim.Requests(); n != 1 {
			t.Errorf("%d requests, want 1: a canceled request is not retried", n)
		}
	})
}

func TestErrorClassOfOtherErrors(t *testing.T) {
	for _, c := range []struct {
		err       error
		class     string
		permanent bool
		key       string
	}{
		{nil, "", false, ""},
		{fmt.Errorf("page 2: %w", context.Canceled), classCanceled, false, "canceled/"},
		{context.DeadlineExceeded, classTimeout, false, "timeout/"},
		{errors.New("the pages listed 20 of TotalCount 30 groups"), classOther, false, "other/"},
		{fmt.Errorf("%w (gave up after 5 attempts)", &apiFailure{Class: classPermission, Permanent: true, Code: "Forbidden.RAM"}),
			classPermission, true, "permission/Forbidden.RAM"},
	} {
		class, permanent := ErrorClass(c.err)
		if class != c.class || permanent != c.permanent || FailureKey(c.err) != c.key {
			t.Errorf("%v: class %q, permanent %v, key %q; want %q, %v, %q", c.err, class, permanent, FailureKey(c.err), c.class, c.permanent, c.key)
		}
	}
}

// TestCanceledBeforeSendingIsNotCounted: an attempt the exporter cut before
// it left is no request the API saw; api_requests_total counts none.
func TestCanceledBeforeSendingIsNotCounted(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := listGroups(ctx, e.client, "")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%v does not wrap context.Canceled", err)
	}
	if _, n := testkit.Find(testkit.Gather(t, e.reg), "aliyun_appstream_api_requests_total", "code", "canceled"); n != 0 || e.sim.Requests() != 0 {
		t.Errorf("an attempt canceled before sending was counted (%d series) or sent (%d requests)", n, e.sim.Requests())
	}
}

// TestNoSlotSaysWhoseRequestsHeldIt: a request that gets no request slot
// before its deadline says whether its own account's requests held its
// share or other accounts' held the shared slots, and asks nothing of the
// endpoint.
func TestNoSlotSaysWhoseRequestsHeldIt(t *testing.T) {
	for _, tc := range []struct {
		name string
		fill func(c *Client)
		want string
	}{
		{"its share held", func(c *Client) {
			for range cap(c.ownSlots) {
				c.ownSlots <- struct{}{}
			}
		}, "this account's other requests held all 2 it may hold"},
		{"the shared slots held", func(c *Client) {
			for range cap(c.slots) {
				c.slots <- struct{}{}
			}
		}, "other accounts' requests held the 3 slots of max_concurrent_requests"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			logger, _ := testkit.Logger(t)
			client, err := NewClient(e.cfg, Options{Logger: logger, Metrics: NewAPIMetrics(prometheus.NewRegistry()), Slots: make(chan struct{}, 3), MaxSlots: 2})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(client.Close)
			tc.fill(client)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_, err = listGroups(ctx, client, "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
			if class, _ := ErrorClass(err); class != classTimeout {
				t.Errorf("class %q, want %q", class, classTimeout)
			}
			if n := e.sim.Requests(); n != 0 {
				t.Errorf("%d requests reached the endpoint, want 0", n)
			}
		})
	}
}
