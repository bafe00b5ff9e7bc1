package aliyun

import (
	"strings"
	"testing"

	"github.com/appstream-exporter/appstream_exporter/config"
)

func TestRedactSecrets(t *testing.T) {
	msg := `Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3DLTAI%26SecurityToken%3DCAIS123`
	if got := redactSecrets(msg); strings.Contains(got, "CAIS123") || !strings.Contains(got, "string to sign <redacted>") {
		t.Errorf("redactSecrets = %q", got)
	}
	if got := redactSecrets(`Post "https://h/?SecurityToken=CAIS%2B99&Signature=abc": EOF`); strings.Contains(got, "CAIS") || strings.Contains(got, "abc") {
		t.Errorf("redactSecrets = %q", got)
	}
	cfg := config.DefaultConfig()
	cfg.Credentials = &config.Credentials{AccessKeySecret: "s3cr3t+value/="}
	if got := secretRedactor(cfg)("echo s3cr3t+value/= and s3cr3t%2Bvalue%2F%3D"); strings.Contains(got, "s3cr3t") {
		t.Errorf("secretRedactor = %q", got)
	}
}

// TestStripURLs: error text the SDK flattened into a string (its default
// chain joins its providers' errors) still names the signed AssumeRole URL.
func TestStripURLs(t *testing.T) {
	in := `unable to get credentials from any of the providers in the chain: Post "https://sts.cn-shanghai.aliyuncs.com/?AccessKeyId=LTAI5tXYZ&Action=AssumeRole&Signature=ab%2Bc%3D&SecurityToken=CAIS.tok": dial tcp: lookup sts.cn-shanghai.aliyuncs.com: no such host, ` +
		`proxyconnect tcp: dial tcp http://user:pa55@proxy.corp:3128/x refused`
	got := stripURLs(in)
	want := `unable to get credentials from any of the providers in the chain: Post "<URL of sts.cn-shanghai.aliyuncs.com>": dial tcp: lookup sts.cn-shanghai.aliyuncs.com: no such host, ` +
		`proxyconnect tcp: dial tcp <URL of proxy.corp:3128> refused`
	if got != want {
		t.Errorf("stripURLs:\n got %s\nwant %s", got, want)
	}
}
