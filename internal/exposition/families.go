package exposition

import (
	"bufio"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
)

// family is the one definition of a group, app or pool metric family:
// everything written about it derives from its entry in families below
// (exposition order, HELP and TYPE, the per-scrape dispatch, the families
// the golden exposition and the demo must hold, and docs/metrics.md).
type family struct {
	name    string
	help    string
	typ     string // the TYPE line; "" is a gauge, which every family so far is
	subject subject
	// labels are the family's own labels after the identity labels (after
	// the pool's, for pool families), in the order they are written; a
	// render-level test checks every series against them. app_info has
	// no identity labels: its labels are all here.
	labels []string
	source string // docs: the API field(s) the value comes from
	unit   string // docs

	// Exactly one of refresh, scrape and sessions is set. refresh runs
	// once per refresh and its series are stored as text; scrape runs at
	// every scrape, for values that depend on the clock; sessions writes
	// a group's app instance counts (ListAppInstances, when enabled),
	// which are refreshed apart from the groups.
	refresh  func(g *groupView, out series)
	scrape   func(g *groupMeta, now time.Time, out scraped)
	sessions func(g *groupSessions, out series)
	// minutely: scrape writes the same all minute long (scheduled windows
	// and strategy dates begin and end on whole minutes), so a gzip
	// answer reuses their coding within the minute.
	minutely bool

	index int // position in families; set once at start
}

// subject is what a family's series describe, which decides the labels
// written before the family's own.
type subject int

const (
	groupSubject subject = iota // the group's identity labels
	appSubject                  // none: app_info names group_id and region itself
	poolSubject                 // the group's identity labels, then the pool's
)

// series writes one series of the family being rendered: pool (the
// pool's labels, nil for a group series), then own labels, then the value.
type series func(pool, own []byte, v float64)

// scraped writes one per-scrape series of the group: line 0 of a group
// family, or the line of pool g.schedules[line] of a pool family.
type scraped func(line int, v float64)

// sessionBilled ends the help of group fields that count sessions: they
// are the capacity of session-billed groups only.
const sessionBilled = " Describes session-billed groups (charge_resource_mode AppInstance); node-billed groups may carry it too, but their capacity is in the node_pool metrics."

var infoLabels = []string{"product_type", "charge_resource_mode", "os_type", "app_instance_type", "app_center_image_id",
	"spec_id", "office_site_id", "access_type", "auth_mode", "app_policy_id", "app_policy_version"}

