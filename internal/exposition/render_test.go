package exposition

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// Render-level tests: a group's JSON in, exposition lines out, with
// neither the simulator nor the SDK in between. They are where a new
// family gets its test case; the end-to-end tests beside them cover the
// path through the API.

// renderText renders groups (API JSON objects) as a scrape at now would
// write them, with the Asia/Shanghai timezone of the fixtures.
func renderText(t *testing.T, now time.Time, edit func(*config.Config), groups ...string) string {
	t.Helper()
	cfg := testConfig(t, func(c *config.Config) {
		c.Timezone = "Asia/Shanghai"
		if edit != nil {
			edit(c)
		}
	})
	r := Render(cfg, nil, decodeGroups(t, groups...), "cn-hangzhou", now, 1)
	return writeText(t, now, r.Snapshot)
}

// decodeGroups decodes group JSON objects as the API's pages hold them.
func decodeGroups(t *testing.T, groups ...string) []*aliyun.Group {
	t.Helper()
	var list []*aliyun.Group
	for _, js := range groups {
		// A page of one: the model decodes only through the page decoder.
		page, err := aliyun.DecodeListResponse([]byte(`{"AppInstanceGroupModels":[` + js + `]}`))
		if err != nil || len(page.Groups.Items) != 1 {
			t.Fatalf("group JSON: %v\n%s", err, js)
		}
		list = append(list, &page.Groups.Items[0])
	}
	return list
}

// renderWithSessions is renderText of a data set's groups with the app
// instances it holds for the published ones, counted here by Status and
// SessionStatus as the API sent them.
func renderWithSessions(t *testing.T, now time.Time, edit func(*config.Config), d simulator.Dataset) map[string]*dto.MetricFamily {
	t.Helper()
	cfg := testConfig(t, func(c *config.Config) {
		c.Timezone = "Asia/Shanghai"
		if edit != nil {
			edit(c)
		}
	})
	var groups []string
	for _, js := range d.AppInstanceGroupModels {
		groups = append(groups, string(js))
	}
	snap := Render(cfg, nil, decodeGroups(t, groups...), "cn-hangzhou", now, 1).Snapshot
	counts := map[string]map[aliyun.SessionKey]int{}
	for _, target := range snap.SessionTargets([]string{"PUBLISHED"}) {
		counts[target.Key] = map[aliyun.SessionKey]int{}
		for _, raw := range d.AppInstances[target.ID] {
			var in map[string]any
			if err := json.Unmarshal(raw, &in); err != nil {
				t.Fatal(err)
			}
			text := func(k string) string { // as sent: a number is its text, null nothing
				if v, ok := in[k]; ok && v != nil {
					return fmt.Sprint(v)
				}
				return ""
			}
			counts[target.Key][aliyun.SessionKey{Status: text("Status"), SessionStatus: text("SessionStatus")}]++
		}
	}
	var buf bytes.Buffer
	if err := Write(bufio.NewWriter(&buf), now, []Query{{Groups: snap, Sessions: NewSessions(now, len(counts), counts, nil)}}); err != nil {
		t.Fatal(err)
	}
	return parse(t, buf.String())
}

// monday10 is Monday 2022-08-15 10:00 in Asia/Shanghai.
var monday10 = time.Date(2022, 8, 15, 2, 0, 0, 0, time.UTC)

const scheduledPool = `{"AppInstanceGroupId": "aig-1", "RegionId": "cn-hangzhou", "NodePool": [{
  "NodePoolId": "rg-1", "NodeInstanceType": "t", "StrategyType": "NODE_SCALING_BY_SCHEDULE", "MaxScalingAmount": 4,
  "StrategyEnableDate": "%s", "StrategyDisableDate": "%s",
  "RecurrenceSchedules": [%s]}]}`

func poolJSON(enable, disable, schedules string) string {
	s := strings.Replace(scheduledPool, "%s", enable, 1)
	s = strings.Replace(s, "%s", disable, 1)
	return strings.Replace(s, "%s", schedules, 1)
}

const poolLabels = `{group_id="aig-1",group_name="",region="cn-hangzhou",charge_type="",node_pool_id="rg-1",node_instance_type="t"}`

// weekdaySchedules are two windows on every weekday: 09:30-11:00 for 5
// nodes, 13:00-14:00 for 6.
const weekdaySchedules = `{"RecurrenceType": "Weekly", "RecurrenceValues": [1,2,3,4,5], "TimerPeriods": [{"StartTime": "09:30", "EndTime": "11:00", "Amount": 5}, {"StartTime": "13:00", "EndTime": "14:00", "Amount": 6}]}`

