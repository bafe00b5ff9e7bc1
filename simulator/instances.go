package simulator

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// instancesPage answers ListAppInstances: the app instances of one group,
// filtered by Status.N and AppInstanceId/AppInstanceIdList.N, paged.
func (s *Server) instancesPage(query, form url.Values, requestID string) ([]byte, *apiError) {
	get := reader(ListAppInstances, query, form)
	groupID := get("AppInstanceGroupId")
	if groupID == "" {
		return nil, &apiError{400, "MissingParameter", `The input parameter "AppInstanceGroupId" that is mandatory for processing this request is not supplied.`}
	}
	pageSize, pageNumber, e := paging(get, 20)
	if e != nil {
		return nil, e
	}
	statuses := indexed(get, "Status.%d")
	ids := indexed(get, "AppInstanceIdList.%d")
	if id := get("AppInstanceId"); id != "" {
		ids = append(ids, id)
	}
	s.mu.Lock()
	var matched []json.RawMessage
	for _, raw := range s.instances[groupID] {
		var in struct {
			AppInstanceID string `json:"AppInstanceId"`
			Status        string `json:"Status"`
		}
		_ = json.Unmarshal(raw, &in) // odd shapes are served as they are
		if len(statuses) > 0 && !slices.Contains(statuses, in.Status) || len(ids) > 0 && !slices.Contains(ids, in.AppInstanceID) {
			continue
		}
		matched = append(matched, raw)
	}
	s.mu.Unlock()
	return pageBody(requestID, "AppInstanceModels", matched, pageSize, pageNumber), nil
}

// SessionGroup is what a SessionMix is chosen from: a group of the data
// set, its place in it, and how many sessions it can hold (for node pools
// (NodeAmount + ScalingNodeAmount) x NodeCapacity summed over pools, for
// session-billed groups MaxAmount).
type SessionGroup struct {
	Index          int
	ID, Status     string
	NodeBilled     bool
	SessionsCanRun int
	// SessionsOnUsedNodes is what the nodes in use hold:
	// (NodeUsed + ScalingNodeUsed) x NodeCapacity over the pools.
	SessionsOnUsedNodes int
}

// SessionMix is how many app instances of a group are in each state:
// RUNNING with a connected or a disconnected session, BOUND to a user but
// not running, and INIT (being prepared).
type SessionMix struct {
	Connected, Disconnected, Bound, Init int
}

// WithSessions gives each group of d the app instances mix chooses for
// it, shaped like ListAppInstances' AppInstanceModels, and returns d.
func WithSessions(d Dataset, now time.Time, mix func(SessionGroup) SessionMix) (Dataset, error) {
	d.AppInstances = map[string][]json.RawMessage{}
	for i, raw := range d.AppInstanceGroupModels {
		var g struct {
			ID       string `json:"AppInstanceGroupId"`
			Status   string `json:"Status"`
			Mode     string `json:"ChargeResourceMode"`
			MaxAmt   any    `json:"MaxAmount"`
			NodePool []struct {
				NodeAmount, ScalingNodeAmount, NodeCapacity, NodeUsed, ScalingNodeUsed any
			} `json:"NodePool"`
		}
		if err := json.Unmarshal(raw, &g); err != nil {
			return d, fmt.Errorf("group %d: %w", i, err)
		}
		sg := SessionGroup{Index: i, ID: g.ID, Status: g.Status, NodeBilled: g.Mode == "Node" || len(g.NodePool) > 0}
		if sg.NodeBilled {
			for _, p := range g.NodePool {
				sg.SessionsCanRun += (count(p.NodeAmount) + count(p.ScalingNodeAmount)) * count(p.NodeCapacity)
				sg.SessionsOnUsedNodes += (count(p.NodeUsed) + count(p.ScalingNodeUsed)) * count(p.NodeCapacity)
			}
		} else {
			sg.SessionsCanRun = count(g.MaxAmt)
		}
		m := mix(sg)
		var list []json.RawMessage
		add := func(status, session string) {
			n := len(list)
			in := map[string]any{
				"AppInstanceId":      fmt.Sprintf("ai-%s-%04d", g.ID, n),
				"AppInstanceGroupId": g.ID,
				"Status":             status,
				"GmtCreate":          now.Add(-time.Duration(n+1) * 7 * time.Minute).UTC().Format("2006-01-02T15:04:05.000+00:00"),
				"GmtModified":        now.Add(-time.Duration(n+1) * time.Minute).UTC().Format("2006-01-02T15:04:05.000+00:00"),
				"NetworkInterfaceId": fmt.Sprintf("eni-%s%04d", g.ID, n),
				"NetworkInterfaceIp": fmt.Sprintf("10.%d.%d.%d", i%250, n/250%250, n%250+1),
				"MainEthPublicIp":    "",
			}
			if session != "" {
				in["SessionStatus"] = session
			}
			if status != "INIT" {
				in["BindInfo"] = map[string]any{"EndUserId": fmt.Sprintf("user%03d@example.com", n), "UsageDuration": 60 * (n + 1)}
			}
			if sg.NodeBilled {
				in["NodeId"] = fmt.Sprintf("i-%s-node%02d", g.ID, n/4)
				in["ChargeType"] = "PostPaid"
			}
			b, _ := json.Marshal(in) // of plain values: cannot fail
			list = append(list, b)
		}
		for range m.Connected {
			add("RUNNING", "connect")
		}
		for range m.Disconnected {
			add("RUNNING", "disconnect")
		}
		for range m.Bound {
			add("BOUND", "")
		}
		for range m.Init {
			add("INIT", "")
		}
		if len(list) > 0 {
			d.AppInstances[g.ID] = list
		}
	}
	return d, nil
}

// count reads a JSON number or numeric string as a whole count; 0 if
// neither.
func count(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case string:
		n, _ := strconv.Atoi(x)
		return n
	}
	return 0
}

// DemoSessions is the demo's mix, for published groups only. A group with
// pools has its used nodes full: the sessions they hold, one of them
// disconnected on every other group, so its session use agrees with its
// node use. A session-billed group is a third to three quarters full, two
// in five nearly full (at least 90 % of MaxAmount). Some groups have a
// bound and an initialising instance too, always within what they can run.
func DemoSessions(g SessionGroup) SessionMix {
	if g.Status != "PUBLISHED" || g.SessionsCanRun == 0 {
		return SessionMix{}
	}
	c := g.SessionsCanRun
	var m SessionMix
	if g.NodeBilled {
		busy := min(g.SessionsOnUsedNodes, c)
		if g.Index%2 == 0 && busy > 1 {
			m.Disconnected = 1
		}
		m.Connected = busy - m.Disconnected
	} else {
		share := []float64{0.6, 0.35, 0.92, 0.5, 0.95}[g.Index%5]
		m.Connected = max(1, int(share*float64(c)))
	}
	room := func() bool { return m.Connected+m.Disconnected+m.Bound+m.Init < c }
	if g.Index%3 == 0 && room() {
		m.Bound++
	}
	if g.Index%4 == 1 && room() {
		m.Init++
	}
	return m
}
