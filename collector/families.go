package collector

// The group and pool metric families (README, Metrics), in exposition order. Most
// are rendered to text once per refresh; the three marked perScrape depend
// on the clock and are written at scrape time.

type family struct {
	name      string
	help      string
	perScrape bool
	// ownLabels: the series carry their own label set instead of the
	// group's identity labels (app_info: group_id and region only).
	ownLabels bool
}

const (
	famGroupInfo = iota
	famGroupTags
	famGroupStatus
	famGroupResourceStatus
	famGroupExpiry
	famGroupExpiresIn // per scrape
	famGroupCreated
	famGroupAmount
	famGroupMinAmount
	famGroupMaxAmount
	famGroupReserveAmountRatio
	famGroupReserveMinAmount
	famGroupReserveMaxAmount
	famGroupScalingStep
	famGroupScalingUsageThreshold
	famGroupScalingDownAfterIdle
	famGroupSessionTimeout
	famGroupSkipUserAuthCheck
	famGroupUnifiedPolicySupported
	famGroupApps
	famAppInfo
	famGroupOtaUpdateAvailable
	famGroupOtaInfo
	famPoolInfo
	famPoolNodes
	famPoolNodesUsed
	famPoolNodeSessionCapacity
	famPoolScalingNodes
	famPoolScalingNodesUsed
	famPoolMaxScalingNodes
	famPoolPurchasedNodes
	famPoolMaxIdleSessions
	famPoolScalingStep
	famPoolScalingUsageThreshold
	famPoolScalingDownAfterIdle
	famPoolWarmUp
	famPoolStrategyStart
	famPoolStrategyEnd
	famPoolScheduleActive      // per scrape
	famPoolScheduleTargetNodes // per scrape
	numFamilies
)