// renderTableCase is a group rendered at now: the lines it must write,
// and the families that must write nothing.
type renderTableCase struct {
	name     string
	now      time.Time
	timezone string // "": Asia/Shanghai
	group    string
	want     []string // lines that must be written
	none     []string // families that must write nothing
}

// renderTableCases are TestRenderTable's: the schedule look-ahead of a
// pool that scales by schedule.
var renderTableCases = []renderTableCase{{
	name:     "a day whose midnight a clock change skips keeps its weekday",
	now:      time.Date(2022, 9, 11, 15, 0, 0, 0, time.UTC), // Sun 12:00 -03, the day Santiago skips 00:00-01:00
	timezone: "America/Santiago",
	group: poolJSON("", "", `{"RecurrenceType": "Weekly", "RecurrenceValues": [6], "TimerPeriods": [{"StartTime": "14:00", "EndTime": "15:00", "Amount": 2}]},
		{"RecurrenceType": "Weekly", "RecurrenceValues": [7], "TimerPeriods": [{"StartTime": "13:00", "EndTime": "14:00", "Amount": 7}]}`),
	want: []string{
		"aliyun_appstream_node_pool_schedule_next_start_timestamp_seconds" + poolLabels + " 1662912000", // Sun 13:00 -03
		"aliyun_appstream_node_pool_schedule_next_target_nodes" + poolLabels + " 7",
	},
}, {
	name:     "the day before a skipped midnight looks ahead into it",
	now:      time.Date(2022, 9, 10, 16, 0, 0, 0, time.UTC), // Sat 12:00 -04
	timezone: "America/Santiago",
	group:    poolJSON("", "", `{"RecurrenceType": "Weekly", "RecurrenceValues": [7], "TimerPeriods": [{"StartTime": "13:00", "EndTime": "14:00", "Amount": 7}]}`),
	want:     []string{"aliyun_appstream_node_pool_schedule_next_start_timestamp_seconds" + poolLabels + " 1662912000"},
}, {
	name:  "next window later today",
	now:   monday10,
	group: poolJSON("", "", weekdaySchedules),
	want: []string{
		"aliyun_appstream_node_pool_schedule_active" + poolLabels + " 1",
		"aliyun_appstream_node_pool_schedule_target_nodes" + poolLabels + " 5",
		"aliyun_appstream_node_pool_schedule_next_start_timestamp_seconds" + poolLabels + " 1660539600", // Mon 13:00 +08
		"aliyun_appstream_node_pool_schedule_next_target_nodes" + poolLabels + " 6",
	},
}, {
	name:  "next window after the weekend",
	now:   time.Date(2022, 8, 19, 7, 0, 0, 0, time.UTC), // Friday 15:00 +08
	group: poolJSON("", "", weekdaySchedules),
	want: []string{
		"aliyun_appstream_node_pool_schedule_next_start_timestamp_seconds" + poolLabels + " 1661131800", // Mon 22nd 09:30 +08
		"aliyun_appstream_node_pool_schedule_next_target_nodes" + poolLabels + " 5",
	},
	none: []string{"aliyun_appstream_node_pool_schedule_target_nodes"},
}, {
	name:  "a window starting this minute has begun: the next is another",
	now:   time.Date(2022, 8, 15, 5, 0, 30, 0, time.UTC), // Monday 13:00:30 +08
	group: poolJSON("", "", weekdaySchedules),
	want: []string{
		"aliyun_appstream_node_pool_schedule_target_nodes" + poolLabels + " 6",
		"aliyun_appstream_node_pool_schedule_next_start_timestamp_seconds" + poolLabels + " 1660613400", // Tue 09:30 +08
	},
}, {
	name:  "the policy starts later: its first window",
	now:   monday10,
	group: poolJSON("2022-09-03", "", weekdaySchedules), // a Saturday
	want: []string{
		"aliyun_appstream_node_pool_schedule_active" + poolLabels + " 0",
		"aliyun_appstream_node_pool_schedule_next_start_timestamp_seconds" + poolLabels + " 1662341400", // Mon 5 Sep 09:30 +08
	},
}, {
	name:  "the policy ends before the next window",
	now:   time.Date(2022, 8, 19, 7, 0, 0, 0, time.UTC), // Friday 15:00 +08
	group: poolJSON("", "2022-08-22", weekdaySchedules),
	want:  []string{"aliyun_appstream_node_pool_schedule_active" + poolLabels + " 0"},
	none:  []string{"aliyun_appstream_node_pool_schedule_next_start_timestamp_seconds", "aliyun_appstream_node_pool_schedule_next_target_nodes"},
}, {
	name: "same start: the largest amount; no amount: no target",
	now:  monday10,
	group: poolJSON("", "", `{"RecurrenceType": "Weekly", "RecurrenceValues": [2], "TimerPeriods": [{"StartTime": "08:00", "EndTime": "09:00", "Amount": 2}]},
		{"RecurrenceType": "Weekly", "RecurrenceValues": [2], "TimerPeriods": [{"StartTime": "08:00", "EndTime": "10:00", "Amount": 7}]},
		{"RecurrenceType": "Weekly", "RecurrenceValues": [3], "TimerPeriods": [{"StartTime": "07:00", "EndTime": "08:00"}]}`),
	want: []string{
		"aliyun_appstream_node_pool_schedule_next_start_timestamp_seconds" + poolLabels + " 1660608000", // Tue 08:00 +08
		"aliyun_appstream_node_pool_schedule_next_target_nodes" + poolLabels + " 7",
	},
}, {
	name:  "a pool that does not scale by schedule has no look-ahead",
	now:   monday10,
	group: strings.Replace(poolJSON("", "", weekdaySchedules), "NODE_SCALING_BY_SCHEDULE", "NODE_FIXED", 1),
	want:  []string{"aliyun_appstream_node_pool_max_scaling_nodes" + poolLabels + " 4"},
	none:  []string{"aliyun_appstream_node_pool_schedule_active", "aliyun_appstream_node_pool_schedule_next_start_timestamp_seconds"},
}}

