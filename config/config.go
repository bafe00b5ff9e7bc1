// Package config is the exporter's configuration file: its format, its
// defaults, its validation, and errors that name the line and key to fix.
package config

import (
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// Defaults of the configuration keys; an empty file uses them all.
const (
	DefaultEndpoint           = "appstream-center.cn-shanghai.aliyuncs.com"
	DefaultRegionID           = "cn-shanghai"
	DefaultProductType        = "CloudApp"
	DefaultRoleSessionName    = "appstream-exporter"
	DefaultCacheTTL           = 60 * time.Second
	DefaultMaxStale           = 10 * time.Minute
	DefaultRefreshTimeout     = 20 * time.Second
	DefaultPageSize           = 100
	DefaultMaxConcurrentPages = 4
	DefaultTimezone           = "Asia/Shanghai"
	// One account's pages and app instance groups at their defaults
	// (4 + 4) all fit; twenty accounts share as many.
	DefaultMaxConcurrentRequests = 8

	// The app_instances block's defaults: off; when on, a refresh a minute,
	// at most 5 requests a second and 4 groups at a time, over the
	// published groups (the only ones that serve sessions).
	DefaultAppInstancesCacheTTL             = 60 * time.Second
	DefaultAppInstancesMaxRequestsPerSecond = 5
	DefaultAppInstancesMaxConcurrentGroups  = 4

	// MinCacheTTL is where a warning starts: below it nearly every scrape
	// refreshes, that is calls the API, and may hit its rate limit. It is
	// not an error: stress tests and local simulators go lower.
	MinCacheTTL = 5 * time.Second

	// MaxPageSize is the API's limit for PageSize.
	MaxPageSize = 100
	// maxConcurrentPagesLimit keeps a typo (400 instead of 4) from opening
	// hundreds of connections and tripping the API's rate limit at once.
	maxConcurrentPagesLimit = 32

	// The environment variables that stand in for access_key_id and
	// access_key_secret of a credentials block, as in the SDK's own chain.
	EnvAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	EnvAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
)

// Config is the exporter's configuration file.
type Config struct {
	Endpoint           string       `yaml:"endpoint"`
	RegionID           string       `yaml:"region_id"`
	Credentials        *Credentials `yaml:"credentials"`
	BizRegions         []string     `yaml:"biz_regions"`
	ProductType        string       `yaml:"product_type"`
	Filters            Filters      `yaml:"filters"`
	TagLabels          []TagLabel   `yaml:"tag_labels"`
	TagLabelsOn        string       `yaml:"tag_labels_on"`
	CacheTTL           Duration     `yaml:"cache_ttl"`
	MaxStale           Duration     `yaml:"max_stale"`
	RefreshTimeout     Duration     `yaml:"refresh_timeout"`
	PageSize           int          `yaml:"page_size"`
	MaxConcurrentPages int          `yaml:"max_concurrent_pages"`
	Timezone           string       `yaml:"timezone"`
	AppInstances       AppInstances `yaml:"app_instances"`
	// Accounts serves several accounts or sites: see Account. Without it,
	// the file is one account whose series carry no account label.
	Accounts []Account `yaml:"accounts"`
	// MaxConcurrentRequests bounds the API requests in flight at once,
	// across all accounts and both actions.
	MaxConcurrentRequests int `yaml:"max_concurrent_requests"`

	// Resolved by Validate.
	location    *time.Location
	endpointURL *url.URL
	warnings    []*FieldError

	// Resolved by Parse: each account's own configuration, and in one of
	// those, the account's name.
	accounts    []*Config
	account     string
	fromAccount bool
	// Where the keys are: prefix ("accounts[1].") is put before every
	// warning's key, and lines give its line.
	prefix string
	lines  map[string]int
}

// Credentials is the optional credentials block. When it is absent the SDK's
// default credential chain is used.
type Credentials struct {
	AccessKeyID         string            `yaml:"access_key_id"`
	AccessKeyIDFile     string            `yaml:"access_key_id_file"`
	AccessKeySecret     promconfig.Secret `yaml:"access_key_secret"`
	AccessKeySecretFile string            `yaml:"access_key_secret_file"`
	SecurityTokenFile   string            `yaml:"security_token_file"`
	RoleARN             string            `yaml:"role_arn"`
	RoleSessionName     string            `yaml:"role_session_name"`
}

// String keeps the secret out of anything that formats the block with %v.
func (c *Credentials) String() string {
	secret := "unset"
	if c.AccessKeySecret != "" {
		secret = "<secret>"
	}
	return fmt.Sprintf("{access_key_id:%s access_key_id_file:%s access_key_secret:%s access_key_secret_file:%s security_token_file:%s role_arn:%s role_session_name:%s}",
		c.AccessKeyID, c.AccessKeyIDFile, secret, c.AccessKeySecretFile, c.SecurityTokenFile, c.RoleARN, c.RoleSessionName)
}

// Filters are passed to ListAppInstanceGroup for server-side filtering.
type Filters struct {
	Status               []string   `yaml:"status"`
	AppInstanceGroupID   string     `yaml:"app_instance_group_id"`
	AppInstanceGroupName string     `yaml:"app_instance_group_name"`
	AppCenterImageID     string     `yaml:"app_center_image_id"`
	NodeInstanceType     string     `yaml:"node_instance_type"`
	OfficeSiteID         string     `yaml:"office_site_id"`
	Tags                 TagFilters `yaml:"tags"`
	UserGroupIDs         []string   `yaml:"user_group_ids"`
	ExcludedUserGroupIDs []string   `yaml:"excluded_user_group_ids"`
}

// AppInstances is the collection of live sessions per delivery group
// (ListAppInstances): off unless enabled, with its own cache and a
// request budget across all groups.
type AppInstances struct {
	Enabled              bool     `yaml:"enabled"`
	CacheTTL             Duration `yaml:"cache_ttl"`
	MaxRequestsPerSecond float64  `yaml:"max_requests_per_second"`
	MaxConcurrentGroups  int      `yaml:"max_concurrent_groups"`
	// GroupStatus lists the group statuses whose groups are queried.
	GroupStatus []string `yaml:"group_status"`
}

// DefaultAppInstanceGroupStatus is the default of app_instances.group_status.
var DefaultAppInstanceGroupStatus = []string{"PUBLISHED"}

// Duration accepts Prometheus-style durations ("90s", "10m", "1d") and Go's
// ("1.5s", "500us"). It is not model.Duration: that type refuses the Go
// forms, and its YAML error names neither the line nor the key
// (testdata/bad/bad_duration.yml holds the message users see).
type Duration time.Duration

// UnmarshalYAML reports a bad duration as a type error with its line, so it
// is listed with the file's other problems and named by its key.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	bad := func(msg string) error {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, msg)}}
	}
	if n.Kind != yaml.ScalarNode {
		return bad("expected a duration such as 60s, 5m or 1h")
	}
	if v, err := model.ParseDuration(n.Value); err == nil {
		*d = Duration(v)
		return nil
	}
	if v, err := time.ParseDuration(n.Value); err == nil {
		*d = Duration(v)
		return nil
	}
	return bad(fmt.Sprintf("%q is not a duration (use e.g. 60s, 5m or 1h)", n.Value))
}

