// Package testconfig holds the test fixtures that need the config package:
// a validated configuration signed with testkit.Key, and the placement
// fixtures (every filter set, a group that passes them all, groups
// assigned to user groups). It is for tests only; config's own tests cannot
// import it (it imports config) and use testkit instead.
package testconfig

import (
	"encoding/json"
	"fmt"
	"testing"

	promconfig "github.com/prometheus/common/config"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// New is a validated config for endpoint, signed with testkit.Key; edit
// may change it before validation.
func New(tb testing.TB, endpoint string, edit func(*config.Config)) *config.Config {
	tb.Helper()
	cfg := config.DefaultConfig()
	cfg.Endpoint = endpoint
	cfg.Credentials = &config.Credentials{AccessKeyID: testkit.Key.ID, AccessKeySecret: promconfig.Secret(testkit.Key.Secret)}
	if edit != nil {
		edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// SetTags is the one place the tests set tag filters (key, value, key,
// value, ...), so a change of Filters.Tags' type touches only this.
func SetTags(f *config.Filters, kv ...string) {
	f.Tags = nil
	for i := 0; i+1 < len(kv); i += 2 {
		f.Tags = append(f.Tags, config.TagFilter{Key: kv[i], Value: kv[i+1]})
	}
}

// FullFilters sets every filter, a biz region and every request setting,
// each to a value of its own. Tags are given in key order, so the Tag.N
// numbering is the same whether the exporter keeps their order or sorts.
func FullFilters(c *config.Config) {
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
	SetTags(&c.Filters, "cost-center", "cc 1", "department", "design")
}

// MatchingGroup is a group that passes every filter of FullFilters (when
// assigned to ug-a or ug-b); note tells copies apart.
func MatchingGroup(note string) json.RawMessage {
	return json.RawMessage(`{"AppInstanceGroupId":"aig-match","AppInstanceGroupName":"Office ` + note + `",
		"AppCenterImageId":"img-1","RegionId":"cn-shenzhen","ProductType":"CloudApp","Status":"PUBLISHED",
		"OfficeSiteId":"cn-shenzhen+dir-1","ChargeType":"PrePaid","ResourceStatus":"AVAILABLE","Amount":2,
		"NodePool":[{"NodePoolId":"rg-1","NodeInstanceType":"appstreaming.general.4c8g","NodeAmount":2,"NodeUsed":1}],
		"Tags":[{"Key":"department","Value":"design"},{"Key":"cost-center","Value":"cc 1"}]}`)
}

// UserGroupData is six groups in cn-shanghai (testkit.Generated) and the
// user groups each is assigned to.
func UserGroupData() simulator.Dataset {
	d := testkit.Generated(6, "cn-shanghai")
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
