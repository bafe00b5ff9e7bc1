package main

// Startup, demo and logging behaviour a new user and an attacker meet first.

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// TestMissingDefaultConfigSaysWhatToDo: without --config.file and without
// the default file, the one error line says to copy the example or use
// --demo; an explicit missing file stays a plain error.
func TestMissingDefaultConfigSaysWhatToDo(t *testing.T) {
	cmd := exec.Command(binary, "--web.listen-address", freeAddr(t))
	cmd.Dir = t.TempDir()
	var stderr testkit.SyncBuffer
	cmd.Stderr = &stderr
	code := 0
	var ee *exec.ExitError
	if err := cmd.Run(); errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	assertOneLineError(t, result{code: code, stderr: stderr.String()}, "copy config.example.yml to appstream_exporter.yml")
	if !strings.Contains(stderr.String(), "--demo") {
		t.Errorf("the error does not offer --demo:\n%s", stderr.String())
	}
}

// TestDemoConfigCheck: --demo --config.check says it is the demo and shows
// no placeholder endpoint.
func TestDemoConfigCheck(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(binary, "--demo", "--config.check")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "OK: demo mode") || strings.Contains(string(out), "127.0.0.1:1") {
		t.Errorf("--demo --config.check: %v\n%s", err, out)
	}
}

// TestVsockListenAddress: every address form --help offers goes to
// exporter-toolkit's listener; vsock is not parsed as a TCP address. Where
// the kernel has no vsock, the error must come from vsock.
func TestVsockListenAddress(t *testing.T) {
	cmd := exec.Command(binary, "--demo", "--web.listen-address", "vsock://:19100")
	cmd.Dir = t.TempDir()
	var stderr testkit.SyncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(30 * time.Second)
	for {
		s := stderr.String()
		if strings.Contains(s, "listen tcp") {
			t.Fatalf("vsock address handled as TCP:\n%s", s)
		}
		if strings.Contains(s, `msg="configuration loaded"`) {
			if !strings.Contains(s, "address=vm(") {
				t.Errorf("listening, but not on vsock:\n%s", s)
			}
			break
		}
		select {
		case err := <-done:
			if !strings.Contains(s, "vsock") {
				t.Errorf("exited (%v) with an error that is not vsock's:\n%s", err, s)
			}
			return
		case <-deadline:
			t.Fatalf("neither listening nor failed after 30 s:\n%s", s)
		case <-time.After(50 * time.Millisecond):
		}
	}
	cmd.Process.Kill()
	<-done
}

// TestServerLogsAreStructured: net/http's own lines (a TLS handshake with
// garbage) come through the slog logger, JSON with --log.format=json.
func TestServerLogsAreStructured(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM, pool := selfSignedCert(t)
	writeFile(t, dir, "cert.pem", string(certPEM))
	writeFile(t, dir, "key.pem", string(keyPEM))
	webConfig := writeFile(t, dir, "web.yml", "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n")
	addr := freeAddr(t)
	cmd := exec.Command(binary, "--demo", "--log.format=json", "--web.listen-address", addr, "--web.config.file", webConfig)
	cmd.Dir = dir
	var stderr testkit.SyncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no TLS listener:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for range 3 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte("\x16\x03\x01\x00\x05garbage\r\n\r\n"))
		conn.Close()
	}
	for !strings.Contains(stderr.String(), "TLS handshake error") {
		if time.Now().After(deadline) {
			t.Fatalf("no TLS handshake error logged:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("not a JSON log line: %s", line)
		}
	}
}

// TestPortInUseBeforeFirstRefresh: a busy port stops the exporter before
// it spends an API call.
func TestPortInUseBeforeFirstRefresh(t *testing.T) {
	sim := simulator.New(simulator.Key{ID: "LTAIport", Secret: "port-test-secret-value"})
	api := httptest.NewServer(sim)
	defer api.Close()
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config.yml", "endpoint: "+api.URL+"\ncredentials:\n  access_key_id: LTAIport\n  access_key_secret: port-test-secret-value\n")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	assertOneLineError(t, runBinary(t, "--config.file", cfg, "--web.listen-address", busy.Addr().String()), "address already in use")
	if n := sim.Requests(); n != 0 {
		t.Errorf("the exporter made %d API requests before finding its port in use", n)
	}
}
