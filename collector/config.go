package collector

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// Defaults for every key SPEC §2 gives a default for.
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

	// MaxPageSize is the API's limit for PageSize.
	MaxPageSize = 100
	// maxConcurrentPagesLimit keeps a typo (400 instead of 4) from opening
	// hundreds of connections and tripping the API's rate limit at once.
	maxConcurrentPagesLimit = 32

	envAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	envAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
)

// Config is the exporter's configuration file (SPEC §2).
type Config struct {
	Endpoint           string       `yaml:"endpoint"`
	RegionID           string       `yaml:"region_id"`
	Credentials        *Credentials `yaml:"credentials"`
	BizRegions         []string     `yaml:"biz_regions"`
	ProductType        string       `yaml:"product_type"`
	Filters            Filters      `yaml:"filters"`
	TagLabels          []string     `yaml:"tag_labels"`
	CacheTTL           Duration     `yaml:"cache_ttl"`
	MaxStale           Duration     `yaml:"max_stale"`
	RefreshTimeout     Duration     `yaml:"refresh_timeout"`
	PageSize           int          `yaml:"page_size"`
	MaxConcurrentPages int          `yaml:"max_concurrent_pages"`
	Timezone           string       `yaml:"timezone"`

	// Resolved by Validate.
	location    *time.Location
	endpointURL *url.URL
}

// Credentials is the optional credentials block. When it is absent the SDK's
// default credential chain is used.
type Credentials struct {
	AccessKeyID         string        `yaml:"access_key_id"`
	AccessKeySecret     config.Secret `yaml:"access_key_secret"`
	AccessKeySecretFile string        `yaml:"access_key_secret_file"`
	SecurityTokenFile   string        `yaml:"security_token_file"`
	RoleARN             string        `yaml:"role_arn"`
	RoleSessionName     string        `yaml:"role_session_name"`
}

// String keeps the secret out of anything that formats the block with %v.
func (c *Credentials) String() string {
	secret := "unset"
	if c.AccessKeySecret != "" {
		secret = "<secret>"
	}
	return fmt.Sprintf("{access_key_id:%s access_key_secret:%s access_key_secret_file:%s security_token_file:%s role_arn:%s role_session_name:%s}",
		c.AccessKeyID, secret, c.AccessKeySecretFile, c.SecurityTokenFile, c.RoleARN, c.RoleSessionName)
}

// Filters are passed to ListAppInstanceGroup for server-side filtering.
type Filters struct {
	Status               []string          `yaml:"status"`
	AppInstanceGroupID   string            `yaml:"app_instance_group_id"`
	AppInstanceGroupName string            `yaml:"app_instance_group_name"`
	AppCenterImageID     string            `yaml:"app_center_image_id"`
	NodeInstanceType     string            `yaml:"node_instance_type"`
	OfficeSiteID         string            `yaml:"office_site_id"`
	Tags                 map[string]string `yaml:"tags"`
	UserGroupIDs         []string          `yaml:"user_group_ids"`
	ExcludedUserGroupIDs []string          `yaml:"excluded_user_group_ids"`
}

// Duration accepts Prometheus-style durations ("90s", "10m", "1d").
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
		Endpoint:           DefaultEndpoint,
		RegionID:           DefaultRegionID,
		ProductType:        DefaultProductType,
		CacheTTL:           Duration(DefaultCacheTTL),
		MaxStale:           Duration(DefaultMaxStale),
		RefreshTimeout:     Duration(DefaultRefreshTimeout),
		PageSize:           DefaultPageSize,
		MaxConcurrentPages: DefaultMaxConcurrentPages,
		Timezone:           DefaultTimezone,
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

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot %s: %w", pe.Op, pe.Err)
	}
	return err
}

// Parse parses and validates configuration YAML. Relative *_file paths are
// resolved against baseDir (the config file's directory).
func Parse(data []byte, baseDir string) (*Config, error) {
	cfg := DefaultConfig()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, cleanYAMLError(err)
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
	if err := cfg.Validate(); err != nil {
		return nil, withLines(err, lines)
	}
	return cfg, nil
}

func (c *Config) resolvePaths(baseDir string) {
	if c.Credentials == nil || baseDir == "" {
		return
	}
	for _, p := range []*string{&c.Credentials.AccessKeySecretFile, &c.Credentials.SecurityTokenFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(baseDir, *p)
		}
	}
}

