package collector

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
)

// Rendering turns the decoded groups of a refresh into exposition text
// once, as kube-state-metrics keeps pre-rendered text per object: a scrape
// copies bytes instead of rebuilding tens of thousands of metrics, and
// computes only the clock-dependent values.
//
// Each series is stored as a record of its own labels and its formatted
// value; the group's identity labels, which would otherwise repeat in every
// one of its ~45 series, are stored once per group and written in between at
// scrape time. That keeps a snapshot about a tenth of the exposition's size,
// which matters because a refresh builds the new snapshot while the old one
// is still being served.

// snapshot is the rendered result of one successful refresh of one query.
// It is immutable once built and shared by every scrape that serves it.
type snapshot struct {
	fetchedAt time.Time
	pages     int         // API pages read, for the log
	groups    []groupMeta // sorted by group ID and region
	// recs[f] holds every group's records of family f, group after group;
	// group i's are recs[f][starts[f][i]:starts[f][i+1]]. A record is
	// uvarint(len(labels)), labels, byte(len(value)), value.
	recs   [numFamilies][]byte
	starts [numFamilies][]int
}

// groupRecords returns group i's records of family f.
func (s *snapshot) groupRecords(f, i int) []byte {
	return s.recs[f][s.starts[f][i]:s.starts[f][i+1]]
}

// nextRecord splits the first record off recs.
func nextRecord(recs []byte) (labels, value, rest []byte) {
	n, k := binary.Uvarint(recs)
	end := k + int(n) //nolint:gosec // written by add: a label set's length
	labels, recs = recs[k:end], recs[end:]
	vl := int(recs[0])
	return labels, recs[1 : 1+vl], recs[1+vl:]
}

// groupMeta is what a scrape needs of one group besides its stored text.
type groupMeta struct {
	id  string
	key string // group_id and region: the identity de-duplicated across queries

	labels    []byte // identity labels, for the per-scrape series
	expiry    time.Time
	hasExpiry bool
	schedules []poolScheduleSeries
}

type poolScheduleSeries struct {
	labels []byte // the pool's labels after the group's identity labels
	sched  *poolSchedule
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
	// tagsOnInfo: tag labels go only on group_tags, so a tag edit does
	// not rename every series of the group.
	tagsOnInfo bool
	problems   []problem
	snap       *snapshot
	fam        int               // the family add writes to
	zoneless   map[string]string // time fields read without a zone: an example of each
}

// newRenderer starts a snapshot. prev, the query's previous snapshot,
// sizes the buffers so a refresh of a stable fleet does not grow them.
func newRenderer(cfg *config.Config, prev *snapshot) *renderer {
	r := &renderer{loc: cfg.Location(), snap: &snapshot{}}
	for _, t := range cfg.TagLabels {
		r.tagKeys = append(r.tagKeys, t.Key)
		r.tagLabels = append(r.tagLabels, t.Name())
	}
	r.tagsOnInfo = cfg.TagLabelsOn == config.TagLabelsOnInfo
	if prev != nil {
		for f := range numFamilies {
			r.snap.recs[f] = make([]byte, 0, len(prev.recs[f])+len(prev.recs[f])/16)
			r.snap.starts[f] = make([]int, 0, len(prev.groups)+1)
		}
	}
	return r
}

// at selects the family that add writes to.
func (r *renderer) at(fam int) { r.fam = fam }

// add records a series of the current family: the group's identity labels
// (unless the family has its own, as app_info), then own and extra.
func (r *renderer) add(own, extra []byte, v float64) {
	b := r.snap.recs[r.fam]
	n := len(own) + len(extra)
	if len(own) > 0 && len(extra) > 0 {
		n++
	}
	b = binary.AppendUvarint(b, uint64(n))
	b = append(b, own...)
	if len(own) > 0 && len(extra) > 0 {
		b = append(b, ',')
	}
	b = append(b, extra...)
	at := len(b)
	b = appendValue(append(b, 0), v)
	b[at] = byte(len(b) - at - 1) //nolint:gosec // a formatted float64 is at most 24 bytes
	r.snap.recs[r.fam] = b
}