// families lists every group, app and pool family in exposition order:
// the per-refresh ones in this order, then the per-scrape ones, then the
// sessions ones, each in this order (write.go).
var families = indexed([]*family{
	{name: "aliyun_appstream_group_info", help: "Static attributes of a delivery group; always 1.",
		labels: infoLabels, source: "the fields named by the labels (whitespace trimmed)", unit: "1",
		refresh: func(g *groupView, out series) { out(nil, g.infoLabels(), 1) }},
	{name: "aliyun_appstream_group_tags", help: "The group's tags named in tag_labels, as tag_* labels; always 1. Written only with tag_labels_on: info.",
		labels: []string{"tag_*"}, source: "`Tags`, `ResourceTags`; only with `tag_labels_on: info` and a non-empty `tag_labels`", unit: "1",
		refresh: func(g *groupView, out series) {
			if g.tagsOnInfo && len(g.tagLabels) > 0 {
				out(nil, g.tagLabels, 1)
			}
		}},
	{name: "aliyun_appstream_group_status", help: "Delivery group status (Status) as a state set: 1 for the current value, 0 for the other documented values.",
		labels: []string{"status"}, source: "`Status` (8 documented values)", unit: "0/1",
		refresh: func(g *groupView, out series) {
			stateSet(g, out, "status", g.str("Status", g.g.Status), config.GroupStatuses)
		}},
	{name: "aliyun_appstream_group_resource_status", help: "Delivery group resource status (ResourceStatus) as a state set: 1 for the current value, 0 for the other documented values.",
		labels: []string{"resource_status"}, source: "`ResourceStatus` (6 documented values)", unit: "0/1",
		refresh: func(g *groupView, out series) {
			stateSet(g, out, "resource_status", g.str("ResourceStatus", g.g.ResourceStatus), aliyun.ResourceStatuses)
		}},
	{name: "aliyun_appstream_group_expiry_timestamp_seconds", help: "Expiration time of the delivery group (ExpiredTime) as a Unix timestamp.",
		source: "`ExpiredTime`", unit: "Unix s",
		refresh: func(g *groupView, out series) {
			if g.meta.hasExpiry {
				out(nil, nil, unixSeconds(g.meta.expiry))
			}
		}},
	{name: "aliyun_appstream_group_expires_in_seconds", help: "Seconds from the scrape until the delivery group expires (ExpiredTime); negative once expired.",
		source: "`ExpiredTime` − scrape time", unit: "s, negative once expired",
		scrape: func(g *groupMeta, now time.Time, out scraped) {
			if g.hasExpiry {
				out(0, float64(millisUntil(g.expiry, now))/1000)
			}
		}},
	{name: "aliyun_appstream_group_created_timestamp_seconds", help: "Creation time of the delivery group (GmtCreate) as a Unix timestamp.",
		source: "`GmtCreate`", unit: "Unix s",
		refresh: func(g *groupView, out series) {
			if ts, ok := g.timestamp("GmtCreate", g.g.GmtCreate); ok {
				out(nil, nil, unixSeconds(ts))
			}
		}},
	groupNumber("aliyun_appstream_group_amount", "Number of subscription resources configured for the group (Amount).",
		"Amount", "count", func(g *aliyun.Group) aliyun.Num { return g.Amount }, 1),
	groupNumber("aliyun_appstream_group_min_amount", "Minimum number of sessions (instances) of the group (MinAmount)."+sessionBilled,
		"MinAmount", "sessions", func(g *aliyun.Group) aliyun.Num { return g.MinAmount }, 1),
	groupNumber("aliyun_appstream_group_max_amount", "Maximum number of sessions (instances) of the group (MaxAmount)."+sessionBilled,
		"MaxAmount", "sessions", func(g *aliyun.Group) aliyun.Num { return g.MaxAmount }, 1),
	groupNumber("aliyun_appstream_group_reserve_amount_ratio", "Share of sessions kept unused in reserve (ReserveAmountRatio / 100)."+sessionBilled,
		"ReserveAmountRatio", "ratio of sessions", func(g *aliyun.Group) aliyun.Num { return g.ReserveAmountRatio }, percent),
	groupNumber("aliyun_appstream_group_reserve_min_amount", "Minimum number of unused sessions kept in reserve (ReserveMinAmount)."+sessionBilled,
		"ReserveMinAmount", "sessions", func(g *aliyun.Group) aliyun.Num { return g.ReserveMinAmount }, 1),
	groupNumber("aliyun_appstream_group_reserve_max_amount", "Maximum number of unused sessions kept in reserve (ReserveMaxAmount)."+sessionBilled,
		"ReserveMaxAmount", "sessions", func(g *aliyun.Group) aliyun.Num { return g.ReserveMaxAmount }, 1),
	groupNumber("aliyun_appstream_group_scaling_step", "Sessions created by each scale-out of the group (ScalingStep)."+sessionBilled,
		"ScalingStep", "sessions", func(g *aliyun.Group) aliyun.Num { return g.ScalingStep }, 1),
	groupNumber("aliyun_appstream_group_scaling_usage_threshold_ratio", "Session usage above which the group scales out (ScalingUsageThreshold / 100).",
		"ScalingUsageThreshold", "ratio", func(g *aliyun.Group) aliyun.Num { return g.ScalingUsageThreshold }, percent),
	groupNumber("aliyun_appstream_group_scaling_down_after_idle_seconds", "Idle time without sessions after which the group scales in (ScalingDownAfterIdleMinutes x 60).",
		"ScalingDownAfterIdleMinutes", "s", func(g *aliyun.Group) aliyun.Num { return g.ScalingDownAfterIdleMinutes }, minutes),
	{name: "aliyun_appstream_group_session_timeout_seconds", help: "How long a disconnected session is kept before logoff (SessionTimeout x 60); +Inf when kept forever (-1).",
		source: "`SessionTimeout` × 60; `-1` (kept forever) is `+Inf`", unit: "s",
		refresh: func(g *groupView, out series) {
			if v, ok := number("SessionTimeout", g.g.SessionTimeout, g.report); ok {
				if v == -1 {
					out(nil, nil, math.Inf(1)) // -1 keeps disconnected sessions forever
				} else {
					out(nil, nil, v*60)
				}
			}
		}},
	groupBool("aliyun_appstream_group_skip_user_auth_check", "1 when the group skips user authorization checks (SkipUserAuthCheck), else 0.",
		"SkipUserAuthCheck", func(g *aliyun.Group) aliyun.Bool { return g.SkipUserAuthCheck }),
	groupBool("aliyun_appstream_group_unified_policy_supported", "1 when the group's image supports the unified policy (AppPolicyImageCheck), else 0.",
		"AppPolicyImageCheck", func(g *aliyun.Group) aliyun.Bool { return g.AppPolicyImageCheck }),
	{name: "aliyun_appstream_group_apps", help: "Number of applications in the delivery group (Apps).",
		source: "distinct entries of `Apps`", unit: "count",
		refresh: func(g *groupView, out series) {
			if g.g.Apps.Set {
				out(nil, nil, float64(len(g.apps)))
			}
		}},
	{name: "aliyun_appstream_app_info", help: "An application delivered by a group; always 1.", subject: appSubject,
		labels: []string{"group_id", "region", "app_id", "app_name", "app_version", "app_version_name"}, source: "`Apps[]`", unit: "1",
		refresh: func(g *groupView, out series) {
			var group []byte
			if len(g.apps) > 0 {
				if g.r.account != "" {
					group = appendLabel(group, "account", g.r.account)
				}
				group = appendLabel(appendLabel(group, "group_id", g.id), "region", g.region)
			}
			for _, app := range g.apps {
				out(group, app, 1)
			}
		}},
	{name: "aliyun_appstream_group_ota_update_available", help: "1 when an OTA update is available for the group (OtaInfo.NewOtaVersion set), else 0.",
		source: "`OtaInfo.NewOtaVersion` non-empty (absent without `OtaInfo`)", unit: "0/1",
		refresh: func(g *groupView, out series) {
			if g.ota != nil {
				out(nil, nil, b2f(g.ota.newVersion != ""))
			}
		}},
	{name: "aliyun_appstream_group_ota_info", help: "OTA versions and update task of the group (OtaInfo); always 1.",
		labels: []string{"ota_version", "new_ota_version", "task_id"}, source: "`OtaInfo`", unit: "1",
		refresh: func(g *groupView, out series) {
			if g.ota != nil {
				out(nil, g.ota.labels, 1)
			}
		}},
	{name: "aliyun_appstream_node_pool_info", help: "Static attributes of a resource pool (NodePool); always 1.", subject: poolSubject,
		labels: []string{"node_type_name", "strategy_type"}, source: "`NodeTypeName`, `StrategyType`", unit: "1",
		refresh: func(g *groupView, out series) {
			for i := range g.pools {
				out(g.pools[i].labels, g.pools[i].infoLabels, 1)
			}
		}},
	poolNumber("aliyun_appstream_node_pool_nodes", "Total subscription resources (nodes) of the pool (NodeAmount).",
		"NodeAmount", "nodes", func(p *aliyun.NodePool) aliyun.Num { return p.NodeAmount }, 1),
	poolNumber("aliyun_appstream_node_pool_nodes_used", "Subscription resources (nodes) of the pool in use (NodeUsed).",
		"NodeUsed", "nodes", func(p *aliyun.NodePool) aliyun.Num { return p.NodeUsed }, 1),
	poolNumber("aliyun_appstream_node_pool_node_session_capacity", "Sessions one node of the pool can hold at the same time (NodeCapacity).",
		"NodeCapacity", "sessions per node", func(p *aliyun.NodePool) aliyun.Num { return p.NodeCapacity }, 1),
	poolNumber("aliyun_appstream_node_pool_scaling_nodes", "Scalable resources (nodes) of the pool (ScalingNodeAmount).",
		"ScalingNodeAmount", "nodes", func(p *aliyun.NodePool) aliyun.Num { return p.ScalingNodeAmount }, 1),
	poolNumber("aliyun_appstream_node_pool_scaling_nodes_used", "Scalable resources (nodes) of the pool in use (ScalingNodeUsed).",
		"ScalingNodeUsed", "nodes", func(p *aliyun.NodePool) aliyun.Num { return p.ScalingNodeUsed }, 1),
	poolNumber("aliyun_appstream_node_pool_max_scaling_nodes", "Maximum resources the pool may create by scaling out (MaxScalingAmount).",
		"MaxScalingAmount", "nodes", func(p *aliyun.NodePool) aliyun.Num { return p.MaxScalingAmount }, 1),
	poolNumber("aliyun_appstream_node_pool_purchased_nodes", "Resources purchased when the delivery group was created (Amount).",
		"Amount", "nodes", func(p *aliyun.NodePool) aliyun.Num { return p.Amount }, 1),
	poolNumber("aliyun_appstream_node_pool_max_idle_sessions", "Idle sessions below which usage-based scale-out may happen (MaxIdleAppInstanceAmount).",
		"MaxIdleAppInstanceAmount", "sessions", func(p *aliyun.NodePool) aliyun.Num { return p.MaxIdleAppInstanceAmount }, 1),
	poolNumber("aliyun_appstream_node_pool_scaling_step", "Resources created by each scale-out of the pool (ScalingStep).",
		"ScalingStep", "nodes", func(p *aliyun.NodePool) aliyun.Num { return p.ScalingStep }, 1),
	poolNumber("aliyun_appstream_node_pool_scaling_usage_threshold_ratio", "Session usage above which the pool scales out (ScalingUsageThreshold / 100).",
		"ScalingUsageThreshold", "ratio", func(p *aliyun.NodePool) aliyun.Num { return p.ScalingUsageThreshold }, percent),
	poolNumber("aliyun_appstream_node_pool_scaling_down_after_idle_seconds", "Idle time without sessions after which the pool scales in (ScalingDownAfterIdleMinutes x 60).",
		"ScalingDownAfterIdleMinutes", "s", func(p *aliyun.NodePool) aliyun.Num { return p.ScalingDownAfterIdleMinutes }, minutes),
	{name: "aliyun_appstream_node_pool_warm_up", help: "1 when resource prefetch (WarmUp) is enabled for the pool, else 0.", subject: poolSubject,
		source: "`WarmUp`", unit: "0/1",
		refresh: func(g *groupView, out series) {
			for i := range g.pools {
				p := &g.pools[i]
				if v, ok := boolean(p.field+".WarmUp", p.p.WarmUp, g.report); ok {
					out(p.labels, nil, v)
				}
			}
		}},
	poolDate("aliyun_appstream_node_pool_strategy_start_timestamp_seconds", "Start of the pool's scaling policy (StrategyEnableDate, 00:00 in the configured timezone) as a Unix timestamp.",
		"StrategyEnableDate", func(p *poolView) time.Time { return p.enable }),
	poolDate("aliyun_appstream_node_pool_strategy_end_timestamp_seconds", "End of the pool's scaling policy (StrategyDisableDate, 00:00 in the configured timezone) as a Unix timestamp.",
		"StrategyDisableDate", func(p *poolView) time.Time { return p.disable }),
	{name: "aliyun_appstream_node_pool_schedule_active", help: "1 when a scheduled-scaling window of the pool (RecurrenceSchedules) is active at scrape time, else 0.",
		subject: poolSubject, source: "`RecurrenceSchedules`, evaluated at scrape time (below); absent without schedules", unit: "0/1",
		minutely: true,
		scrape: func(g *groupMeta, now time.Time, out scraped) {
			for k, s := range g.schedules {
				active, _, _ := s.sched.at(now)
				out(k, b2f(active))
			}
		}},
	{name: "aliyun_appstream_node_pool_schedule_target_nodes", help: "Target resource amount of the active scheduled-scaling window (TimerPeriods.Amount).",
		subject: poolSubject, source: "`TimerPeriods[].Amount` of the active window; absent when none is active", unit: "nodes",
		minutely: true,
		scrape: func(g *groupMeta, now time.Time, out scraped) {
			for k, s := range g.schedules {
				if active, target, ok := s.sched.at(now); active && ok {
					out(k, target)
				}
			}
		}},
	{name: "aliyun_appstream_node_pool_schedule_next_start_timestamp_seconds", help: "Start of the pool's next scheduled-scaling window (RecurrenceSchedules) after the scrape, within the strategy dates, as a Unix timestamp.",
		subject: poolSubject, source: "`RecurrenceSchedules`, the first window starting after scrape time; absent when none starts before `StrategyDisableDate`", unit: "Unix s",
		minutely: true,
		scrape: func(g *groupMeta, now time.Time, out scraped) {
			for k, s := range g.schedules {
				if start, _, _, ok := s.sched.next(now); ok {
					out(k, unixSeconds(start))
				}
			}
		}},
	{name: "aliyun_appstream_node_pool_schedule_next_target_nodes", help: "Target resource amount of the pool's next scheduled-scaling window (TimerPeriods.Amount).",
		subject: poolSubject, source: "`TimerPeriods[].Amount` of the next window; absent when there is none or it has no `Amount`", unit: "nodes",
		minutely: true,
		scrape: func(g *groupMeta, now time.Time, out scraped) {
			for k, s := range g.schedules {
				if _, target, hasTarget, ok := s.sched.next(now); ok && hasTarget {
					out(k, target)
				}
			}
		}},
	{name: "aliyun_appstream_group_app_instances", help: "App instances (sessions) of the delivery group by Status and SessionStatus (empty when not sent), as ListAppInstances lists them; written only with app_instances enabled, for the groups it queries.",
		labels: []string{"status", "session_status"}, source: "ListAppInstances `AppInstanceModels[]`, counted by `Status` and `SessionStatus`; *with `app_instances`*", unit: "app instances",
		sessions: func(g *groupSessions, out series) {
			for _, c := range g.counts {
				out(nil, c.labels, c.n)
			}
		}},
	{name: "aliyun_appstream_group_sessions_connected", help: "App instances of the delivery group with a user connected (SessionStatus connect); 0 when none. Written only with app_instances enabled, for the groups it queries.",
		source: "ListAppInstances: instances whose `SessionStatus` is `connect`; *with `app_instances`*", unit: "sessions",
		sessions: func(g *groupSessions, out series) { out(nil, nil, g.connected) }},
})

