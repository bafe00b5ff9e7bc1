package config

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
)

// TestBadConfigs: each file in testdata/bad holds one mistake and, on
// its first line, the exact message a user must see ("# want: ...").
func TestBadConfigs(t *testing.T) {
	t.Setenv(EnvAccessKeyID, "")
	t.Setenv(EnvAccessKeySecret, "")
	files, err := filepath.Glob("testdata/bad/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad configs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want := wantLine(t, f)
			want = strings.ReplaceAll(want, "{{dir}}", filepath.Dir(f))
			_, err := LoadFile(f)
			if err == nil {
				t.Fatal("loaded without error")
			}
			if got, want := err.Error(), `config file "`+f+`": `+want; got != want {
				t.Errorf("\n got: %s\nwant: %s", got, want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows a secret: %v", err)
			}
		})
	}
}

func wantLine(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	want, ok := strings.CutPrefix(strings.TrimSpace(line), "# want: ")
	if !ok {
		t.Fatalf("%s: first line must be \"# want: <message>\"", path)
	}
	return want
}

func TestMissingConfigFile(t *testing.T) {
	_, err := LoadFile("testdata/nope.yml")
	if want := `config file "testdata/nope.yml": cannot open: no such file or directory`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestEmptyConfigIsAllDefaults(t *testing.T) {
	cfg, err := LoadFile("testdata/good/empty.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.EndpointURL().String() != "https://appstream-center.cn-shanghai.aliyuncs.com" {
		t.Errorf("endpoint = %s; a bare host must mean HTTPS", cfg.EndpointURL())
	}
	if cfg.Credentials != nil || cfg.PageSize != 100 || cfg.CacheTTL.D() != time.Minute || cfg.MaxStale.D() != 10*time.Minute ||
		cfg.RefreshTimeout.D() != 20*time.Second || cfg.MaxConcurrentPages != 4 || cfg.Location().String() != "Asia/Shanghai" ||
		cfg.ProductType != "CloudApp" || cfg.RegionID != "cn-shanghai" {
		t.Errorf("defaults not applied: %+v", cfg)
	}
	if a := cfg.AppInstances; a.Enabled || a.CacheTTL.D() != time.Minute || a.MaxRequestsPerSecond != 5 || a.MaxConcurrentGroups != 4 ||
		!slices.Equal(a.GroupStatus, []string{"PUBLISHED"}) {
		t.Errorf("app_instances defaults not applied: %+v", a)
	}
	if q := cfg.Queries(); len(q) != 1 || q[0] != "" {
		t.Errorf("no biz_regions must mean one unfiltered query, got %q", q)
	}
}

func TestFullConfig(t *testing.T) {
	cfg, err := LoadFile("testdata/good/full.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Credentials.AccessKeySecretFile != "testdata/good/secret.txt" {
		t.Errorf("a relative secret file must resolve against the config's directory, got %q", cfg.Credentials.AccessKeySecretFile)
	}
	if cfg.EndpointURL().String() != "http://127.0.0.1:8080" || cfg.PageSize != 50 || cfg.CacheTTL.D() != 2*time.Minute ||
		!slices.Equal(cfg.Filters.Tags, TagFilters{{Key: "department", Value: "design"}}) || len(cfg.Filters.Status) != 2 || cfg.Location() != time.UTC {
		t.Errorf("values not read: %+v", cfg)
	}
	if a := cfg.AppInstances; !a.Enabled || a.CacheTTL.D() != 90*time.Second || a.MaxRequestsPerSecond != 2.5 || a.MaxConcurrentGroups != 2 ||
		!slices.Equal(a.GroupStatus, []string{"PUBLISHED", "MAINTAINING"}) {
		t.Errorf("app_instances not read: %+v", a)
	}
	if got := cfg.Summary(); !strings.Contains(got, "assuming acs:ram::1234567890123456:role/appstream-reader") {
		t.Errorf("summary %q does not mention the role", got)
	}
}

// TestExampleConfigLoads keeps config.example.yml valid.
func TestExampleConfigLoads(t *testing.T) {
	t.Setenv(EnvAccessKeyID, "LTAI5tFromEnv")
	t.Setenv(EnvAccessKeySecret, "from-env")
	if _, err := LoadFile("../config.example.yml"); err != nil {
		t.Fatal(err)
	}
}

func TestSecretNeverMarshalled(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Credentials = &Credentials{AccessKeyID: "LTAI5t", AccessKeySecret: "hunter2hunter2"}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "hunter2") || !strings.Contains(string(out), "<secret>") {
		t.Errorf("marshalled config:\n%s", out)
	}
	if s := fmt.Sprintf("%v %+v %s", cfg.Credentials, cfg, cfg.Credentials); strings.Contains(s, "hunter2") {
		t.Errorf("formatted config shows the secret: %s", s)
	}
}

