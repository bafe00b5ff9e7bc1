package exposition

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
)

// poolSchedule is a pool's scheduled-scaling policy, parsed once per refresh
// and evaluated at every scrape.
type poolSchedule struct {
	loc     *time.Location
	enable  time.Time // zero: no StrategyEnableDate
	disable time.Time // zero: no StrategyDisableDate
	rules   []scheduleRule

	// nextSeen is the last answer of next: it stays the answer until the
	// window it names starts, so most scrapes look nothing up. atSeen is
	// the last answer of at, which holds for the rest of its minute.
	nextSeen atomic.Pointer[nextWindow]
	atSeen   atomic.Pointer[windowAt]
}

type windowAt struct {
	minute    int64 // Unix minutes
	active    bool
	target    float64
	hasTarget bool
}

type nextWindow struct {
	from, until time.Time // the answer for a now in [from, until)
	start       time.Time
	target      float64
	hasTarget   bool
	ok          bool
}

type scheduleRule struct {
	weekdays [8]bool // index 1 = Monday … 7 = Sunday, as the API numbers them
	periods  []timerPeriod
}

type timerPeriod struct {
	start, end int // minutes after midnight; end may be 1440 ("24:00")
	amount     float64
	hasAmount  bool
}

// at reports whether a window is active at now and, if so, the largest
// target amount among the active windows.
func (s *poolSchedule) at(now time.Time) (active bool, target float64, hasTarget bool) {
	// Windows and strategy dates start and end on whole minutes, as do the
	// offsets of time zones in use today: the answer holds all minute long.
	minute := unixMinute(now)
	if w := s.atSeen.Load(); w != nil && w.minute == minute {
		return w.active, w.target, w.hasTarget
	}
	active, target, hasTarget = s.findAt(now)
	s.atSeen.Store(&windowAt{minute: minute, active: active, target: target, hasTarget: hasTarget})
	return active, target, hasTarget
}

// unixMinute is the minute of now since 1970, floored.
func unixMinute(now time.Time) int64 {
	minute := now.Unix() / 60
	if now.Unix()%60 < 0 {
		minute-- // before 1970: floor, not truncation
	}
	return minute
}

func (s *poolSchedule) findAt(now time.Time) (active bool, target float64, hasTarget bool) {
	now = now.In(s.loc)
	if !s.enable.IsZero() && now.Before(s.enable) {
		return false, 0, false
	}
	if !s.disable.IsZero() && !now.Before(s.disable) {
		return false, 0, false
	}
	minute := now.Hour()*60 + now.Minute()
	today := isoWeekday(now.Weekday())
	yesterday := today - 1
	if yesterday == 0 {
		yesterday = 7
	}
	for _, r := range s.rules {
		for _, p := range r.periods {
			var in bool
			if p.start < p.end {
				in = r.weekdays[today] && minute >= p.start && minute < p.end
			} else {
				// A window past midnight (22:00–06:00) belongs to the day it starts.
				in = (r.weekdays[today] && minute >= p.start) || (r.weekdays[yesterday] && minute < p.end)
			}
			if !in {
				continue
			}
			active = true
			if p.hasAmount && (!hasTarget || p.amount > target) {
				target, hasTarget = p.amount, true
			}
		}
	}
	return active, target, hasTarget
}

// next returns the start of the first window that starts after now,
// within the strategy dates, and that window's target amount (the largest
// among windows starting at the same time). A window that started in the
// current minute has begun.
func (s *poolSchedule) next(now time.Time) (start time.Time, target float64, hasTarget, ok bool) {
	if w := s.nextSeen.Load(); w != nil && !now.Before(w.from) && now.Before(w.until) {
		return w.start, w.target, w.hasTarget, w.ok
	}
	start, target, hasTarget, ok = s.findNext(now)
	// Later, and before that start, the first window to start is the same
	// one; with none, look again a day later all the same.
	until := start
	if !ok {
		until = now.Add(24 * time.Hour)
	}
	s.nextSeen.Store(&nextWindow{from: now, until: until, start: start, target: target, hasTarget: hasTarget, ok: ok})
	return start, target, hasTarget, ok
}

