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
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit/testconfig"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// exportedGroups lists the group IDs of group_info, sorted, by their
// number in testconfig.UserGroupData.
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
			if err := e.sim.SetData(testconfig.UserGroupData()); err != nil {
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
	e := newEnv(t, nil, testconfig.FullFilters)
	var d simulator.Dataset
	d.AppInstanceGroupModels = append(d.AppInstanceGroupModels, testconfig.MatchingGroup("the one"))
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
		g := strings.Replace(string(testconfig.MatchingGroup(fmt.Sprint("decoy ", i))), swap[0], swap[1], 1)
		d.AppInstanceGroupModels = append(d.AppInstanceGroupModels, json.RawMessage(g))
	}
	d.UserGroups = map[string][]string{"aig-match": {"ug-b"}}
	if err := e.sim.SetData(d); err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_groups", "biz_region", "cn-shenzhen"); v != 1 {
		t.Errorf("groups = %v, want the 1 group passing every filter", v)
	}
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_info", "group_name", "Office the one"); n != 1 {
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
	if v := testkit.Value(t, parse(t, e.scrape()), "aliyun_appstream_groups", "biz_region", "cn-shenzhen"); v != 0 {
		t.Errorf("groups = %v with the group outside the user groups, want 0", v)
	}
}
