package exposition

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
)

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
		s         *poolSchedule
		now       string
		active    bool
		target    float64
		hasTarget bool
	}{
		{"inside window", &poolSchedule{rules: []scheduleRule{office}}, "2022-08-15 10:00", true, 5, true},
		{"start is inclusive", &poolSchedule{rules: []scheduleRule{office}}, "2022-08-15 09:30", true, 5, true},
		{"end is exclusive", &poolSchedule{rules: []scheduleRule{office}}, "2022-08-15 18:00", false, 0, false},
		{"weekend", &poolSchedule{rules: []scheduleRule{office}}, "2022-08-20 10:00", false, 0, false},
		{"before enable date", &poolSchedule{rules: []scheduleRule{office}, enable: date("2022-08-16")}, "2022-08-15 10:00", false, 0, false},
		{"on enable date", &poolSchedule{rules: []scheduleRule{office}, enable: date("2022-08-15")}, "2022-08-15 10:00", true, 5, true},
		{"on disable date", &poolSchedule{rules: []scheduleRule{office}, disable: date("2022-08-15")}, "2022-08-15 10:00", false, 0, false},
		{"day before disable date", &poolSchedule{rules: []scheduleRule{office}, disable: date("2022-08-16")}, "2022-08-15 17:59", true, 5, true},
		{"overnight, evening of the listed day", &poolSchedule{rules: []scheduleRule{night}}, "2022-08-19 23:00", true, 2, true},
		{"overnight, morning after", &poolSchedule{rules: []scheduleRule{night}}, "2022-08-20 05:59", true, 2, true},
		{"overnight, morning of the listed day", &poolSchedule{rules: []scheduleRule{night}}, "2022-08-19 05:00", false, 0, false},
		{"24:00 end, no amount", &poolSchedule{rules: []scheduleRule{wholeDay}}, "2022-08-20 23:59", true, 0, false},
		{"largest target of overlapping windows", &poolSchedule{rules: []scheduleRule{office, rule(weekdays, timerPeriod{start: 0, end: 12 * 60, amount: 9, hasAmount: true})}}, "2022-08-15 11:00", true, 9, true},
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
	cfg := testConfig(t, nil)
	mk := func(ids ...string) *Snapshot {
		var groups []*aliyun.Group
		for i := 0; i+1 < len(ids); i += 2 {
			groups = append(groups, &aliyun.Group{AppInstanceGroupID: aliyun.Str{V: ids[i], Set: true}, RegionID: aliyun.Str{V: ids[i+1], Set: true}, Amount: aliyun.Num{V: 1, Set: true}})
		}
		return Render(cfg, nil, groups, "", time.Time{}, 1).Snapshot
	}
	text := writeText(t, time.Time{},
		mk("aig-1", "cn-shanghai", "aig-2", "cn-shanghai"),
		mk("aig-1", "cn-shanghai", "aig-1", "cn-hangzhou"),
		mk("aig-2", "cn-shanghai", "aig-3", "cn-shanghai"))
	if n := len(parse(t, text)["aliyun_appstream_group_amount"].GetMetric()); n != 4 {
		t.Errorf("%d group_amount series, want 4 (aig-1 and aig-2 in Shanghai once each):\n%s", n, text)
	}
}

// TestNextRemembered: next and at answer from their last answers only
// while those hold; at times in any order they answer as fresh look-ups.
func TestNextRemembered(t *testing.T) {
	for _, zone := range []string{"Asia/Shanghai", "Europe/Berlin", "America/Santiago"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Skip("no time zone data:", err)
		}
		var office, night scheduleRule
		for d := 1; d <= 5; d++ {
			office.weekdays[d] = true
		}
		office.periods = []timerPeriod{{start: 9*60 + 30, end: 18 * 60, amount: 5, hasAmount: true}, {start: 13 * 60, end: 14 * 60, amount: 7, hasAmount: true}}
		night.weekdays[5], night.weekdays[7] = true, true
		night.periods = []timerPeriod{{start: 2*60 + 30, end: 6 * 60, amount: 2, hasAmount: true}}
		base := time.Date(2026, 3, 20, 0, 0, 0, 0, loc) // DST changes in Berlin and Santiago within the weeks after
		s := &poolSchedule{loc: loc, rules: []scheduleRule{office, night},
			enable: base.AddDate(0, 0, 2), disable: base.AddDate(0, 0, 40)}
		rng := rand.New(rand.NewPCG(7, 8))
		hits := 0
		for i := range 3000 {
			now := base.Add(time.Duration(rng.Int64N(int64(45 * 24 * time.Hour))))
			if i < 2000 { // forward in small steps, as scrapes go, then anywhere
				now = s.enable.Add(time.Duration(i) * 47 * time.Second)
			}
			if w := s.nextSeen.Load(); w != nil && !now.Before(w.from) && now.Before(w.until) {
				hits++
			}
			active, target, has := s.at(now)
			if wantActive, wantTarget, wantHas := s.findAt(now); active != wantActive || target != wantTarget || has != wantHas {
				t.Fatalf("%s, at(%v) = %v %v %v, a fresh look-up %v %v %v", zone, now, active, target, has, wantActive, wantTarget, wantHas)
			}
			got, gotTarget, gotHas, gotOK := s.next(now)
			want, wantTarget, wantHas, wantOK := s.findNext(now)
			if !got.Equal(want) || gotTarget != wantTarget || gotHas != wantHas || gotOK != wantOK {
				t.Fatalf("%s, next(%v) = %v %v %v %v, a fresh look-up %v %v %v %v", zone, now, got, gotTarget, gotHas, gotOK, want, wantTarget, wantHas, wantOK)
			}
		}
		if hits < 1000 {
			t.Errorf("%s: only %d of 3000 answers remembered", zone, hits)
		}
	}
}