func TestRenderTable(t *testing.T) {
	for _, c := range renderTableCases {
		t.Run(c.name, func(t *testing.T) {
			text := renderText(t, c.now, func(cfg *config.Config) {
				if c.timezone != "" {
					cfg.Timezone = c.timezone
				}
			}, c.group)
			lines := strings.Split(text, "\n")
			for _, w := range c.want {
				if !slices.Contains(lines, w) {
					t.Errorf("missing %s\nin:\n%s", w, text)
				}
			}
			for _, name := range c.none {
				if strings.Contains(text, "\n"+name+"{") {
					t.Errorf("%s written:\n%s", name, text)
				}
			}
		})
	}
}

// TestFamiliesWriteTheirLabels checks every series of the fixtures against
// its family's definition: identity labels (and the pool's), then exactly
// the labels the family lists.
func TestFamiliesWriteTheirLabels(t *testing.T) {
	var all simulator.Dataset
	for _, f := range fixtures {
		var d simulator.Dataset
		if err := json.Unmarshal(testkit.MustRead(t, f), &d); err != nil {
			t.Fatal(err)
		}
		all.AppInstanceGroupModels = append(all.AppInstanceGroupModels, d.AppInstanceGroupModels...)
		if d.AppInstances != nil {
			all.AppInstances = d.AppInstances
		}
	}
	for _, on := range []string{config.TagLabelsOnAll, config.TagLabelsOnInfo} {
		mfs := renderWithSessions(t, monday10, func(c *config.Config) {
			c.TagLabels, c.TagLabelsOn = config.TagLabelsOf("department", "cost-center"), on
		}, all)
		tags := []string{"tag_department", "tag_cost_center"}
		identity := []string{"group_id", "group_name", "region", "charge_type"}
		if on == config.TagLabelsOnAll {
			identity = append(identity, tags...)
		}
		written := map[string]bool{}
		for _, s := range mfs {
			written[s.GetName()] = true
			f := familyNamed(s.GetName())
			var want []string
			switch f.subject {
			case groupSubject:
				want = append(slices.Clone(identity), f.labels...)
			case poolSubject:
				want = append(slices.Clone(identity), "node_pool_id", "node_instance_type")
				want = append(want, f.labels...)
			case appSubject:
				want = f.labels
			}
			if i := slices.Index(want, "tag_*"); i >= 0 {
				want = slices.Replace(want, i, i+1, tags...)
			}
			for _, m := range s.GetMetric() {
				var got []string
				for _, l := range m.GetLabel() {
					got = append(got, l.GetName())
				}
				slices.Sort(got)
				sorted := slices.Sorted(slices.Values(want))
				if !slices.Equal(got, sorted) {
					t.Errorf("%s (%s): labels %v, want %v", f.name, on, got, sorted)
				}
			}
		}
		for _, f := range families {
			tagsOff := f.name == "aliyun_appstream_group_tags" && on == config.TagLabelsOnAll
			if !written[f.name] && !tagsOff {
				t.Errorf("the fixtures write no %s (tag_labels_on: %s): give it a case", f.name, on)
			}
		}
	}
}

