package collector

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Rendering turns a decoded group into exposition text once per refresh, the
// way kube-state-metrics keeps pre-rendered text per object: a scrape then
// copies bytes instead of rebuilding tens of thousands of metrics. Only the
// clock-dependent values are left for scrape time.

// renderedGroup is one group's series, ready to write.
type renderedGroup struct {
	id  string
	key string // group_id and region: the identity de-duplicated across queries

	text []byte
	ends [numFamilies]int32 // text[ends[f-1]:ends[f]] holds family f

	labels    []byte // identity labels, for the per-scrape series
	expiry    time.Time
	hasExpiry bool
	schedules []poolScheduleSeries
}

type poolScheduleSeries struct {
	labels []byte // pool labels
	sched  *poolSchedule
}

// familyText returns the group's rendered series of family f.
func (g *renderedGroup) familyText(f int) []byte {
	start := int32(0)
	if f > 0 {
		start = g.ends[f-1]
	}
	return g.text[start:g.ends[f]]
}

// problem is a field the API sent in a shape we cannot read; its series is
// dropped and the problem logged.
type problem struct {
	group, field, value string
}

type renderer struct {
	loc       *time.Location
	tagKeys   []string
	tagLabels []string
	problems  []problem
}

func newRenderer(cfg *Config) *renderer {
	r := &renderer{loc: cfg.Location()}
	for _, k := range cfg.TagLabels {
		r.tagKeys = append(r.tagKeys, k)
		r.tagLabels = append(r.tagLabels, TagLabelName(k))
	}
	return r
}

// groupText builds a group's text family by family, in the order of
// families, recording where each family ends.
type groupText struct {
	buf  []byte
	ends [numFamilies]int32
	cur  int
}

// at closes the families before fam; later series belong to fam.
func (t *groupText) at(fam int) {
	for t.cur < fam {
		t.ends[t.cur] = int32(len(t.buf))
		t.cur++
	}
}

func (t *groupText) add(labels, extra []byte, v float64) {
	t.buf = append(t.buf, families[t.cur].name...)
	t.buf = append(t.buf, '{')
	t.buf = append(t.buf, labels...)
	if len(extra) > 0 {
		t.buf = append(t.buf, ',')
		t.buf = append(t.buf, extra...)
	}
	t.buf = append(t.buf, "} "...)
	t.buf = appendValue(t.buf, v)
	t.buf = append(t.buf, '\n')
}

// numField maps an API number to a family: value × mul ÷ div, so that
// minutes become seconds (mul 60) and percentages ratios (div 100).
type numField[T any] struct {
	fam      int
	field    string
	get      func(*T) Num
	mul, div float64
}

func (f *numField[T]) convert(v float64) float64 { return v * f.mul / f.div }

var groupNumbers = []numField[Group]{
	{famGroupAmount, "Amount", func(g *Group) Num { return g.Amount }, 1, 1},
	{famGroupMinAmount, "MinAmount", func(g *Group) Num { return g.MinAmount }, 1, 1},
	{famGroupMaxAmount, "MaxAmount", func(g *Group) Num { return g.MaxAmount }, 1, 1},
	{famGroupReserveAmountRatio, "ReserveAmountRatio", func(g *Group) Num { return g.ReserveAmountRatio }, 1, 100},
	{famGroupReserveMinAmount, "ReserveMinAmount", func(g *Group) Num { return g.ReserveMinAmount }, 1, 1},
	{famGroupReserveMaxAmount, "ReserveMaxAmount", func(g *Group) Num { return g.ReserveMaxAmount }, 1, 1},
	{famGroupScalingStep, "ScalingStep", func(g *Group) Num { return g.ScalingStep }, 1, 1},
	{famGroupScalingUsageThreshold, "ScalingUsageThreshold", func(g *Group) Num { return g.ScalingUsageThreshold }, 1, 100},
	{famGroupScalingDownAfterIdle, "ScalingDownAfterIdleMinutes", func(g *Group) Num { return g.ScalingDownAfterIdleMinutes }, 60, 1},
}