// indexed numbers the families in their order.
func indexed(list []*family) []*family {
	minutelySeen := false
	for i, f := range list {
		f.index = i
		// A gzip answer codes the minutely families after the others.
		if f.minutely && f.scrape == nil || minutelySeen && f.scrape != nil && !f.minutely {
			panic(f.name + ": only per-scrape families are minutely, and they come after the other per-scrape ones")
		}
		minutelySeen = minutelySeen || f.minutely
		kinds := 0
		for _, set := range []bool{f.refresh != nil, f.scrape != nil, f.sessions != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			panic(f.name + ": a family is rendered per refresh, per scrape or from sessions: exactly one")
		}
	}
	return list
}

// Scales from the API's units to the exported ones.
const (
	percent = 0.01 // percentages become ratios
	minutes = 60   // minutes become seconds
)

// groupNumber is a family of one numeric group field, times scale.
func groupNumber(name, help, field, unit string, get func(*aliyun.Group) aliyun.Num, scale float64) *family {
	source := fieldDoc(field, scale)
	if strings.HasSuffix(help, sessionBilled) {
		source += ", *session-billed*"
	}
	return &family{name: name, help: help, source: source, unit: unit,
		refresh: func(g *groupView, out series) {
			if v, ok := number(field, get(g.g), g.report); ok {
				out(nil, nil, scaled(v, scale))
			}
		}}
}