func familyNamed(name string) *family {
	for _, f := range families {
		if f.name == name {
			return f
		}
	}
	return nil
}

// TestDemoWritesEveryFamily: the demo data set (what `--demo` serves) has
// a group or pool for every family, so the dashboards show every panel.
func TestDemoWritesEveryFamily(t *testing.T) {
	now := time.Now()
	d, err := simulator.DemoDataset(now)
	if err != nil {
		t.Fatal(err)
	}
	// tag_labels_on: info, so that aliyun_appstream_group_tags is written too.
	mfs := renderWithSessions(t, now, func(c *config.Config) {
		c.TagLabels, c.TagLabelsOn = config.TagLabelsOf("department"), config.TagLabelsOnInfo
	}, d)
	for _, f := range families {
		if _, ok := mfs[f.name]; !ok {
			t.Errorf("demo data: no %s", f.name)
		}
	}
}

// TestGoldenCoversEveryFamily: the exporter's golden exposition, which its
// end-to-end test compares whole, holds every family of the table (but
// group_tags, which the golden configuration's tag_labels_on: all leaves
// out), so no family goes unchecked through the API and the SDK.
func TestGoldenCoversEveryFamily(t *testing.T) {
	golden := parse(t, string(testkit.MustRead(t, "../exporter/testdata/golden.prom")))
	for _, f := range families {
		if _, ok := golden[f.name]; !ok && f.name != "aliyun_appstream_group_tags" {
			t.Errorf("%s is not in the golden exposition: give the fixtures a case and rerun its -update", f.name)
		}
	}
}

// demoGroups is the demo's groups at now, each as the API's JSON.
func demoGroups(t *testing.T, now time.Time) []string {
	t.Helper()
	d, err := simulator.DemoDataset(now)
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, js := range d.AppInstanceGroupModels {
		groups = append(groups, string(js))
	}
	return groups
}

// A refresh keeps the previous snapshot's compressed text of each family
// whose text did not change, and compresses anew the ones that did: the
// snapshot then serves exactly what a snapshot rendered from nothing
// serves, plain and gzip.
func TestUnchangedFamiliesKeepTheirCompressedText(t *testing.T) {
	now := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	groups := demoGroups(t, now)
	cfg := testConfig(t, func(c *config.Config) { c.Timezone = "Asia/Shanghai" })
	before := Render(cfg, nil, decodeGroups(t, groups...), "cn-hangzhou", now, 1).Snapshot

	// One group's MaxAmount changes: one family's text.
	changed := slices.Clone(groups)
	i := slices.IndexFunc(changed, func(js string) bool { return strings.Contains(js, `"MaxAmount": 50`) })
	if i < 0 {
		t.Fatal("no group of the demo has MaxAmount 50")
	}
	changed[i] = strings.Replace(changed[i], `"MaxAmount": 50`, `"MaxAmount": 51`, 1)
	after := Render(cfg, before, decodeGroups(t, changed...), "cn-hangzhou", now, 1).Snapshot
	fresh := Render(cfg, nil, decodeGroups(t, changed...), "cn-hangzhou", now, 1).Snapshot

	maxAmount := slices.IndexFunc(families, func(f *family) bool { return f.name == "aliyun_appstream_group_max_amount" })
	kept := 0
	for f := range families {
		b, a := before.stored[f], after.stored[f]
		if a.size == 0 {
			continue
		}
		shared := a.reused && b.size > 0 && bytes.Equal(b.deflate, a.deflate)
		switch {
		case f == maxAmount && shared:
			t.Errorf("%s changed but kept the previous compressed text", families[f].name)
		case f != maxAmount && !shared:
			t.Errorf("%s did not change but was compressed again", families[f].name)
		case shared:
			kept++
		}
		if !slices.Equal(a.starts, fresh.stored[f].starts) {
			t.Errorf("%s: group offsets differ from a fresh rendering's", families[f].name)
		}
	}
	if kept < 20 {
		t.Errorf("only %d families kept their compressed text", kept)
	}
	checkGzipAnswer(t, now, []*Snapshot{after}) // the kept texts' CRCs and lengths too
	checkJoined(t, after)                       // kept texts point into its own buffer, not before's
	if got, want := writeText(t, now, after), writeText(t, now, fresh); got != want {
		t.Errorf("the refreshed snapshot serves other text than a fresh one (%d vs %d bytes)", len(got), len(want))
	}
	if !strings.Contains(writeText(t, now, after), "max_amount{") || !strings.Contains(writeText(t, now, after), "} 51\n") {
		t.Error("the changed MaxAmount is not served")
	}
}