var poolNumbers = []numField[NodePool]{
	{famPoolNodes, "NodeAmount", func(p *NodePool) Num { return p.NodeAmount }, 1, 1},
	{famPoolNodesUsed, "NodeUsed", func(p *NodePool) Num { return p.NodeUsed }, 1, 1},
	{famPoolNodeSessionCapacity, "NodeCapacity", func(p *NodePool) Num { return p.NodeCapacity }, 1, 1},
	{famPoolScalingNodes, "ScalingNodeAmount", func(p *NodePool) Num { return p.ScalingNodeAmount }, 1, 1},
	{famPoolScalingNodesUsed, "ScalingNodeUsed", func(p *NodePool) Num { return p.ScalingNodeUsed }, 1, 1},
	{famPoolMaxScalingNodes, "MaxScalingAmount", func(p *NodePool) Num { return p.MaxScalingAmount }, 1, 1},
	{famPoolPurchasedNodes, "Amount", func(p *NodePool) Num { return p.Amount }, 1, 1},
	{famPoolMaxIdleSessions, "MaxIdleAppInstanceAmount", func(p *NodePool) Num { return p.MaxIdleAppInstanceAmount }, 1, 1},
	{famPoolScalingStep, "ScalingStep", func(p *NodePool) Num { return p.ScalingStep }, 1, 1},
	{famPoolScalingUsageThreshold, "ScalingUsageThreshold", func(p *NodePool) Num { return p.ScalingUsageThreshold }, 1, 100},
	{famPoolScalingDownAfterIdle, "ScalingDownAfterIdleMinutes", func(p *NodePool) Num { return p.ScalingDownAfterIdleMinutes }, 60, 1},
}

type poolRow struct {
	p      *NodePool
	field  string // "NodePool[<id>]" for problem reports
	labels []byte
}

// renderGroup renders one group. bizRegion stands in for a missing RegionId.
// It returns nil for a group without an ID, which cannot be labelled.
func (r *renderer) renderGroup(g *Group, bizRegion string) *renderedGroup {
	id := strings.TrimSpace(g.AppInstanceGroupID.V)
	if id == "" {
		r.problems = append(r.problems, problem{"", "AppInstanceGroupId", "missing: group skipped"})
		return nil
	}
	report := func(field, value string) { r.problems = append(r.problems, problem{id, field, value}) }
	str := func(field string, s Str) string {
		if s.Bad != "" {
			report(field, s.Bad)
		}
		return strings.TrimSpace(s.V)
	}

	region := str("RegionId", g.RegionID)
	if region == "" {
		region = bizRegion
	}
	rg := &renderedGroup{id: id, key: id + "\x00" + region}

	labels := appendLabel(nil, "group_id", id)
	labels = appendLabel(labels, "group_name", str("AppInstanceGroupName", g.AppInstanceGroupName))
	labels = appendLabel(labels, "region", region)
	labels = appendLabel(labels, "charge_type", str("ChargeType", g.ChargeType))
	tags := r.tagValues(g, report)
	for i, l := range r.tagLabels {
		labels = appendLabel(labels, l, tags[i])
	}
	rg.labels = labels

	t := &groupText{buf: make([]byte, 0, 2048)}

	var extra []byte
	extra = appendLabel(extra, "product_type", str("ProductType", g.ProductType))
	extra = appendLabel(extra, "charge_resource_mode", str("ChargeResourceMode", g.ChargeResourceMode))
	extra = appendLabel(extra, "os_type", str("OsType", g.OsType))
	extra = appendLabel(extra, "app_instance_type", str("AppInstanceType", g.AppInstanceType))
	extra = appendLabel(extra, "app_center_image_id", str("AppCenterImageId", g.AppCenterImageID))
	extra = appendLabel(extra, "spec_id", str("SpecId", g.SpecID))
	extra = appendLabel(extra, "office_site_id", str("OfficeSiteId", g.OfficeSiteID))
	extra = appendLabel(extra, "access_type", str("AccessType", g.AccessType))
	extra = appendLabel(extra, "auth_mode", str("AuthMode", g.AuthMode))
	extra = appendLabel(extra, "app_policy_id", str("AppPolicyId", g.AppPolicyID))
	extra = appendLabel(extra, "app_policy_version", str("AppPolicyVersion", g.AppPolicyVersion))
	t.at(famGroupInfo)
	t.add(labels, extra, 1)

	t.at(famGroupStatus)
	stateSet(t, labels, "status", str("Status", g.Status), GroupStatuses)
	t.at(famGroupResourceStatus)
	stateSet(t, labels, "resource_status", str("ResourceStatus", g.ResourceStatus), ResourceStatuses)

	if ts, ok := r.timestamp("ExpiredTime", g.ExpiredTime, report); ok {
		t.at(famGroupExpiry)
		t.add(labels, nil, float64(ts.UnixMilli())/1000)
		rg.expiry, rg.hasExpiry = ts, true
	}
	if ts, ok := r.timestamp("GmtCreate", g.GmtCreate, report); ok {
		t.at(famGroupCreated)
		t.add(labels, nil, float64(ts.UnixMilli())/1000)
	}
	for _, f := range groupNumbers {
		if v, ok := number(f.field, f.get(g), report); ok {
			t.at(f.fam)
			t.add(labels, nil, f.convert(v))
		}
	}
	if v, ok := number("SessionTimeout", g.SessionTimeout, report); ok {
		t.at(famGroupSessionTimeout)
		if v == -1 {
			t.add(labels, nil, math.Inf(1)) // -1 keeps disconnected sessions forever
		} else {
			t.add(labels, nil, v*60)
		}
	}
	if v, ok := boolean("SkipUserAuthCheck", g.SkipUserAuthCheck, report); ok {
		t.at(famGroupSkipUserAuthCheck)
		t.add(labels, nil, v)
	}
	if v, ok := boolean("AppPolicyImageCheck", g.AppPolicyImageCheck, report); ok {
		t.at(famGroupUnifiedPolicySupported)
		t.add(labels, nil, v)
	}
	reportList(report, "Apps", g.Apps.Bad, g.Apps.BadItems)
	if g.Apps.Set {
		apps := appLabels(g, str)
		t.at(famGroupApps)
		t.add(labels, nil, float64(len(apps)))
		t.at(famAppInfo)
		var base []byte
		base = appendLabel(base, "group_id", id)
		base = appendLabel(base, "region", region)
		for _, e := range apps {
			t.add(base, e, 1)
		}
	}
	if g.OtaInfo.Bad != "" {
		report("OtaInfo", g.OtaInfo.Bad)
	}
	if g.OtaInfo.Set {
		ota := &g.OtaInfo.V
		newVersion := str("OtaInfo.NewOtaVersion", ota.NewOtaVersion)
		t.at(famGroupOtaUpdateAvailable)
		t.add(labels, nil, b2f(newVersion != ""))
		t.at(famGroupOtaInfo)
		var e []byte
		e = appendLabel(e, "ota_version", str("OtaInfo.OtaVersion", ota.OtaVersion))
		e = appendLabel(e, "new_ota_version", newVersion)
		e = appendLabel(e, "task_id", str("OtaInfo.TaskId", ota.TaskID))
		t.add(labels, e, 1)
	}

	r.renderPools(t, rg, g, report)
	t.at(numFamilies)
	rg.text, rg.ends = t.buf, t.ends
	return rg
}

