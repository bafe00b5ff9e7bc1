package exporter

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
)

// The clock of these tests is pinnedNow: Monday 2022-08-15 10:00 in
// Asia/Shanghai, inside the Monday 09:00–12:00 window of goodSchedule.
const goodSchedule = `[{"RecurrenceType":"Weekly","RecurrenceValues":[1],"TimerPeriods":[{"Amount":4,"StartTime":"09:00","EndTime":"12:00"}]}]`

// schedulePool is a pool with nodes, strategy dates around pinnedNow and
// the given StrategyType and RecurrenceSchedules (raw JSON).
func schedulePool(id, strategy, schedules string) string {
	return fmt.Sprintf(`{"NodePoolId":%q,"NodeInstanceType":"appstreaming.general.4c8g","NodeAmount":2,
		"StrategyType":%q,"StrategyEnableDate":"2022-08-01","StrategyDisableDate":"2022-09-01",
		"RecurrenceSchedules":%s}`, id, strategy, schedules)
}

// scheduleEnv serves one group with the given pools (raw JSON).
func scheduleEnv(t *testing.T, pools ...string) *env {
	t.Helper()
	e := newEnv(t, nil, nil)
	group := `{"AppInstanceGroupId":"aig-sched","RegionId":"cn-shanghai","ChargeType":"PrePaid","Status":"PUBLISHED",
		"NodePool":[` + strings.Join(pools, ",") + `]}`
	if !json.Valid([]byte(group)) {
		t.Fatalf("test data is not JSON: %s", group)
	}
	if err := e.sim.Load([]byte(`{"AppInstanceGroupModels":[` + group + `]}`)); err != nil {
		t.Fatal(err)
	}
	return e
}

func warnLine(group, field string) string {
	return `level=WARN msg="unreadable field in API answer; its series is dropped" biz_region="" group_id=` + group + ` field=` + field + ` `
}

