package simulator

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// TestParametersReadOnlyFromTheirPlace: a parameter is read only where
// the SDKs send it; in the other place it is ignored and logged as
// misplaced. The signature covers both places either way.
func TestParametersReadOnlyFromTheirPlace(t *testing.T) {
	key := Key{ID: "LTAIsim", Secret: "sim-secret"}
	s := New(key)
	if err := s.Load([]byte(`{"AppInstanceGroupModels":[{"AppInstanceGroupId":"a","Status":"PUBLISHED"},
		{"AppInstanceGroupId":"b","Status":"FAILED"},{"AppInstanceGroupId":"c","Status":"PUBLISHED"}],
		"UserGroups":{"a":["ug-1"]}}`)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	now := time.Now()
	last := func() Request { l := s.Log(); return l[len(l)-1] }
	total := func(out map[string]any) any { return out["TotalCount"] }

	cases := []struct {
		name      string
		extra     map[string]string
		body      []string
		total     float64
		misplaced []string
	}{
		{"Status.1 in the body", map[string]string{"Status.1": "PUBLISHED"}, []string{"Status.1"}, 2, nil},
		{"Status.1 in the query", map[string]string{"Status.1": "PUBLISHED"}, nil, 3, []string{"Status.1"}},
		{"UserGroupIds.1 in the body", map[string]string{"UserGroupIds.1": "ug-1"}, []string{"UserGroupIds.1"}, 1, nil},
		{"UserGroupIds.1 in the query", map[string]string{"UserGroupIds.1": "ug-1"}, nil, 3, []string{"UserGroupIds.1"}},
		{"ExcludedUserGroupIds.1 in the query", map[string]string{"ExcludedUserGroupIds.1": "ug-1"}, nil, 3, []string{"ExcludedUserGroupIds.1"}},
		{"AppInstanceGroupId in the query", map[string]string{"AppInstanceGroupId": "b"}, nil, 1, nil},
		{"AppInstanceGroupId in the body", map[string]string{"AppInstanceGroupId": "b"}, []string{"AppInstanceGroupId"}, 3, []string{"AppInstanceGroupId"}},
		{"signature parameters anywhere", nil, []string{"Timestamp", "SignatureNonce"}, 3, nil},
	}
	for i, c := range cases {
		status, out := call(t, srv, signed(key, fmt.Sprint("place-", i), now, c.extra), c.body...)
		if status != 200 || total(out) != c.total {
			t.Errorf("%s: %d, TotalCount %v, want 200 and %v", c.name, status, total(out), c.total)
		}
		if got := last().Misplaced; !slices.Equal(got, c.misplaced) {
			t.Errorf("%s: logged misplaced %v, want %v", c.name, got, c.misplaced)
		}
	}
	// A mandatory parameter in the wrong place is missing.
	status, out := call(t, srv, signed(key, "place-pt", now, nil), "ProductType")
	if status != 400 || out["Code"] != "MissingParameter" || !slices.Equal(last().Misplaced, []string{"ProductType"}) {
		t.Errorf("ProductType in the body: %d %v, misplaced %v", status, out["Code"], last().Misplaced)
	}
	for k, want := range map[string]Place{"Status.3": InBody, "UserGroupIds.1": InBody, "ExcludedUserGroupIds.2": InBody,
		"Tag.1.Key": InQuery, "RegionId": InQuery, "BizRegionId": InQuery, "PageNumber": InQuery, "Signature": "", "Statuses": ""} {
		if got := PlaceOf(ListAppInstanceGroup, k); got != want {
			t.Errorf("PlaceOf(%s) = %q, want %q", k, got, want)
		}
	}
}

// TestListAppInstancesParameters: ListAppInstances reads its group and
// paging from the query string and Status.N from the body, as the SDKs
// send them; a Status.N in the query is ignored and logged as misplaced;
// without AppInstanceGroupId the request is refused.
func TestListAppInstancesParameters(t *testing.T) {
	key := Key{ID: "LTAIsim", Secret: "sim-secret"}
	s := New(key)
	if err := s.Load([]byte(`{"AppInstances":{"aig-1":[
		{"AppInstanceId":"ai-1","Status":"RUNNING","SessionStatus":"connect"},
		{"AppInstanceId":"ai-2","Status":"INIT"},
		{"AppInstanceId":"ai-3","Status":"RUNNING","SessionStatus":"disconnect"}]}}`)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	now := time.Now()
	last := func() Request { l := s.Log(); return l[len(l)-1] }
	base := map[string]string{"Action": ListAppInstances, "AppInstanceGroupId": "aig-1", "PageSize": "2"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name      string
		extra     map[string]string
		body      []string
		total     float64
		page      int
		misplaced []string
	}{
		{"paged", nil, nil, 3, 2, nil},
		{"Status.1 in the body", map[string]string{"Status.1": "RUNNING"}, []string{"Status.1"}, 2, 2, nil},
		{"Status.1 in the query", map[string]string{"Status.1": "RUNNING"}, nil, 3, 2, []string{"Status.1"}},
		{"second page", map[string]string{"PageNumber": "2"}, nil, 3, 1, nil},
		{"AppInstanceGroupId in the body", nil, []string{"AppInstanceGroupId"}, -1, 0, []string{"AppInstanceGroupId"}},
	}
	for i, c := range cases {
		status, out := call(t, srv, signed(key, fmt.Sprint("inst-", i), now, with(c.extra)), c.body...)
		if c.total < 0 {
			if status != 400 || out["Code"] != "MissingParameter" {
				t.Errorf("%s: %d %v, want 400 MissingParameter", c.name, status, out["Code"])
			}
		} else if models, _ := out["AppInstanceModels"].([]any); status != 200 || out["TotalCount"] != c.total || len(models) != c.page {
			t.Errorf("%s: %d, TotalCount %v, %d on the page; want 200, %v, %d", c.name, status, out["TotalCount"], len(models), c.total, c.page)
		}
		if got := last(); got.Action != ListAppInstances || !slices.Equal(got.Misplaced, c.misplaced) {
			t.Errorf("%s: logged %s misplaced %v, want %v", c.name, got.Action, got.Misplaced, c.misplaced)
		}
	}
	for k, want := range map[string]Place{"Status.1": InBody, "AppInstanceIdList.3": InBody, "AppInstanceGroupId": InQuery, "PageNumber": InQuery, "ProductType": ""} {
		if got := PlaceOf(ListAppInstances, k); got != want {
			t.Errorf("PlaceOf(ListAppInstances, %s) = %q, want %q", k, got, want)
		}
	}
}
