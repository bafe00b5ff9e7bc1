package exporter

import (
	"strings"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// The error series is there only while the newest refresh failed; the
// status keeps the newest failure, with the API's RequestId, after the
// query has recovered.
func TestLastRefreshErrorComesAndGoes(t *testing.T) {
	e := newEnv(t, []string{"testdata/reference.json"}, nil)
	if body := e.scrape(); strings.Contains(body, "aliyun_appstream_last_refresh_error_info{") {
		t.Fatal("an error series before any failure")
	}
	if st := queryStatus(t, e.exp, "", "groups"); !st.Up || st.Error != nil || !st.Served || st.Groups == 0 || st.Pages == 0 {
		t.Errorf("status after a good refresh: %+v", st)
	}

	e.sim.SetSticky(&simulator.Fault{Status: 403, Code: "Forbidden.RAM", Message: "User not authorized to operate on the specified resource."})
	e.clock.Advance(2 * time.Minute)
	failedAt := e.clock.Now()
	wantLines(t, e.scrape(), "",
		`aliyun_appstream_last_refresh_error_info{biz_region="",class="permission",code="Forbidden.RAM"} 1`,
		`aliyun_appstream_up{biz_region=""} 0`)
	st := queryStatus(t, e.exp, "", "groups")
	if st.Up || st.Error == nil || st.Error.Code != "Forbidden.RAM" || st.Error.RequestID == "" || !st.Error.At.Equal(failedAt) ||
		!strings.Contains(st.Error.Message, "Forbidden.RAM") {
		t.Errorf("status after a refused refresh: up %v, error %+v", st.Up, st.Error)
	}
	if !st.Served {
		t.Error("the last good data is not served after one failure")
	}

	e.sim.SetSticky(nil)
	e.clock.Advance(2 * time.Minute)
	if body := e.scrape(); strings.Contains(body, "aliyun_appstream_last_refresh_error_info{") {
		t.Error("the error series stays after a good refresh")
	}
	st = queryStatus(t, e.exp, "", "groups")
	if !st.Up || st.Error == nil || st.Error.Code != "Forbidden.RAM" {
		t.Errorf("status after recovery: up %v, error %+v; want up with the newest failure kept", st.Up, st.Error)
	}
}
