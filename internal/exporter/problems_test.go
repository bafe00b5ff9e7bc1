package exporter

import (
	"strings"
	"testing"
	"time"
)

func TestBadFieldsAreLoggedOnce(t *testing.T) {
	e := goldenEnv(t)
	e.scrape()
	e.clock.Advance(2 * time.Minute)
	e.scrape()
	logs := e.logs.String()
	warn := strings.Count(logs, `level=WARN msg="unreadable field in API answer; its series is dropped" biz_region="" group_id=aig-edge-bad field=ScalingUsageThreshold`)
	debug := strings.Count(logs, `level=DEBUG msg="unreadable field in API answer; its series is dropped" biz_region="" group_id=aig-edge-bad field=ScalingUsageThreshold`)
	if warn != 1 || debug != 1 {
		t.Errorf("bad field logged %d times at warn and %d at debug over two refreshes, want 1 and 1:\n%s", warn, debug, logs)
	}
	for _, field := range []string{"field=MaxAmount", "field=ExpiredTime", "field=OtaInfo", "field=NodePool", "field=Apps", "field=SkipUserAuthCheck", "field=AppInstanceGroupId"} {
		if !strings.Contains(logs, field) {
			t.Errorf("no log line for %s", field)
		}
	}
}
