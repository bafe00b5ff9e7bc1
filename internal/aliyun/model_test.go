package aliyun

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNumTolerance(t *testing.T) {
	for in, want := range map[string]Num{
		`85`:       {V: 85, Set: true},
		`"85"`:     {V: 85, Set: true},
		`" 3 "`:    {V: 3, Set: true},
		`-1`:       {V: -1, Set: true},
		`"-1"`:     {V: -1, Set: true},
		`2.5`:      {V: 2.5, Set: true},
		`null`:     {},
		`""`:       {},
		`"eighty"`: {Bad: `"eighty"`},
		`"NaN"`:    {Bad: `"NaN"`},
		`true`:     {Bad: `true`},
		`{"v":1}`:  {Bad: `{"v":1}`},
		`[1]`:      {Bad: `[1]`},
	} {
		var n Num
		if err := decodeModel([]byte(in), &n); err != nil || n != want {
			t.Errorf("Num(%s) = %+v, %v; want %+v", in, n, err, want)
		}
	}
}

func TestBoolAndStrTolerance(t *testing.T) {
	for in, want := range map[string]Bool{
		`true`: {V: true, Set: true}, `"true"`: {V: true, Set: true}, `"False"`: {Set: true}, `0`: {Set: true},
		`1`: {V: true, Set: true}, `null`: {}, `"maybe"`: {Bad: `"maybe"`},
	} {
		var b Bool
		if err := decodeModel([]byte(in), &b); err != nil || b != want {
			t.Errorf("Bool(%s) = %+v; want %+v", in, b, want)
		}
	}
	for in, want := range map[string]Str{
		`"x"`: {V: "x", Set: true}, `12`: {V: "12", Set: true}, `null`: {}, `{"a":1}`: {Bad: `{"a":1}`},
		`"\u00e9\n"`: {V: "é\n", Set: true},
	} {
		var s Str
		if err := decodeModel([]byte(in), &s); err != nil || s != want {
			t.Errorf("Str(%s) = %+v; want %+v", in, s, want)
		}
	}
}

// TestDecodeOddShapes: nothing inside a group's object fails the page.
func TestDecodeOddShapes(t *testing.T) {
	body := `{"TotalCount":"2","AppInstanceGroupModels":[
		{"AppInstanceGroupId":"aig-1","NodePool":{"not":"a list"},"Apps":[1,{"AppId":"a"}],"OtaInfo":[],"Tags":"x","Amount":{"n":1},"UnknownNewField":{"deep":[1,2]}},
		"not an object",
		{"AppInstanceGroupId":"aig-2","NodePool":[{"NodePoolId":"rg-1","RecurrenceSchedules":[{"RecurrenceValues":["1","x"],"TimerPeriods":"no"}]}]}
	]}`
	r, err := DecodeListResponse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if r.TotalCount.V != 2 || len(r.Groups.Items) != 2 || r.Groups.BadItems != 1 {
		t.Fatalf("TotalCount %v, %d groups, %d bad; want 2, 2, 1", r.TotalCount.V, len(r.Groups.Items), r.Groups.BadItems)
	}
	g := r.Groups.Items[0]
	if g.NodePool.Bad == "" || g.Apps.BadItems != 1 || len(g.Apps.Items) != 1 || g.OtaInfo.Bad == "" || g.Tags.Bad == "" || g.Amount.Bad == "" {
		t.Errorf("odd fields not marked bad: %+v", g)
	}
	rs := r.Groups.Items[1].NodePool.Items[0].RecurrenceSchedules.Items[0]
	if len(rs.RecurrenceValues.Items) != 2 || !rs.RecurrenceValues.Items[0].Set || rs.RecurrenceValues.Items[1].Bad == "" || rs.TimerPeriods.Bad == "" {
		t.Errorf("schedule shapes: %+v", rs)
	}
	for _, bad := range []string{`[]`, `"x"`, `{"AppInstanceGroupModels":`, ``} {
		if _, err := DecodeListResponse([]byte(bad)); err == nil {
			t.Errorf("DecodeListResponse(%q) did not fail", bad)
		}
	}
}

// TestGroupKey: a group is its ID and region; an answer without RegionId
// falls back to the biz region of the query that listed it.
func TestGroupKey(t *testing.T) {
	for _, c := range []struct {
		id, region, biz, wantRegion string
	}{
		{"aig-1", "cn-shanghai", "", "cn-shanghai"},
		{" aig-1 ", " cn-shanghai ", "cn-hangzhou", "cn-shanghai"},
		{"aig-1", "", "cn-hangzhou", "cn-hangzhou"},
		{"aig-1", "  ", "", ""},
	} {
		g := &Group{AppInstanceGroupID: Str{V: c.id, Set: true}, RegionID: Str{V: c.region, Set: c.region != ""}}
		if got := g.Region(c.biz); got != c.wantRegion {
			t.Errorf("Region(%q) of %q = %q, want %q", c.biz, c.region, got, c.wantRegion)
		}
		if got, want := g.Key(c.biz), "aig-1\x00"+c.wantRegion; got != want {
			t.Errorf("Key(%q) = %q, want %q", c.biz, got, want)
		}
	}
}

// TestClip: what is cut stays valid UTF-8 and within the limit, "…" aside.
func TestClip(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 64, "short"},
		{"abcdef", 4, "abcd…"},
		{"ab部门", 4, "ab…"}, // 部 is three bytes: not cut in half
		{"ab部门", 5, "ab部…"},
		{"bad \xff byte", 64, "bad \uFFFD byte"},
		{"", 0, ""},
	} {
		if got := clip(c.in, c.n); got != c.want {
			t.Errorf("clip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
	long := strings.Repeat("部", 30) // 90 bytes
	if got := clip(long, 64); !utf8.ValidString(got) || len(strings.TrimSuffix(got, "…")) > 64 {
		t.Errorf("clip cut a character in half or went past the limit: %q", got)
	}
}
