package aliyun

import (
	"errors"
	"fmt"
	"os"
	"sync"

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
	switch {
	case f.cfg.AccessKeyIDFile != "":
		b, err := config.ReadSecretFile(f.cfg.AccessKeyIDFile)
		if err != nil {
			return nil, err
		}
		id = b
	case id == "":
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

// stsEndpoint is the host AssumeRole goes to; empty means the SDK's
// choice (sts.<region_id>.aliyuncs.com). Tests point it at a local server.
var stsEndpoint string

// assumeRoleCredentials marks what fails in the SDK's RAM role provider as
// an AssumeRole failure, unless it came from reading the key that signs
// AssumeRole (marked by sourceCredentials): both leave through one call.
type assumeRoleCredentials struct {
	inner credentials.CredentialsProvider
}

func (a *assumeRoleCredentials) GetCredentials() (*credentials.Credentials, error) {
	cc, err := a.inner.GetCredentials()
	var se *sourceError
	if err != nil && !errors.As(err, &se) {
		return nil, &assumeRoleError{err: err}
	}
	return cc, err
}

func (a *assumeRoleCredentials) GetProviderName() string { return a.inner.GetProviderName() }

type sourceCredentials struct {
	inner credentials.CredentialsProvider
}

func (s *sourceCredentials) GetCredentials() (*credentials.Credentials, error) {
	cc, err := s.inner.GetCredentials()
	if err != nil {
		return nil, &sourceError{err: err}
	}
	return cc, nil
}

func (s *sourceCredentials) GetProviderName() string { return s.inner.GetProviderName() }

type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// assumeRoleError carries the SDK's error unprinted: its text may hold the
// AssumeRole URL.
type assumeRoleError struct{ err error }

func (e *assumeRoleError) Error() string { return "AssumeRole: " + stripURLs(e.err.Error()) }
func (e *assumeRoleError) Unwrap() error { return e.err }
