package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Dataset is the simulator's data: a recorded ListAppInstanceGroup answer
// (only AppInstanceGroupModels is used) plus, since the API does not return
// them, the user groups each delivery group is assigned to, for the
// UserGroupIds filters, and each group's app instances as
// ListAppInstances returns them (AppInstanceModels), by group ID.
type Dataset struct {
	AppInstanceGroupModels []json.RawMessage            `json:"AppInstanceGroupModels"`
	UserGroups             map[string][]string          `json:"UserGroups,omitempty"`
	AppInstances           map[string][]json.RawMessage `json:"AppInstances,omitempty"`
}

// Load replaces the served data with a Dataset in JSON.
func (s *Server) Load(data []byte) error {
	var d Dataset
	if err := json.Unmarshal(data, &d); err != nil {
		return fmt.Errorf("simulator data set: %w", err)
	}
	return s.SetData(d)
}

// SetData replaces the served data. Groups are served in the order given.
func (s *Server) SetData(d Dataset) error {
	index := make([]groupIndex, len(d.AppInstanceGroupModels))
	for i, raw := range d.AppInstanceGroupModels {
		// Odd shapes are the point of some tests: index what reads, serve all.
		_ = json.Unmarshal(raw, &index[i])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups, s.index, s.userGroups, s.instances = d.AppInstanceGroupModels, index, d.UserGroups, d.AppInstances
	return nil
}

// groupIndex holds the fields the filters look at.
type groupIndex struct {
	AppInstanceGroupID   string `json:"AppInstanceGroupId"`
	AppInstanceGroupName string `json:"AppInstanceGroupName"`
	AppCenterImageID     string `json:"AppCenterImageId"`
	RegionID             string `json:"RegionId"`
	ProductType          string `json:"ProductType"`
	Status               string `json:"Status"`
	OfficeSiteID         string `json:"OfficeSiteId"`
	NodePool             []struct {
		NodeInstanceType string `json:"NodeInstanceType"`
	} `json:"NodePool"`
	Tags []struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	} `json:"Tags"`
}

// page applies the filters and returns the requested page. Each parameter
// is read from its place only (see params).
func (s *Server) page(query, form url.Values, requestID string) ([]byte, *apiError) {
	get := reader(ListAppInstanceGroup, query, form)
	productType := get("ProductType")
	if productType == "" {
		return nil, &apiError{400, "MissingParameter", `The input parameter "ProductType" that is mandatory for processing this request is not supplied.`}
	}
	pageSize, pageNumber, e := paging(get, 10)
	if e != nil {
		return nil, e
	}
	statuses := indexed(get, "Status.%d")
	// Each Tag.N is one condition, a key may repeat; a group must meet all.
	var tags [][2]string
	for i := 1; get(fmt.Sprintf("Tag.%d.Key", i)) != ""; i++ {
		tags = append(tags, [2]string{get(fmt.Sprintf("Tag.%d.Key", i)), get(fmt.Sprintf("Tag.%d.Value", i))})
	}
	userGroups := indexed(get, "UserGroupIds.%d")
	excluded := indexed(get, "ExcludedUserGroupIds.%d")

	s.mu.Lock()
	var matched []json.RawMessage
	for i, g := range s.index {
		ug := s.userGroups[g.AppInstanceGroupID]
		switch {
		case g.ProductType != "" && g.ProductType != productType,
			len(statuses) > 0 && !slices.Contains(statuses, g.Status),
			!matches(get("BizRegionId"), g.RegionID),
			!matches(get("AppInstanceGroupId"), g.AppInstanceGroupID),
			get("AppInstanceGroupName") != "" && !strings.Contains(g.AppInstanceGroupName, get("AppInstanceGroupName")),
			!matches(get("AppCenterImageId"), g.AppCenterImageID),
			!matches(get("OfficeSiteId"), strings.TrimSpace(g.OfficeSiteID)),
			get("NodeInstanceType") != "" && !slices.ContainsFunc(g.NodePool, func(p struct {
				NodeInstanceType string `json:"NodeInstanceType"`
			}) bool {
				return p.NodeInstanceType == get("NodeInstanceType")
			}),
			!hasTags(g, tags),
			len(userGroups) > 0 && !slices.ContainsFunc(userGroups, func(u string) bool { return slices.Contains(ug, u) }),
			len(excluded) > 0 && slices.ContainsFunc(excluded, func(u string) bool { return slices.Contains(ug, u) }):
			continue
		}
		matched = append(matched, s.groups[i])
	}
	s.mu.Unlock()
	return pageBody(requestID, "AppInstanceGroupModels", matched, pageSize, pageNumber), nil
}

// reader reads a parameter of action from its place only (see params).
func reader(action string, query, form url.Values) func(string) string {
	return func(k string) string {
		switch PlaceOf(action, k) {
		case InQuery:
			return query.Get(k)
		case InBody:
			return form.Get(k)
		}
		return ""
	}
}

// paging reads PageSize (1 to 100, defaultSize when absent) and
// PageNumber (from 1) as the service checks them.
func paging(get func(string) string, defaultSize int) (pageSize, pageNumber int, e *apiError) {
	pageSize, pageNumber = defaultSize, 1
	if v := get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return 0, 0, &apiError{400, "InvalidParameter.PageSize", "The specified parameter PageSize is not valid: it must be 1 to 100."}
		}
		pageSize = n
	}
	if v := get("PageNumber"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, &apiError{400, "InvalidParameter.PageNumber", "The specified parameter PageNumber is not valid."}
		}
		pageNumber = n
	}
	return pageSize, pageNumber, nil
}

// pageBody is the answer holding page pageNumber of matched, under list,
// the items as they were loaded.
func pageBody(requestID, list string, matched []json.RawMessage, pageSize, pageNumber int) []byte {
	start := min((pageNumber-1)*pageSize, len(matched))
	end := min(start+pageSize, len(matched))
	var body bytes.Buffer
	fmt.Fprintf(&body, `{"RequestId":%q,"TotalCount":%d,"PageSize":%d,"PageNumber":%d,%q:[`,
		requestID, len(matched), pageSize, pageNumber, list)
	for i, g := range matched[start:end] {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(g)
	}
	body.WriteString("]}")
	return body.Bytes()
}

func matches(filter, value string) bool { return filter == "" || filter == value }

func hasTags(g groupIndex, want [][2]string) bool {
	for _, kv := range want {
		if !slices.ContainsFunc(g.Tags, func(t struct {
			Key   string `json:"Key"`
			Value string `json:"Value"`
		}) bool {
			return t.Key == kv[0] && t.Value == kv[1]
		}) {
			return false
		}
	}
	return true
}

func indexed(get func(string) string, pattern string) []string {
	var out []string
	for i := 1; ; i++ {
		v := get(fmt.Sprintf(pattern, i))
		if v == "" {
			return out
		}
		out = append(out, v)
	}
}
