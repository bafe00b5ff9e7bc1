package aliyun

import (
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/appstream-exporter/appstream_exporter/config"
)

var (
	// Alibaba Cloud echoes the server's string-to-sign in
	// SignatureDoesNotMatch messages; it holds every request parameter,
	// an STS token included.
	stringToSignRE = regexp.MustCompile(`(?is)(string\s*to\s*sign|StringToSign).*$`)
	secretParamRE  = regexp.MustCompile(`(?i)(SecurityToken|AccessKeySecret|Signature|BearerToken)("?\s*(?:=|%3D|:)\s*"?)[^&\s",}]+`)
)

// redactSecrets removes secret-bearing parts of a message from the API or
// the SDK before it reaches a log line, an error or a page.
func redactSecrets(msg string) string {
	msg = stringToSignRE.ReplaceAllString(msg, "$1 <redacted>")
	return secretParamRE.ReplaceAllString(msg, "$1$2<redacted>")
}

// KnownSecrets are the secrets cfg's credentials come from: the access
// key secret and security token, inline, in files or in the environment.
func KnownSecrets(cfg *config.Config) []string {
	var known []string
	if c := cfg.Credentials; c != nil {
		known = append(known, string(c.AccessKeySecret))
		for _, p := range []string{c.AccessKeySecretFile, c.SecurityTokenFile} {
			if p != "" {
				if s, err := config.ReadSecretFile(p); err == nil {
					known = append(known, s)
				}
			}
		}
	}
	return append(known, os.Getenv(config.EnvAccessKeySecret), os.Getenv("ALIBABA_CLOUD_SECURITY_TOKEN"))
}

// secretRedactor also blanks the literal secrets this config knows of, in
// plain and URL-encoded form, whatever message carries them.
func secretRedactor(cfg *config.Config) func(string) string {
	var pairs []string
	for _, s := range KnownSecrets(cfg) {
		if len(s) < 8 { // too short to be a secret, and would blank common words
			continue
		}
		pairs = append(pairs, s, "<redacted>")
		if e := url.QueryEscape(s); e != s {
			pairs = append(pairs, e, "<redacted>")
		}
	}
	replacer := strings.NewReplacer(pairs...)
	return func(msg string) string {
		return redactSecrets(replacer.Replace(msg))
	}
}

// urlRE matches URLs in free text: error chains flattened into strings
// (the SDK's default chain joins its providers' errors) still carry them.
var urlRE = regexp.MustCompile(`(?i)\bhttps?://(?:[^/@\s"'<>]*@)?([^/?#\s"'<>]+)[^\s"'<>]*`)

// stripURLs keeps only the host of every URL in msg.
func stripURLs(msg string) string {
	return urlRE.ReplaceAllString(msg, "<URL of $1>")
}