// appLabels returns the app_info labels of each distinct app; an app
// listed twice would otherwise be a duplicate series.
func appLabels(g *Group, str func(string, Str) string) [][]byte {
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

func (r *renderer) renderPools(t *groupText, rg *renderedGroup, g *Group, report func(string, string)) {
	reportList(report, "NodePool", g.NodePool.Bad, g.NodePool.BadItems)
	var rows []poolRow
	seen := map[string]bool{}
	for i := range g.NodePool.Items {
		p := &g.NodePool.Items[i]
		id := strings.TrimSpace(p.NodePoolID.V)
		if seen[id] {
			continue
		}
		seen[id] = true
		row := poolRow{p: p, field: "NodePool[" + id + "]"}
		row.labels = slices.Clip(appendLabel(slices.Clone(rg.labels), "node_pool_id", id))
		row.labels = appendLabel(row.labels, "node_instance_type", strings.TrimSpace(p.NodeInstanceType.V))
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return
	}
	str := func(row *poolRow, field string, s Str) string {
		if s.Bad != "" {
			report(row.field+"."+field, s.Bad)
		}
		return strings.TrimSpace(s.V)
	}
	t.at(famPoolInfo)
	for i := range rows {
		row := &rows[i]
		str(row, "NodeInstanceType", row.p.NodeInstanceType)
		var e []byte
		e = appendLabel(e, "node_type_name", str(row, "NodeTypeName", row.p.NodeTypeName))
		e = appendLabel(e, "strategy_type", str(row, "StrategyType", row.p.StrategyType))
		t.add(row.labels, e, 1)
	}
	for _, f := range poolNumbers {
		t.at(f.fam)
		for i := range rows {
			if v, ok := number(rows[i].field+"."+f.field, f.get(rows[i].p), report); ok {
				t.add(rows[i].labels, nil, f.convert(v))
			}
		}
	}
	t.at(famPoolWarmUp)
	for i := range rows {
		if v, ok := boolean(rows[i].field+".WarmUp", rows[i].p.WarmUp, report); ok {
			t.add(rows[i].labels, nil, v)
		}
	}
	enable := make([]time.Time, len(rows))
	disable := make([]time.Time, len(rows))
	t.at(famPoolStrategyStart)
	for i := range rows {
		if d, ok := r.date(rows[i].field+".StrategyEnableDate", rows[i].p.StrategyEnableDate, report); ok {
			enable[i] = d
			t.add(rows[i].labels, nil, float64(d.Unix()))
		}
	}
	t.at(famPoolStrategyEnd)
	for i := range rows {
		if d, ok := r.date(rows[i].field+".StrategyDisableDate", rows[i].p.StrategyDisableDate, report); ok {
			disable[i] = d
			t.add(rows[i].labels, nil, float64(d.Unix()))
		}
	}
	for i := range rows {
		p := rows[i].p
		if p.RecurrenceSchedules.Bad != "" {
			report(rows[i].field+".RecurrenceSchedules", p.RecurrenceSchedules.Bad)
		}
		if len(p.RecurrenceSchedules.Items) == 0 {
			continue
		}
		sub := func(field, value string) { report(rows[i].field+"."+field, value) }
		rg.schedules = append(rg.schedules, poolScheduleSeries{
			labels: rows[i].labels,
			sched:  parseSchedule(p, r.loc, enable[i], disable[i], sub),
		})
	}
}

// tagValues returns the value of each tag_labels key; Tags wins over
// ResourceTags when both carry a key.
func (r *renderer) tagValues(g *Group, report func(string, string)) []string {
	out := make([]string, len(r.tagKeys))
	if len(r.tagKeys) == 0 {
		return out
	}
	for _, list := range []*List[Tag]{&g.ResourceTags, &g.Tags} {
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

func reportList(report func(string, string), field, bad string, badItems int) {
	if bad != "" {
		report(field, bad)
	}
	if badItems > 0 {
		report(field, strconv.Itoa(badItems)+" entries that are not objects")
	}
}

func stateSet(t *groupText, labels []byte, name, current string, known []string) {
	if current == "" {
		return // no Status at all: no series rather than a made-up state
	}
	for _, k := range known {
		t.add(labels, appendLabel(nil, name, k), b2f(k == current))
	}
	if !slices.Contains(known, current) {
		t.add(labels, appendLabel(nil, name, current), 1)
	}
}

func number(field string, n Num, report func(string, string)) (float64, bool) {
	if n.Bad != "" {
		report(field, n.Bad)
	}
	return n.V, n.Set
}

func boolean(field string, b Bool, report func(string, string)) (float64, bool) {
	if b.Bad != "" {
		report(field, b.Bad)
	}
	return b2f(b.V), b.Set
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Layouts seen for ISO 8601 times in Alibaba Cloud APIs.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05"}

func (r *renderer) timestamp(field string, s Str, report func(string, string)) (time.Time, bool) {
	if s.Bad != "" {
		report(field, s.Bad)
	}
	v := strings.TrimSpace(s.V)
	if v == "" {
		return time.Time{}, false
	}
	for _, layout := range timeLayouts {
		if ts, err := time.ParseInLocation(layout, v, r.loc); err == nil {
			return ts, true
		}
	}
	report(field, v)
	return time.Time{}, false
}

// date reads yyyy-MM-dd as 00:00 in the configured time zone.
func (r *renderer) date(field string, s Str, report func(string, string)) (time.Time, bool) {
	if s.Bad != "" {
		report(field, s.Bad)
	}
	v := strings.TrimSpace(s.V)
	if v == "" {
		return time.Time{}, false
	}
	d, err := time.ParseInLocation("2006-01-02", v, r.loc)
	if err != nil {
		report(field, v)
		return time.Time{}, false
	}
	return d, true
}

// appendLabel appends name="value", preceded by a comma unless buf is
// empty, escaping the value as the text format requires.
func appendLabel(buf []byte, name, value string) []byte {
	if len(buf) > 0 {
		buf = append(buf, ',')
	}
	buf = append(buf, name...)
	buf = append(buf, '=', '"')
	if !utf8.ValidString(value) {
		value = strings.ToValidUTF8(value, "\uFFFD") // Prometheus rejects invalid UTF-8
	}
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\':
			buf = append(buf, '\\', '\\')
		case '"':
			buf = append(buf, '\\', '"')
		case '\n':
			buf = append(buf, '\\', 'n')
		default:
			buf = append(buf, c)
		}
	}
	return append(buf, '"')
}

// appendValue writes numbers without an exponent where it can, so
// timestamps read as 1651075200 rather than 1.6510752e+09.
func appendValue(buf []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(buf, "+Inf"...)
	case math.IsInf(v, -1):
		return append(buf, "-Inf"...)
	case math.IsNaN(v):
		return append(buf, "NaN"...)
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.AppendInt(buf, int64(v), 10)
	case math.Abs(v) >= 1e-4 && math.Abs(v) < 1e15:
		return strconv.AppendFloat(buf, v, 'f', -1, 64)
	}
	return strconv.AppendFloat(buf, v, 'g', -1, 64)
}
