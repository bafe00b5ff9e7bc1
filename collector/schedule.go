package collector

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// poolSchedule is a pool's scheduled-scaling policy, parsed once per refresh
// and evaluated at every scrape.
type poolSchedule struct {
	loc     *time.Location
	enable  time.Time // zero: no StrategyEnableDate
	disable time.Time // zero: no StrategyDisableDate
	rules   []scheduleRule
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

func isoWeekday(d time.Weekday) int {
	if d == time.Sunday {
		return 7
	}
	return int(d)
}

// parseSchedule turns a pool's RecurrenceSchedules into a poolSchedule,
// reporting each part it cannot read; the unreadable part never matches.
func parseSchedule(p *NodePool, loc *time.Location, enable, disable time.Time, report func(field, value string)) *poolSchedule {
	s := &poolSchedule{loc: loc, enable: enable, disable: disable}
	for i, rs := range p.RecurrenceSchedules.Items {
		field := fmt.Sprintf("RecurrenceSchedules[%d]", i)
		if t := strings.ToLower(strings.TrimSpace(rs.RecurrenceType.V)); rs.RecurrenceType.Set && t != "weekly" {
			report(field+".RecurrenceType", rs.RecurrenceType.V)
			continue
		}
		var r scheduleRule
		for j, v := range rs.RecurrenceValues.Items {
			if !v.Set || v.V != float64(int(v.V)) || v.V < 1 || v.V > 7 {
				raw := v.Bad
				if raw == "" {
					raw = strconv.FormatFloat(v.V, 'g', -1, 64)
				}
				report(fmt.Sprintf("%s.RecurrenceValues[%d]", field, j), raw)
				continue
			}
			r.weekdays[int(v.V)] = true
		}
		for j, tp := range rs.TimerPeriods.Items {
			start, ok1 := parseClock(tp.StartTime.V)
			end, ok2 := parseClock(tp.EndTime.V)
			if !ok1 || !ok2 || start == end || start == 1440 {
				report(fmt.Sprintf("%s.TimerPeriods[%d]", field, j), tp.StartTime.V+"-"+tp.EndTime.V)
				continue
			}
			if tp.Amount.Bad != "" {
				report(fmt.Sprintf("%s.TimerPeriods[%d].Amount", field, j), tp.Amount.Bad)
			}
			r.periods = append(r.periods, timerPeriod{start: start, end: end, amount: tp.Amount.V, hasAmount: tp.Amount.Set})
		}
		s.rules = append(s.rules, r)
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
