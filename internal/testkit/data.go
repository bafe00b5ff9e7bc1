package testkit

import (
	"encoding/json"
	"fmt"

	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// Generated builds n groups in region with one pool each; group i is
// aig-gen-<region>-<i, five digits>.
func Generated(n int, region string) simulator.Dataset {
	var d simulator.Dataset
	for i := range n {
		g := fmt.Sprintf(`{"AppInstanceGroupId":"aig-gen-%s-%05d","AppInstanceGroupName":"Generated %d","RegionId":%q,
			"ProductType":"CloudApp","ChargeType":"PrePaid","Status":"PUBLISHED","ResourceStatus":"AVAILABLE",
			"Amount":2,"ExpiredTime":"2023-01-01T00:00:00.000+00:00",
			"NodePool":[{"NodePoolId":"rg-gen-%05d","NodeInstanceType":"appstreaming.general.4c8g","NodeAmount":4,"NodeUsed":%d}]}`,
			region, i, i, region, i, i%5)
		d.AppInstanceGroupModels = append(d.AppInstanceGroupModels, json.RawMessage(g))
	}
	return d
}
