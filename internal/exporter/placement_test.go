package exporter

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// setTags is the one place these tests set tag filters (key, value, key,
// value, ...), so a change of Filters.Tags' type touches only this.
func setTags(f *config.Filters, kv ...string) {
	f.Tags = nil
	for i := 0; i+1 < len(kv); i += 2 {
		f.Tags = append(f.Tags, config.TagFilter{Key: kv[i], Value: kv[i+1]})
	}
}

// fullFilters sets every filter, a biz region and every request setting,
// each to a value of its own. Tags are given in key order, so the Tag.N
// numbering is the same whether the exporter keeps their order or sorts.
func fullFilters(c *config.Config) {
	c.RegionID = "cn-hangzhou"
	c.BizRegions = []string{"cn-shenzhen"}
	c.ProductType = "CloudApp"
	c.PageSize = 50
	c.Filters = config.Filters{
		Status:               []string{"PUBLISHED", "MAINTAINING"},
		AppInstanceGroupID:   "aig-match",
		AppInstanceGroupName: "Office",
		AppCenterImageID:     "img-1",
		NodeInstanceType:     "appstreaming.general.4c8g",
		OfficeSiteID:         "cn-shenzhen+dir-1",
		UserGroupIDs:         []string{"ug-a", "ug-b"},
		ExcludedUserGroupIDs: []string{"ug-x"},
	}
	setTags(&c.Filters, "cost-center", "cc 1", "department", "design")
}

// matchingGroup is a group that passes every filter of fullFilters (when
// assigned to ug-a or ug-b); note tells copies apart.
func matchingGroup(note string) json.RawMessage {
	return json.RawMessage(`{"AppInstanceGroupId":"aig-match","AppInstanceGroupName":"Office ` + note + `",
		"AppCenterImageId":"img-1","RegionId":"cn-shenzhen","ProductType":"CloudApp","Status":"PUBLISHED",
		"OfficeSiteId":"cn-shenzhen+dir-1","ChargeType":"PrePaid","ResourceStatus":"AVAILABLE","Amount":2,
		"NodePool":[{"NodePoolId":"rg-1","NodeInstanceType":"appstreaming.general.4c8g","NodeAmount":2,"NodeUsed":1}],
		"Tags":[{"Key":"department","Value":"design"},{"Key":"cost-center","Value":"cc 1"}]}`)
}

// userGroupData: six groups in cn-shanghai and the user groups each is
// assigned to.
func userGroupData() simulator.Dataset {
	d := generated(6, "cn-shanghai")
	id := func(i int) string { return fmt.Sprintf("aig-gen-cn-shanghai-%05d", i) }
	d.UserGroups = map[string][]string{
		id(0): {"ug-a"},
		id(1): {"ug-a", "ug-x"},
		id(2): {"ug-b"},
		id(3): {"ug-x"},
		// id(4) is in no user group
		id(5): {"ug-b", "ug-c"},
	}
	return d
}

// exportedGroups lists the group IDs of group_info, sorted, by their
// number in userGroupData.
func exportedGroups(t *testing.T, text string) []int {
	t.Helper()
	var out []int
	for _, m := range parse(t, text)["aliyun_appstream_group_info"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "group_id" {
				n, err := strconv.Atoi(strings.TrimPrefix(lp.GetValue(), "aig-gen-cn-shanghai-"))
				if err != nil {
					t.Fatalf("unexpected group %s", lp.GetValue())
				}
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestUserGroupFiltersEndToEnd: user_group_ids and excluded_user_group_ids
// reach the endpoint where it reads them, through the SDK's signing, and
// groups outside the asked user groups are not exported.
func TestUserGroupFiltersEndToEnd(t *testing.T) {
	cases := []struct {
		name              string
		include, excluded []string
		want              []int
	}{
		{"no filter", nil, nil, []int{0, 1, 2, 3, 4, 5}},
		{"user_group_ids", []string{"ug-a", "ug-b"}, nil, []int{0, 1, 2, 5}},
		{"excluded_user_group_ids", nil, []string{"ug-x"}, []int{0, 2, 4, 5}},
		{"both", []string{"ug-a", "ug-b"}, []string{"ug-x"}, []int{0, 2, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil, func(cfg *config.Config) {
				cfg.Filters.UserGroupIDs = c.include
				cfg.Filters.ExcludedUserGroupIDs = c.excluded
			})
			if err := e.sim.SetData(userGroupData()); err != nil {
				t.Fatal(err)
			}
			if got := exportedGroups(t, e.scrape()); !slices.Equal(got, c.want) {
				t.Errorf("exported groups %v, want %v", got, c.want)
			}
			for _, r := range e.sim.Log() {
				if r.Code != "Success" || len(r.Misplaced) > 0 {
					t.Errorf("answered %s, misplaced %v", r.Code, r.Misplaced)
				}
			}
		})
	}
}

// TestFullFilterRefresh: with every filter set, each request arrives with
// nothing in the wrong place, and only the group passing every filter is
// exported, not the groups failing one filter each.
func TestFullFilterRefresh(t *testing.T) {
	e := newEnv(t, nil, fullFilters)
	var d simulator.Dataset
	d.AppInstanceGroupModels = append(d.AppInstanceGroupModels, matchingGroup("the one"))
	// Each decoy fails one filter; its ID passes (groups are told apart by
	// their name here).
	for i, swap := range [][2]string{
		{`"Status":"PUBLISHED"`, `"Status":"FAILED"`},
		{`"AppInstanceGroupName":"Office `, `"AppInstanceGroupName":"Lab `},
		{`"AppCenterImageId":"img-1"`, `"AppCenterImageId":"img-2"`},
		{`"RegionId":"cn-shenzhen"`, `"RegionId":"cn-beijing"`},
		{`"OfficeSiteId":"cn-shenzhen+dir-1"`, `"OfficeSiteId":"cn-shenzhen+dir-2"`},
		{`appstreaming.general.4c8g`, `appstreaming.general.8c16g`},
		{`{"Key":"department","Value":"design"}`, `{"Key":"department","Value":"sales"}`},
		{`"ProductType":"CloudApp"`, `"ProductType":"CloudDesktop"`},
	} {
		g := strings.Replace(string(matchingGroup(fmt.Sprint("decoy ", i))), swap[0], swap[1], 1)
		d.AppInstanceGroupModels = append(d.AppInstanceGroupModels, json.RawMessage(g))
	}
	d.UserGroups = map[string][]string{"aig-match": {"ug-b"}}
	if err := e.sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, e.scrape())
	if v := value(t, mfs, "aliyun_appstream_groups", "biz_region", "cn-shenzhen"); v != 1 {
		t.Errorf("groups = %v, want the 1 group passing every filter", v)
	}
	if _, n := find(mfs, "aliyun_appstream_group_info", "group_name", "Office the one"); n != 1 {
		t.Errorf("the group passing every filter is not exported")
	}
	log := e.sim.Log()
	if len(log) == 0 {
		t.Fatal("no request")
	}
	for _, r := range log {
		if r.Code != "Success" || len(r.Misplaced) > 0 {
			t.Errorf("answered %s, misplaced %v", r.Code, r.Misplaced)
		}
	}
	// The user group filter is effective too: out of ug-a and ug-b, the
	// group is not listed.
	d.UserGroups = map[string][]string{"aig-match": {"ug-c"}}
	if err := e.sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	if v := value(t, parse(t, e.scrape()), "aliyun_appstream_groups", "biz_region", "cn-shenzhen"); v != 0 {
		t.Errorf("groups = %v with the group outside the user groups, want 0", v)
	}
}