// TestBrokenScheduleDropsItsSeries: a schedule with any part that cannot be
// read gives neither schedule_active nor schedule_target_nodes (a 0 would
// be made up), each unreadable part is logged once at warning level, and
// the pool's other series stay.
func TestBrokenScheduleDropsItsSeries(t *testing.T) {
	const period = `{"Amount":4,"StartTime":"09:00","EndTime":"12:00"}`
	cases := []struct {
		pool, schedules, field string
	}{
		{"rg-values-string", `[{"RecurrenceType":"Weekly","RecurrenceValues":"1","TimerPeriods":[` + period + `]}]`,
			"RecurrenceSchedules[0].RecurrenceValues"},
		{"rg-period-string", `[{"RecurrenceType":"Weekly","RecurrenceValues":[1],"TimerPeriods":["09:00-12:00",` + period + `]}]`,
			"RecurrenceSchedules[0].TimerPeriods"},
		{"rg-entry-string", `["Weekly 1 09:00-12:00",` + strings.Trim(goodSchedule, "[]") + `]`,
			"RecurrenceSchedules"},
		{"rg-list-string", `"Weekly 1 09:00-12:00"`,
			"RecurrenceSchedules"},
		{"rg-values-missing", `[{"RecurrenceType":"Weekly","TimerPeriods":[` + period + `]}]`,
			"RecurrenceSchedules[0].RecurrenceValues"},
		{"rg-type-daily", `[{"RecurrenceType":"Daily","RecurrenceValues":[1],"TimerPeriods":[` + period + `]}]`,
			"RecurrenceSchedules[0].RecurrenceType"},
		{"rg-value-8", `[{"RecurrenceType":"Weekly","RecurrenceValues":[1,8],"TimerPeriods":[` + period + `]}]`,
			"RecurrenceSchedules[0].RecurrenceValues[1]"},
		{"rg-clock", `[{"RecurrenceType":"Weekly","RecurrenceValues":[1],"TimerPeriods":[{"Amount":4,"StartTime":"9h","EndTime":"12:00"}]}]`,
			"RecurrenceSchedules[0].TimerPeriods[0]"},
		{"rg-amount", `[{"RecurrenceType":"Weekly","RecurrenceValues":[1],"TimerPeriods":[{"Amount":"four","StartTime":"09:00","EndTime":"12:00"}]}]`,
			"RecurrenceSchedules[0].TimerPeriods[0].Amount"},
	}
	pools := []string{schedulePool("rg-good", "NODE_SCALING_BY_SCHEDULE", goodSchedule)}
	for _, c := range cases {
		pools = append(pools, schedulePool(c.pool, "NODE_SCALING_BY_SCHEDULE", c.schedules))
	}
	e := scheduleEnv(t, pools...)
	mfs := parse(t, e.scrape())
	e.clock.Advance(2 * time.Minute) // past cache_ttl: a second refresh sees the same data
	mfs2 := parse(t, e.scrape())
	logs := e.logs.String()

	for scrape, mf := range []map[string]*dto.MetricFamily{mfs, mfs2} {
		good := []string{"node_pool_id", "rg-good"}
		if v := testkit.Value(t, mf, "aliyun_appstream_node_pool_schedule_active", good...); v != 1 {
			t.Errorf("scrape %d: rg-good schedule_active = %v, want 1", scrape+1, v)
		}
		if v := testkit.Value(t, mf, "aliyun_appstream_node_pool_schedule_target_nodes", good...); v != 4 {
			t.Errorf("scrape %d: rg-good schedule_target_nodes = %v, want 4", scrape+1, v)
		}
	}
	for _, c := range cases {
		pool := []string{"group_id", "aig-sched", "node_pool_id", c.pool}
		for _, name := range []string{"aliyun_appstream_node_pool_schedule_active", "aliyun_appstream_node_pool_schedule_target_nodes"} {
			if v, n := testkit.Find(mfs, name, pool...); n != 0 {
				t.Errorf("%s: %s = %v served for an unreadable schedule, want no series", c.pool, name, v)
			}
		}
		if v := testkit.Value(t, mfs, "aliyun_appstream_node_pool_nodes", pool...); v != 2 {
			t.Errorf("%s: node_pool_nodes = %v, want 2", c.pool, v)
		}
		testkit.Value(t, mfs, "aliyun_appstream_node_pool_strategy_start_timestamp_seconds", pool...)
		testkit.Value(t, mfs, "aliyun_appstream_node_pool_strategy_end_timestamp_seconds", pool...)
		field := "NodePool[" + c.pool + "]." + c.field
		if n := strings.Count(logs, warnLine("aig-sched", field)); n != 1 {
			t.Errorf("%s: %d warnings for %s over two refreshes, want 1", c.pool, n, field)
		}
	}
	if strings.Contains(logs, "field=NodePool[rg-good]") {
		t.Errorf("a problem was logged for the readable schedule of rg-good:\n%s", logs)
	}
	if t.Failed() {
		t.Logf("logs:\n%s", logs)
	}
}

// TestBadStrategyDateDropsSchedule: a schedule whose StrategyEnableDate is
// there but unreadable has unknown bounds, so it gives no series.
func TestBadStrategyDateDropsSchedule(t *testing.T) {
	pool := strings.Replace(schedulePool("rg-bad-date", "NODE_SCALING_BY_SCHEDULE", goodSchedule), `"2022-08-01"`, `"Aug 1st"`, 1)
	e := scheduleEnv(t, pool)
	mfs := parse(t, e.scrape())
	if v, n := testkit.Find(mfs, "aliyun_appstream_node_pool_schedule_active", "node_pool_id", "rg-bad-date"); n != 0 {
		t.Errorf("schedule_active = %v with an unreadable StrategyEnableDate, want no series", v)
	}
	testkit.Value(t, mfs, "aliyun_appstream_node_pool_strategy_end_timestamp_seconds", "node_pool_id", "rg-bad-date")
	if !strings.Contains(e.logs.String(), warnLine("aig-sched", "NodePool[rg-bad-date].StrategyEnableDate")) {
		t.Errorf("no warning for StrategyEnableDate:\n%s", e.logs)
	}
}