// renderAll renders groups in the order of their identity and returns the
// finished snapshot.
func (r *renderer) renderAll(groups []*aliyun.Group, bizRegion string) *snapshot {
	type keyed struct {
		key string
		g   *aliyun.Group
	}
	order := make([]keyed, 0, len(groups))
	for _, g := range groups {
		id := strings.TrimSpace(g.AppInstanceGroupID.V)
		if id == "" {
			r.problems = append(r.problems, problem{"", "AppInstanceGroupId", "missing: group skipped"})
			continue
		}
		order = append(order, keyed{id + "\x00" + r.region(g, bizRegion), g})
	}
	slices.SortFunc(order, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	r.snap.groups = make([]groupMeta, 0, len(order))
	for _, k := range order {
		r.renderGroup(k.g, bizRegion)
	}
	s := r.snap
	for f := range numFamilies {
		s.starts[f] = append(s.starts[f], len(s.recs[f]))
		if cap(s.recs[f]) > len(s.recs[f])+len(s.recs[f])/4 {
			// Growing by doubling left up to half the buffer unused; the
			// snapshot lives until the next refresh, so give it back.
			s.recs[f] = slices.Clone(s.recs[f])
		}
	}
	return s
}

func (r *renderer) region(g *aliyun.Group, bizRegion string) string {
	if region := strings.TrimSpace(g.RegionID.V); region != "" {
		return region
	}
	return bizRegion
}

// numField maps an API number to a family: value × mul ÷ div, so that
// minutes become seconds (mul 60) and percentages ratios (div 100).
type numField[T any] struct {
	fam      int
	field    string
	get      func(*T) aliyun.Num
	mul, div float64
}

func (f *numField[T]) convert(v float64) float64 { return v * f.mul / f.div }

var groupNumbers = []numField[aliyun.Group]{
	{famGroupAmount, "Amount", func(g *aliyun.Group) aliyun.Num { return g.Amount }, 1, 1},
	{famGroupMinAmount, "MinAmount", func(g *aliyun.Group) aliyun.Num { return g.MinAmount }, 1, 1},
	{famGroupMaxAmount, "MaxAmount", func(g *aliyun.Group) aliyun.Num { return g.MaxAmount }, 1, 1},
	{famGroupReserveAmountRatio, "ReserveAmountRatio", func(g *aliyun.Group) aliyun.Num { return g.ReserveAmountRatio }, 1, 100},
	{famGroupReserveMinAmount, "ReserveMinAmount", func(g *aliyun.Group) aliyun.Num { return g.ReserveMinAmount }, 1, 1},
	{famGroupReserveMaxAmount, "ReserveMaxAmount", func(g *aliyun.Group) aliyun.Num { return g.ReserveMaxAmount }, 1, 1},
	{famGroupScalingStep, "ScalingStep", func(g *aliyun.Group) aliyun.Num { return g.ScalingStep }, 1, 1},
	{famGroupScalingUsageThreshold, "ScalingUsageThreshold", func(g *aliyun.Group) aliyun.Num { return g.ScalingUsageThreshold }, 1, 100},
	{famGroupScalingDownAfterIdle, "ScalingDownAfterIdleMinutes", func(g *aliyun.Group) aliyun.Num { return g.ScalingDownAfterIdleMinutes }, 60, 1},
}

var poolNumbers = []numField[aliyun.NodePool]{
	{famPoolNodes, "NodeAmount", func(p *aliyun.NodePool) aliyun.Num { return p.NodeAmount }, 1, 1},
	{famPoolNodesUsed, "NodeUsed", func(p *aliyun.NodePool) aliyun.Num { return p.NodeUsed }, 1, 1},
	{famPoolNodeSessionCapacity, "NodeCapacity", func(p *aliyun.NodePool) aliyun.Num { return p.NodeCapacity }, 1, 1},
	{famPoolScalingNodes, "ScalingNodeAmount", func(p *aliyun.NodePool) aliyun.Num { return p.ScalingNodeAmount }, 1, 1},
	{famPoolScalingNodesUsed, "ScalingNodeUsed", func(p *aliyun.NodePool) aliyun.Num { return p.ScalingNodeUsed }, 1, 1},
	{famPoolMaxScalingNodes, "MaxScalingAmount", func(p *aliyun.NodePool) aliyun.Num { return p.MaxScalingAmount }, 1, 1},
	{famPoolPurchasedNodes, "Amount", func(p *aliyun.NodePool) aliyun.Num { return p.Amount }, 1, 1},
	{famPoolMaxIdleSessions, "MaxIdleAppInstanceAmount", func(p *aliyun.NodePool) aliyun.Num { return p.MaxIdleAppInstanceAmount }, 1, 1},
	{famPoolScalingStep, "ScalingStep", func(p *aliyun.NodePool) aliyun.Num { return p.ScalingStep }, 1, 1},
	{famPoolScalingUsageThreshold, "ScalingUsageThreshold", func(p *aliyun.NodePool) aliyun.Num { return p.ScalingUsageThreshold }, 1, 100},
	{famPoolScalingDownAfterIdle, "ScalingDownAfterIdleMinutes", func(p *aliyun.NodePool) aliyun.Num { return p.ScalingDownAfterIdleMinutes }, 60, 1},
}

type poolRow struct {
	p      *aliyun.NodePool
	field  string // "NodePool[<id>]" for problem reports
	labels []byte
}

// renderGroup appends one group (which has an ID) to the snapshot.
func (r *renderer) renderGroup(g *aliyun.Group, bizRegion string) {
	id := strings.TrimSpace(g.AppInstanceGroupID.V)
	report := func(field, value string) { r.problems = append(r.problems, problem{id, field, value}) }
	str := func(field string, s aliyun.Str) string { return textField(field, s, report) }
	if g.RegionID.Bad != "" {
		report("RegionId", g.RegionID.Bad)
	}
	region := r.region(g, bizRegion)
	for f := range numFamilies {
		r.snap.starts[f] = append(r.snap.starts[f], len(r.snap.recs[f]))
	}
	meta := groupMeta{id: id, key: id + "\x00" + region}

	labels := appendLabel(nil, "group_id", id)
	labels = appendLabel(labels, "group_name", str("AppInstanceGroupName", g.AppInstanceGroupName))
	labels = appendLabel(labels, "region", region)
	labels = appendLabel(labels, "charge_type", str("ChargeType", g.ChargeType))
	var tagLabels []byte
	tags := r.tagValues(g, report)
	for i, l := range r.tagLabels {
		tagLabels = appendLabel(tagLabels, l, tags[i])
	}
	if r.tagsOnInfo && len(tagLabels) > 0 {
		r.at(famGroupTags)
		r.add(nil, tagLabels, 1)
	} else if len(tagLabels) > 0 {
		labels = append(append(labels, ','), tagLabels...)
	}
	meta.labels = labels

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
	r.at(famGroupInfo)
	r.add(nil, extra, 1)

	r.at(famGroupStatus)
	stateSet(r, "status", str("Status", g.Status), config.GroupStatuses)
	r.at(famGroupResourceStatus)
	stateSet(r, "resource_status", str("ResourceStatus", g.ResourceStatus), aliyun.ResourceStatuses)

	if ts, ok := r.timestamp("ExpiredTime", g.ExpiredTime, report); ok {
		r.at(famGroupExpiry)
		r.add(nil, nil, float64(ts.UnixMilli())/1000)
		meta.expiry, meta.hasExpiry = ts, true
	}
	if ts, ok := r.timestamp("GmtCreate", g.GmtCreate, report); ok {
		r.at(famGroupCreated)
		r.add(nil, nil, float64(ts.UnixMilli())/1000)
	}
	for _, f := range groupNumbers {
		if v, ok := number(f.field, f.get(g), report); ok {
			r.at(f.fam)
			r.add(nil, nil, f.convert(v))
		}
	}
	if v, ok := number("SessionTimeout", g.SessionTimeout, report); ok {
		r.at(famGroupSessionTimeout)
		if v == -1 {
			r.add(nil, nil, math.Inf(1)) // -1 keeps disconnected sessions forever
		} else {
			r.add(nil, nil, v*60)
		}
	}
	if v, ok := boolean("SkipUserAuthCheck", g.SkipUserAuthCheck, report); ok {
		r.at(famGroupSkipUserAuthCheck)
		r.add(nil, nil, v)
	}
	if v, ok := boolean("AppPolicyImageCheck", g.AppPolicyImageCheck, report); ok {
		r.at(famGroupUnifiedPolicySupported)
		r.add(nil, nil, v)
	}
	reportList(report, "Apps", &g.Apps, "objects")
	if g.Apps.Set {
		apps := appLabels(g, str)
		r.at(famGroupApps)
		r.add(nil, nil, float64(len(apps)))
		r.at(famAppInfo)
		var base []byte
		base = appendLabel(base, "group_id", id)
		base = appendLabel(base, "region", region)
		for _, e := range apps {
			r.add(base, e, 1)
		}
	}
	if g.OtaInfo.Bad != "" {
		report("OtaInfo", g.OtaInfo.Bad)
	}
	if g.OtaInfo.Set {
		ota := &g.OtaInfo.V
		newVersion := str("OtaInfo.NewOtaVersion", ota.NewOtaVersion)
		r.at(famGroupOtaUpdateAvailable)
		r.add(nil, nil, b2f(newVersion != ""))
		r.at(famGroupOtaInfo)
		var e []byte
		e = appendLabel(e, "ota_version", str("OtaInfo.OtaVersion", ota.OtaVersion))
		e = appendLabel(e, "new_ota_version", newVersion)
		e = appendLabel(e, "task_id", str("OtaInfo.TaskId", ota.TaskID))
		r.add(nil, e, 1)
	}

	meta.schedules = r.renderPools(g, report)
	r.snap.groups = append(r.snap.groups, meta)
}

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

// renderPools renders the group's pools and returns their schedules, which
// are evaluated at scrape time.
func (r *renderer) renderPools(g *aliyun.Group, report func(string, string)) (schedules []poolScheduleSeries) {
	reportList(report, "NodePool", &g.NodePool, "objects")
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
		row.labels = appendLabel(nil, "node_pool_id", id)
		row.labels = appendLabel(row.labels, "node_instance_type", strings.TrimSpace(p.NodeInstanceType.V))
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil
	}
	str := func(row *poolRow, field string, s aliyun.Str) string {
		return textField(row.field+"."+field, s, report)
	}
	r.at(famPoolInfo)
	for i := range rows {
		row := &rows[i]
		str(row, "NodeInstanceType", row.p.NodeInstanceType)
		var e []byte
		e = appendLabel(e, "node_type_name", str(row, "NodeTypeName", row.p.NodeTypeName))
		e = appendLabel(e, "strategy_type", str(row, "StrategyType", row.p.StrategyType))
		r.add(row.labels, e, 1)
	}
	for _, f := range poolNumbers {
		r.at(f.fam)
		for i := range rows {
			if v, ok := number(rows[i].field+"."+f.field, f.get(rows[i].p), report); ok {
				r.add(rows[i].labels, nil, f.convert(v))
			}
		}
	}
	r.at(famPoolWarmUp)
	for i := range rows {
		if v, ok := boolean(rows[i].field+".WarmUp", rows[i].p.WarmUp, report); ok {
			r.add(rows[i].labels, nil, v)
		}
	}
	enable := make([]time.Time, len(rows))
	disable := make([]time.Time, len(rows))
	r.at(famPoolStrategyStart)
	for i := range rows {
		if d, ok := r.date(rows[i].field+".StrategyEnableDate", rows[i].p.StrategyEnableDate, report); ok {
			enable[i] = d
			r.add(rows[i].labels, nil, float64(d.Unix()))
		}
	}
	r.at(famPoolStrategyEnd)
	for i := range rows {
		if d, ok := r.date(rows[i].field+".StrategyDisableDate", rows[i].p.StrategyDisableDate, report); ok {
			disable[i] = d
			r.add(rows[i].labels, nil, float64(d.Unix()))
		}
	}
	for i := range rows {
		p := rows[i].p
		if strings.TrimSpace(p.StrategyType.V) != scheduleStrategy {
			continue // a schedule the pool does not scale by is not in force: not read
		}
		sub := func(field, value string) { report(rows[i].field+"."+field, value) }
		sched := parseSchedule(p, r.loc, enable[i], disable[i], sub)
		if sched == nil {
			continue
		}
		// A strategy date that is there but unreadable (reported above)
		// leaves the schedule's bounds unknown.
		if (enable[i].IsZero() && given(p.StrategyEnableDate)) || (disable[i].IsZero() && given(p.StrategyDisableDate)) {
			continue
		}
		schedules = append(schedules, poolScheduleSeries{labels: rows[i].labels, sched: sched})
	}
	return schedules
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

// reportList reports a list field sent in another shape, and entries that
// are not <what> (kept aside by List).
func reportList[T any](report func(string, string), field string, l *aliyun.List[T], what string) {
	if l.Bad != "" {
		report(field, l.Bad)
	}
	if l.BadItems > 0 {
		report(field, strconv.Itoa(l.BadItems)+" entries that are not "+what)
	}
}

func stateSet(r *renderer, name, current string, known []string) {
	if current == "" {
		return // no Status at all: no series rather than a made-up state
	}
	for _, k := range known {
		r.add(nil, appendLabel(nil, name, k), b2f(k == current))
	}
	if !slices.Contains(known, current) {
		r.add(nil, appendLabel(nil, name, current), 1)
	}
}

func number(field string, n aliyun.Num, report func(string, string)) (float64, bool) {
	if n.Bad != "" {
		report(field, n.Bad)
	}
	return n.V, n.Set
}

func boolean(field string, b aliyun.Bool, report func(string, string)) (float64, bool) {
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

// textField reports a bad value and returns the trimmed text ("" if none).
func textField(field string, s aliyun.Str, report func(string, string)) string {
	if s.Bad != "" {
		report(field, s.Bad)
	}
	return strings.TrimSpace(s.V)
}

// timeLayouts are the RFC 3339 forms Alibaba Cloud APIs send, by whether
// the seconds are there ([1]) or not ([0]) and by the zone: Z or ±hh:mm,
// ±hhmm, ±hh, none. Parsing takes fractional seconds after the seconds
// without the layout saying so.
var timeLayouts = [2][4]string{
	{"2006-01-02T15:04Z07:00", "2006-01-02T15:04Z0700", "2006-01-02T15:04Z07", "2006-01-02T15:04"},
	{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05Z07", "2006-01-02T15:04:05"},
}

// timestamp reads an RFC 3339 time: T, t or a space between date and
// time, seconds and their fraction optional, and a zone of Z, z, ±hh:mm,
// ±hhmm or ±hh. A time without a zone is read in the configured time zone
// and its field noted in r.zoneless.
func (r *renderer) timestamp(field string, s aliyun.Str, report func(string, string)) (time.Time, bool) {
	v := textField(field, s, report)
	if v == "" {
		return time.Time{}, false
	}
	u := strings.ToUpper(v) // t and z; no copy when already upper case
	if len(u) > 10 && u[10] == ' ' {
		u = u[:10] + "T" + u[11:]
	}
	zone := 3 // index in timeLayouts: none
	if len(u) > 11 {
		clock := u[11:]
		if i := strings.LastIndexAny(clock, "Z+-"); i >= 0 {
			switch {
			case clock[i] == 'Z' || len(clock)-i == len("+08:00"):
				zone = 0
			case len(clock)-i == len("+0800"):
				zone = 1
			case len(clock)-i == len("+08"):
				zone = 2
			default:
				zone = -1
			}
			clock = clock[:i]
		}
		if secs := strings.Count(clock, ":") - 1; zone >= 0 && (secs == 0 || secs == 1) {
			if ts, err := time.ParseInLocation(timeLayouts[secs][zone], u, r.loc); err == nil {
				if zone == 3 {
					if r.zoneless == nil {
						r.zoneless = map[string]string{}
					}
					if _, ok := r.zoneless[field]; !ok {
						r.zoneless[field] = v
					}
				}
				return ts, true
			}
		}
	}
	report(field, v)
	return time.Time{}, false
}

// date reads yyyy-MM-dd as 00:00 in the configured time zone.
func (r *renderer) date(field string, s aliyun.Str, report func(string, string)) (time.Time, bool) {
	v := textField(field, s, report)
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