// MarshalYAML prints the duration the way it is written in the file.
func (d Duration) MarshalYAML() (any, error) { return model.Duration(d).String(), nil }

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// DefaultConfig returns a configuration with every default applied.
func DefaultConfig() *Config {
	return &Config{
		Endpoint:              DefaultEndpoint,
		RegionID:              DefaultRegionID,
		ProductType:           DefaultProductType,
		CacheTTL:              Duration(DefaultCacheTTL),
		MaxStale:              Duration(DefaultMaxStale),
		RefreshTimeout:        Duration(DefaultRefreshTimeout),
		PageSize:              DefaultPageSize,
		MaxConcurrentPages:    DefaultMaxConcurrentPages,
		Timezone:              DefaultTimezone,
		TagLabelsOn:           TagLabelsOnAll,
		MaxConcurrentRequests: DefaultMaxConcurrentRequests,
		AppInstances: AppInstances{
			CacheTTL:             Duration(DefaultAppInstancesCacheTTL),
			MaxRequestsPerSecond: DefaultAppInstancesMaxRequestsPerSecond,
			MaxConcurrentGroups:  DefaultAppInstancesMaxConcurrentGroups,
			GroupStatus:          slices.Clone(DefaultAppInstanceGroupStatus),
		},
	}
}

// LoadFile reads, parses and validates a configuration file. Every error
// names the file and, where it can, the line and key to fix.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file %q: %w", path, unwrapPathError(err))
	}
	cfg, err := Parse(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config file %q: %w", path, err)
	}
	return cfg, nil
}

// Parse parses and validates configuration YAML. Relative *_file paths are
// resolved against baseDir (the config file's directory).
func Parse(data []byte, baseDir string) (*Config, error) {
	cfg := DefaultConfig()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, cleanYAMLError(err, data)
	}
	lines := map[string]int{}
	if len(doc.Content) > 0 {
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			// An empty or comment-only file: all defaults.
		} else if root.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("line %d: the file must be a YAML mapping of keys (see config.example.yml)", root.Line)
		} else {
			if err := checkKnownKeys(root, reflect.TypeOf(Config{}), "", lines); err != nil {
				return nil, err
			}
			if err := root.Decode(cfg); err != nil {
				return nil, cleanDecodeError(err, lines)
			}
		}
	}
	cfg.resolvePaths(baseDir)
	cfg.lines = lines
	if err := cfg.Validate(); err != nil {
		return nil, withLines(err, lines)
	}
	if line, ok := lines["accounts"]; ok && len(cfg.Accounts) == 0 {
		return nil, fmt.Errorf("line %d: accounts: the list is empty: list at least one account, or remove the key for the single-account form", line)
	}
	if len(cfg.Accounts) > 0 {
		if err := cfg.parseAccounts(doc.Content[0], baseDir, lines); err != nil {
			return nil, withLines(err, lines)
		}
	}
	return cfg, nil
}

