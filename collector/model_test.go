package collector

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
)

func TestBadFieldsAreLoggedOnce(t *testing.T) {
	e := goldenEnv(t)
	e.scrape()
	e.clock.Advance(2 * time.Minute)
	e.scrape()
	logs := e.logs.String()
	warn := strings.Count(logs, `level=WARN msg="unreadable field in API answer; its series is dropped" biz_region="" group_id=aig-edge-bad field=ScalingUsageThreshold`)
	debug := strings.Count(logs, `level=DEBUG msg="unreadable field in API answer; its series is dropped" biz_region="" group_id=aig-edge-bad field=ScalingUsageThreshold`)
	if warn != 1 || debug != 1 {
		t.Errorf("bad field logged %d times at warn and %d at debug over two refreshes, want 1 and 1:\n%s", warn, debug, logs)
	}
	for _, field := range []string{"field=MaxAmount", "field=ExpiredTime", "field=OtaInfo", "field=NodePool", "field=Apps", "field=SkipUserAuthCheck", "field=AppInstanceGroupId"} {
		if !strings.Contains(logs, field) {
			t.Errorf("no log line for %s", field)
		}
	}
}

func TestScheduleWindows(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	at := func(s string) time.Time {
		ts, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	date := func(s string) time.Time { return at(s + " 00:00") }
	rule := func(days []int, periods ...timerPeriod) scheduleRule {
		var r scheduleRule
		for _, d := range days {
			r.weekdays[d] = true
		}
		r.periods = periods
		return r
	}
	weekdays := []int{1, 2, 3, 4, 5}
	office := rule(weekdays, timerPeriod{start: 9*60 + 30, end: 18 * 60, amount: 5, hasAmount: true})
	night := rule([]int{5}, timerPeriod{start: 22 * 60, end: 6 * 60, amount: 2, hasAmount: true})
	wholeDay := rule([]int{6}, timerPeriod{start: 0, end: 24 * 60})
	// 2022-08-15 is a Monday.
	cases := []struct {
		name      string
		s         poolSchedule
		now       string
		active    bool
		target    float64
		hasTarget bool
	}{
		{"inside window", poolSchedule{rules: []scheduleRule{office}}, "2022-08-15 10:00", true, 5, true},
		{"start is inclusive", poolSchedule{rules: []scheduleRule{office}}, "2022-08-15 09:30", true, 5, true},
		{"end is exclusive", poolSchedule{rules: []scheduleRule{office}}, "2022-08-15 18:00", false, 0, false},
		{"weekend", poolSchedule{rules: []scheduleRule{office}}, "2022-08-20 10:00", false, 0, false},
		{"before enable date", poolSchedule{rules: []scheduleRule{office}, enable: date("2022-08-16")}, "2022-08-15 10:00", false, 0, false},
		{"on enable date", poolSchedule{rules: []scheduleRule{office}, enable: date("2022-08-15")}, "2022-08-15 10:00", true, 5, true},
		{"on disable date", poolSchedule{rules: []scheduleRule{office}, disable: date("2022-08-15")}, "2022-08-15 10:00", false, 0, false},
		{"day before disable date", poolSchedule{rules: []scheduleRule{office}, disable: date("2022-08-16")}, "2022-08-15 17:59", true, 5, true},
		{"overnight, evening of the listed day", poolSchedule{rules: []scheduleRule{night}}, "2022-08-19 23:00", true, 2, true},
		{"overnight, morning after", poolSchedule{rules: []scheduleRule{night}}, "2022-08-20 05:59", true, 2, true},
		{"overnight, morning of the listed day", poolSchedule{rules: []scheduleRule{night}}, "2022-08-19 05:00", false, 0, false},
		{"24:00 end, no amount", poolSchedule{rules: []scheduleRule{wholeDay}}, "2022-08-20 23:59", true, 0, false},
		{"largest target of overlapping windows", poolSchedule{rules: []scheduleRule{office, rule(weekdays, timerPeriod{start: 0, end: 12 * 60, amount: 9, hasAmount: true})}}, "2022-08-15 11:00", true, 9, true},
	}
	for _, c := range cases {
		c.s.loc = shanghai
		active, target, ok := c.s.at(at(c.now).UTC())
		if active != c.active || target != c.target || ok != c.hasTarget {
			t.Errorf("%s: at(%s) = %v, %v, %v; want %v, %v, %v", c.name, c.now, active, target, ok, c.active, c.target, c.hasTarget)
		}
	}
}

func TestParseClock(t *testing.T) {
	for in, want := range map[string]int{"09:30": 570, "00:00": 0, "24:00": 1440, "7:05": 425} {
		if got, ok := parseClock(in); !ok || got != want {
			t.Errorf("parseClock(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "9", "25:00", "24:01", "10:60", "aa:bb"} {
		if _, ok := parseClock(in); ok {
			t.Errorf("parseClock(%q) accepted", in)
		}
	}
}

// TestDuplicateAcrossQueries: a group two queries both return is written
// once; the same ID in another region is a different group.
func TestDuplicateAcrossQueries(t *testing.T) {
	cfg := validDefaultConfig(t)
	mk := func(ids ...string) *snapshot {
		var groups []*aliyun.Group
		for i := 0; i+1 < len(ids); i += 2 {
			groups = append(groups, &aliyun.Group{AppInstanceGroupID: aliyun.Str{V: ids[i], Set: true}, RegionID: aliyun.Str{V: ids[i+1], Set: true}, Amount: aliyun.Num{V: 1, Set: true}})
		}
		return newRenderer(cfg, nil).renderAll(groups, "")
	}
	v := &view{states: []queryState{
		{snap: mk("aig-1", "cn-shanghai", "aig-2", "cn-shanghai")},
		{snap: mk("aig-1", "cn-shanghai", "aig-1", "cn-hangzhou")},
		{snap: mk("aig-2", "cn-shanghai", "aig-3", "cn-shanghai")},
	}}
	var buf bytes.Buffer
	if err := v.writeSeries(bufio.NewWriter(&buf)); err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, buf.String())
	if _, n := find(mfs, "aliyun_appstream_group_amount"); n != 4 {
		t.Errorf("%d group_amount series, want 4 (aig-1 and aig-2 in Shanghai once each):\n%s", n, buf.String())
	}
}

func validDefaultConfig(t *testing.T) *config.Config {
	cfg := config.DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}
