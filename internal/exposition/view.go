package exposition

import (
	"slices"
	"strings"
	"time"

	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
)

// groupView is one group as the families read it: the API's fields, with
// what several families share (identity labels, the expiry, the apps, the
// OTA info, the pools with their dates and schedule) read once, so each
// unreadable field is reported once.
type groupView struct {
	r          *renderer
	g          *aliyun.Group
	id, region string
	report     func(field, value string)
	tagLabels  []byte
	tagsOnInfo bool
	meta       groupMeta
	apps       [][]byte // app_info labels of each distinct app
	ota        *otaView // nil without OtaInfo
	pools      []poolView
}

type otaView struct {
	newVersion string
	labels     []byte
}

// poolView is one distinct pool of a group.
type poolView struct {
	p               *aliyun.NodePool
	field           string // "NodePool[<id>]", for problem reports
	labels          []byte // node_pool_id, node_instance_type
	infoLabels      []byte
	enable, disable time.Time // zero when not given or unreadable
}

func (g *groupView) str(field string, s aliyun.Str) string { return textField(field, s, g.report) }

func (g *groupView) timestamp(field string, s aliyun.Str) (time.Time, bool) {
	return g.r.timestamp(field, s, g.report)
}

// view reads what the group's families share.
func (r *renderer) view(g *aliyun.Group, bizRegion string) *groupView {
	id := strings.TrimSpace(g.AppInstanceGroupID.V)
	v := &groupView{r: r, g: g, id: id, region: g.Region(bizRegion), tagsOnInfo: r.tagsOnInfo}
	v.report = func(field, value string) { r.problems = append(r.problems, Problem{id, field, value}) }
	if g.RegionID.Bad != "" {
		v.report("RegionId", g.RegionID.Bad)
	}
	v.meta.key, v.meta.id, v.meta.status = g.Key(bizRegion), id, strings.TrimSpace(g.Status.V)

	var labels []byte
	if r.account != "" {
		// The same group ID in two accounts is two groups.
		v.meta.key = r.account + "\x00" + v.meta.key
		labels = appendLabel(labels, "account", r.account)
	}
	labels = appendLabel(labels, "group_id", id)
	labels = appendLabel(labels, "group_name", v.str("AppInstanceGroupName", g.AppInstanceGroupName))
	labels = appendLabel(labels, "region", v.region)
	labels = appendLabel(labels, "charge_type", v.str("ChargeType", g.ChargeType))
	tags := r.tagValues(g, v.report)
	for i, l := range r.tagLabels {
		v.tagLabels = appendLabel(v.tagLabels, l, tags[i])
	}
	if !r.tagsOnInfo && len(v.tagLabels) > 0 {
		labels = append(append(labels, ','), v.tagLabels...)
	}
	v.meta.labels = labels

	v.meta.expiry, v.meta.hasExpiry = v.timestamp("ExpiredTime", g.ExpiredTime)
	reportList(v.report, "Apps", &g.Apps, "objects")
	v.apps = appLabels(g, v.str)
	if g.OtaInfo.Bad != "" {
		v.report("OtaInfo", g.OtaInfo.Bad)
	}
	if g.OtaInfo.Set {
		ota := &g.OtaInfo.V
		o := &otaView{newVersion: v.str("OtaInfo.NewOtaVersion", ota.NewOtaVersion)}
		o.labels = appendLabel(o.labels, "ota_version", v.str("OtaInfo.OtaVersion", ota.OtaVersion))
		o.labels = appendLabel(o.labels, "new_ota_version", o.newVersion)
		o.labels = appendLabel(o.labels, "task_id", v.str("OtaInfo.TaskId", ota.TaskID))
		v.ota = o
	}
	v.readPools()
	return v
}

// infoLabels reads the group_info labels (infoLabels names them) into the
// renderer's scratch buffer: the series copies them.
func (g *groupView) infoLabels() []byte {
	fields := [...]aliyun.Str{g.g.ProductType, g.g.ChargeResourceMode, g.g.OsType, g.g.AppInstanceType, g.g.AppCenterImageID,
		g.g.SpecID, g.g.OfficeSiteID, g.g.AccessType, g.g.AuthMode, g.g.AppPolicyID, g.g.AppPolicyVersion}
	b := g.r.scratch[:0]
	for i, s := range fields {
		b = appendLabel(b, infoLabels[i], g.str(infoFields[i], s))
	}
	g.r.scratch = b
	return b
}

// infoFields are the API fields behind infoLabels, in the same order.
var infoFields = [...]string{"ProductType", "ChargeResourceMode", "OsType", "AppInstanceType", "AppCenterImageId",
	"SpecId", "OfficeSiteId", "AccessType", "AuthMode", "AppPolicyId", "AppPolicyVersion"}