// groupBool is a family of one boolean group field, as 0 or 1.
func groupBool(name, help, field string, get func(*aliyun.Group) aliyun.Bool) *family {
	return &family{name: name, help: help, source: "`" + field + "`", unit: "0/1",
		refresh: func(g *groupView, out series) {
			if v, ok := boolean(field, get(g.g), g.report); ok {
				out(nil, nil, v)
			}
		}}
}

// poolNumber is a family of one numeric pool field, times scale.
func poolNumber(name, help, field, unit string, get func(*aliyun.NodePool) aliyun.Num, scale float64) *family {
	return &family{name: name, help: help, subject: poolSubject, source: fieldDoc(field, scale), unit: unit,
		refresh: func(g *groupView, out series) {
			for i := range g.pools {
				p := &g.pools[i]
				if v, ok := number(p.field+"."+field, get(p.p), g.report); ok {
					out(p.labels, nil, scaled(v, scale))
				}
			}
		}}
}

// poolDate is a family of a pool's strategy date, read once per pool
// because its schedule needs it too.
func poolDate(name, help, field string, get func(*poolView) time.Time) *family {
	return &family{name: name, help: help, subject: poolSubject, source: "`" + field + "`, 00:00 in `timezone`", unit: "Unix s",
		refresh: func(g *groupView, out series) {
			for i := range g.pools {
				if d := get(&g.pools[i]); !d.IsZero() {
					out(g.pools[i].labels, nil, float64(d.Unix()))
				}
			}
		}}
}

