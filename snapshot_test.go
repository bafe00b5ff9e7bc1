package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// TestSnapshotRoundTrip is the README's record and replay: a snapshot of
// a fleet (here 45 groups with sessions over two biz regions), served
// with --demo --demo.data and the same config file, gives the same number
// of series in every family, and none of the fleet's group IDs, names or
// tag values.
func TestSnapshotRoundTrip(t *testing.T) {
	key := simulator.Key{ID: "LTAI5tSnapshotTest", Secret: "snapshot-test-secret-value"}
	sim := simulator.New(key)
	data, err := simulator.Generate(45, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if data, err = simulator.WithSessions(data, time.Now(), simulator.DemoSessions); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetData(data); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sim)
	defer api.Close()
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config.yml", fmt.Sprintf(`endpoint: %s
credentials: {access_key_id: %s, access_key_secret: %s}
biz_regions: [cn-shanghai, cn-hangzhou]
tag_labels: [department]
app_instances: {enabled: true}
# A filter on a value the snapshot replaces: it chose the snapshot's
# groups, and the replay serves them without it.
filters: {tags: {department: engineering}}
`, api.URL, key.ID, key.Secret))
	snap := filepath.Join(dir, "snapshot.json")

	r := runBinary(t, "--config.file", cfg, "--snapshot.dump", snap)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "OK: snapshot") {
		t.Fatalf("--snapshot.dump: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	original := startExporter(t, "--config.file", cfg)
	replay := startExporter(t, "--demo", "--demo.data", snap, "--config.file", cfg)
	var want, got string
	original.waitFor("session counts", func() bool {
		want = original.metrics()
		return strings.Contains(want, "aliyun_appstream_group_sessions_connected{")
	})
	replay.waitFor("session counts", func() bool {
		got = replay.metrics()
		return strings.Contains(got, "aliyun_appstream_group_sessions_connected{")
	})
	if w, g := familyCounts(want), familyCounts(got); !slices.Equal(w, g) {
		t.Errorf("series per family differ:\noriginal: %v\nreplay:   %v", w, g)
	}
	text, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{"group_id", "group_name", "tag_department", "node_pool_id", "app_name"} {
		values := regexp.MustCompile(label+`="([^"]+)"`).FindAllStringSubmatch(want, -1)
		if len(values) == 0 {
			t.Fatalf("the original has no %s", label)
		}
		for _, v := range values {
			if strings.Contains(got, `"`+v[1]+`"`) || strings.Contains(string(text), `"`+v[1]+`"`) {
				t.Errorf("%s %q of the fleet is in the replay or the snapshot", label, v[1])
				break
			}
		}
	}
	for _, secret := range []string{key.ID, key.Secret} {
		if strings.Contains(string(text), secret) {
			t.Errorf("the snapshot contains %q", secret)
		}
	}
	if n := strings.Count(want, "aliyun_appstream_group_info{"); n == 0 || n == 45 {
		t.Errorf("%d groups: the filter chose none or all of them", n)
	}

	// A snapshot of one account replayed with a file of two is refused.
	two := writeFile(t, dir, "two.yml", "accounts:\n  - name: a\n  - name: b\n")
	assertOneLineError(t, runBinary(t, "--demo", "--demo.data", snap, "--config.file", two, "--web.listen-address", freeAddr(t)),
		"the snapshot has 1 account(s) and "+two+" 2")
}

// familyCounts is "family series" per aliyun_appstream_ family of an
// exposition, sorted, without the demo's own mark.
func familyCounts(exposition string) []string {
	counts := map[string]int{}
	for _, line := range strings.Split(exposition, "\n") {
		if !strings.HasPrefix(line, "aliyun_appstream_") || strings.HasPrefix(line, "aliyun_appstream_demo ") {
			continue
		}
		counts[line[:strings.IndexAny(line, "{ ")]]++
	}
	out := make([]string, 0, len(counts))
	for name, n := range counts {
		out = append(out, fmt.Sprintf("%s %d", name, n))
	}
	slices.Sort(out)
	return out
}
