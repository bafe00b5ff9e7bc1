package main

// Security and lifecycle of the real binary: secrets never leave the
// process, TLS and basic auth through --web.config.file, graceful stop.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// TestSecretsNeverLeak runs the exporter with a wrong secret and an STS
// token (so the API answers SignatureDoesNotMatch, echoing its
// string-to-sign, token included), at debug level and with DEBUG=sdk, and
// then with a role to assume that cannot be reached. Neither the secret
// nor the token may appear in anything the process prints or serves.
func TestSecretsNeverLeak(t *testing.T) {
	const (
		secret      = "SECRET-wrong-value-4f9a2c"
		token       = "CAIS-sts-token+value/4f9a2c=="
		realSecret  = "SECRET-real-value-8d1e7b"
		inlineValue = "SECRET-inline-value-77aa31"
	)
	sim := simulator.New(simulator.Key{ID: "STS.leaktest", Secret: realSecret, SecurityToken: token})
	if err := sim.Load(testkit.MustRead(t, "internal/exporter/testdata/reference.json")); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sim)
	defer api.Close()
	dir := t.TempDir()
	writeFile(t, dir, "secret", secret+"\n")
	writeFile(t, dir, "token", token+"\n")
	base := fmt.Sprintf("endpoint: %s\ncredentials:\n  access_key_id: STS.leaktest\n  access_key_secret_file: secret\n  security_token_file: token\n", api.URL)
	leaks := func(where, text string) {
		t.Helper()
		for _, s := range []string{secret, token, url.QueryEscape(token), realSecret, inlineValue} {
			if strings.Contains(text, s) {
				t.Errorf("%s contains %q:\n%s", where, s, text)
			}
		}
	}

	for name, cfg := range map[string]string{
		"wrong secret with STS token": base,
		"role that cannot be assumed": base + "  role_arn: acs:ram::1234567890123456:role/appstream-reader\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, dir, "config.yml", cfg)
			addr := freeAddr(t)
			cmd := exec.Command(binary, "--config.file", path, "--web.listen-address", addr, "--log.level=debug")
			cmd.Env = append(os.Environ(), "DEBUG=sdk")
			out := &testkit.SyncBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			e := &runningExporter{t: t, cmd: cmd, base: "http://" + addr, stderr: out, exited: make(chan struct{})}
			go func() { e.exitErr = cmd.Wait(); close(e.exited) }()
			e.waitFor("the first refresh", func() bool { return e.status("/-/ready") == 200 })
			metrics := e.metrics()
			if !strings.Contains(metrics, `aliyun_appstream_up{biz_region=""} 0`) {
				t.Errorf("up is not 0 with bad credentials")
			}
			_, landing := e.get("/")
			cmd.Process.Signal(syscall.SIGTERM)
			<-e.exited
			logs := out.String()
			if !strings.Contains(logs, "DEBUG=sdk was ignored") || !strings.Contains(logs, "refresh failed") {
				t.Errorf("the log does not show the ignored DEBUG=sdk and the failed refresh:\n%s", logs)
			}
			leaks("the output (stdout and stderr)", logs)
			leaks("/metrics", metrics)
			leaks("the landing page", landing)
			// ...which says why up is 0: the status table shows the failure.
			if !strings.Contains(landing, `<span class="failed">failed</span>`) || !strings.Contains(landing, "class <code>") {
				t.Errorf("the landing page's status table does not show the failed refresh")
			}
		})
	}

	t.Run("--config.check", func(t *testing.T) {
		for _, cfg := range []string{
			base,
			"credentials:\n  access_key_id: LTAI5t\n  access_key_secret: " + inlineValue + "\n",
			"credentials:\n  access_key_id: LTAI5t\n  access_key_secret: " + inlineValue + "\n  role_arn: nope\n",
			"credentials:\n  access_key_id: LTAI5t\n  access_key_secret: [" + inlineValue + "]\n",
		} {
			r := runBinary(t, "--config.check", "--config.file", writeFile(t, dir, "check.yml", cfg))
			leaks("--config.check", r.stdout+r.stderr)
		}
	})
}

// TestWebConfigTLSAndBasicAuth: --web.config.file turns on TLS and basic
// auth for every endpoint.
func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM, pool := selfSignedCert(t)
	writeFile(t, dir, "cert.pem", string(certPEM))
	writeFile(t, dir, "key.pem", string(keyPEM))
	hash, err := bcrypt.GenerateFromPassword([]byte("right-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := writeFile(t, dir, "web.yml", fmt.Sprintf("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  prometheus: %s\n", hash))

	addr := freeAddr(t)
	cmd := exec.Command(binary, "--demo", "--web.listen-address", addr, "--web.config.file", webConfig)
	logs := &testkit.SyncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	get := func(scheme, user, password, path string) int {
		req, _ := http.NewRequest(http.MethodGet, scheme+"://"+addr+path, nil)
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	deadline := time.Now().Add(30 * time.Second)
	for get("https", "prometheus", "right-password", "/-/ready") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("not ready over TLS:\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range []struct {
		name, scheme, user, password, path string
		want                               int
	}{
		{"right password", "https", "prometheus", "right-password", "/metrics", http.StatusOK},
		{"wrong password", "https", "prometheus", "wrong-password", "/metrics", http.StatusUnauthorized},
		{"no password", "https", "", "", "/metrics", http.StatusUnauthorized},
		{"no password, reload", "https", "", "", "/-/reload", http.StatusUnauthorized},
		{"plain HTTP", "http", "prometheus", "right-password", "/metrics", http.StatusBadRequest},
	} {
		if got := get(c.scheme, c.user, c.password, c.path); got != c.want {
			t.Errorf("%s: HTTP %d, want %d", c.name, got, c.want)
		}
	}
}

// TestGracefulShutdown: on SIGTERM or SIGINT a scrape in flight (here one
// waiting on a hanging API) still gets its answer, then the process exits 0.
func TestGracefulShutdown(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			sim := simulator.New(simulator.Key{ID: "LTAIstop", Secret: "stop-secret-value"})
			api := httptest.NewServer(sim)
			defer api.Close()
			defer sim.SetSticky(nil)
			dir := t.TempDir()
			cfg := writeFile(t, dir, "config.yml", fmt.Sprintf("endpoint: %s\ncredentials:\n  access_key_id: LTAIstop\n  access_key_secret: stop-secret-value\ncache_ttl: 1s\nrefresh_timeout: 3s\n", api.URL))
			e := startExporter(t, "--config.file", cfg)
			sim.SetSticky(&simulator.Hang)
			time.Sleep(1100 * time.Millisecond) // past cache_ttl: the next scrape refreshes into the hang
			type answer struct {
				code int
				body string
			}
			answered := make(chan answer, 1)
			go func() {
				code, body := e.get("/metrics")
				answered <- answer{code, body}
			}()
			e.waitFor("the scrape to reach the hanging API", func() bool { return len(sim.Log()) > 0 && sim.Log()[len(sim.Log())-1].Code == "hang" })
			if err := e.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			a := <-answered
			if a.code != http.StatusOK || !strings.Contains(a.body, `aliyun_appstream_up{biz_region=""} 0`) {
				t.Errorf("the scrape in flight got HTTP %d, want 200 with up 0", a.code)
			}
			select {
			case <-e.exited:
				if e.exitErr != nil {
					t.Errorf("exit: %v; stderr:\n%s", e.exitErr, e.stderr)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no exit after the scrape finished")
			}
		})
	}
}

func selfSignedCert(t *testing.T) (certPEM, keyPEM []byte, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), pool
}