var families = [numFamilies]family{
	famGroupInfo:                   {name: "aliyun_appstream_group_info", help: "Static attributes of a delivery group; always 1."},
	famGroupTags:                   {name: "aliyun_appstream_group_tags", help: "The group's tags named in tag_labels, as tag_* labels; always 1. Written only with tag_labels_on: info."},
	famGroupStatus:                 {name: "aliyun_appstream_group_status", help: "Delivery group status (Status) as a state set: 1 for the current value, 0 for the other documented values."},
	famGroupResourceStatus:         {name: "aliyun_appstream_group_resource_status", help: "Delivery group resource status (ResourceStatus) as a state set: 1 for the current value, 0 for the other documented values."},
	famGroupExpiry:                 {name: "aliyun_appstream_group_expiry_timestamp_seconds", help: "Expiration time of the delivery group (ExpiredTime) as a Unix timestamp."},
	famGroupExpiresIn:              {name: "aliyun_appstream_group_expires_in_seconds", help: "Seconds from the scrape until the delivery group expires (ExpiredTime); negative once expired.", perScrape: true},
	famGroupCreated:                {name: "aliyun_appstream_group_created_timestamp_seconds", help: "Creation time of the delivery group (GmtCreate) as a Unix timestamp."},
	famGroupAmount:                 {name: "aliyun_appstream_group_amount", help: "Number of subscription resources configured for the group (Amount)."},
	famGroupMinAmount:              {name: "aliyun_appstream_group_min_amount", help: "Minimum number of sessions (instances) of the group (MinAmount). Describes session-billed groups (charge_resource_mode AppInstance); node-billed groups may carry it too, but their capacity is in the node_pool metrics."},
	famGroupMaxAmount:              {name: "aliyun_appstream_group_max_amount", help: "Maximum number of sessions (instances) of the group (MaxAmount). Describes session-billed groups (charge_resource_mode AppInstance); node-billed groups may carry it too, but their capacity is in the node_pool metrics."},
	famGroupReserveAmountRatio:     {name: "aliyun_appstream_group_reserve_amount_ratio", help: "Share of sessions kept unused in reserve (ReserveAmountRatio / 100). Describes session-billed groups (charge_resource_mode AppInstance); node-billed groups may carry it too, but their capacity is in the node_pool metrics."},
	famGroupReserveMinAmount:       {name: "aliyun_appstream_group_reserve_min_amount", help: "Minimum number of unused sessions kept in reserve (ReserveMinAmount). Describes session-billed groups (charge_resource_mode AppInstance); node-billed groups may carry it too, but their capacity is in the node_pool metrics."},
	famGroupReserveMaxAmount:       {name: "aliyun_appstream_group_reserve_max_amount", help: "Maximum number of unused sessions kept in reserve (ReserveMaxAmount). Describes session-billed groups (charge_resource_mode AppInstance); node-billed groups may carry it too, but their capacity is in the node_pool metrics."},
	famGroupScalingStep:            {name: "aliyun_appstream_group_scaling_step", help: "Sessions created by each scale-out of the group (ScalingStep). Describes session-billed groups (charge_resource_mode AppInstance); node-billed groups may carry it too, but their capacity is in the node_pool metrics."},
	famGroupScalingUsageThreshold:  {name: "aliyun_appstream_group_scaling_usage_threshold_ratio", help: "Session usage above which the group scales out (ScalingUsageThreshold / 100)."},
	famGroupScalingDownAfterIdle:   {name: "aliyun_appstream_group_scaling_down_after_idle_seconds", help: "Idle time without sessions after which the group scales in (ScalingDownAfterIdleMinutes x 60)."},
	famGroupSessionTimeout:         {name: "aliyun_appstream_group_session_timeout_seconds", help: "How long a disconnected session is kept before logoff (SessionTimeout x 60); +Inf when kept forever (-1)."},
	famGroupSkipUserAuthCheck:      {name: "aliyun_appstream_group_skip_user_auth_check", help: "1 when the group skips user authorization checks (SkipUserAuthCheck), else 0."},
	famGroupUnifiedPolicySupported: {name: "aliyun_appstream_group_unified_policy_supported", help: "1 when the group's image supports the unified policy (AppPolicyImageCheck), else 0."},
	famGroupApps:                   {name: "aliyun_appstream_group_apps", help: "Number of applications in the delivery group (Apps)."},
	famAppInfo:                     {name: "aliyun_appstream_app_info", help: "An application delivered by a group; always 1.", ownLabels: true},
	famGroupOtaUpdateAvailable:     {name: "aliyun_appstream_group_ota_update_available", help: "1 when an OTA update is available for the group (OtaInfo.NewOtaVersion set), else 0."},
	famGroupOtaInfo:                {name: "aliyun_appstream_group_ota_info", help: "OTA versions and update task of the group (OtaInfo); always 1."},
	famPoolInfo:                    {name: "aliyun_appstream_node_pool_info", help: "Static attributes of a resource pool (NodePool); always 1."},
	famPoolNodes:                   {name: "aliyun_appstream_node_pool_nodes", help: "Total subscription resources (nodes) of the pool (NodeAmount)."},
	famPoolNodesUsed:               {name: "aliyun_appstream_node_pool_nodes_used", help: "Subscription resources (nodes) of the pool in use (NodeUsed)."},
	famPoolNodeSessionCapacity:     {name: "aliyun_appstream_node_pool_node_session_capacity", help: "Sessions one node of the pool can hold at the same time (NodeCapacity)."},
	famPoolScalingNodes:            {name: "aliyun_appstream_node_pool_scaling_nodes", help: "Scalable resources (nodes) of the pool (ScalingNodeAmount)."},
	famPoolScalingNodesUsed:        {name: "aliyun_appstream_node_pool_scaling_nodes_used", help: "Scalable resources (nodes) of the pool in use (ScalingNodeUsed)."},
	famPoolMaxScalingNodes:         {name: "aliyun_appstream_node_pool_max_scaling_nodes", help: "Maximum resources the pool may create by scaling out (MaxScalingAmount)."},
	famPoolPurchasedNodes:          {name: "aliyun_appstream_node_pool_purchased_nodes", help: "Resources purchased when the delivery group was created (Amount)."},
	famPoolMaxIdleSessions:         {name: "aliyun_appstream_node_pool_max_idle_sessions", help: "Idle sessions below which usage-based scale-out may happen (MaxIdleAppInstanceAmount)."},
	famPoolScalingStep:             {name: "aliyun_appstream_node_pool_scaling_step", help: "Resources created by each scale-out of the pool (ScalingStep)."},
	famPoolScalingUsageThreshold:   {name: "aliyun_appstream_node_pool_scaling_usage_threshold_ratio", help: "Session usage above which the pool scales out (ScalingUsageThreshold / 100)."},
	famPoolScalingDownAfterIdle:    {name: "aliyun_appstream_node_pool_scaling_down_after_idle_seconds", help: "Idle time without sessions after which the pool scales in (ScalingDownAfterIdleMinutes x 60)."},
	famPoolWarmUp:                  {name: "aliyun_appstream_node_pool_warm_up", help: "1 when resource prefetch (WarmUp) is enabled for the pool, else 0."},
	famPoolStrategyStart:           {name: "aliyun_appstream_node_pool_strategy_start_timestamp_seconds", help: "Start of the pool's scaling policy (StrategyEnableDate, 00:00 in the configured timezone) as a Unix timestamp."},
	famPoolStrategyEnd:             {name: "aliyun_appstream_node_pool_strategy_end_timestamp_seconds", help: "End of the pool's scaling policy (StrategyDisableDate, 00:00 in the configured timezone) as a Unix timestamp."},
	famPoolScheduleActive:          {name: "aliyun_appstream_node_pool_schedule_active", help: "1 when a scheduled-scaling window of the pool (RecurrenceSchedules) is active at scrape time, else 0.", perScrape: true},
	famPoolScheduleTargetNodes:     {name: "aliyun_appstream_node_pool_schedule_target_nodes", help: "Target resource amount of the active scheduled-scaling window (TimerPeriods.Amount).", perScrape: true},
}

// familyHeaders holds "# HELP ...\n# TYPE ...\n" for each family; every
// family here is a gauge.
var familyHeaders = func() (h [numFamilies][]byte) {
	for i, f := range families {
		h[i] = []byte("# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " gauge\n")
	}
	return h
}()