func (c *Config) resolvePaths(baseDir string) {
	if c.Credentials == nil || baseDir == "" {
		return
	}
	for _, p := range []*string{&c.Credentials.AccessKeyIDFile, &c.Credentials.AccessKeySecretFile, &c.Credentials.SecurityTokenFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(baseDir, *p)
		}
	}
}

// Warnings lists what is allowed but probably not meant, one line each.
// With accounts, they are the accounts' (the top level's own are about
// keys each account sets).
func (c *Config) Warnings() []string {
	var out []string
	if len(c.accounts) > 0 {
		for _, ac := range c.accounts {
			out = append(out, ac.Warnings()...)
		}
		return out
	}
	for _, w := range c.warnings {
		out = append(out, w.Error())
	}
	return out
}

// Equal reports whether two validated configurations mean the same thing,
// so that a reload of an unchanged file keeps the running exporter.
func (c *Config) Equal(o *Config) bool {
	a, b := *c, *o
	a.location, a.endpointURL, b.location, b.endpointURL = nil, nil, nil, nil
	a.warnings, b.warnings, a.lines, b.lines = nil, nil, nil, nil
	// Accounts are compared by what they resolve to, not by where in the
	// file they were written.
	a.Accounts, b.Accounts, a.accounts, b.accounts = nil, nil, nil, nil
	return reflect.DeepEqual(a, b) && c.endpointURL.String() == o.endpointURL.String() &&
		slices.EqualFunc(c.accounts, o.accounts, (*Config).Equal)
}

// EndpointURL is the resolved endpoint; valid after Validate.
func (c *Config) EndpointURL() *url.URL { return c.endpointURL }

// Location is the resolved time zone; valid after Validate.
func (c *Config) Location() *time.Location { return c.location }

// Queries lists the BizRegionId values to query, "" meaning unfiltered.
func (c *Config) Queries() []string {
	if len(c.BizRegions) == 0 {
		return []string{""}
	}
	return c.BizRegions
}

// AppInstancesCost is what listing the app instances of groups groups
// costs: ListAppInstances requests per hour (one per group per
// app_instances.cache_ttl, for groups of up to 100 instances; one more
// per further 100), and the shortest refresh the request budget allows,
// which must fit in refresh_timeout.
func (c *Config) AppInstancesCost(groups int) (requestsPerHour float64, shortestRefresh time.Duration) {
	a := c.AppInstances
	requestsPerHour = float64(groups) * float64(time.Hour) / float64(a.CacheTTL)
	if groups > 1 {
		shortestRefresh = time.Duration(float64(groups-1) / a.MaxRequestsPerSecond * float64(time.Second))
	}
	return requestsPerHour, shortestRefresh
}

// AppInstancesCostLines are the lines --config.check prints about
// app_instances' API cost, for each number of queried groups; none when
// it is off.
func (c *Config) AppInstancesCostLines(groupCounts ...int) []string {
	a := c.AppInstances
	if !a.Enabled {
		return nil
	}
	out := []string{fmt.Sprintf("app_instances: ListAppInstances for the groups with status %s, every %s at up to %v requests/s (refresh_timeout %s); a group with more than 100 app instances takes one request per 100:",
		strings.Join(a.GroupStatus, ", "), model.Duration(a.CacheTTL), a.MaxRequestsPerSecond, model.Duration(c.RefreshTimeout))}
	for _, n := range groupCounts {
		perHour, shortest := c.AppInstancesCost(n)
		line := fmt.Sprintf("  %s groups: %s requests/hour, each refresh at least %s", thousands(n), thousands(int(math.Round(perHour))), shortest.Round(100*time.Millisecond))
		if shortest > c.RefreshTimeout.D() {
			line += ": longer than refresh_timeout, so every refresh fails; raise max_requests_per_second or refresh_timeout"
		}
		out = append(out, line)
	}
	return out
}

// thousands writes n with comma separators (12,345).
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Summary is the one-line description --config.check prints on success.
func (c *Config) Summary() string {
	if len(c.accounts) > 0 {
		return c.accountsSummary()
	}
	return c.targetSummary()
}

// targetSummary says where one account's requests go, for which regions,
// with which credentials.
func (c *Config) targetSummary() string {
	creds := "default credential chain"
	if c.Credentials != nil {
		creds = "credentials block"
		if c.Credentials.RoleARN != "" {
			creds += " assuming " + c.Credentials.RoleARN
		}
	}
	regions := "all regions (one unfiltered query)"
	if len(c.BizRegions) > 0 {
		r := slices.Clone(c.BizRegions)
		sort.Strings(r)
		regions = strings.Join(r, ", ")
	}
	return fmt.Sprintf("endpoint %s, %s, %s, cache_ttl %s", c.endpointURL, regions, creds, model.Duration(c.CacheTTL))
}
