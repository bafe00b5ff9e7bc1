package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

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
// Problems are listed in the file's order; those without a line last.
func withLines(err error, lines map[string]int) error {
	type problem struct {
		line int
		text string
	}
	var problems []problem
	for _, e := range flattenErrors(err) {
		line := 0
		var fe *FieldError
		if errors.As(e, &fe) {
			// A missing key has no line: point at the nearest enclosing one.
			for p := fe.Path; p != "" && fe.Line == 0; p = parentPath(p) {
				fe.Line = lines[p]
			}
			line = fe.Line
		}
		problems = append(problems, problem{line, e.Error()})
	}
	slices.SortStableFunc(problems, func(a, b problem) int {
		switch {
		case a.line == b.line:
			return 0
		case a.line == 0:
			return 1
		case b.line == 0:
			return -1
		}
		return a.line - b.line
	})
	texts := make([]string, len(problems))
	for i, p := range problems {
		texts[i] = p.text
	}
	return errors.New(strings.Join(texts, "; "))
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

// GroupStatuses are the documented values of a group's Status, which
// filters.status sends.
var GroupStatuses = []string{"PUBLISHED", "FAILED", "MAINTAIN_FAILED", "EXPIRED", "MAINTAINING", "CEASED", "EXPIRED_RECYCLING", "DEPLOYING"}

// report is how each check records a problem: path is the key, the rest
// says what is wrong and what to do.
type report func(path, format string, args ...any)

// Validate checks every key and resolves the endpoint and time zone. All
// problems are reported at once, each naming the key and what to do.
func (c *Config) Validate() error {
	var errs []error
	var warnings []*FieldError
	bad := func(path, format string, args ...any) {
		errs = append(errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	warn := func(path, format string, args ...any) {
		warnings = append(warnings, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	// The order of the checks is the order of the messages.
	c.validateTarget(bad)
	c.validateFilters(bad, warn)
	c.validateTagLabels(bad)
	c.validateRefresh(bad, warn)
	c.validateTimezone(bad)
	c.validateAppInstances(bad, warn)
	for _, w := range warnings {
		w.Path = c.prefix + w.Path
		w.Line = c.lines[w.Path]
	}
	c.warnings = warnings
	return errors.Join(errs...)
}

// validateTarget checks where the requests go and what they ask for.
func (c *Config) validateTarget(bad report) {
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
	switch {
	case strings.TrimSpace(c.ProductType) == "":
		bad("product_type", "must not be empty (the API requires it; use CloudApp)")
	case c.ProductType != DefaultProductType && strings.EqualFold(c.ProductType, DefaultProductType):
		// The API compares it exactly and would match no group.
		bad("product_type", "%q: did you mean %s? The API's value is case-sensitive", c.ProductType, DefaultProductType)
	}
}

func (c *Config) validateFilters(bad, warn report) {
	validateStatuses("filters.status", c.Filters.Status, "it is sent as it is and matches", bad, warn)
	seenTag := map[TagFilter]bool{}
	for i, t := range c.Filters.Tags {
		p := fmt.Sprintf("filters.tags[%d]", i)
		switch {
		case strings.TrimSpace(t.Key) == "":
			bad(p, "a tag key must not be empty")
		case seenTag[t]:
			bad(p, "tag %s=%s is listed twice; keep one", t.Key, t.Value)
		}
		seenTag[t] = true
	}
}

// validateStatuses checks a list of group statuses: documented values,
// spelled as the API spells them.
// use says what an undocumented value does.
func validateStatuses(path string, statuses []string, use string, bad, warn report) {
	for i, s := range statuses {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch known := slices.IndexFunc(GroupStatuses, func(k string) bool { return strings.EqualFold(k, s) }); {
		case strings.TrimSpace(s) == "":
			bad(p, "must not be empty; valid values: %s", strings.Join(GroupStatuses, ", "))
		case known >= 0 && GroupStatuses[known] != s:
			bad(p, "%q: did you mean %s? The API's value is case-sensitive", s, GroupStatuses[known])
		case known < 0:
			// A status added to the API after this release must be usable
			// before the exporter is updated; a typo matches nothing.
			hint := ""
			if c := closest(s, GroupStatuses); c != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", c)
			}
			warn(p, "%q is not a documented status%s; %s only groups with exactly that status. Documented values: %s",
				s, hint, use, strings.Join(GroupStatuses, ", "))
		}
	}
}

// validateRefresh checks how often and how hard the API is asked.
func (c *Config) validateRefresh(bad, warn report) {
	if len(c.BizRegions) == 0 {
		warn("biz_regions", "is empty: one query without BizRegionId. Every request also carries RegionId=%s (region_id; the API documents it as a deprecated filter): "+
			"if the service still filtered by it, groups of other regions would be missing while aliyun_appstream_up is 1. List the regions to query, e.g. [%s, cn-hangzhou], to rule that out",
			c.RegionID, c.RegionID)
	}
	switch {
	case c.CacheTTL <= 0:
		bad("cache_ttl", "must be greater than 0 (e.g. 60s); it also spaces retries after a failed refresh")
	case c.CacheTTL < Duration(MinCacheTTL):
		warn("cache_ttl", "%s is below %s: nearly every scrape calls the API and may be throttled; use %s or more (the default is 60s) unless this is a test",
			c.CacheTTL.D(), MinCacheTTL, MinCacheTTL)
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
	// An account's own configuration takes the top level's limit.
	if !c.fromAccount && (c.MaxConcurrentRequests < 1 || c.MaxConcurrentRequests > maxConcurrentPagesLimit*2) {
		bad("max_concurrent_requests", "must be between 1 and %d, got %d", maxConcurrentPagesLimit*2, c.MaxConcurrentRequests)
	}
}

// maxAppInstanceRequestsPerSecond keeps a typo (500 instead of 5) from
// spending the account's API quota, which the console shares.
const maxAppInstanceRequestsPerSecond = 100

func (c *Config) validateAppInstances(bad, warn report) {
	a := &c.AppInstances
	switch {
	case a.CacheTTL <= 0:
		bad("app_instances.cache_ttl", "must be greater than 0 (e.g. 60s)")
	case a.Enabled && a.CacheTTL < Duration(MinCacheTTL):
		warn("app_instances.cache_ttl", "%s is below %s: nearly every scrape lists every queried group's sessions; use %s or more (the default is 60s) unless this is a test",
			a.CacheTTL.D(), MinCacheTTL, DefaultAppInstancesCacheTTL)
	}
	if !(a.MaxRequestsPerSecond > 0 && a.MaxRequestsPerSecond <= maxAppInstanceRequestsPerSecond) {
		bad("app_instances.max_requests_per_second", "must be greater than 0 and at most %d, got %v", maxAppInstanceRequestsPerSecond, a.MaxRequestsPerSecond)
	}
	if a.MaxConcurrentGroups < 1 || a.MaxConcurrentGroups > maxConcurrentPagesLimit {
		bad("app_instances.max_concurrent_groups", "must be between 1 and %d, got %d", maxConcurrentPagesLimit, a.MaxConcurrentGroups)
	}
	if len(a.GroupStatus) == 0 {
		bad("app_instances.group_status", "must list at least one group status, e.g. [PUBLISHED]; to collect nothing, set enabled: false")
	}
	validateStatuses("app_instances.group_status", a.GroupStatus, "it selects", bad, warn)
	if a.Enabled && len(c.Filters.Status) > 0 && !slices.ContainsFunc(a.GroupStatus, func(s string) bool { return slices.Contains(c.Filters.Status, s) }) {
		warn("app_instances.group_status", "none of %s is in filters.status, so no group is listed whose sessions would be counted; add one of them to filters.status",
			strings.Join(a.GroupStatus, ", "))
	}
}

func (c *Config) validateTimezone(bad report) {
	switch loc, err := time.LoadLocation(c.Timezone); {
	case c.Timezone == "":
		// LoadLocation reads "" as UTC, a surprise for schedule windows.
		bad("timezone", "must not be empty; use an IANA time zone such as Asia/Shanghai (the default) or UTC")
	case c.Timezone == "Local":
		bad("timezone", "\"Local\" is the zone of the machine the exporter runs on (UTC in most containers); use an IANA time zone such as Asia/Shanghai")
	case err != nil:
		bad("timezone", "%q is not an IANA time zone such as Asia/Shanghai or UTC", c.Timezone)
	default:
		c.location = loc
	}
}

func (cr *Credentials) validate(bad report) {
	switch {
	case cr.AccessKeyID != "" && cr.AccessKeyIDFile != "":
		bad("credentials.access_key_id", "set either access_key_id or access_key_id_file, not both")
	case cr.AccessKeyIDFile != "":
		if _, err := ReadSecretFile(cr.AccessKeyIDFile); err != nil {
			bad("credentials.access_key_id_file", "%v", err)
		}
	case cr.AccessKeyID == "" && os.Getenv(EnvAccessKeyID) == "":
		bad("credentials.access_key_id", "not set; set it here (or access_key_id_file) or in %s, or remove the credentials block to use the default credential chain", EnvAccessKeyID)
	}
	switch {
	case cr.AccessKeySecret != "" && cr.AccessKeySecretFile != "":
		bad("credentials.access_key_secret", "set either access_key_secret or access_key_secret_file, not both")
	case cr.AccessKeySecretFile != "":
		if _, err := ReadSecretFile(cr.AccessKeySecretFile); err != nil {
			bad("credentials.access_key_secret_file", "%v", err)
		}
	case cr.AccessKeySecret == "" && os.Getenv(EnvAccessKeySecret) == "":
		bad("credentials.access_key_secret_file", "no secret: set access_key_secret_file (or %s)", EnvAccessKeySecret)
	}
	if cr.SecurityTokenFile != "" {
		if _, err := ReadSecretFile(cr.SecurityTokenFile); err != nil {
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
