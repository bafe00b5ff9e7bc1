package exporter

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
)

// TestTimestampForms feeds ExpiredTime in every RFC 3339 form Alibaba
// Cloud may send, and some it must not be read from, through the API and
// checks the instant served. The configured timezone is Europe/Berlin
// (UTC+2 on these dates), so a time without a zone is told apart from one
// read as UTC or as China time.
func TestTimestampForms(t *testing.T) {
	good, bad := goodTimestampForms(t), badTimestampForms
	var groups []string
	add := func(id, expired string) {
		g, _ := json.Marshal(map[string]string{"AppInstanceGroupId": id, "RegionId": "cn-shanghai", "Status": "PUBLISHED", "ExpiredTime": expired})
		groups = append(groups, string(g))
	}
	for i, c := range good {
		add(fmt.Sprintf("aig-good-%02d", i), c.in)
	}
	for i, in := range bad {
		add(fmt.Sprintf("aig-bad-%02d", i), in)
	}
	e := newEnv(t, nil, func(c *config.Config) { c.Timezone = "Europe/Berlin" })
	if err := e.sim.Load([]byte(`{"AppInstanceGroupModels":[` + strings.Join(groups, ",") + `]}`)); err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, e.scrape())
	logs := e.logs.String()
	for i, c := range good {
		id := fmt.Sprintf("aig-good-%02d", i)
		v, n := testkit.Find(mfs, "aliyun_appstream_group_expiry_timestamp_seconds", "group_id", id)
		if want := float64(c.want.UnixMilli()) / 1000; n != 1 || v != want {
			t.Errorf("%q: %d series, value %v; want %v (%s)", c.in, n, v, want, c.want.Format(time.RFC3339Nano))
		}
		if strings.Contains(logs, "group_id="+id+" field=ExpiredTime") {
			t.Errorf("%q: reported as unreadable", c.in)
		}
	}
	for i, in := range bad {
		id := fmt.Sprintf("aig-bad-%02d", i)
		if v, n := testkit.Find(mfs, "aliyun_appstream_group_expiry_timestamp_seconds", "group_id", id); n != 0 {
			t.Errorf("%q: read as %v, want rejected", in, time.UnixMilli(int64(v*1000)).UTC())
		}
		if !strings.Contains(logs, warnLine(id, "ExpiredTime")) {
			t.Errorf("%q: no warning", in)
		}
	}
}

// timestampForm is an ExpiredTime as the API sends it and the instant it
// must be read as.
type timestampForm struct {
	in   string
	want time.Time
}