// checkKnownKeys walks the YAML tree against the Go struct tags so an unknown
// key is reported with its line and a suggestion, and records the line of
// every key so later errors can point at it.
func checkKnownKeys(n *yaml.Node, t reflect.Type, path string, lines map[string]int) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && t != reflect.TypeOf(Duration(0)):
		if n.Kind != yaml.MappingNode {
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				return nil
			}
			return fmt.Errorf("line %d: %s: expected a mapping of keys", n.Line, displayPath(path))
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			fields[tag] = f.Type
			names = append(names, tag)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			ft, ok := fields[key.Value]
			if !ok {
				msg := fmt.Sprintf("line %d: unknown key %q", key.Line, key.Value)
				if path != "" {
					msg += " in " + path
				}
				if s := closest(key.Value, names); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				} else {
					msg += fmt.Sprintf(" (valid keys: %s)", strings.Join(names, ", "))
				}
				return errors.New(msg)
			}
			child := joinPath(path, key.Value)
			lines[child] = key.Line
			if err := checkKnownKeys(val, ft, child, lines); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			child := fmt.Sprintf("%s[%d]", path, i)
			lines[child] = item.Line
			if err := checkKnownKeys(item, t.Elem(), child, lines); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			lines[joinPath(path, n.Content[i].Value)] = n.Content[i].Line
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func displayPath(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

// closest suggests a known key within a small edit distance of a typo.
func closest(word string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(word, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

var (
	yamlTypeErrRE = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
	yamlPrefixRE  = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)
)

func cleanYAMLError(err error) error {
	msg := err.Error()
	if m := yamlPrefixRE.FindStringSubmatch(msg); m != nil {
		rest := msg[len(m[0]):]
		if m[1] != "" {
			return fmt.Errorf("line %s: invalid YAML: %s", m[1], rest)
		}
		return fmt.Errorf("invalid YAML: %s", rest)
	}
	return err
}

// cleanDecodeError turns yaml.v3 type errors into "line N: key: expected X,
// got Y" so the reader knows what to write instead.
func cleanDecodeError(err error, lines map[string]int) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	keyAt := map[int]string{}
	for p, l := range lines {
		if cur, ok := keyAt[l]; !ok || len(p) > len(cur) {
			keyAt[l] = p
		}
	}
	var out []string
	for _, e := range te.Errors {
		lineText, rest, ok := strings.Cut(strings.TrimPrefix(e, "line "), ": ")
		line, convErr := strconv.Atoi(lineText)
		if !ok || convErr != nil {
			out = append(out, e)
			continue
		}
		if m := yamlTypeErrRE.FindStringSubmatch(e); m != nil {
			got := yamlKindWord(m[2])
			if m[3] != "" {
				got += fmt.Sprintf(" %q", m[3])
			}
			rest = fmt.Sprintf("expected %s, got %s", goTypeWord(m[4]), got)
		}
		if k, ok := keyAt[line]; ok && !strings.HasPrefix(rest, "mapping key") {
			rest = k + ": " + rest
		}
		out = append(out, fmt.Sprintf("line %d: %s", line, rest))
	}
	return errors.New(strings.Join(out, "; "))
}

func yamlKindWord(tag string) string {
	switch tag {
	case "str":
		return "the string"
	case "int":
		return "the number"
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	case "bool":
		return "the boolean"
	}
	return tag
}

func goTypeWord(t string) string {
	switch {
	case t == "int":
		return "an integer"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping of key: value"
	}
	return "a " + t
}

// FieldError is a validation problem tied to a configuration key.
type FieldError struct {
	Path string // e.g. "filters.status[1]"
	Msg  string
	Line int // filled in when the problem came from a file
}

func (e *FieldError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Path, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

// withLines adds the source line to every FieldError and joins them into one
// line of text, the form --config.check prints.
func withLines(err error, lines map[string]int) error {
	var errs []string
	for _, e := range flattenErrors(err) {
		var fe *FieldError
		if errors.As(e, &fe) {
			// A missing key has no line: point at the nearest enclosing one.
			for p := fe.Path; p != "" && fe.Line == 0; p = parentPath(p) {
				fe.Line = lines[p]
			}
		}
		errs = append(errs, e.Error())
	}
	return errors.New(strings.Join(errs, "; "))
}

func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i > 0 {
		return p[:i]
	}
	return ""
}

func flattenErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

var (
	regionRE  = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	roleARNRE = regexp.MustCompile(`^acs:ram::[0-9]+:role/.+$`)
)

// Documented values of Status and ResourceStatus (API reference).
var (
	GroupStatuses    = []string{"PUBLISHED", "FAILED", "MAINTAIN_FAILED", "EXPIRED", "MAINTAINING", "CEASED", "EXPIRED_RECYCLING", "DEPLOYING"}
	ResourceStatuses = []string{"AVAILABLE", "RELEASED", "EXPIRED_IN_7_DAYS", "UNAVAILABLE", "UPGRADING", "CREATING"}
)

// Validate checks every key and resolves the endpoint and time zone. All
// problems are reported at once, each naming the key and what to do.
func (c *Config) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}

	if u, err := ParseEndpoint(c.Endpoint); err != nil {
		bad("endpoint", "%v", err)
	} else {
		c.endpointURL = u
	}
	if !regionRE.MatchString(c.RegionID) {
		bad("region_id", "%q is not a region ID such as cn-shanghai", c.RegionID)
	}
	if c.Credentials != nil {
		c.Credentials.validate(bad)
	}
	seen := map[string]bool{}
	for i, r := range c.BizRegions {
		p := fmt.Sprintf("biz_regions[%d]", i)
		switch {
		case !regionRE.MatchString(r):
			bad(p, "%q is not a region ID such as cn-hangzhou", r)
		case seen[r]:
			bad(p, "%q is listed twice; each region is queried once", r)
		}
		seen[r] = true
	}
	if strings.TrimSpace(c.ProductType) == "" {
		bad("product_type", "must not be empty (the API requires it; use CloudApp)")
	}
	for i, s := range c.Filters.Status {
		if !slices.Contains(GroupStatuses, s) {
			bad(fmt.Sprintf("filters.status[%d]", i), "unknown status %q; valid values: %s", s, strings.Join(GroupStatuses, ", "))
		}
	}
	for k := range c.Filters.Tags {
		if strings.TrimSpace(k) == "" {
			bad("filters.tags", "a tag key must not be empty")
		}
	}
	labelOf := map[string]string{}
	for i, k := range c.TagLabels {
		p := fmt.Sprintf("tag_labels[%d]", i)
		name := TagLabelName(k)
		if strings.TrimSpace(k) == "" {
			bad(p, "a tag key must not be empty")
		} else if prev, dup := labelOf[name]; dup {
			bad(p, "tag keys %q and %q both become label %q; keep one", prev, k, name)
		}
		labelOf[name] = k
	}
	if c.CacheTTL <= 0 {
		bad("cache_ttl", "must be greater than 0 (e.g. 60s); it also spaces retries after a failed refresh")
	}
	if c.MaxStale < 0 {
		bad("max_stale", "must not be negative (0 drops the data as soon as a refresh fails)")
	}
	if c.RefreshTimeout <= 0 {
		bad("refresh_timeout", "must be greater than 0 (e.g. 20s)")
	}
	if c.PageSize < 1 || c.PageSize > MaxPageSize {
		bad("page_size", "must be between 1 and %d, got %d", MaxPageSize, c.PageSize)
	}
	if c.MaxConcurrentPages < 1 || c.MaxConcurrentPages > maxConcurrentPagesLimit {
		bad("max_concurrent_pages", "must be between 1 and %d, got %d", maxConcurrentPagesLimit, c.MaxConcurrentPages)
	}
	if loc, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" {
		bad("timezone", "%q is not an IANA time zone such as Asia/Shanghai or UTC", c.Timezone)
	} else {
		c.location = loc
	}
	return errors.Join(errs...)
}