// TestFingerprintsFollowText: a family's fingerprint, taken from its
// records, changes whenever its text does and only then, and the group
// offsets and length it comes with are those of the text. Each round
// changes one value of one group of the demo (a name, a pool's spec, a
// tag, a count, a date) and renders the result after the original.
func TestFingerprintsFollowText(t *testing.T) {
	now := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	groups := demoGroups(t, now)
	cfg := testConfig(t, func(c *config.Config) {
		c.Timezone = "Asia/Shanghai"
		c.TagLabels, c.TagLabelsOn = config.TagLabelsOf("department"), config.TagLabelsOnInfo
	})
	before := Render(cfg, nil, decodeGroups(t, groups...), "cn-hangzhou", now, 1).Snapshot
	textOf := func(st *storedFamily) string {
		var b bytes.Buffer
		if err := inflate(&b, &st.segment); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	checkOffsets(t, before, textOf)

	values := regexp.MustCompile(`("[A-Za-z]+": )("[^"]*"|[0-9]+)`)
	rng := rand.New(rand.NewPCG(1, 2))
	changedTexts := 0
	for round := range 150 {
		changed := slices.Clone(groups)
		g := rng.IntN(len(changed))
		spots := values.FindAllStringSubmatchIndex(changed[g], -1)
		spot := spots[rng.IntN(len(spots))]
		value := changed[g][spot[4]:spot[5]]
		// Of the same length where it can be, so the text's length alone
		// does not tell the change.
		switch {
		case value == `""` || strings.HasSuffix(value, `\n"`):
			value = value[:len(value)-1] + `x"`
		case value[0] == '"' && value[len(value)-2] == 'x':
			value = value[:len(value)-2] + `y"`
		case value[0] == '"':
			value = value[:len(value)-2] + `x"`
		default:
			n, _ := strconv.Atoi(value)
			if n%10 == 9 {
				n -= 2
			}
			value = strconv.Itoa(n + 1)
		}
		changed[g] = changed[g][:spot[4]] + value + changed[g][spot[5]:]
		what := fmt.Sprintf("round %d: group %d %s", round, g, changed[g][spot[2]:spot[4]]+value)

		after := Render(cfg, before, decodeGroups(t, changed...), "cn-hangzhou", now, 1).Snapshot
		fresh := Render(cfg, nil, decodeGroups(t, changed...), "cn-hangzhou", now, 1).Snapshot
		checkOffsets(t, after, textOf)
		for f := range families {
			b, a, want := &before.stored[f], &after.stored[f], textOf(&fresh.stored[f])
			sameText := textOf(b) == want
			sameFingerprint := b.fingerprint == a.fingerprint
			if !sameText {
				changedTexts++
			}
			if sameText != sameFingerprint {
				t.Errorf("%s: %s: text the same %v, fingerprint the same %v", what, families[f].name, sameText, sameFingerprint)
			}
			if textOf(a) != want {
				t.Errorf("%s: %s: the refreshed snapshot serves other text than a fresh one", what, families[f].name)
			}
		}
	}
	if changedTexts < 100 {
		t.Errorf("only %d family texts changed over the rounds: the changes do not reach the text", changedTexts)
	}
}

// checkOffsets checks that each stored family of snap is as long as its
// fingerprint and segment say, and that group i's offsets hold group i's
// series.
func checkOffsets(t *testing.T, snap *Snapshot, textOf func(*storedFamily) string) {
	t.Helper()
	for f := range families {
		st := &snap.stored[f]
		text := textOf(st)
		if int64(len(text)) != st.size || st.fingerprint.size != st.size {
			t.Fatalf("%s: text of %d bytes, segment says %d, fingerprint %d", families[f].name, len(text), st.size, st.fingerprint.size)
		}
		if st.size == 0 {
			continue
		}
		if len(st.starts) != len(snap.groups)+1 || int64(st.starts[len(snap.groups)]) != st.size {
			t.Fatalf("%s: %d offsets ending at %d, want %d ending at %d", families[f].name, len(st.starts), st.starts[len(st.starts)-1], len(snap.groups)+1, st.size)
		}
		for i, g := range snap.groups {
			part := text[st.starts[i]:st.starts[i+1]]
			if part != "" && !strings.HasSuffix(part, "\n") {
				t.Fatalf("%s: group %s's text does not end a line: %q", families[f].name, g.id, part)
			}
			if families[f].subject == appSubject {
				continue
			}
			for line := range strings.Lines(part) {
				if !strings.Contains(line, string(g.labels)) {
					t.Fatalf("%s: a line in group %s's offsets is not its: %q", families[f].name, g.id, line)
				}
			}
		}
	}
}
