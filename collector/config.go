package collector

import (
	"errors"
	"fmt"
	"maps"
	"math"
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
	"unicode"

	"github.com/prometheus/common/config"
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

	// MinCacheTTL is where a warning starts: below it nearly every scrape
	// refreshes, that is calls the API, and may hit its rate limit. It is
	// not an error: stress tests and local simulators go lower.
	MinCacheTTL = 5 * time.Second

	// MaxPageSize is the API's limit for PageSize.
	MaxPageSize = 100
	// maxConcurrentPagesLimit keeps a typo (400 instead of 4) from opening
	// hundreds of connections and tripping the API's rate limit at once.
	maxConcurrentPagesLimit = 32

	envAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	envAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
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

	// Resolved by Validate.
	location    *time.Location
	endpointURL *url.URL
	warnings    []*FieldError
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

// TagFilter is one Tag.N filter: groups carrying this key with this value.
type TagFilter struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
}

// TagFilters are the Tag.N filters, in the order they are sent. The API
// takes a list, so one key may appear with several values; the file may
// give a list of {key, value} or, when every key is distinct, a mapping.
type TagFilters []TagFilter

// UnmarshalYAML accepts a mapping (sent in key order) or a list.
func (t *TagFilters) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return n.Decode((*[]TagFilter)(t))
	}
	var m map[string]string
	if err := n.Decode(&m); err != nil {
		return err
	}
	*t = (*t)[:0]
	for _, k := range slices.Sorted(maps.Keys(m)) {
		*t = append(*t, TagFilter{Key: k, Value: m[k]})
	}
	return nil
}

// TagLabel puts a group tag on the group's series as label tag_<label>.
type TagLabel struct {
	Key   string `yaml:"key"`
	Label string `yaml:"label"` // empty: derived from Key
}

// UnmarshalYAML accepts a bare tag key ("department") or {key, label}.
func (t *TagLabel) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&t.Key)
	}
	type plain TagLabel
	return n.Decode((*plain)(t))
}

// TagLabelsOf lists plain tag_labels entries, one per key.
func TagLabelsOf(keys ...string) []TagLabel {
	out := make([]TagLabel, len(keys))
	for i, k := range keys {
		out[i] = TagLabel{Key: k}
	}
	return out
}

// Where tag labels go (tag_labels_on).
const (
	TagLabelsOnAll  = "all"  // on every group and pool series
	TagLabelsOnInfo = "info" // only on aliyun_appstream_group_tags
)

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
		TagLabelsOn:        TagLabelsOnAll,
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
	if err := cfg.Validate(); err != nil {
		return nil, withLines(err, lines)
	}
	for _, w := range cfg.warnings {
		w.Line = lines[w.Path]
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
	case t.Kind() == reflect.Struct && n.Kind == yaml.ScalarNode && reflect.PointerTo(t).Implements(yamlUnmarshaler):
		// A short form (tag_labels: [department]); its decoder reads it.
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				return nil
			}
			return fmt.Errorf("line %d: %s: expected a mapping of keys", n.Line, displayPath(path))
		}
		fields, names := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			ft, ok := fields[key.Value]
			if !ok {
				msg := fmt.Sprintf("line %d: unknown key %q", key.Line, key.Value)
				if path != "" {
					msg += " in " + path
				}
				if i >= 2 && belongsUnder(n.Content[i-2], n.Content[i-1], fields, key.Value) {
					msg += fmt.Sprintf(" (if it belongs under %s, indent it more than line %d)", n.Content[i-2].Value, n.Content[i-2].Line)
				} else if s := closest(key.Value, names); s != "" {
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
	case isPlainInt(t) && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float":
		// yaml.v3 would silently truncate 7.9 to 7.
		return fmt.Errorf("line %d: %s: expected an integer, got %s", n.Line, displayPath(path), n.Value)
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			child := fmt.Sprintf("%s[%d]", path, i)
			lines[child] = item.Line
			if err := checkKnownKeys(item, t.Elem(), child, lines); err != nil {
				return err
			}
		}
	case (t.Kind() == reflect.Map || t.Kind() == reflect.Slice) && n.Kind == yaml.MappingNode:
		// A map, or a list that also takes a mapping (filters.tags).
		for i := 0; i+1 < len(n.Content); i += 2 {
			lines[joinPath(path, n.Content[i].Value)] = n.Content[i].Line
		}
	}
	return nil
}

