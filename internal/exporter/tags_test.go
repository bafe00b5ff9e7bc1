package exporter

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
)

// tagDataset has tag keys in Chinese, as groups on the China site carry them.
const tagDataset = `{"AppInstanceGroupModels": [
  {"AppInstanceGroupId": "aig-design", "AppInstanceGroupName": "设计部", "RegionId": "cn-hangzhou", "ProductType": "CloudApp",
   "ChargeType": "PrePaid", "Status": "PUBLISHED", "Amount": 2,
   "Tags": [{"Key": "部门", "Value": "设计"}, {"Key": "成本中心", "Value": "cc-1"}]},
  {"AppInstanceGroupId": "aig-rnd", "AppInstanceGroupName": "研发部", "RegionId": "cn-hangzhou", "ProductType": "CloudApp",
   "ChargeType": "PrePaid", "Status": "PUBLISHED", "Amount": 3,
   "Tags": [{"Key": "部门", "Value": "研发"}]}
]}`

func tagEnv(t *testing.T, edit func(*config.Config)) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tags.json")
	testkit.WriteFile(t, path, tagDataset)
	return newEnv(t, []string{path}, func(c *config.Config) {
		c.BizRegions = []string{"cn-hangzhou"}
		c.TagLabels = []config.TagLabel{{Key: "部门", Label: "dept"}, {Key: "成本中心", Label: "cost_centre"}}
		edit(c)
	})
}

// TestChineseTagKeys: a tag key in any script becomes the label it is
// renamed to, on every group series by default.
func TestChineseTagKeys(t *testing.T) {
	e := tagEnv(t, func(*config.Config) {})
	mfs := parse(t, e.scrape())
	if v := testkit.Value(t, mfs, "aliyun_appstream_group_amount", "group_id", "aig-design", "tag_dept", "设计", "tag_cost_centre", "cc-1"); v != 2 {
		t.Errorf("amount %v, want 2", v)
	}
	testkit.Value(t, mfs, "aliyun_appstream_group_status", "group_id", "aig-rnd", "tag_dept", "研发", "tag_cost_centre", "", "status", "PUBLISHED")
	if _, ok := mfs["aliyun_appstream_group_tags"]; ok {
		t.Error("aliyun_appstream_group_tags is written only with tag_labels_on: info")
	}
}

// TestTagLabelsOnInfo: with tag_labels_on: info the tags are only on
// aliyun_appstream_group_tags, so editing a tag renames no other series.
func TestTagLabelsOnInfo(t *testing.T) {
	e := tagEnv(t, func(c *config.Config) { c.TagLabelsOn = config.TagLabelsOnInfo })
	body := e.scrape()
	mfs := parse(t, body)
	for _, g := range [][]string{{"aig-design", "设计", "cc-1"}, {"aig-rnd", "研发", ""}} {
		testkit.Value(t, mfs, "aliyun_appstream_group_tags", "group_id", g[0], "region", "cn-hangzhou", "charge_type", "PrePaid", "tag_dept", g[1], "tag_cost_centre", g[2])
	}
	for _, line := range strings.Split(body, "\n") {
		if strings.Contains(line, "tag_") && !strings.HasPrefix(line, "aliyun_appstream_group_tags{") && !strings.HasPrefix(line, "#") {
			t.Errorf("a tag label outside aliyun_appstream_group_tags: %s", line)
		}
	}
	testkit.Value(t, mfs, "aliyun_appstream_group_amount", "group_id", "aig-rnd")
}

// TestTagFilterList sends each entry of the list form as its own Tag.N.
func TestTagFilterList(t *testing.T) {
	e := tagEnv(t, func(c *config.Config) {
		c.Filters.Tags = config.TagFilters{{Key: "部门", Value: "设计"}, {Key: "成本中心", Value: "cc-1"}}
	})
	mfs := parse(t, e.scrape())
	if _, n := testkit.Find(mfs, "aliyun_appstream_group_amount"); n != 1 {
		t.Errorf("%d groups exported, want the one carrying both tags", n)
	}
	testkit.Value(t, mfs, "aliyun_appstream_group_amount", "group_id", "aig-design")
	q := e.sim.Log()[0].Query
	if q.Get("Tag.1.Key") != "部门" || q.Get("Tag.1.Value") != "设计" || q.Get("Tag.2.Key") != "成本中心" || q.Get("Tag.2.Value") != "cc-1" {
		t.Errorf("tags sent as %v", q)
	}
}