func (cr *Credentials) validate(bad func(path, format string, args ...any)) {
	if cr.AccessKeyID == "" && os.Getenv(envAccessKeyID) == "" {
		bad("credentials.access_key_id", "not set; set it here or in %s, or remove the credentials block to use the default credential chain", envAccessKeyID)
	}
	switch {
	case cr.AccessKeySecret != "" && cr.AccessKeySecretFile != "":
		bad("credentials.access_key_secret", "set either access_key_secret or access_key_secret_file, not both")
	case cr.AccessKeySecretFile != "":
		if err := checkSecretFile(cr.AccessKeySecretFile); err != nil {
			bad("credentials.access_key_secret_file", "%v", err)
		}
	case cr.AccessKeySecret == "" && os.Getenv(envAccessKeySecret) == "":
		bad("credentials.access_key_secret_file", "no secret: set access_key_secret_file (or %s)", envAccessKeySecret)
	}
	if cr.SecurityTokenFile != "" {
		if err := checkSecretFile(cr.SecurityTokenFile); err != nil {
			bad("credentials.security_token_file", "%v", err)
		}
	}
	if cr.RoleARN != "" && !roleARNRE.MatchString(cr.RoleARN) {
		bad("credentials.role_arn", "%q is not a RAM role ARN (acs:ram::<account id>:role/<name>)", cr.RoleARN)
	}
	if cr.RoleSessionName != "" && (len(cr.RoleSessionName) < 2 || len(cr.RoleSessionName) > 64) {
		bad("credentials.role_session_name", "must be 2 to 64 characters")
	}
}

// checkSecretFile reports an unreadable or empty file without ever printing
// its content.
func checkSecretFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%q: %w", path, unwrapPathError(err))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("%q is empty", path)
	}
	return nil
}

// ParseEndpoint accepts a host ("appstream-center.cn-shanghai.aliyuncs.com"),
// host:port, or a URL whose scheme (http or https) and port are honoured.
// A bare host means HTTPS: the SDK's own default, plain HTTP, would send
// signed requests in the clear.
func ParseEndpoint(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("must not be empty")
	}
	raw := s
	if !strings.Contains(s, "://") {
		raw = "https://" + s
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a host name or URL", s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("scheme %q is not supported; use https:// (or http:// for a local test endpoint)", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%q has no host", s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("%q must be a host or scheme://host[:port] without path, query or user info", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %q is not between 1 and 65535", p)
		}
	}
	u.Path = ""
	return u, nil
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

var labelUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// TagLabelName is the label a tag key becomes: tag_<key> with every
// character outside [a-zA-Z0-9_] replaced by "_".
func TagLabelName(key string) string {
	return "tag_" + labelUnsafe.ReplaceAllString(key, "_")
}

// Summary is the one-line description --config.check prints on success.
func (c *Config) Summary() string {
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