func TestEndpointForms(t *testing.T) {
	for in, want := range map[string]string{
		"appstream-center.ap-southeast-1.aliyuncs.com":       "https://appstream-center.ap-southeast-1.aliyuncs.com",
		"appstream-center.cn-shanghai.aliyuncs.com:8443":     "https://appstream-center.cn-shanghai.aliyuncs.com:8443",
		"http://127.0.0.1:8080":                              "http://127.0.0.1:8080",
		"https://appstream-center.cn-shanghai.aliyuncs.com/": "https://appstream-center.cn-shanghai.aliyuncs.com",
	} {
		u, err := ParseEndpoint(in)
		if err != nil || u.String() != want {
			t.Errorf("ParseEndpoint(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
}

// TestTagLabels: plain keys map to tag_<key>; a key in any script takes
// the rename form; a key that cannot map alone is an error that shows it.
func TestTagLabels(t *testing.T) {
	cfg, err := Parse([]byte("tag_labels:\n  - department\n  - cost-center\n  - acs:rm:rgId\n  - key: 部门\n    label: dept\n  - {key: 成本中心, label: cost_centre}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range cfg.TagLabels {
		got = append(got, l.Key+"→"+l.Name())
	}
	want := []string{"department→tag_department", "cost-center→tag_cost_center", "acs:rm:rgId→tag_acs_rm_rgId", "部门→tag_dept", "成本中心→tag_cost_centre"}
	if !slices.Equal(got, want) {
		t.Errorf("labels %q, want %q", got, want)
	}
	if cfg.TagLabelsOn != TagLabelsOnAll {
		t.Errorf("tag_labels_on defaults to %q, want %q", cfg.TagLabelsOn, TagLabelsOnAll)
	}
	for text, wantErr := range map[string]string{
		"tag_labels: [部门]\n":                           `line 1: tag_labels[0]: tag key "部门" has characters a label name cannot hold; name the label with the rename form: - {key: 部门, label: dept} (becomes tag_dept)`,
		"tag_labels:\n  - key: 部门\n    label: 部门\n":    `line 3: tag_labels[0].label: "部门" is not a label name: use letters, digits and _, not starting with a digit (it becomes tag_<label>)`,
		"tag_labels:\n  - key: 部门\n    lable: dept\n":  `line 3: unknown key "lable" in tag_labels[0] (did you mean "label"?)`,
		"tag_labels: [dept, {key: 部门, label: dept}]\n": `line 1: tag_labels[1]: tag keys "dept" and "部门" both become label "tag_dept"; give one a label with the rename form {key: ..., label: ...}`,
		"tag_labels: [dept, dept]\n":                   `line 1: tag_labels[1]: tag key "dept" is already listed at tag_labels[0]; keep one`,
		"tag_labels_on: labels\n":                      `line 1: tag_labels_on: "labels": use "all" (tag labels on every group and pool series, the default) or "info" (only on aliyun_appstream_group_tags, joined by group_id and region)`,
	} {
		_, err := Parse([]byte(text), "")
		if err == nil || err.Error() != wantErr {
			t.Errorf("%q:\n got  %v\n want %s", text, err, wantErr)
		}
	}
}

// TestTagFilterForms: filters.tags as a mapping (sent in key order) or as
// a list, which can repeat a key as the API's Tag.N allows.
func TestTagFilterForms(t *testing.T) {
	cfg, err := Parse([]byte("filters:\n  tags: {team: b, department: a}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if want := (TagFilters{{"department", "a"}, {"team", "b"}}); !slices.Equal(cfg.Filters.Tags, want) {
		t.Errorf("mapping form: %v, want %v", cfg.Filters.Tags, want)
	}
	cfg, err = Parse([]byte("filters:\n  tags:\n    - {key: 部门, value: 设计}\n    - key: 部门\n      value: 研发\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if want := (TagFilters{{"部门", "设计"}, {"部门", "研发"}}); !slices.Equal(cfg.Filters.Tags, want) {
		t.Errorf("list form: %v, want %v", cfg.Filters.Tags, want)
	}
	for text, wantErr := range map[string]string{
		"filters:\n  tags:\n    - {key: a, value: b}\n    - {key: a, value: b}\n": "line 4: filters.tags[1]: tag a=b is listed twice; keep one",
		"filters:\n  tags:\n    - {key: a, vale: b}\n":                            `line 3: unknown key "vale" in filters.tags[0] (did you mean "value"?)`,
		"filters:\n  tags:\n    - {value: b}\n":                                   "line 3: filters.tags[0]: a tag key must not be empty",
	} {
		_, err := Parse([]byte(text), "")
		if err == nil || err.Error() != wantErr {
			t.Errorf("%q:\n got  %v\n want %s", text, err, wantErr)
		}
	}
}

// TestStatusFilter: a documented status loads quietly, a case slip is an
// error, and an undocumented one loads with a warning so a status the API
// adds later can be filtered before the exporter knows it.
func TestStatusFilter(t *testing.T) {
	cfg, err := Parse([]byte("biz_regions: [cn-hangzhou]\nfilters:\n  status: [PUBLISHED, PAUSED, PUBLISH]\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	documented := "Documented values: " + strings.Join(GroupStatuses, ", ")
	want := []string{
		`line 3: filters.status[1]: "PAUSED" is not a documented status; it is sent as it is and matches only groups with exactly that status. ` + documented,
		`line 3: filters.status[2]: "PUBLISH" is not a documented status (did you mean PUBLISHED?); it is sent as it is and matches only groups with exactly that status. ` + documented,
	}
	if got := cfg.Warnings(); !slices.Equal(got, want) {
		t.Errorf("warnings:\n got  %q\n want %q", got, want)
	}
	_, err = Parse([]byte("filters:\n  status: [published]\n"), "")
	if want := `line 2: filters.status[0]: "published": did you mean PUBLISHED? The API's value is case-sensitive`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestAppInstancesStatusWarnings: app_instances.group_status takes the
// same statuses as filters.status, and says when the groups it names are
// never listed.
func TestAppInstancesStatusWarnings(t *testing.T) {
	cfg, err := Parse([]byte("biz_regions: [cn-hangzhou]\nfilters:\n  status: [FAILED]\napp_instances:\n  enabled: true\n  group_status: [PUBLISHED, PAUSED]\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`line 6: app_instances.group_status[1]: "PAUSED" is not a documented status; it selects only groups with exactly that status. Documented values: ` + strings.Join(GroupStatuses, ", "),
		`line 6: app_instances.group_status: none of PUBLISHED, PAUSED is in filters.status, so no group is listed whose sessions would be counted; add one of them to filters.status`,
	}
	if got := cfg.Warnings(); !slices.Equal(got, want) {
		t.Errorf("warnings:\n got  %q\n want %q", got, want)
	}
	// Off, the block is checked but warns of nothing it would not do.
	cfg, err = Parse([]byte("biz_regions: [cn-hangzhou]\nfilters:\n  status: [FAILED]\napp_instances:\n  cache_ttl: 1s\n"), "")
	if err != nil || len(cfg.Warnings()) != 0 {
		t.Errorf("disabled: %v, warnings %q", err, cfg.Warnings())
	}
}

// TestEmptyBizRegionsWarns: one unfiltered query depends on the service
// ignoring the RegionId every request carries; the warning says so.
func TestEmptyBizRegionsWarns(t *testing.T) {
	cfg, err := Parse([]byte("region_id: cn-beijing\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.Warnings()
	if len(w) != 1 || !strings.HasPrefix(w[0], "biz_regions: is empty: one query without BizRegionId. Every request also carries RegionId=cn-beijing") ||
		!strings.Contains(w[0], "List the regions to query, e.g. [cn-beijing, cn-hangzhou]") {
		t.Errorf("warnings %q", w)
	}
	if cfg, err = Parse([]byte("biz_regions: [cn-beijing]\n"), ""); err != nil || len(cfg.Warnings()) != 0 {
		t.Errorf("biz_regions listed: %v, warnings %q", err, cfg.Warnings())
	}
}

// TestExampleCredentialsBlockLoads uncomments the example's credentials
// block, so the keys it documents are keys the parser knows.
func TestExampleCredentialsBlockLoads(t *testing.T) {
	dir := t.TempDir()
	text := string(testkit.MustRead(t, "../config.example.yml"))
	start := strings.Index(text, "# credentials:")
	end := strings.Index(text, "# BizRegionId")
	block := strings.Replace(text[start:end], "# credentials:", "credentials:", 1)
	block = regexp.MustCompile(`(?m)^  # (\w+): `).ReplaceAllString(block, "  $1: ")
	text = text[:start] + block + text[end:]
	text = strings.ReplaceAll(text, "/etc/appstream_exporter/", dir+"/")
	testkit.WriteFile(t, dir+"/access_key_secret", "secret-value-for-test")
	testkit.WriteFile(t, dir+"/security_token", "token-value-for-test")
	testkit.WriteFile(t, dir+"/config.yml", text)
	cfg, err := LoadFile(dir + "/config.yml")
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Credentials
	if c == nil || c.AccessKeyID == "" || c.AccessKeySecretFile == "" || c.SecurityTokenFile == "" || c.RoleARN == "" || c.RoleSessionName == "" {
		t.Errorf("credentials block not fully read: %+v", c)
	}
}

// TestSecretPastedIntoFileKey: a secret written where a file path belongs
// must not be echoed, neither by the config check nor by the read at
// signing time; a real path that is only missing is still named.
func TestSecretPastedIntoFileKey(t *testing.T) {
	t.Setenv(EnvAccessKeySecret, "")
	dir := t.TempDir()
	secrets := []string{
		"LTAI5tSecretValue123abc/xyz+=",
		"LTAI5tSecretValue123abc",
		"Xy9k_LmN0pQrStUvWxYz1234AbCdEf", // base64url carries "_" and "-"
		"eyJhbGciOi-JIUzI1NiJ9.eyJzdWIiOiIx",
		"WlsqJZ8mTQ3hp0TCaqRaxvPS6gHHTr", // the shape of an AccessKey secret
		"/LTAI5tSecretValue123abc/xyz+=",
		"CAIS8QF1q6Ft5B2yfSjIr5bSEsj4oe1K1ZuGcV3Yh2UgYvpa3qPDhTz2IHhMdXRvAOsdsfQ/mmhW6/YYlqx0+Q==",
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJlLXZhbHVlLWZvci10ZXN0cw",
	}
	for _, secret := range secrets {
		for _, key := range []string{"access_key_secret_file", "security_token_file"} {
			text := fmt.Sprintf("credentials:\n  access_key_id: LTAI5tExample\n  %s: %q\n", key, secret)
			if key == "security_token_file" {
				text += "  access_key_secret: some-secret-value\n"
			}
			_, err := Parse([]byte(text), dir)
			if err == nil {
				t.Fatalf("%s: %q accepted", key, secret)
			}
			assertHidden(t, err, secret)
			if want := "credentials." + key + ": file not found (value hidden: it may be a secret pasted by mistake)"; !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q: got %v, want %q", key, secret, err, want)
			}
		}
		path := secret
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, secret)
		}
		_, err := ReadSecretFile(path)
		assertHidden(t, err, secret)
	}

	// A missing file in an existing directory is a path: naming it helps.
	if err := os.Mkdir(filepath.Join(dir, "credentials"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"secret", "access-key-secret", "does-not-exist.txt", "credentials/access_key_secret", filepath.Join(dir, "credentials", "token")} {
		text := fmt.Sprintf("credentials:\n  access_key_id: LTAI5tExample\n  access_key_secret_file: %s\n", name)
		_, err := Parse([]byte(text), dir)
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, name)
		}
		if want := fmt.Sprintf("line 3: credentials.access_key_secret_file: file %q not found", path); err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %s", name, err, want)
		}
	}

	// An existing file that cannot be used says why, with its path.
	empty := filepath.Join(dir, "empty")
	testkit.WriteFile(t, empty, " \n")
	if _, err := ReadSecretFile(empty); err == nil || err.Error() != fmt.Sprintf("%q is empty", empty) {
		t.Errorf("empty file: %v", err)
	}
	folder := filepath.Join(dir, "credentials")
	if _, err := ReadSecretFile(folder); err == nil || err.Error() != fmt.Sprintf("%q: cannot read: is a directory", folder) {
		t.Errorf("directory: %v", err)
	}
	if os.Geteuid() != 0 { // root reads any file
		locked := filepath.Join(dir, "locked")
		testkit.WriteFile(t, locked, "secret-value")
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadSecretFile(locked); err == nil || err.Error() != fmt.Sprintf("%q: cannot open: permission denied", locked) {
			t.Errorf("unreadable file: %v", err)
		}
	}
}

// assertHidden fails if err shows the secret or any long piece of it.
func assertHidden(t *testing.T, err error, secret string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%q: no error", secret)
	}
	for _, piece := range append(strings.FieldsFunc(secret, func(r rune) bool { return r == '/' || r == '.' }), secret) {
		if len(piece) >= 6 && strings.Contains(err.Error(), piece) {
			t.Errorf("the error shows %q of the value %q: %v", piece, secret, err)
		}
	}
}

// TestStrictKeysStillAcceptValidValues: the checks against near-misses leave
// the values they border on alone.
func TestStrictKeysStillAcceptValidValues(t *testing.T) {
	for _, text := range []string{
		"cache_ttl: 5s\n",
		"page_size: 8\nmax_concurrent_pages: 2\n",
		"product_type: CloudApp\n",
		"product_type: CloudDesktop\n", // other products are the API's to judge
		"timezone: UTC\n",
		"timezone: Asia/Shanghai\n",
		"biz_regions:\n- cn-hangzhou\n- cn-shanghai\nfilters:\n  status:\n  - PUBLISHED\n  tags:\n    department: design\n",
	} {
		if _, err := Parse([]byte(text), ""); err != nil {
			t.Errorf("%q: %v", text, err)
		}
	}
}

// TestShortCacheTTLWarns: a cache_ttl below 5s loads (stress tests use it)
// with a warning that names the line and says what to do.
func TestShortCacheTTLWarns(t *testing.T) {
	cfg, err := Parse([]byte("biz_regions: [cn-shanghai]\ncache_ttl: 2s\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	want := "line 2: cache_ttl: 2s is below 5s: nearly every scrape calls the API and may be throttled; use 5s or more (the default is 60s) unless this is a test"
	if w := cfg.Warnings(); len(w) != 1 || w[0] != want {
		t.Errorf("warnings %q, want [%q]", w, want)
	}
	cfg, err = Parse([]byte("biz_regions: [cn-shanghai]\ncache_ttl: 5s\n"), "")
	if err != nil || len(cfg.Warnings()) != 0 {
		t.Errorf("cache_ttl 5s: %v, warnings %q", err, cfg.Warnings())
	}
}

// TestExampleTagBlocksLoad: the commented tag_labels and filters.tags
// examples in config.example.yml load and mean what they say.
func TestExampleTagBlocksLoad(t *testing.T) {
	example := string(testkit.MustRead(t, "../config.example.yml"))
	block := func(after, indent string) string {
		_, rest, ok := strings.Cut(example, after+"\n")
		if !ok {
			t.Fatalf("config.example.yml has no %q", after)
		}
		var out []string
		for _, line := range strings.Split(rest, "\n") {
			body, ok := strings.CutPrefix(strings.TrimLeft(line, " "), "#   ")
			if !ok {
				break
			}
			out = append(out, indent+body)
		}
		return strings.Join(out, "\n") + "\n"
	}
	cfg, err := Parse([]byte("tag_labels:\n"+block("tag_labels: []\n# Example:", "  ")+
		"filters:\n  tags:\n"+block("  # Example:", "    ")), "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range cfg.TagLabels {
		names = append(names, l.Name())
	}
	if want := []string{"tag_department", "tag_cost_center", "tag_dept"}; !slices.Equal(names, want) {
		t.Errorf("example tag_labels give %q, want %q", names, want)
	}
	if want := (TagFilters{{"部门", "设计"}, {"cost-center", "cc-42"}}); !slices.Equal(cfg.Filters.Tags, want) {
		t.Errorf("example filters.tags give %v, want %v", cfg.Filters.Tags, want)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 120000: "120,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestAccounts: each account is the top level with its own keys over it;
// nothing of one account's values is shared with another's.
func TestAccounts(t *testing.T) {
	const file = `
cache_ttl: 2m
tag_labels: [department]
max_concurrent_requests: 6
accounts:
  - name: cn-prod
    endpoint: appstream-center.cn-shanghai.aliyuncs.com
    credentials: {access_key_id: LTAI5tA, access_key_secret: secret-a}
    biz_regions: [cn-shanghai, cn-hangzhou]
    filters: {status: [PUBLISHED]}
  - name: intl
    endpoint: appstream-center.ap-southeast-1.aliyuncs.com
    region_id: ap-southeast-1
    credentials: {access_key_id: LTAI5tB, access_key_secret: secret-b}
    cache_ttl: 30s
    tag_labels: [team]
    app_instances: {enabled: true}
`
	cfg, err := Parse([]byte(file), "")
	if err != nil {
		t.Fatal(err)
	}
	accounts := cfg.AccountConfigs()
	if len(accounts) != 2 {
		t.Fatalf("%d accounts, want 2", len(accounts))
	}
	prod, intl := accounts[0], accounts[1]
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"names", []string{prod.Account(), intl.Account()}, []string{"cn-prod", "intl"}},
		{"endpoints", []string{prod.EndpointURL().Host, intl.EndpointURL().Host}, []string{"appstream-center.cn-shanghai.aliyuncs.com", "appstream-center.ap-southeast-1.aliyuncs.com"}},
		{"region_id", []string{prod.RegionID, intl.RegionID}, []string{DefaultRegionID, "ap-southeast-1"}},
		{"access keys", []string{prod.Credentials.AccessKeyID, intl.Credentials.AccessKeyID}, []string{"LTAI5tA", "LTAI5tB"}},
		{"queries", [][]string{prod.Queries(), intl.Queries()}, [][]string{{"cn-shanghai", "cn-hangzhou"}, {""}}},
		{"filters", [][]string{prod.Filters.Status, intl.Filters.Status}, [][]string{{"PUBLISHED"}, nil}},
		{"cache_ttl: the top level's, or the account's", []time.Duration{prod.CacheTTL.D(), intl.CacheTTL.D()}, []time.Duration{2 * time.Minute, 30 * time.Second}},
		{"tag labels", []string{prod.TagLabels[0].Key, intl.TagLabels[0].Key}, []string{"department", "team"}},
		{"app_instances: the account's keys over the defaults", []any{prod.AppInstances.Enabled, intl.AppInstances.Enabled, intl.AppInstances.MaxRequestsPerSecond}, []any{false, true, float64(DefaultAppInstancesMaxRequestsPerSecond)}},
		{"the global limit", cfg.MaxConcurrentRequests, 6},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
	if s := cfg.Summary(); !strings.Contains(s, "2 accounts: cn-prod (endpoint https://appstream-center.cn-shanghai.aliyuncs.com") || strings.Contains(s, "secret-") {
		t.Errorf("summary: %s", s)
	}

	again, _ := Parse([]byte(file), "")
	if !cfg.Equal(again) {
		t.Error("the same file parsed twice is not Equal")
	}
	changed, _ := Parse([]byte(strings.Replace(file, "cache_ttl: 30s", "cache_ttl: 40s", 1)), "")
	if cfg.Equal(changed) {
		t.Error("a changed account's cache_ttl is Equal")
	}

	single, err := Parse([]byte("credentials: {access_key_id: LTAI5tA, access_key_secret: s}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := single.AccountConfigs(); len(got) != 1 || got[0] != single || single.Account() != "" {
		t.Errorf("single-account form: %d configs, account %q; want itself, no account name", len(got), single.Account())
	}
}

// TestExampleAccountsBlockLoads: the commented accounts example in
// config.example.yml loads as the two accounts it describes.
func TestExampleAccountsBlockLoads(t *testing.T) {
	dir := t.TempDir()
	text := string(testkit.MustRead(t, "../config.example.yml"))
	start := strings.Index(text, "# accounts:")
	if start < 0 {
		t.Fatal("config.example.yml has no accounts example")
	}
	var lines []string
	for _, line := range strings.Split(text[start:], "\n") {
		if body, ok := strings.CutPrefix(line, "# "); ok {
			lines = append(lines, body)
		}
	}
	block := strings.ReplaceAll(strings.Join(lines, "\n"), "/etc/appstream-exporter/", dir+"/")
	testkit.WriteFile(t, dir+"/cn-prod.secret", "secret-a")
	testkit.WriteFile(t, dir+"/intl.secret", "secret-b")
	testkit.WriteFile(t, dir+"/config.yml", block)
	cfg, err := LoadFile(dir + "/config.yml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ac := range cfg.AccountConfigs() {
		names = append(names, ac.Account())
	}
	if !reflect.DeepEqual(names, []string{"cn-prod", "intl"}) {
		t.Errorf("accounts %v, want [cn-prod intl]", names)
	}
}