// TestScheduleOnlyWhenScaledBySchedule: only a NODE_SCALING_BY_SCHEDULE
// pool's schedule is in force. A fixed or usage-scaled pool may still carry
// one (the API reference's own example does): it gives no series, and its
// unreadable parts are not logged, since nothing reads them.
func TestScheduleOnlyWhenScaledBySchedule(t *testing.T) {
	tuesday := strings.Replace(goodSchedule, `[1]`, `[2]`, 1)
	e := scheduleEnv(t,
		schedulePool("rg-fixed", "NODE_FIXED", goodSchedule),
		schedulePool("rg-usage", "NODE_SCALING_BY_USAGE", goodSchedule),
		schedulePool("rg-no-strategy", "", goodSchedule),
		schedulePool("rg-lower-case", "node_scaling_by_schedule", goodSchedule),
		schedulePool("rg-fixed-broken", "NODE_FIXED", `[{"RecurrenceType":"Weekly","RecurrenceValues":"1","TimerPeriods":["x"]}]`),
		schedulePool("rg-schedule", "NODE_SCALING_BY_SCHEDULE", goodSchedule),
		schedulePool("rg-schedule-spaces", " NODE_SCALING_BY_SCHEDULE ", goodSchedule),
		schedulePool("rg-schedule-tuesday", "NODE_SCALING_BY_SCHEDULE", tuesday),
	)
	mfs := parse(t, e.scrape())
	for _, pool := range []string{"rg-fixed", "rg-usage", "rg-no-strategy", "rg-lower-case", "rg-fixed-broken"} {
		for _, name := range []string{"aliyun_appstream_node_pool_schedule_active", "aliyun_appstream_node_pool_schedule_target_nodes"} {
			if v, n := testkit.Find(mfs, name, "node_pool_id", pool); n != 0 {
				t.Errorf("%s: %s = %v for a schedule not in force, want no series", pool, name, v)
			}
		}
		testkit.Value(t, mfs, "aliyun_appstream_node_pool_strategy_start_timestamp_seconds", "node_pool_id", pool)
	}
	for _, pool := range []string{"rg-schedule", "rg-schedule-spaces"} {
		if v := testkit.Value(t, mfs, "aliyun_appstream_node_pool_schedule_active", "node_pool_id", pool); v != 1 {
			t.Errorf("%s: schedule_active = %v inside the window, want 1", pool, v)
		}
		if v := testkit.Value(t, mfs, "aliyun_appstream_node_pool_schedule_target_nodes", "node_pool_id", pool); v != 4 {
			t.Errorf("%s: schedule_target_nodes = %v, want 4", pool, v)
		}
	}
	if v := testkit.Value(t, mfs, "aliyun_appstream_node_pool_schedule_active", "node_pool_id", "rg-schedule-tuesday"); v != 0 {
		t.Errorf("rg-schedule-tuesday: schedule_active = %v on a Monday, want 0", v)
	}
	if _, n := testkit.Find(mfs, "aliyun_appstream_node_pool_schedule_target_nodes", "node_pool_id", "rg-schedule-tuesday"); n != 0 {
		t.Errorf("rg-schedule-tuesday: schedule_target_nodes served outside the window")
	}
	if logs := e.logs.String(); strings.Contains(logs, "field=NodePool[rg-fixed-broken]") {
		t.Errorf("the unused schedule of a NODE_FIXED pool was reported:\n%s", logs)
	}
}

// TestReferenceExampleScheduleNotInForce: the API reference's example pool
// is NODE_FIXED with a Monday 09:30–11:00 schedule; at Monday 10:00 it is
// still not scaled by schedule.
func TestReferenceExampleScheduleNotInForce(t *testing.T) {
	e := newEnv(t, []string{"testdata/reference.json"}, nil)
	mfs := parse(t, e.scrape())
	pool := []string{"node_pool_id", "rg-g6922kced36hx****"}
	for _, name := range []string{"aliyun_appstream_node_pool_schedule_active", "aliyun_appstream_node_pool_schedule_target_nodes"} {
		if v, n := testkit.Find(mfs, name, pool...); n != 0 {
			t.Errorf("%s = %v for the NODE_FIXED example pool, want no series", name, v)
		}
	}
	testkit.Value(t, mfs, "aliyun_appstream_node_pool_strategy_start_timestamp_seconds", pool...)
	testkit.Value(t, mfs, "aliyun_appstream_node_pool_strategy_end_timestamp_seconds", pool...)
}