// scaled keeps the exact arithmetic of the API's units: a percentage is
// divided by 100, not multiplied by 0.01, so 85 reads 0.85.
func scaled(v, scale float64) float64 {
	if scale == percent {
		return v / 100
	}
	return v * scale
}

func fieldDoc(field string, scale float64) string {
	switch scale {
	case percent:
		return "`" + field + "` / 100"
	case minutes:
		return "`" + field + "` × 60"
	}
	return "`" + field + "`"
}

// familyHeaders holds "# HELP ...\n# TYPE ...\n" for each family.
var familyHeaders = func() (h [][]byte) {
	for _, f := range families {
		h = append(h, []byte("# HELP "+f.name+" "+f.help+"\n# TYPE "+f.name+" "+f.typeName()+"\n"))
	}
	return h
}()

// headerSegments are familyHeaders compressed, for gzip answers.
var headerSegments = sync.OnceValue(func() []segment {
	return compressSegments(len(families), func(f int, w *bufio.Writer, _ func() int64) { w.Write(familyHeaders[f]) }, nil)
})

func (f *family) typeName() string {
	if f.typ == "" {
		return "gauge"
	}
	return f.typ
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// millisUntil is t.Sub(now).Milliseconds(). Sub guards against overflow by
// adding the difference back, which cost as much as the rest of a
// countdown line's value; within ±2^33 s (272 years) of now there is none.
func millisUntil(t, now time.Time) int64 {
	secs := t.Unix() - now.Unix()
	if secs < -1<<33 || secs > 1<<33 {
		return t.Sub(now).Milliseconds()
	}
	return (secs*1e9 + int64(t.Nanosecond()-now.Nanosecond())) / 1e6
}