// appLabels returns the app_info labels of each distinct app; an app
// listed twice would otherwise be a duplicate series.
func appLabels(g *aliyun.Group, str func(string, aliyun.Str) string) [][]byte {
	var out [][]byte
	seen := map[string]bool{}
	for i := range g.Apps.Items {
		a := &g.Apps.Items[i]
		var e []byte
		e = appendLabel(e, "app_id", str("Apps.AppId", a.AppID))
		e = appendLabel(e, "app_name", str("Apps.AppName", a.AppName))
		e = appendLabel(e, "app_version", str("Apps.AppVersion", a.AppVersion))
		e = appendLabel(e, "app_version_name", str("Apps.AppVersionName", a.AppVersionName))
		if !seen[string(e)] {
			seen[string(e)] = true
			out = append(out, e)
		}
	}
	return out
}

// readPools reads the group's distinct pools, their strategy dates, and
// the schedules evaluated at scrape time.
func (g *groupView) readPools() {
	reportList(g.report, "NodePool", &g.g.NodePool, "objects")
	seen := map[string]bool{}
	for i := range g.g.NodePool.Items {
		p := &g.g.NodePool.Items[i]
		id := strings.TrimSpace(p.NodePoolID.V)
		if seen[id] {
			continue
		}
		seen[id] = true
		pv := poolView{p: p, field: "NodePool[" + id + "]"}
		str := func(field string, s aliyun.Str) string { return textField(pv.field+"."+field, s, g.report) }
		pv.labels = appendLabel(nil, "node_pool_id", id)
		pv.labels = appendLabel(pv.labels, "node_instance_type", str("NodeInstanceType", p.NodeInstanceType))
		pv.infoLabels = appendLabel(nil, "node_type_name", str("NodeTypeName", p.NodeTypeName))
		pv.infoLabels = appendLabel(pv.infoLabels, "strategy_type", str("StrategyType", p.StrategyType))
		pv.enable, _ = g.r.date(pv.field+".StrategyEnableDate", p.StrategyEnableDate, g.report)
		pv.disable, _ = g.r.date(pv.field+".StrategyDisableDate", p.StrategyDisableDate, g.report)
		g.pools = append(g.pools, pv)
		if s := g.schedule(&pv); s != nil {
			g.meta.schedules = append(g.meta.schedules, poolScheduleSeries{labels: pv.labels, sched: s})
		}
	}
}

// schedule reads a pool's schedule when the pool scales by it.
func (g *groupView) schedule(pv *poolView) *poolSchedule {
	p := pv.p
	if strings.TrimSpace(p.StrategyType.V) != scheduleStrategy {
		return nil // a schedule the pool does not scale by is not in force: not read
	}
	sub := func(field, value string) { g.report(pv.field+"."+field, value) }
	sched := parseSchedule(p, g.r.loc, pv.enable, pv.disable, sub)
	// A strategy date that is there but unreadable (reported) leaves the
	// schedule's bounds unknown.
	if sched == nil || (pv.enable.IsZero() && given(p.StrategyEnableDate)) || (pv.disable.IsZero() && given(p.StrategyDisableDate)) {
		return nil
	}
	return sched
}

// tagValues returns the value of each tag_labels key; Tags wins over
// ResourceTags when both carry a key.
func (r *renderer) tagValues(g *aliyun.Group, report func(string, string)) []string {
	out := make([]string, len(r.tagKeys))
	if len(r.tagKeys) == 0 {
		return out
	}
	for _, list := range []*aliyun.List[aliyun.Tag]{&g.ResourceTags, &g.Tags} {
		if list.Bad != "" {
			report("Tags", list.Bad)
		}
		for i := range list.Items {
			key := strings.TrimSpace(list.Items[i].Key.V)
			if j := slices.Index(r.tagKeys, key); j >= 0 {
				out[j] = strings.TrimSpace(list.Items[i].Value.V)
			}
		}
	}
	return out
}

// stateSet writes an enumeration: 1 for the current value, 0 for the
// other known ones, and 1 for a current value not known.
func stateSet(g *groupView, out series, name, current string, known []string) {
	if current == "" {
		return // no Status at all: no series rather than a made-up state
	}
	// The labels are made in the renderer's scratch buffer: out copies them.
	for _, k := range known {
		g.r.scratch = appendLabel(g.r.scratch[:0], name, k)
		out(nil, g.r.scratch, b2f(k == current))
	}
	if !slices.Contains(known, current) {
		g.r.scratch = appendLabel(g.r.scratch[:0], name, current)
		out(nil, g.r.scratch, 1)
	}
}
