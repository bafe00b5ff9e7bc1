package collector

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestBadConfigs: each file in testdata/config/bad holds one mistake and, on
// its first line, the exact message a user must see ("# want: ...").
func TestBadConfigs(t *testing.T) {
	t.Setenv(envAccessKeyID, "")
	t.Setenv(envAccessKeySecret, "")
	files, err := filepath.Glob("testdata/config/bad/*.yml")
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
	_, err := LoadFile("testdata/config/nope.yml")
	if want := `config file "testdata/config/nope.yml": cannot open: no such file or directory`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestEmptyConfigIsAllDefaults(t *testing.T) {
	cfg, err := LoadFile("testdata/config/good/empty.yml")
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
	if q := cfg.Queries(); len(q) != 1 || q[0] != "" {
		t.Errorf("no biz_regions must mean one unfiltered query, got %q", q)
	}
}

func TestFullConfig(t *testing.T) {
	cfg, err := LoadFile("testdata/config/good/full.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Credentials.AccessKeySecretFile != "testdata/config/good/secret.txt" {
		t.Errorf("a relative secret file must resolve against the config's directory, got %q", cfg.Credentials.AccessKeySecretFile)
	}
	if cfg.EndpointURL().String() != "http://127.0.0.1:8080" || cfg.PageSize != 50 || cfg.CacheTTL.D() != 2*time.Minute ||
		cfg.Filters.Tags["department"] != "design" || len(cfg.Filters.Status) != 2 || cfg.Location() != time.UTC {
		t.Errorf("values not read: %+v", cfg)
	}
	if got := cfg.Summary(); !strings.Contains(got, "assuming acs:ram::1234567890123456:role/appstream-reader") {
		t.Errorf("summary %q does not mention the role", got)
	}
}

// TestExampleConfigLoads keeps config.example.yml valid.
func TestExampleConfigLoads(t *testing.T) {
	t.Setenv(envAccessKeyID, "LTAI5tFromEnv")
	t.Setenv(envAccessKeySecret, "from-env")
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

func TestTagLabelName(t *testing.T) {
	for in, want := range map[string]string{"department": "tag_department", "cost-center": "tag_cost_center", "acs:rm:rgId": "tag_acs_rm_rgId", "部门": "tag___"} {
		if got := TagLabelName(in); got != want {
			t.Errorf("TagLabelName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExampleCredentialsBlockLoads uncomments the example's credentials
// block, so the keys it documents are keys the parser knows.
func TestExampleCredentialsBlockLoads(t *testing.T) {
	dir := t.TempDir()
	text := string(mustRead(t, "../config.example.yml"))
	start := strings.Index(text, "# credentials:")
	end := strings.Index(text, "# BizRegionId")
	block := strings.Replace(text[start:end], "# credentials:", "credentials:", 1)
	block = regexp.MustCompile(`(?m)^  # (\w+): `).ReplaceAllString(block, "  $1: ")
	text = text[:start] + block + text[end:]
	text = strings.ReplaceAll(text, "/etc/appstream_exporter/", dir+"/")
	write(t, dir+"/access_key_secret", "secret-value-for-test")
	write(t, dir+"/security_token", "token-value-for-test")
	write(t, dir+"/config.yml", text)
	cfg, err := LoadFile(dir + "/config.yml")
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Credentials
	if c == nil || c.AccessKeyID == "" || c.AccessKeySecretFile == "" || c.SecurityTokenFile == "" || c.RoleARN == "" || c.RoleSessionName == "" {
		t.Errorf("credentials block not fully read: %+v", c)
	}
}