func (s *poolSchedule) findNext(now time.Time) (start time.Time, target float64, hasTarget, ok bool) {
	from := now.In(s.loc)
	if !s.enable.IsZero() && s.enable.After(now) {
		from = s.enable.In(s.loc)
	}
	// Days are counted from noon, which every day has: a time-zone change
	// can skip or repeat midnight, and the day must not slip. Every weekday
	// comes round within a week; the eighth day is the first one's weekday
	// again, for a window earlier in the day than now.
	noon := time.Date(from.Year(), from.Month(), from.Day(), 12, 0, 0, 0, s.loc)
	for d := range 8 {
		day := noon.AddDate(0, 0, d)
		weekday := isoWeekday(day.Weekday())
		for _, r := range s.rules {
			if !r.weekdays[weekday] {
				continue
			}
			for _, p := range r.periods {
				at := time.Date(day.Year(), day.Month(), day.Day(), p.start/60, p.start%60, 0, 0, s.loc)
				if !at.After(now) || (!s.enable.IsZero() && at.Before(s.enable)) || (!s.disable.IsZero() && !at.Before(s.disable)) {
					continue
				}
				if ok && at.After(start) {
					continue
				}
				if !ok || at.Before(start) {
					start, ok, hasTarget, target = at, true, false, 0
				}
				if p.hasAmount && (!hasTarget || p.amount > target) {
					target, hasTarget = p.amount, true
				}
			}
		}
		if ok {
			return start, target, hasTarget, true
		}
	}
	return time.Time{}, 0, false, false
}

func isoWeekday(d time.Weekday) int {
	if d == time.Sunday {
		return 7
	}
	return int(d)
}

// scheduleStrategy is the StrategyType of a pool that scales by its
// RecurrenceSchedules; other pools may still carry a schedule, not in force.
const scheduleStrategy = "NODE_SCALING_BY_SCHEDULE"

// parseSchedule turns a pool's RecurrenceSchedules into a poolSchedule. It
// returns nil when the pool has no schedule, or when any part of it cannot
// be read: each such part is reported, and a schedule read in part would
// give made-up values, so none are given.
func parseSchedule(p *aliyun.NodePool, loc *time.Location, enable, disable time.Time, report func(field, value string)) *poolSchedule {
	bad := false
	fail := func(field, value string) {
		bad = true
		report(field, value)
	}
	list := &p.RecurrenceSchedules
	reportList(fail, "RecurrenceSchedules", list, "objects")
	s := &poolSchedule{loc: loc, enable: enable, disable: disable}
	for i := range list.Items {
		rs := &list.Items[i]
		field := fmt.Sprintf("RecurrenceSchedules[%d]", i)
		if rs.RecurrenceType.Bad != "" {
			fail(field+".RecurrenceType", rs.RecurrenceType.Bad)
		} else if t := strings.ToLower(strings.TrimSpace(rs.RecurrenceType.V)); rs.RecurrenceType.Set && t != "weekly" {
			fail(field+".RecurrenceType", rs.RecurrenceType.V)
		}
		var r scheduleRule
		requireList(fail, field+".RecurrenceValues", &rs.RecurrenceValues, "numbers")
		for j, v := range rs.RecurrenceValues.Items {
			if !v.Set || v.V != float64(int(v.V)) || v.V < 1 || v.V > 7 {
				raw := v.Bad
				if raw == "" {
					raw = strconv.FormatFloat(v.V, 'g', -1, 64)
					if !v.Set {
						raw = "null"
					}
				}
				fail(fmt.Sprintf("%s.RecurrenceValues[%d]", field, j), raw)
				continue
			}
			r.weekdays[int(v.V)] = true
		}
		requireList(fail, field+".TimerPeriods", &rs.TimerPeriods, "objects")
		for j := range rs.TimerPeriods.Items {
			tp := &rs.TimerPeriods.Items[j]
			tpField := fmt.Sprintf("%s.TimerPeriods[%d]", field, j)
			start, ok1 := parseClock(tp.StartTime.V)
			end, ok2 := parseClock(tp.EndTime.V)
			switch {
			case tp.StartTime.Bad != "":
				fail(tpField+".StartTime", tp.StartTime.Bad)
			case tp.EndTime.Bad != "":
				fail(tpField+".EndTime", tp.EndTime.Bad)
			case !ok1 || !ok2 || start == end || start == 1440:
				fail(tpField, tp.StartTime.V+"-"+tp.EndTime.V)
			}
			if tp.Amount.Bad != "" {
				fail(tpField+".Amount", tp.Amount.Bad)
			}
			r.periods = append(r.periods, timerPeriod{start: start, end: end, amount: tp.Amount.V, hasAmount: tp.Amount.Set})
		}
		s.rules = append(s.rules, r)
	}
	if bad || len(s.rules) == 0 {
		return nil
	}
	return s
}

// parseClock reads "HH:mm" (and "24:00" as the end of the day) as minutes.
func parseClock(s string) (int, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

// requireList is reportList for a list a schedule cannot do without.
func requireList[T any](report func(string, string), field string, l *aliyun.List[T], what string) {
	if !l.Set && l.Bad == "" {
		report(field, "missing")
	}
	reportList(report, field, l, what)
}

// given reports whether a field carries a value, readable or not.
func given(s aliyun.Str) bool { return s.Bad != "" || strings.TrimSpace(s.V) != "" }