// yamlFields lists a struct's keys, in order, with their types.
func yamlFields(t reflect.Type) (map[string]reflect.Type, []string) {
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
	return fields, names
}

// belongsUnder spots a key indented too little: it follows a key left
// empty ("credentials:") that would accept it.
func belongsUnder(prevKey, prevVal *yaml.Node, fields map[string]reflect.Type, key string) bool {
	t, ok := fields[prevKey.Value]
	if !ok || prevVal.Kind != yaml.ScalarNode || prevVal.ShortTag() != "!!null" {
		return false
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Map:
	case reflect.Slice:
		if t != reflect.TypeOf(TagFilters(nil)) { // the one list that takes a mapping
			return false
		}
	case reflect.Struct:
		if f, _ := yamlFields(t); f[key] == nil {
			return false
		}
	default:
		return false
	}
	return true
}

var yamlUnmarshaler = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// isPlainInt is an integer key decoded by yaml.v3 itself (not a Duration).
func isPlainInt(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return !reflect.PointerTo(t).Implements(yamlUnmarshaler)
	}
	return false
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

func cleanYAMLError(err error, data []byte) error {
	msg := err.Error()
	m := yamlPrefixRE.FindStringSubmatch(msg)
	if m == nil {
		return err
	}
	rest := msg[len(m[0]):]
	if m[1] == "" {
		return fmt.Errorf("invalid YAML: %s", rest)
	}
	line, _ := strconv.Atoi(m[1])
	// yaml.v3 names the line a block started on, or the line before the
	// mistake, for most indentation errors: look for the line to fix.
	var from, to int
	hint := ""
	switch {
	case strings.Contains(rest, "tab character") || strings.Contains(rest, "cannot start any token"):
		from, to = line, line+1
	case strings.HasPrefix(rest, "did not find expected key") || strings.HasPrefix(rest, "did not find expected '-' indicator"):
		from, to = line, math.MaxInt
		hint = fmt.Sprintf(" (check the indentation of the lines below line %d)", line)
	case strings.HasPrefix(rest, "mapping values are not allowed"):
		from, to = max(line-1, 1), line
		hint = fmt.Sprintf(" (check the indentation of line %d and the line above, and that a colon after a key is followed by a space)", line)
	case strings.HasPrefix(rest, "could not find expected ':'"):
		from, to = max(line-1, 1), line+1
		hint = " (a key needs a colon and a space before its value)"
	}
	if from > 0 {
		if n, why := indentProblem(data, from); n > 0 && n <= to {
			return fmt.Errorf("line %d: invalid YAML: %s", n, why)
		}
	}
	return fmt.Errorf("line %d: invalid YAML: %s%s", line, rest, hint)
}

var (
	// A colon glued to its value ("region_id:cn-hangzhou") makes no key.
	colonNoSpaceRE = regexp.MustCompile(`^(?:- )?[A-Za-z_][A-Za-z0-9_]*:[^\s/:]`)
	flowOpenRE     = regexp.MustCompile(`[\[{]`)
	flowCloseRE    = regexp.MustCompile(`[\]}]`)
)

