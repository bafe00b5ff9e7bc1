package simulator

import (
	"net/url"
	"slices"
	"strings"
)

// Place is where a request parameter travels.
type Place string

// The places of a request parameter.
const (
	InQuery Place = "query" // the URL's query string
	InBody  Place = "body"  // the application/x-www-form-urlencoded form body
)

// params is, for each action served, every request parameter and where
// Alibaba's generated SDKs send it. Lists are flattened (Status.1,
// Tag.1.Key, ...) and named here by their first part. The simulator reads
// each one from its place only, as a gateway that takes body parameters
// only from the body would: a parameter in the wrong place is ignored, so a
// filter sent there silently does not filter. RegionId is read from
// nowhere: the reference lists it as a deprecated filter, and the
// simulator does not filter by it.
var params = map[string]map[string]Place{
	ListAppInstanceGroup: {
		"AppCenterImageId":     InQuery,
		"AppInstanceGroupId":   InQuery,
		"AppInstanceGroupName": InQuery,
		"BizRegionId":          InQuery,
		"NodeInstanceType":     InQuery,
		"OfficeSiteId":         InQuery,
		"PageNumber":           InQuery,
		"PageSize":             InQuery,
		"ProductType":          InQuery,
		"RegionId":             InQuery,
		"Tag":                  InQuery, // Tag.N.Key, Tag.N.Value
		"ExcludedUserGroupIds": InBody,  // ExcludedUserGroupIds.N
		"Status":               InBody,  // Status.N
		"UserGroupIds":         InBody,  // UserGroupIds.N
	},
	ListAppInstances: {
		"AppInstanceGroupId": InQuery,
		"AppInstanceId":      InQuery,
		"IncludeDeleted":     InQuery,
		"PageNumber":         InQuery,
		"PageSize":           InQuery,
		"RegionId":           InQuery,
		"UserIdList":         InQuery, // UserIdList.N
		"AppInstanceIdList":  InBody,  // AppInstanceIdList.N
		"Status":             InBody,  // Status.N
	},
}

// The actions the simulator serves.
const (
	ListAppInstanceGroup = "ListAppInstanceGroup"
	ListAppInstances     = "ListAppInstances"
)

// PlaceOf is where the SDKs send a parameter of action, by its full name
// ("Status.2", "Tag.1.Key"); "" for a name that is not one of them (the
// signature's and other common parameters).
func PlaceOf(action, name string) Place {
	base, _, _ := strings.Cut(name, ".")
	return params[action][base]
}

// misplaced lists the parameters in the wrong place, sorted.
func misplaced(action string, query, form url.Values) []string {
	var out []string
	for _, in := range []struct {
		vals  url.Values
		place Place
	}{{query, InQuery}, {form, InBody}} {
		for k := range in.vals {
			if p := PlaceOf(action, k); p != "" && p != in.place {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

// served tells whether the simulator answers action.
func served(action string) bool {
	_, ok := params[action]
	return ok
}
