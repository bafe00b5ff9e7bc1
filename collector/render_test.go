package collector

import (
	"bufio"
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// Render-level tests: a group's JSON in, exposition lines out, with
// neither the simulator nor the SDK in between. They are where a new
// family gets its test case; the end-to-end tests beside them cover the
// path through the API.

// renderText renders groups (API JSON objects) as a scrape at now would
// write them, with the Asia/Shanghai timezone of the fixtures.
func renderText(t *testing.T, now time.Time, edit func(*Config), groups ...string) string {
	t.Helper()
	cfg := testConfig(t, "http://127.0.0.1:1", func(c *Config) {
		c.Timezone = "Asia/Shanghai"
		if edit != nil {
			edit(c)
		}
	})
	var list []*Group
	for _, js := range groups {
		g := new(Group)
		if err := json.Unmarshal([]byte(js), g); err != nil {
			t.Fatalf("group JSON: %v\n%s", err, js)
		}
		list = append(list, g)
	}
	snap := newRenderer(cfg, nil).renderAll(list, "cn-hangzhou")
	v := &view{now: now, states: []queryState{{snap: snap}}}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := v.writeSeries(w); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// monday10 is Monday 2022-08-15 10:00 in Asia/Shanghai.
var monday10 = time.Date(2022, 8, 15, 2, 0, 0, 0, time.UTC)

// TestFamiliesWriteTheirLabels checks every series of the fixtures against
// its family's definition: identity labels (and the pool's), then exactly
// the labels the family lists.
func TestFamiliesWriteTheirLabels(t *testing.T) {
	var groups []string
	for _, f := range fixtures {
		var d struct{ AppInstanceGroupModels []json.RawMessage }
		if err := json.Unmarshal(mustRead(t, f), &d); err != nil {
			t.Fatal(err)
		}
		for _, g := range d.AppInstanceGroupModels {
			groups = append(groups, string(g))
		}
	}
	for _, on := range []string{TagLabelsOnAll, TagLabelsOnInfo} {
		text := renderText(t, monday10, func(c *Config) {
			c.TagLabels, c.TagLabelsOn = TagLabelsOf("department", "cost-center"), on
		}, groups...)
		tags := []string{"tag_department", "tag_cost_center"}
		identity := []string{"group_id", "group_name", "region", "charge_type"}
		if on == TagLabelsOnAll {
			identity = append(identity, tags...)
		}
		written := map[string]bool{}
		for _, s := range parse(t, text) {
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
			tagsOff := f.name == "aliyun_appstream_group_tags" && on == TagLabelsOnAll
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
