package collector

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"

	"github.com/appstream-exporter/appstream_exporter/config"
)

// newCredentialsProvider builds what signs the requests: the credentials
// block when present, else the SDK's default chain (environment, OIDC/RRSA,
// CLI profile, ECS RAM role, credentials URI). The result is safe for
// concurrent use.
func newCredentialsProvider(cfg *config.Config) (credentials.CredentialsProvider, error) {
	if cfg.Credentials == nil {
		return &lockedCredentials{inner: credentials.NewDefaultCredentialsProvider()}, nil
	}
	c := cfg.Credentials
	var base credentials.CredentialsProvider = &fileCredentials{cfg: c}
	if c.RoleARN == "" {
		return &lockedCredentials{inner: base}, nil
	}
	name := c.RoleSessionName
	if name == "" {
		name = config.DefaultRoleSessionName
	}
	// The wrappers tell a failed AssumeRole from a key that could not be
	// read: the SDK returns both from one call, and its AssumeRole errors
	// carry the signed URL.
	role, err := credentials.NewRAMRoleARNCredentialsProviderBuilder().
		WithCredentialsProvider(&sourceCredentials{inner: base}).
		WithRoleArn(c.RoleARN).
		WithRoleSessionName(name).
		WithStsRegion(cfg.RegionID).
		WithStsEndpoint(stsEndpoint).
		Build()
	if err != nil {
		return nil, fmt.Errorf("credentials.role_arn: %s", redactSecrets(err.Error()))
	}
	return &lockedCredentials{inner: &assumeRoleCredentials{inner: role}}, nil
}

// fileCredentials reads the secret and STS token at every use, so a rotated
// file (a Kubernetes Secret, a refreshed token) takes effect without a reload.
type fileCredentials struct {
	cfg *config.Credentials
}

func (f *fileCredentials) GetCredentials() (*credentials.Credentials, error) {
	id := f.cfg.AccessKeyID
	if id == "" {
		id = os.Getenv(config.EnvAccessKeyID)
	}
	secret := string(f.cfg.AccessKeySecret)
	if f.cfg.AccessKeySecretFile != "" {
		b, err := config.ReadSecretFile(f.cfg.AccessKeySecretFile)
		if err != nil {
			return nil, err
		}
		secret = b
	} else if secret == "" {
		secret = os.Getenv(config.EnvAccessKeySecret)
	}
	if id == "" || secret == "" {
		return nil, fmt.Errorf("access key ID or secret is empty")
	}
	cc := &credentials.Credentials{AccessKeyId: id, AccessKeySecret: secret, ProviderName: f.GetProviderName()}
	if f.cfg.SecurityTokenFile != "" {
		token, err := config.ReadSecretFile(f.cfg.SecurityTokenFile)
		if err != nil {
			return nil, err
		}
		cc.SecurityToken = token
	}
	return cc, nil
}

func (f *fileCredentials) GetProviderName() string { return "appstream_exporter_config" }

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

// secretRedactor also blanks the literal secrets this config knows of, in
// plain and URL-encoded form, whatever message carries them.
func secretRedactor(cfg *config.Config) func(string) string {
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
	known = append(known, os.Getenv(config.EnvAccessKeySecret), os.Getenv("ALIBABA_CLOUD_SECURITY_TOKEN"))
	var pairs []string
	for _, s := range known {
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