// indentProblem returns the first line, at or after from, whose indentation
// fits no block above it (or that misses the space after a key's colon),
// and what is wrong with it. It reads lines, not YAML: it is only asked
// once yaml.v3 has rejected the file, to name a better line.
func indentProblem(data []byte, from int) (int, string) {
	type block struct {
		indent int
		seq    bool
	}
	stack := []block{{0, false}}
	opens := false // the line above ends in "key:" or "-": a deeper block may follow
	scalarAt := -1 // indentation of the key owning a | or > block scalar
	flowDepth := 0 // open [ and { spanning lines
	prev := 0
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		line := strings.TrimRight(raw, " \r")
		text := strings.TrimLeft(line, " ")
		indent := len(line) - len(text)
		if text == "" || text[0] == '#' || (scalarAt >= 0 && indent > scalarAt) {
			continue
		}
		scalarAt = -1
		if flowDepth > 0 {
			flowDepth += len(flowOpenRE.FindAllString(text, -1)) - len(flowCloseRE.FindAllString(text, -1))
			continue
		}
		if strings.HasPrefix(text, "\t") {
			if n >= from {
				return n, "a tab indents this line; indent with spaces"
			}
			continue
		}
		if strings.HasPrefix(text, "---") {
			stack, opens, prev = stack[:1], false, n
			continue
		}
		dash := text == "-" || strings.HasPrefix(text, "- ")
		why := ""
		top := stack[len(stack)-1]
		switch {
		case indent > top.indent && !opens:
			why = fmt.Sprintf("this line is indented more than line %d, which already has a value; indent it like the keys it belongs with", prev)
			stack = append(stack, block{indent, dash})
		case indent > top.indent:
			stack = append(stack, block{indent, dash})
		case indent < top.indent:
			for len(stack) > 1 && stack[len(stack)-1].indent > indent {
				stack = stack[:len(stack)-1]
			}
			if stack[len(stack)-1].indent != indent {
				why = "this line's indentation lines up with no key or list item above it; indent it like the lines it belongs with"
				stack = append(stack, block{indent, dash})
			}
		}
		top = stack[len(stack)-1]
		// "key:" followed by "- item" at the key's own indentation is a list.
		if top.seq && !dash && len(stack) > 1 && stack[len(stack)-2].indent == indent {
			stack = stack[:len(stack)-1]
			top = stack[len(stack)-1]
		}
		switch {
		case why != "":
		case dash && !top.seq && opens:
			stack = append(stack, block{indent, true})
		case dash && !top.seq:
			why = "this list item lines up with keys, not with a list; indent it like the items it belongs with"
		case !dash && top.seq && text[0] == '-':
			why = "put a space after the dash of a list item (- value)"
		case !dash && top.seq:
			why = "this key lines up with list items; indent it like the keys it belongs with"
		case colonNoSpaceRE.MatchString(text):
			why = "put a space after the colon (key: value)"
		}
		if why != "" && n >= from {
			return n, why
		}
		content := strings.TrimSpace(strings.TrimPrefix(text, "-"))
		if c := strings.Index(content, " #"); c >= 0 {
			content = strings.TrimSpace(content[:c])
		}
		if dash && (strings.Contains(content, ": ") || strings.HasSuffix(content, ":")) {
			// The item is a mapping: its other keys line up with its first.
			stack = append(stack, block{indent + len(text) - len(strings.TrimLeft(text[1:], " ")), false})
		}
		opens = content == "" || strings.HasSuffix(content, ":")
		if strings.HasSuffix(content, "|") || strings.HasSuffix(content, ">") || strings.HasSuffix(content, "|-") || strings.HasSuffix(content, ">-") {
			scalarAt = indent
		}
		flowDepth = len(flowOpenRE.FindAllString(content, -1)) - len(flowCloseRE.FindAllString(content, -1))
		prev = n
	}
	return 0, ""
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
	case "float":
		return "the number"
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
	case t == "config.plain" || t == "config.Secret":
		// prometheus/common decodes a Secret through an internal type.
		return "a string"
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
	switch {
	case strings.TrimSpace(c.ProductType) == "":
		bad("product_type", "must not be empty (the API requires it; use CloudApp)")
	case c.ProductType != DefaultProductType && strings.EqualFold(c.ProductType, DefaultProductType):
		// The API compares it exactly and would match no group.
		bad("product_type", "%q: did you mean %s? The API's value is case-sensitive", c.ProductType, DefaultProductType)
	}
	c.warnings = nil
	warn := func(path, format string, args ...any) {
		c.warnings = append(c.warnings, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	for i, s := range c.Filters.Status {
		p := fmt.Sprintf("filters.status[%d]", i)
		switch known := slices.IndexFunc(GroupStatuses, func(k string) bool { return strings.EqualFold(k, s) }); {
		case strings.TrimSpace(s) == "":
			bad(p, "must not be empty; valid values: %s", strings.Join(GroupStatuses, ", "))
		case known >= 0 && GroupStatuses[known] != s:
			bad(p, "%q: did you mean %s? The API's value is case-sensitive", s, GroupStatuses[known])
		case known < 0:
			// A status added to the API after this release must be usable
			// before the exporter is updated; a typo filters out everything.
			hint := ""
			if c := closest(s, GroupStatuses); c != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", c)
			}
			warn(p, "%q is not a documented status%s; it is sent as it is and matches only groups with exactly that status. Documented values: %s",
				s, hint, strings.Join(GroupStatuses, ", "))
		}
	}
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
	c.validateTagLabels(bad)
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
		if _, err := readSecretFile(cr.AccessKeySecretFile); err != nil {
			bad("credentials.access_key_secret_file", "%v", err)
		}
	case cr.AccessKeySecret == "" && os.Getenv(envAccessKeySecret) == "":
		bad("credentials.access_key_secret_file", "no secret: set access_key_secret_file (or %s)", envAccessKeySecret)
	}
	if cr.SecurityTokenFile != "" {
		if _, err := readSecretFile(cr.SecurityTokenFile); err != nil {
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

var fileNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// pathLooksReal tells a mistyped path (safe to print, and the printed path is
// what the user needs) from a pasted secret, which relative-path resolution
// also turns into "<config dir>/<secret>". Access key secrets are random
// mixed-case letters and digits; STS tokens and JWTs are long and carry
// "+", "/" or "=". A file name has none of these looks.
func pathLooksReal(path string) bool {
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return false
	}
	base := filepath.Base(path)
	if !fileNameRE.MatchString(base) {
		return false
	}
	upper := strings.ContainsFunc(base, unicode.IsUpper)
	lower := strings.ContainsFunc(base, unicode.IsLower)
	digit := strings.ContainsFunc(base, unicode.IsDigit)
	randomLooking := upper && lower && digit
	if strings.ContainsAny(base, "._-") {
		// base64url tokens carry "-" and "_" too: long random-looking
		// names are hidden even with separators.
		return !randomLooking || len(base) < 20
	}
	return len(base) < 16 && !randomLooking
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

// Warnings lists what is allowed but probably not meant, one line each.
func (c *Config) Warnings() []string {
	out := make([]string, 0, len(c.warnings))
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
	a.warnings, b.warnings = nil, nil
	return reflect.DeepEqual(a, b) && c.endpointURL.String() == o.endpointURL.String()
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

var (
	labelUnsafe    = regexp.MustCompile(`[^a-zA-Z0-9_]`)
	labelName      = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	mappableTagKey = regexp.MustCompile(`^[\x20-\x7e]*[a-zA-Z0-9][\x20-\x7e]*$`)
)

// Name is the label the tag becomes: tag_<label>, or for a plain key
// tag_<key> with every character outside [a-zA-Z0-9_] replaced by "_".
func (t TagLabel) Name() string {
	if t.Label != "" {
		return "tag_" + t.Label
	}
	return "tag_" + labelUnsafe.ReplaceAllString(t.Key, "_")
}

func (c *Config) validateTagLabels(bad func(path, format string, args ...any)) {
	switch c.TagLabelsOn {
	case TagLabelsOnAll, TagLabelsOnInfo:
	default:
		bad("tag_labels_on", "%q: use %q (tag labels on every group and pool series, the default) or %q (only on aliyun_appstream_group_tags, joined by group_id and region)",
			c.TagLabelsOn, TagLabelsOnAll, TagLabelsOnInfo)
	}
	keyAt := map[string]int{}
	nameOf := map[string]string{}
	for i, t := range c.TagLabels {
		p := fmt.Sprintf("tag_labels[%d]", i)
		if strings.TrimSpace(t.Key) == "" {
			bad(p, "a tag key must not be empty")
			continue
		}
		if j, dup := keyAt[t.Key]; dup {
			bad(p, "tag key %q is already listed at tag_labels[%d]; keep one", t.Key, j)
			continue
		}
		keyAt[t.Key] = i
		switch {
		case t.Label != "" && !labelName.MatchString(t.Label):
			bad(p+".label", "%q is not a label name: use letters, digits and _, not starting with a digit (it becomes tag_<label>)", t.Label)
			continue
		case t.Label == "" && !mappableTagKey.MatchString(t.Key):
			bad(p, "tag key %q has characters a label name cannot hold; name the label with the rename form: - {key: %s, label: dept} (becomes tag_dept)",
				t.Key, t.Key)
			continue
		}
		name := t.Name()
		if prev, dup := nameOf[name]; dup {
			bad(p, "tag keys %q and %q both become label %q; give one a label with the rename form {key: ..., label: ...}", prev, t.Key, name)
		}
		nameOf[name] = t.Key
	}
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