// goodTimestampForms are the forms read, with the instants they are.
func goodTimestampForms(t *testing.T) []timestampForm {
	t.Helper()
	utc := func(s string) time.Time {
		ts, err := time.Parse("2006-01-02 15:04:05.999999999", s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	return []timestampForm{
		{"2022-04-26T15:06:16.000+00:00", utc("2022-04-26 15:06:16")},
		{"2022-09-01T00:00:00.000+08:00", utc("2022-08-31 16:00:00")},
		{"2022-09-01T00:00:00Z", utc("2022-09-01 00:00:00")},
		{"2022-09-01T00:00:00.123456789Z", utc("2022-09-01 00:00:00.123456789")},
		{"2022-09-01T00:00:00+0000", utc("2022-09-01 00:00:00")},
		{"2022-09-01T00:00:00.000+0800", utc("2022-08-31 16:00:00")},
		{"2022-09-01T00:00:00-0530", utc("2022-09-01 05:30:00")},
		{"2022-09-01T00:00:00+08", utc("2022-08-31 16:00:00")},
		{"2022-09-01T00:00:00-03", utc("2022-09-01 03:00:00")},
		{"2022-09-01t00:00:00z", utc("2022-09-01 00:00:00")},
		{"2022-09-01t08:00:00+08:00", utc("2022-09-01 00:00:00")},
		{"2022-09-01 00:00:00Z", utc("2022-09-01 00:00:00")},
		{"2022-09-01 00:00:00.5+08:00", utc("2022-08-31 16:00:00.5")},
		{"2022-09-01T00:00Z", utc("2022-09-01 00:00:00")},
		{"2022-09-01T00:00+08:00", utc("2022-08-31 16:00:00")},
		{"2022-09-01T00:00+0800", utc("2022-08-31 16:00:00")},
		{" 2022-09-01T00:00:00Z ", utc("2022-09-01 00:00:00")},
		// No zone: read in the configured timezone.
		{"2022-09-01 00:00:00", utc("2022-08-31 22:00:00")},
		{"2022-09-01T00:00:00", utc("2022-08-31 22:00:00")},
		{"2022-09-01T00:00:00.250", utc("2022-08-31 22:00:00.25")},
		{"2022-09-01t00:00", utc("2022-08-31 22:00:00")},
		{"2022-01-15 12:00:00", utc("2022-01-15 11:00:00")}, // winter: UTC+1
	}
}

// badTimestampForms are forms no instant may be read from.
var badTimestampForms = []string{
	"not-a-time",
	"2022-09-01",
	"1661990400",
	"2022-09-01X00:00:00Z",
	"2022-09-01T25:00:00Z",
	"2022-13-01T00:00:00Z",
	"2022-09-01T00:00:00+8",
	"2022-09-01T00:00:00+08:0",
	"2022-09-01T00:00:00+08:00:00",
	"2022-09-01T00:00:00 +08:00",
	"2022-09-01T00:00:00ZZ",
	"2022-09-01T00:00:00UTC",
	"2022-09-01T00Z",
	"2022-09-01T00:00.5Z",
	"2022-09-01T00:00:00:00Z",
	"01/09/2022 00:00",
}

// TestZonelessTimeLoggedOnce: times without a zone are logged at info
// level once per field for the exporter, not per group or per refresh.
func TestZonelessTimeLoggedOnce(t *testing.T) {
	var groups []string
	for i := range 3 {
		groups = append(groups, fmt.Sprintf(`{"AppInstanceGroupId":"aig-%d","Status":"PUBLISHED","ExpiredTime":"2022-09-0%d 00:00:00","GmtCreate":"2022-01-0%d 08:00:00"}`, i, i+1, i+1))
	}
	groups = append(groups, `{"AppInstanceGroupId":"aig-zoned","Status":"PUBLISHED","ExpiredTime":"2022-09-01T00:00:00+08:00","GmtCreate":"2022-01-01T00:00:00Z"}`)
	e := newEnv(t, nil, nil)
	if err := e.sim.Load([]byte(`{"AppInstanceGroupModels":[` + strings.Join(groups, ",") + `]}`)); err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, e.scrape())
	e.clock.Advance(2 * time.Minute) // past cache_ttl: a second refresh
	requests := e.sim.Requests()
	e.scrape()
	if e.sim.Requests() == requests {
		t.Fatal("the second scrape did not refresh")
	}
	shanghai := time.FixedZone("CST", 8*3600)
	if v, want := testkit.Value(t, mfs, "aliyun_appstream_group_expiry_timestamp_seconds", "group_id", "aig-0"), float64(time.Date(2022, 9, 1, 0, 0, 0, 0, shanghai).Unix()); v != want {
		t.Errorf("zone-less ExpiredTime read as %v, want %v (Asia/Shanghai, the default timezone)", v, want)
	}
	logs := e.logs.String()
	const msg = `level=INFO msg="time without a zone in API answer; read in the configured timezone" biz_region="" `
	for _, field := range []string{"ExpiredTime", "GmtCreate"} {
		line := msg + "field=" + field + " timezone=Asia/Shanghai example="
		if n := strings.Count(logs, line); n != 1 {
			t.Errorf("%d log lines %q over 3 groups and 2 refreshes, want 1:\n%s", n, line, logs)
		}
	}
	if n := strings.Count(logs, "time without a zone"); n != 2 {
		t.Errorf("%d zone-less log lines, want 2:\n%s", n, logs)
	}
	if strings.Contains(logs, "level=WARN") {
		t.Errorf("a zone-less time was logged as a problem:\n%s", logs)
	}
}
