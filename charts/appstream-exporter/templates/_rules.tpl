{{- /*
Written by alerts/generator (go run ./alerts/generator) from the rules of
alerts/appstream.rules.yml; edit the generator, not this file. With the
chart's default values it renders that file byte for byte.
*/ -}}

{{- define "appstream-exporter.alertNames" -}}
["AppStreamGroupCeased","AppStreamGroupLongExpired","AppStreamGroupExpired","AppStreamGroupExpiryImminent","AppStreamGroupExpiringSoon","AppStreamGroupExpiryApproaching","AppStreamGroupFailed","AppStreamGroupStuck","AppStreamGroupUnavailable","AppStreamGroupSkipsUserAuth","AppStreamNodePoolSaturated","AppStreamNodePoolScalingExhausted","AppStreamSessionCapacityLow","AppStreamNodePoolScheduleTargetNotMet","AppStreamScheduledTargetAboveMax","AppStreamExporterDemoMode","AppStreamExporterTargetDown","AppStreamExporterAbsent","AppStreamExporterDown","AppStreamAppInstancesDown","AppStreamDataStale","AppStreamApiThrottled","AppStreamConfigReloadFailed"]
{{- end }}

{{- define "appstream-exporter.rules" -}}
{{- $r := .Values.prometheusRule }}
{{- $t := $r.thresholds }}
{{- $alerts := $r.alerts | default dict }}
{{- $o := dict }}
{{- $runbookUrl := $r.runbookUrl | default "https://github.com/appstream-exporter/appstream_exporter/blob/main/docs/runbooks.md" }}
{{- $grafanaUrl := $r.grafanaUrl | default "http://localhost:3000" }}
{{- $targetSelector := $r.targetSelector | default (printf "job=%q" .Values.serviceMonitor.jobName) }}
{{- $expiryInfoDays := $t.expiryInfoDays }}
{{- $expiryInfoDaysUnit := ternary "day" "days" (eq (float64 $t.expiryInfoDays) 1.0) }}
{{- $expiryWarningDays := $t.expiryWarningDays }}
{{- $expiryWarningDaysUnit := ternary "day" "days" (eq (float64 $t.expiryWarningDays) 1.0) }}
{{- $expiryCriticalDays := $t.expiryCriticalDays }}
{{- $expiryCriticalDaysUnit := ternary "day" "days" (eq (float64 $t.expiryCriticalDays) 1.0) }}
{{- $expiredPagingDays := $t.expiredPagingDays }}
{{- $expiredPagingDaysUnit := ternary "day" "days" (eq (float64 $t.expiredPagingDays) 1.0) }}
{{- $saturationRatio := $t.saturationRatio }}
{{- $saturationRatioPercent := mulf $t.saturationRatio 100 }}
{{- $sessionCapacityRatio := $t.sessionCapacityRatio }}
{{- $sessionCapacityRatioPercent := mulf $t.sessionCapacityRatio 100 }}
{{- $throttledRatio := $t.throttledRatio }}
{{- $throttledRatioPercent := mulf $t.throttledRatio 100 }}
{{- $saturationMinNodes := $t.saturationMinNodes }}
{{- /* the rules */ -}}
# Recording and alerting rules for appstream_exporter, written by
# alerts/generator (go run ./alerts/generator); edit the generator or pass it a
# parameters file, not this file. README.md#alerts explains the choices.
#
# Group and pool alerts:
# - read the newest sample of the last lookback window, so a missed scrape does
#   not reset their "for" timers;
# - start only on fresh data: the query that covers the group's region (its
#   biz_region, or the exporter's one unfiltered query) refreshed successfully
#   within the window. Stale data never starts an alert;
# - hold while the data is not fresh: a firing alert keeps firing (from its own
#   ALERTS series) until fresh data says otherwise, so a dead exporter or an API
#   outage never resolves a page;
# - carry the group's stable identity (job, account, group_id, region, tag
#   labels; no account label without accounts), not group_name, charge_type or
#   instance, so a rename, a charge-type change, an
#   exporter restart or a second exporter of an HA pair never splits an alert.
groups:
  - name: appstream.recording
    rules:
      # Sessions a pool can hold: (subscription + scaled nodes) x sessions per node.
      - record: pool:aliyun_appstream_node_pool_session_capacity:sum
        expr: |
          (aliyun_appstream_node_pool_nodes + aliyun_appstream_node_pool_scaling_nodes)
            * aliyun_appstream_node_pool_node_session_capacity
      # Share of a pool's subscription nodes in use (pools with no nodes excluded).
      - record: pool:aliyun_appstream_node_pool_nodes_used:ratio
        expr: |
          aliyun_appstream_node_pool_nodes_used
            / (aliyun_appstream_node_pool_nodes > 0)
      # Nodes a pool may still add by scaling out.
      - record: pool:aliyun_appstream_node_pool_scaling_nodes:headroom
        expr: |
          aliyun_appstream_node_pool_max_scaling_nodes
            - aliyun_appstream_node_pool_scaling_nodes
      # Delivery groups per status and region.
      - record: region_status:aliyun_appstream_group_status:sum
        expr: |
          sum by (job, account, region, status) (aliyun_appstream_group_status)
      # Sessions a group can hold: its pools' capacity, or MaxAmount for a
      # session-billed group (one without pools).
      - record: group:aliyun_appstream_session_capacity:sum
        expr: |
          sum without (node_pool_id, node_instance_type) (pool:aliyun_appstream_node_pool_session_capacity:sum)
          or
          aliyun_appstream_group_max_amount
      # Share of a group's session capacity with a user connected (app_instances
      # collected; groups that can hold no session excluded).
      - record: group:aliyun_appstream_sessions_connected:ratio
        expr: |
          aliyun_appstream_group_sessions_connected
            / (group:aliyun_appstream_session_capacity:sum > 0)
      # Connected sessions per region (app_instances collected).
      - record: region:aliyun_appstream_sessions_connected:sum
        expr: |
          sum by (job, account, region) (aliyun_appstream_group_sessions_connected)

  - name: appstream.groups
    rules:
      # Fresh data per region: 1 for each region whose query refreshed
      # successfully within the lookback window. With biz_regions listed, a group's
      # region is its query's biz_region; with one unfiltered query, the regions of
      # the groups it returned. The alerts below are in this group, after these
      # rules, so they read this evaluation's values.
      - record: region:aliyun_appstream_up:fresh
        expr: |
          max by (job, instance, account, region) (
            label_replace(last_over_time(aliyun_appstream_up{biz_region!=""}[10m]) == 1, "region", "$1", "biz_region", "(.+)")
          )
          or
          max by (job, instance, account, region) (
            last_over_time(aliyun_appstream_group_info[10m])
              and on (job, instance, account) (last_over_time(aliyun_appstream_up{biz_region=""}[10m]) == 1)
          )
      # Fresh data of an exporter's one unfiltered query, whatever regions it
      # returned: a region left without groups must not hold alerts there.
      - record: instance:aliyun_appstream_up:fresh
        expr: |
          max by (job, instance, account) (last_over_time(aliyun_appstream_up{biz_region=""}[10m]) == 1)
      # Groups whose data is fresh: reported within 20m by an exporter whose
      # query for them is fresh now. A firing alert holds until its group is here
      # again, so another exporter's fresh data for the same region (a second
      # account in the same job) never ends the hold, while a restarted exporter,
      # or the other half of an HA pair, does. A deleted group's alert resolves
      # normally: its exporter stays fresh.
      - record: group:aliyun_appstream_group_info:fresh
        expr: |
          max by (job, instance, account, group_id, region) (
            last_over_time(aliyun_appstream_group_info[20m])
              and on (job, instance, account, region) label_replace(last_over_time(aliyun_appstream_up{biz_region!=""}[10m]) == 1, "region", "$1", "biz_region", "(.+)")
          )
          or
          max by (job, instance, account, group_id, region) (
            last_over_time(aliyun_appstream_group_info[20m])
              and on (job, instance, account) instance:aliyun_appstream_up:fresh
          )
      # Jobs whose every exporter is up with every query fresh: a group none of
      # them reports is gone (deleted while its exporter was down), so its alerts
      # stop holding.
      - record: job:aliyun_appstream_up:healthy
        expr: |
          min by (job) (up) == 1
            and on (job)
          min by (job) (last_over_time(aliyun_appstream_up[10m])) == 1
{{- $o = index $alerts "AppStreamGroupCeased" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      - alert: AppStreamGroupCeased
        expr: |
          max without (instance, group_name, charge_type) (
            (
              last_over_time(aliyun_appstream_group_status{status=~"CEASED"}[10m]) == 1
            )
              and on (job, instance, account, region) region:aliyun_appstream_up:fresh
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamGroupCeased", alertstate="firing"})
              unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
              unless on (job) job:aliyun_appstream_up:healthy
              and on (job) group by (job) (up)
          )
        for: {{ $o.for | default "5m" }}
        labels:
          severity: {{ $o.severity | default "critical" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }}{{"{{"}} else }}{{"{{"}} $labels.group_id }}{{"{{"}} end }} has
            ceased for an overdue payment.
          description: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }} ({{"{{"}} $labels.group_id }}){{"{{"}} else }}{{"{{"}}
            $labels.group_id }}{{"{{"}} end }} in region {{"{{"}} $labels.region }}{{"{{"}} with
            $labels.account }} of account {{"{{"}} . }}{{"{{"}} end }} has status CEASED: the account
            is overdue and its users cannot start sessions.{{"{{"}} if not (printf
            "group:aliyun_appstream_group_info:fresh{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query) }} No
            fresh data for this group: the exporter that reports it, or the API, is down,
            so this alert holds its last known state until data returns.{{"{{"}} end }}
          runbook_url: {{ $runbookUrl }}#appstreamgroupceased
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-overview/appstream-overview?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-region={{"{{"}} $labels.region }}&var-group={{"{{"}} $labels.group_id }}
{{- end }}
{{- $o = index $alerts "AppStreamGroupLongExpired" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      # Expired more than {{$expiredPagingDays}} {{$expiredPagingDaysUnit}} ago, recycling, or released: nothing to do at
      # night, so a ticket rather than a page.
      - alert: AppStreamGroupLongExpired
        expr: |
          max without (instance, group_name, charge_type, status, resource_status) (
            (
              last_over_time(aliyun_appstream_group_expires_in_seconds{charge_type="PrePaid"}[10m]) <= -{{$expiredPagingDays}} * 86400
              or
              last_over_time(aliyun_appstream_group_status{status=~"EXPIRED_RECYCLING"}[10m]) == 1
              or
              (last_over_time(aliyun_appstream_group_resource_status{resource_status=~"RELEASED"}[10m]) == 1 and on (job, instance, account, group_id, region) last_over_time(aliyun_appstream_group_status{status=~"EXPIRED"}[10m]) == 1)
            )
              and on (job, instance, account, region) region:aliyun_appstream_up:fresh
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamGroupLongExpired", alertstate="firing"})
              unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
              unless on (job) job:aliyun_appstream_up:healthy
              and on (job) group by (job) (up)
          )
        for: {{ $o.for | default "5m" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }}{{"{{"}} else }}{{"{{"}} $labels.group_id }}{{"{{"}} end }} expired
            more than {{$expiredPagingDays}} {{$expiredPagingDaysUnit}} ago.
          description: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }} ({{"{{"}} $labels.group_id }}){{"{{"}} else }}{{"{{"}}
            $labels.group_id }}{{"{{"}} end }} in region {{"{{"}} $labels.region }}{{"{{"}} with
            $labels.account }} of account {{"{{"}} . }}{{"{{"}} end }} expired{{"{{"}} with printf "time() -
            aliyun_appstream_group_expiry_timestamp_seconds{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }} {{"{{"}} . |
            first | value | humanizeDuration }} ago{{"{{"}} end }}{{"{{"}} with printf
            "aliyun_appstream_group_status{job=%q,account=%q,group_id=%q,region=%q} == 1"
            $labels.job $labels.account $labels.group_id $labels.region | query }} (status
            {{"{{"}} . | first | label "status" }}){{"{{"}} end }}. Renew it if it is still needed, or
            delete it.{{"{{"}} if not (printf
            "group:aliyun_appstream_group_info:fresh{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query) }} No
            fresh data for this group: the exporter that reports it, or the API, is down,
            so this alert holds its last known state until data returns.{{"{{"}} end }}
          runbook_url: {{ $runbookUrl }}#appstreamgrouplongexpired
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-overview/appstream-overview?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-region={{"{{"}} $labels.region }}&var-group={{"{{"}} $labels.group_id }}
{{- end }}
{{- $o = index $alerts "AppStreamGroupExpired" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      # Expired within the last {{$expiredPagingDays}} {{$expiredPagingDaysUnit}}: status EXPIRED, or a PrePaid group's
      # countdown at or below zero. Later it is AppStreamGroupLongExpired.
      - alert: AppStreamGroupExpired
        expr: |
          max without (instance, group_name, charge_type, status) (
            (
              (
                last_over_time(aliyun_appstream_group_expires_in_seconds{charge_type="PrePaid"}[10m]) <= 0
                or
                last_over_time(aliyun_appstream_group_status{status=~"EXPIRED"}[10m]) == 1
              )
              unless on (job, instance, account, group_id, region)
              (
                last_over_time(aliyun_appstream_group_expires_in_seconds{charge_type="PrePaid"}[10m]) <= -{{$expiredPagingDays}} * 86400
                or
                last_over_time(aliyun_appstream_group_status{status=~"EXPIRED_RECYCLING"}[10m]) == 1
                or
                (last_over_time(aliyun_appstream_group_resource_status{resource_status=~"RELEASED"}[10m]) == 1 and on (job, instance, account, group_id, region) last_over_time(aliyun_appstream_group_status{status=~"EXPIRED"}[10m]) == 1)
              )
            )
              and on (job, instance, account, region) region:aliyun_appstream_up:fresh
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamGroupExpired", alertstate="firing"})
              unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
              unless on (job) job:aliyun_appstream_up:healthy
              and on (job) group by (job) (up)
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamGroupExpired", alertstate="firing"})
              and on (job, account, group_id, region) ALERTS{alertname=~"AppStreamGroupLongExpired", alertstate="pending"}
          )
        for: {{ $o.for | default "5m" }}
        labels:
          severity: {{ $o.severity | default "critical" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }}{{"{{"}} else }}{{"{{"}} $labels.group_id }}{{"{{"}} end }} has
            expired.
          description: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }} ({{"{{"}} $labels.group_id }}){{"{{"}} else }}{{"{{"}}
            $labels.group_id }}{{"{{"}} end }} in region {{"{{"}} $labels.region }}{{"{{"}} with
            $labels.account }} of account {{"{{"}} . }}{{"{{"}} end }} expired{{"{{"}} with printf "time() -
            aliyun_appstream_group_expiry_timestamp_seconds{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }} {{"{{"}} . |
            first | value | humanizeDuration }} ago{{"{{"}} end }}{{"{{"}} with printf
            "aliyun_appstream_group_status{job=%q,account=%q,group_id=%q,region=%q} == 1"
            $labels.job $labels.account $labels.group_id $labels.region | query }} (status
            {{"{{"}} . | first | label "status" }}){{"{{"}} end }}: its users cannot start sessions.
            Renew it before its resources are released.{{"{{"}} if not (printf
            "group:aliyun_appstream_group_info:fresh{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query) }} No
            fresh data for this group: the exporter that reports it, or the API, is down,
            so this alert holds its last known state until data returns.{{"{{"}} end }}
          runbook_url: {{ $runbookUrl }}#appstreamgroupexpired
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-overview/appstream-overview?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-region={{"{{"}} $labels.region }}&var-group={{"{{"}} $labels.group_id }}
{{- end }}
{{- $o = index $alerts "AppStreamGroupExpiryImminent" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      - alert: AppStreamGroupExpiryImminent
        expr: |
          max without (instance, group_name, charge_type) (
            (
              last_over_time(aliyun_appstream_group_expires_in_seconds[10m]) > 0 < {{$expiryCriticalDays}} * 86400
              unless on (job, instance, account, group_id, region)
              last_over_time(aliyun_appstream_group_status{status=~"EXPIRED|EXPIRED_RECYCLING"}[10m]) == 1
            )
              and on (job, instance, account, region) region:aliyun_appstream_up:fresh
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamGroupExpiryImminent", alertstate="firing"})
              unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
              unless on (job) job:aliyun_appstream_up:healthy
              and on (job) group by (job) (up)
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamGroupExpiryImminent", alertstate="firing"})
              and on (job, account, group_id, region) ALERTS{alertname=~"AppStreamGroupExpired|AppStreamGroupLongExpired", alertstate="pending"}
          )
        for: {{ $o.for | default "5m" }}
        labels:
          severity: {{ $o.severity | default "critical" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }}{{"{{"}} else }}{{"{{"}} $labels.group_id }}{{"{{"}} end }} expires
            within {{$expiryCriticalDays}} {{$expiryCriticalDaysUnit}}.
          description: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }} ({{"{{"}} $labels.group_id }}){{"{{"}} else }}{{"{{"}}
            $labels.group_id }}{{"{{"}} end }} in region {{"{{"}} $labels.region }}{{"{{"}} with
            $labels.account }} of account {{"{{"}} . }}{{"{{"}} end }} {{"{{"}} with printf
            "aliyun_appstream_group_expiry_timestamp_seconds{job=%q,account=%q,group_id=%q,region=%q}
            - time() > 0" $labels.job $labels.account $labels.group_id $labels.region |
            query }}expires in {{"{{"}} . | first | value | humanizeDuration }}{{"{{"}} else }}{{"{{"}} with
            printf
            "aliyun_appstream_group_expiry_timestamp_seconds{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}reached
            its expiry time{{"{{"}} else }}expires soon{{"{{"}} end }}{{"{{"}} end }}{{"{{"}} with printf
            "aliyun_appstream_group_expiry_timestamp_seconds{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }} ({{"{{"}} . |
            first | value | humanizeTimestamp }}){{"{{"}} end }}. Renew it now, or its users
            lose access.{{"{{"}} if not (printf
            "group:aliyun_appstream_group_info:fresh{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query) }} No
            fresh data for this group: the exporter that reports it, or the API, is down,
            so this alert holds its last known state until data returns.{{"{{"}} end }}
          runbook_url: {{ $runbookUrl }}#appstreamgroupexpiryimminent
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-overview/appstream-overview?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-region={{"{{"}} $labels.region }}&var-group={{"{{"}} $labels.group_id }}
{{- end }}
{{- $o = index $alerts "AppStreamGroupExpiringSoon" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      # ResourceStatus EXPIRED_IN_7_DAYS counts too, unless the countdown
      # already says less than a day.
      - alert: AppStreamGroupExpiringSoon
        expr: |
          max without (instance, group_name, charge_type, resource_status) (
            (
              (
                last_over_time(aliyun_appstream_group_expires_in_seconds[10m]) >= {{$expiryCriticalDays}} * 86400 < {{$expiryWarningDays}} * 86400
                or
                (last_over_time(aliyun_appstream_group_resource_status{resource_status=~"EXPIRED_IN_7_DAYS"}[10m]) == 1 unless on (job, instance, account, group_id, region) last_over_time(aliyun_appstream_group_expires_in_seconds[10m]) < {{$expiryCriticalDays}} * 86400)
              )
              unless on (job, instance, account, group_id, region)
              last_over_time(aliyun_appstream_group_status{status=~"EXPIRED|EXPIRED_RECYCLING"}[10m]) == 1
            )
              and on (job, instance, account, region) region:aliyun_appstream_up:fresh
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamGroupExpiringSoon", alertstate="firing"})
              unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
              unless on (job) job:aliyun_appstream_up:healthy
              and on (job) group by (job) (up)
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamGroupExpiringSoon", alertstate="firing"})
              and on (job, account, group_id, region) ALERTS{alertname=~"AppStreamGroupExpiryImminent|AppStreamGroupExpired|AppStreamGroupLongExpired", alertstate="pending"}
          )
        for: {{ $o.for | default "10m" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }}{{"{{"}} else }}{{"{{"}} $labels.group_id }}{{"{{"}} end }} expires
            within {{$expiryWarningDays}} {{$expiryWarningDaysUnit}}.
          description: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }} ({{"{{"}} $labels.group_id }}){{"{{"}} else }}{{"{{"}}
            $labels.group_id }}{{"{{"}} end }} in region {{"{{"}} $labels.region }}{{"{{"}} with
            $labels.account }} of account {{"{{"}} . }}{{"{{"}} end }} {{"{{"}} with printf
            "aliyun_appstream_group_expiry_timestamp_seconds{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} with
            printf
            "aliyun_appstream_group_expiry_timestamp_seconds{job=%q,account=%q,group_id=%q,region=%q}
            - time() > 0" $labels.job $labels.account $labels.group_id $labels.region |
            query }}expires in {{"{{"}} . | first | value | humanizeDuration }}{{"{{"}} else }}{{"{{"}} with
            printf
            "aliyun_appstream_group_expiry_timestamp_seconds{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}reached
            its expiry time{{"{{"}} else }}expires soon{{"{{"}} end }}{{"{{"}} end }}{{"{{"}} with printf
            "aliyun_appstream_group_expiry_timestamp_seconds{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }} ({{"{{"}} . |
            first | value | humanizeTimestamp }}){{"{{"}} end }}{{"{{"}} else }}{{"{{"}} with printf
            "aliyun_appstream_group_resource_status{job=%q,account=%q,group_id=%q,region=%q,resource_status=\"EXPIRED_IN_7_DAYS\"}
            == 1" $labels.job $labels.account $labels.group_id $labels.region | query
            }}has ResourceStatus EXPIRED_IN_7_DAYS; the API gives no expiry time{{"{{"}} else
            }}expires within {{$expiryWarningDays}} {{$expiryWarningDaysUnit}}{{"{{"}} end }}{{"{{"}} end }}. Renew it, or plan its users'
            move.{{"{{"}} if not (printf
            "group:aliyun_appstream_group_info:fresh{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query) }} No
            fresh data for this group: the exporter that reports it, or the API, is down,
            so this alert holds its last known state until data returns.{{"{{"}} end }}
          runbook_url: {{ $runbookUrl }}#appstreamgroupexpiringsoon
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-overview/appstream-overview?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-region={{"{{"}} $labels.region }}&var-group={{"{{"}} $labels.group_id }}
{{- end }}
{{- $o = index $alerts "AppStreamGroupExpiryApproaching" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      - alert: AppStreamGroupExpiryApproaching
        expr: |
          max without (instance, group_name, charge_type) (
            (
              last_over_time(aliyun_appstream_group_expires_in_seconds[10m]) >= {{$expiryWarningDays}} * 86400 < {{$expiryInfoDays}} * 86400
              unless on (job, instance, account, group_id, region)
              (
                last_over_time(aliyun_appstream_group_resource_status{resource_status=~"EXPIRED_IN_7_DAYS"}[10m]) == 1
                or
                last_over_time(aliyun_appstream_group_status{status=~"EXPIRED|EXPIRED_RECYCLING"}[10m]) == 1
              )
            )
              and on (job, instance, account, region) region:aliyun_appstream_up:fresh
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamGroupExpiryApproaching", alertstate="firing"})
              unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
              unless on (job) job:aliyun_appstream_up:healthy
              and on (job) group by (job) (up)
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamGroupExpiryApproaching", alertstate="firing"})
              and on (job, account, group_id, region) ALERTS{alertname=~"AppStreamGroupExpiringSoon|AppStreamGroupExpiryImminent|AppStreamGroupExpired|AppStreamGroupLongExpired", alertstate="pending"}
          )
        for: {{ $o.for | default "30m" }}
        labels:
          severity: {{ $o.severity | default "info" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }}{{"{{"}} else }}{{"{{"}} $labels.group_id }}{{"{{"}} end }} expires
            within {{$expiryInfoDays}} {{$expiryInfoDaysUnit}}.
          description: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }} ({{"{{"}} $labels.group_id }}){{"{{"}} else }}{{"{{"}}
            $labels.group_id }}{{"{{"}} end }} in region {{"{{"}} $labels.region }}{{"{{"}} with
            $labels.account }} of account {{"{{"}} . }}{{"{{"}} end }} {{"{{"}} with printf
            "aliyun_appstream_group_expiry_timestamp_seconds{job=%q,account=%q,group_id=%q,region=%q}
            - time() > 0" $labels.job $labels.account $labels.group_id $labels.region |
            query }}expires in {{"{{"}} . | first | value | humanizeDuration }}{{"{{"}} else }}{{"{{"}} with
            printf
            "aliyun_appstream_group_expiry_timestamp_seconds{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}reached
            its expiry time{{"{{"}} else }}expires soon{{"{{"}} end }}{{"{{"}} end }}{{"{{"}} with printf
            "aliyun_appstream_group_expiry_timestamp_seconds{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }} ({{"{{"}} . |
            first | value | humanizeTimestamp }}){{"{{"}} end }}.{{"{{"}} if not (printf
            "group:aliyun_appstream_group_info:fresh{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query) }} No
            fresh data for this group: the exporter that reports it, or the API, is down,
            so this alert holds its last known state until data returns.{{"{{"}} end }}
          runbook_url: {{ $runbookUrl }}#appstreamgroupexpiryapproaching
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-overview/appstream-overview?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-region={{"{{"}} $labels.region }}&var-group={{"{{"}} $labels.group_id }}
{{- end }}
{{- $o = index $alerts "AppStreamGroupFailed" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      - alert: AppStreamGroupFailed
        expr: |
          max without (instance, group_name, charge_type) (
            (
              last_over_time(aliyun_appstream_group_status{status=~"FAILED|MAINTAIN_FAILED"}[10m]) == 1
            )
              and on (job, instance, account, region) region:aliyun_appstream_up:fresh
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamGroupFailed", alertstate="firing"})
              unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
              unless on (job) job:aliyun_appstream_up:healthy
              and on (job) group by (job) (up)
          )
        for: {{ $o.for | default "5m" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }}{{"{{"}} else }}{{"{{"}} $labels.group_id }}{{"{{"}} end }} failed
            to {{"{{"}} if eq $labels.status "FAILED" }}publish{{"{{"}} else }}update{{"{{"}} end }}.
          description: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }} ({{"{{"}} $labels.group_id }}){{"{{"}} else }}{{"{{"}}
            $labels.group_id }}{{"{{"}} end }} in region {{"{{"}} $labels.region }}{{"{{"}} with
            $labels.account }} of account {{"{{"}} . }}{{"{{"}} end }} has status {{"{{"}} $labels.status
            }}.{{"{{"}} if not (printf
            "group:aliyun_appstream_group_info:fresh{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query) }} No
            fresh data for this group: the exporter that reports it, or the API, is down,
            so this alert holds its last known state until data returns.{{"{{"}} end }}
          runbook_url: {{ $runbookUrl }}#appstreamgroupfailed
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-overview/appstream-overview?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-region={{"{{"}} $labels.region }}&var-group={{"{{"}} $labels.group_id }}
{{- end }}
{{- $o = index $alerts "AppStreamGroupStuck" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      - alert: AppStreamGroupStuck
        expr: |
          max without (instance, group_name, charge_type) (
            (
              last_over_time(aliyun_appstream_group_status{status=~"DEPLOYING|MAINTAINING"}[10m]) == 1
            )
              and on (job, instance, account, region) region:aliyun_appstream_up:fresh
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamGroupStuck", alertstate="firing"})
              unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
              unless on (job) job:aliyun_appstream_up:healthy
              and on (job) group by (job) (up)
          )
        for: {{ $o.for | default "1h" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }}{{"{{"}} else }}{{"{{"}} $labels.group_id }}{{"{{"}} end }} has
            been {{"{{"}} $labels.status }} for over an hour.
          description: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }} ({{"{{"}} $labels.group_id }}){{"{{"}} else }}{{"{{"}}
            $labels.group_id }}{{"{{"}} end }} in region {{"{{"}} $labels.region }}{{"{{"}} with
            $labels.account }} of account {{"{{"}} . }}{{"{{"}} end }} has had status {{"{{"}}
            $labels.status }} for more than one hour.{{"{{"}} if not (printf
            "group:aliyun_appstream_group_info:fresh{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query) }} No
            fresh data for this group: the exporter that reports it, or the API, is down,
            so this alert holds its last known state until data returns.{{"{{"}} end }}
          runbook_url: {{ $runbookUrl }}#appstreamgroupstuck
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-overview/appstream-overview?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-region={{"{{"}} $labels.region }}&var-group={{"{{"}} $labels.group_id }}
{{- end }}
{{- $o = index $alerts "AppStreamGroupUnavailable" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      - alert: AppStreamGroupUnavailable
        expr: |
          max without (instance, group_name, charge_type) (
            (
              last_over_time(aliyun_appstream_group_resource_status{resource_status=~"UNAVAILABLE"}[10m]) == 1
            )
              and on (job, instance, account, region) region:aliyun_appstream_up:fresh
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamGroupUnavailable", alertstate="firing"})
              unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
              unless on (job) job:aliyun_appstream_up:healthy
              and on (job) group by (job) (up)
          )
        for: {{ $o.for | default "5m" }}
        labels:
          severity: {{ $o.severity | default "critical" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }}{{"{{"}} else }}{{"{{"}} $labels.group_id }}{{"{{"}} end }} is
            unavailable.
          description: >-
            The resources of delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }} ({{"{{"}} $labels.group_id }}){{"{{"}} else }}{{"{{"}}
            $labels.group_id }}{{"{{"}} end }} in region {{"{{"}} $labels.region }}{{"{{"}} with
            $labels.account }} of account {{"{{"}} . }}{{"{{"}} end }}{{"{{"}} with printf
            "aliyun_appstream_group_status{job=%q,account=%q,group_id=%q,region=%q} == 1"
            $labels.job $labels.account $labels.group_id $labels.region | query }} (status
            {{"{{"}} . | first | label "status" }}){{"{{"}} end }} have ResourceStatus UNAVAILABLE:
            its users cannot start sessions.{{"{{"}} if not (printf
            "group:aliyun_appstream_group_info:fresh{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query) }} No
            fresh data for this group: the exporter that reports it, or the API, is down,
            so this alert holds its last known state until data returns.{{"{{"}} end }}
          runbook_url: {{ $runbookUrl }}#appstreamgroupunavailable
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-overview/appstream-overview?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-region={{"{{"}} $labels.region }}&var-group={{"{{"}} $labels.group_id }}
{{- end }}
{{- $o = index $alerts "AppStreamGroupSkipsUserAuth" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      # Exempt kiosks with skip_user_auth_exempt_group_ids or skip_user_auth_matchers.
      - alert: AppStreamGroupSkipsUserAuth
        expr: |
          max without (instance, group_name, charge_type) (
            (
              last_over_time(aliyun_appstream_group_skip_user_auth_check[10m]) == 1
            )
              and on (job, instance, account, region) region:aliyun_appstream_up:fresh
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamGroupSkipsUserAuth", alertstate="firing"})
              unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
              unless on (job) job:aliyun_appstream_up:healthy
              and on (job) group by (job) (up)
          )
        for: {{ $o.for | default "10m" }}
        labels:
          severity: {{ $o.severity | default "info" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }}{{"{{"}} else }}{{"{{"}} $labels.group_id }}{{"{{"}} end }} skips
            user authorization checks.
          description: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }} ({{"{{"}} $labels.group_id }}){{"{{"}} else }}{{"{{"}}
            $labels.group_id }}{{"{{"}} end }} in region {{"{{"}} $labels.region }}{{"{{"}} with
            $labels.account }} of account {{"{{"}} . }}{{"{{"}} end }} has SkipUserAuthCheck enabled:
            any user who can reach it may open its apps. If that is intended (a kiosk),
            exempt it in the alert parameters.{{"{{"}} if not (printf
            "group:aliyun_appstream_group_info:fresh{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query) }} No
            fresh data for this group: the exporter that reports it, or the API, is down,
            so this alert holds its last known state until data returns.{{"{{"}} end }}
          runbook_url: {{ $runbookUrl }}#appstreamgroupskipsuserauth
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-overview/appstream-overview?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-region={{"{{"}} $labels.region }}&var-group={{"{{"}} $labels.group_id }}
{{- end }}
{{- $o = index $alerts "AppStreamNodePoolSaturated" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      # Pools without elastic scaling (MaxScalingAmount 0) and at least {{$saturationMinNodes}}
      # nodes: pools that can scale are AppStreamNodePoolScalingExhausted's.
      - alert: AppStreamNodePoolSaturated
        expr: |
          max without (instance, group_name, charge_type) (
            (
              last_over_time(aliyun_appstream_node_pool_nodes_used[10m]) / (last_over_time(aliyun_appstream_node_pool_nodes[10m]) >= {{$saturationMinNodes}}) >= {{$saturationRatio}}
              and
              last_over_time(aliyun_appstream_node_pool_max_scaling_nodes[10m]) == 0
            )
              and on (job, instance, account, region) region:aliyun_appstream_up:fresh
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamNodePoolSaturated", alertstate="firing"})
              unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
              unless on (job) job:aliyun_appstream_up:healthy
              and on (job) group by (job) (up)
          )
        for: {{ $o.for | default "15m" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Resource pool {{"{{"}} $labels.node_pool_id }} of {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }}{{"{{"}} else }}{{"{{"}} $labels.group_id }}{{"{{"}} end }} is
            nearly full and cannot scale.
          description: >-
            Resource pool {{"{{"}} $labels.node_pool_id }} ({{"{{"}} $labels.node_instance_type }}) of
            delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }} ({{"{{"}} $labels.group_id }}){{"{{"}} else }}{{"{{"}}
            $labels.group_id }}{{"{{"}} end }} in region {{"{{"}} $labels.region }}{{"{{"}} with
            $labels.account }} of account {{"{{"}} . }}{{"{{"}} end }} has{{"{{"}} with printf
            "aliyun_appstream_node_pool_nodes_used{job=%q,account=%q,group_id=%q,region=%q,node_pool_id=%q}"
            $labels.job $labels.account $labels.group_id $labels.region
            $labels.node_pool_id | query }} {{"{{"}} . | first | value | humanize }} of{{"{{"}} end
            }}{{"{{"}} with printf
            "aliyun_appstream_node_pool_nodes{job=%q,account=%q,group_id=%q,region=%q,node_pool_id=%q}"
            $labels.job $labels.account $labels.group_id $labels.region
            $labels.node_pool_id | query }} {{"{{"}} . | first | value | humanize }}{{"{{"}} end }}
            nodes in use (threshold {{$saturationRatioPercent}} %) and no elastic scaling.{{"{{"}} if not (printf
            "group:aliyun_appstream_group_info:fresh{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query) }} No
            fresh data for this group: the exporter that reports it, or the API, is down,
            so this alert holds its last known state until data returns.{{"{{"}} end }}
          runbook_url: {{ $runbookUrl }}#appstreamnodepoolsaturated
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-overview/appstream-overview?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-region={{"{{"}} $labels.region }}&var-group={{"{{"}} $labels.group_id }}
{{- end }}
{{- $o = index $alerts "AppStreamNodePoolScalingExhausted" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      # At its scaling limit and busier than the scale-out threshold: the next
      # users will not get a session. Busy is the group's connected sessions over
      # what it can hold where app instances are collected, else the pool's nodes
      # in use. Every operand of a comparison has the same labels, or joins on the
      # group's identity, so no join can fail when the group's labels change.
      - alert: AppStreamNodePoolScalingExhausted
        expr: |
          max without (instance, group_name, charge_type) (
            (
              (
                (last_over_time(aliyun_appstream_node_pool_nodes_used[10m]) + last_over_time(aliyun_appstream_node_pool_scaling_nodes_used[10m]))
                  / ((last_over_time(aliyun_appstream_node_pool_nodes[10m]) + last_over_time(aliyun_appstream_node_pool_scaling_nodes[10m])) > 0)
                  > last_over_time(aliyun_appstream_node_pool_scaling_usage_threshold_ratio[10m])
                  unless on (job, instance, account, group_id, region)
                last_over_time(aliyun_appstream_group_sessions_connected[10m])
                or
                last_over_time(aliyun_appstream_node_pool_scaling_usage_threshold_ratio[10m])
                  < on (job, instance, account, group_id, region) group_left ()
                (
                  last_over_time(aliyun_appstream_group_sessions_connected[10m])
                    / (
                      (
                        sum without (node_pool_id, node_instance_type) ((last_over_time(aliyun_appstream_node_pool_nodes[10m]) + last_over_time(aliyun_appstream_node_pool_scaling_nodes[10m])) * last_over_time(aliyun_appstream_node_pool_node_session_capacity[10m]))
                        or
                        last_over_time(aliyun_appstream_group_max_amount[10m])
                      ) > 0
                    )
                )
              )
              and
              last_over_time(aliyun_appstream_node_pool_scaling_nodes[10m]) >= last_over_time(aliyun_appstream_node_pool_max_scaling_nodes[10m])
              and
              last_over_time(aliyun_appstream_node_pool_max_scaling_nodes[10m]) > 0
            )
              and on (job, instance, account, region) region:aliyun_appstream_up:fresh
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamNodePoolScalingExhausted", alertstate="firing"})
              unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
              unless on (job) job:aliyun_appstream_up:healthy
              and on (job) group by (job) (up)
          )
        for: {{ $o.for | default "15m" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Resource pool {{"{{"}} $labels.node_pool_id }} of {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }}{{"{{"}} else }}{{"{{"}} $labels.group_id }}{{"{{"}} end }} cannot
            scale out any further.
          description: >-
            Resource pool {{"{{"}} $labels.node_pool_id }} of delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }} ({{"{{"}} $labels.group_id }}){{"{{"}} else }}{{"{{"}}
            $labels.group_id }}{{"{{"}} end }} in region {{"{{"}} $labels.region }}{{"{{"}} with
            $labels.account }} of account {{"{{"}} . }}{{"{{"}} end }} runs all its scalable nodes{{"{{"}}
            with printf
            "aliyun_appstream_node_pool_max_scaling_nodes{job=%q,account=%q,group_id=%q,region=%q,node_pool_id=%q}"
            $labels.job $labels.account $labels.group_id $labels.region
            $labels.node_pool_id | query }} ({{"{{"}} . | first | value | humanize }}){{"{{"}} end }}
            and is above its scale-out threshold{{"{{"}} with printf
            "aliyun_appstream_node_pool_scaling_usage_threshold_ratio{job=%q,account=%q,group_id=%q,region=%q,node_pool_id=%q}"
            $labels.job $labels.account $labels.group_id $labels.region
            $labels.node_pool_id | query }} of {{"{{"}} . | first | value | humanizePercentage
            }}{{"{{"}} end }}{{"{{"}} with printf
            "aliyun_appstream_group_sessions_connected{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }} ({{"{{"}} . |
            first | value | humanize }} sessions connected){{"{{"}} end }}.{{"{{"}} if not (printf
            "group:aliyun_appstream_group_info:fresh{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query) }} No
            fresh data for this group: the exporter that reports it, or the API, is down,
            so this alert holds its last known state until data returns.{{"{{"}} end }}
          runbook_url: {{ $runbookUrl }}#appstreamnodepoolscalingexhausted
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-overview/appstream-overview?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-region={{"{{"}} $labels.region }}&var-group={{"{{"}} $labels.group_id }}
{{- end }}
{{- $o = index $alerts "AppStreamSessionCapacityLow" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      # Connected sessions at {{$sessionCapacityRatioPercent}} % or more of what the group can hold, from
      # the app instances (app_instances collected): the next users may not get a
      # session. Each operand carries the group's labels.
      - alert: AppStreamSessionCapacityLow
        expr: |
          max without (instance, group_name, charge_type) (
            (
              last_over_time(aliyun_appstream_group_sessions_connected[10m])
                / (
                  (
                    sum without (node_pool_id, node_instance_type) ((last_over_time(aliyun_appstream_node_pool_nodes[10m]) + last_over_time(aliyun_appstream_node_pool_scaling_nodes[10m])) * last_over_time(aliyun_appstream_node_pool_node_session_capacity[10m]))
                    or
                    last_over_time(aliyun_appstream_group_max_amount[10m])
                  ) > 0
                )
              >= {{$sessionCapacityRatio}}
            )
              and on (job, instance, account, region) region:aliyun_appstream_up:fresh
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamSessionCapacityLow", alertstate="firing"})
              unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
              unless on (job) job:aliyun_appstream_up:healthy
              and on (job) group by (job) (up)
          )
        for: {{ $o.for | default "15m" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }}{{"{{"}} else }}{{"{{"}} $labels.group_id }}{{"{{"}} end }} is
            nearly out of sessions.
          description: >-
            Delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }} ({{"{{"}} $labels.group_id }}){{"{{"}} else }}{{"{{"}}
            $labels.group_id }}{{"{{"}} end }} in region {{"{{"}} $labels.region }}{{"{{"}} with
            $labels.account }} of account {{"{{"}} . }}{{"{{"}} end }} has{{"{{"}} with printf
            "aliyun_appstream_group_sessions_connected{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }} {{"{{"}} . |
            first | value | humanize }}{{"{{"}} end }} sessions connected{{"{{"}} with printf
            "group:aliyun_appstream_sessions_connected:ratio{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}, {{"{{"}} . |
            first | value | humanizePercentage }} of what it can hold{{"{{"}} end }} (threshold
            {{$sessionCapacityRatioPercent}} %). Add nodes or raise its scaling limit before users are turned away.{{"{{"}} if
            not (printf
            "group:aliyun_appstream_group_info:fresh{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query) }} No
            fresh data for this group: the exporter that reports it, or the API, is down,
            so this alert holds its last known state until data returns.{{"{{"}} end }}
          runbook_url: {{ $runbookUrl }}#appstreamsessioncapacitylow
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-overview/appstream-overview?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-region={{"{{"}} $labels.region }}&var-group={{"{{"}} $labels.group_id }}
{{- end }}
{{- $o = index $alerts "AppStreamNodePoolScheduleTargetNotMet" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      # A scheduled-scaling window is active and the pool has fewer nodes than
      # its target.
      - alert: AppStreamNodePoolScheduleTargetNotMet
        expr: |
          max without (instance, group_name, charge_type) (
            (
              last_over_time(aliyun_appstream_node_pool_schedule_target_nodes[10m]) > (last_over_time(aliyun_appstream_node_pool_nodes[10m]) + last_over_time(aliyun_appstream_node_pool_scaling_nodes[10m]))
              and
              last_over_time(aliyun_appstream_node_pool_schedule_active[10m]) == 1
            )
              and on (job, instance, account, region) region:aliyun_appstream_up:fresh
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamNodePoolScheduleTargetNotMet", alertstate="firing"})
              unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
              unless on (job) job:aliyun_appstream_up:healthy
              and on (job) group by (job) (up)
          )
        for: {{ $o.for | default "15m" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Resource pool {{"{{"}} $labels.node_pool_id }} of {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }}{{"{{"}} else }}{{"{{"}} $labels.group_id }}{{"{{"}} end }} is
            below its scheduled target.
          description: >-
            Resource pool {{"{{"}} $labels.node_pool_id }} of delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }} ({{"{{"}} $labels.group_id }}){{"{{"}} else }}{{"{{"}}
            $labels.group_id }}{{"{{"}} end }} in region {{"{{"}} $labels.region }}{{"{{"}} with
            $labels.account }} of account {{"{{"}} . }}{{"{{"}} end }} has fewer nodes than the target
            of its active scheduled-scaling window{{"{{"}} with printf
            "aliyun_appstream_node_pool_schedule_target_nodes{job=%q,account=%q,group_id=%q,region=%q,node_pool_id=%q}"
            $labels.job $labels.account $labels.group_id $labels.region
            $labels.node_pool_id | query }} ({{"{{"}} . | first | value | humanize }}){{"{{"}} end
            }}{{"{{"}} with printf
            "aliyun_appstream_node_pool_nodes{job=%q,account=%q,group_id=%q,region=%q,node_pool_id=%q}"
            $labels.job $labels.account $labels.group_id $labels.region
            $labels.node_pool_id | query }}: it has {{"{{"}} . | first | value | humanize }}
            subscription{{"{{"}} end }}{{"{{"}} with printf
            "aliyun_appstream_node_pool_scaling_nodes{job=%q,account=%q,group_id=%q,region=%q,node_pool_id=%q}"
            $labels.job $labels.account $labels.group_id $labels.region
            $labels.node_pool_id | query }} and {{"{{"}} . | first | value | humanize }} scaled
            nodes{{"{{"}} end }}.{{"{{"}} if not (printf
            "group:aliyun_appstream_group_info:fresh{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query) }} No
            fresh data for this group: the exporter that reports it, or the API, is down,
            so this alert holds its last known state until data returns.{{"{{"}} end }}
          runbook_url: {{ $runbookUrl }}#appstreamnodepoolscheduletargetnotmet
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-overview/appstream-overview?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-region={{"{{"}} $labels.region }}&var-group={{"{{"}} $labels.group_id }}
{{- end }}
{{- $o = index $alerts "AppStreamScheduledTargetAboveMax" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      # A scheduled-scaling window, the next one or the one active now, targets
      # more nodes than the pool's MaxScalingAmount: caught when the schedule is
      # set, not on the morning the window falls short. One condition for both
      # windows, so the alert keeps firing, unsplit, when the next window starts.
      # Pools with MaxScalingAmount 0 are left out: the API asks for it only with
      # usage-based scaling, so on a scheduled pool 0 reads as unset, not as a
      # limit of no nodes (the demo's scheduled pools are such). The targets and
      # the maximum move only when someone edits the pool, and the window is
      # usually hours away, so 15 minutes lets an edit made in steps settle before
      # a ticket, as for the other pool alerts.
      - alert: AppStreamScheduledTargetAboveMax
        expr: |
          max without (instance, group_name, charge_type) (
            (
              (
                last_over_time(aliyun_appstream_node_pool_schedule_next_target_nodes[10m])
                  > last_over_time(aliyun_appstream_node_pool_max_scaling_nodes[10m])
                or
                last_over_time(aliyun_appstream_node_pool_schedule_target_nodes[10m])
                  > last_over_time(aliyun_appstream_node_pool_max_scaling_nodes[10m])
              )
              and
              last_over_time(aliyun_appstream_node_pool_max_scaling_nodes[10m]) > 0
            )
              and on (job, instance, account, region) region:aliyun_appstream_up:fresh
          )
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamScheduledTargetAboveMax", alertstate="firing"})
              unless on (job, account, group_id, region) group:aliyun_appstream_group_info:fresh
              unless on (job) job:aliyun_appstream_up:healthy
              and on (job) group by (job) (up)
          )
        for: {{ $o.for | default "15m" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Resource pool {{"{{"}} $labels.node_pool_id }} of {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }}{{"{{"}} else }}{{"{{"}} $labels.group_id }}{{"{{"}} end }} is
            scheduled above its scaling maximum.
          description: >-
            Resource pool {{"{{"}} $labels.node_pool_id }} of delivery group {{"{{"}} with printf
            "aliyun_appstream_group_info{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query }}{{"{{"}} . |
            first | label "group_name" }} ({{"{{"}} $labels.group_id }}){{"{{"}} else }}{{"{{"}}
            $labels.group_id }}{{"{{"}} end }} in region {{"{{"}} $labels.region }}{{"{{"}} with
            $labels.account }} of account {{"{{"}} . }}{{"{{"}} end }} has a scheduled-scaling target
            above its MaxScalingAmount{{"{{"}} with printf
            "aliyun_appstream_node_pool_max_scaling_nodes{job=%q,account=%q,group_id=%q,region=%q,node_pool_id=%q}"
            $labels.job $labels.account $labels.group_id $labels.region
            $labels.node_pool_id | query }} of {{"{{"}} . | first | value | humanize }}{{"{{"}} end
            }}.{{"{{"}} with printf
            "aliyun_appstream_node_pool_schedule_target_nodes{job=%q,account=%q,group_id=%q,region=%q,node_pool_id=%q}
            >
            aliyun_appstream_node_pool_max_scaling_nodes{job=%q,account=%q,group_id=%q,region=%q,node_pool_id=%q}"
            $labels.job $labels.account $labels.group_id $labels.region
            $labels.node_pool_id $labels.job $labels.account $labels.group_id
            $labels.region $labels.node_pool_id | query }} The window active now targets
            {{"{{"}} . | first | value | humanize }} nodes.{{"{{"}} end }}{{"{{"}} with printf
            "aliyun_appstream_node_pool_schedule_next_target_nodes{job=%q,account=%q,group_id=%q,region=%q,node_pool_id=%q}
            >
            aliyun_appstream_node_pool_max_scaling_nodes{job=%q,account=%q,group_id=%q,region=%q,node_pool_id=%q}"
            $labels.job $labels.account $labels.group_id $labels.region
            $labels.node_pool_id $labels.job $labels.account $labels.group_id
            $labels.region $labels.node_pool_id | query }} The next window targets {{"{{"}} . |
            first | value | humanize }} nodes{{"{{"}} with printf
            "aliyun_appstream_node_pool_schedule_next_start_timestamp_seconds{job=%q,account=%q,group_id=%q,region=%q,node_pool_id=%q}"
            $labels.job $labels.account $labels.group_id $labels.region
            $labels.node_pool_id | query }} and starts {{"{{"}} . | first | value |
            humanizeTimestamp }}{{"{{"}} end }}{{"{{"}} with printf
            "aliyun_appstream_node_pool_schedule_next_start_timestamp_seconds{job=%q,account=%q,group_id=%q,region=%q,node_pool_id=%q}
            - time() > 0" $labels.job $labels.account $labels.group_id $labels.region
            $labels.node_pool_id | query }} (in {{"{{"}} . | first | value | humanizeDuration
            }}){{"{{"}} end }}.{{"{{"}} end }} Raise MaxScalingAmount or lower the target.{{"{{"}} if not
            (printf
            "group:aliyun_appstream_group_info:fresh{job=%q,account=%q,group_id=%q,region=%q}"
            $labels.job $labels.account $labels.group_id $labels.region | query) }} No
            fresh data for this group: the exporter that reports it, or the API, is down,
            so this alert holds its last known state until data returns.{{"{{"}} end }}
          runbook_url: {{ $runbookUrl }}#appstreamscheduledtargetabovemax
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-overview/appstream-overview?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-region={{"{{"}} $labels.region }}&var-group={{"{{"}} $labels.group_id }}
{{- end }}
{{- $o = index $alerts "AppStreamExporterDemoMode" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      # --demo serves made-up groups; this alert says so, and inhibits the
      # alerts they raise (alerts/alertmanager.yml). It holds while its job's
      # targets are all down and while any group or pool alert of its job still
      # fires, so killing or removing a demo pages nobody. It is evaluated after the
      # group and pool alerts, in their group, to see their state of this round.
      - alert: AppStreamExporterDemoMode
        expr: |
          aliyun_appstream_demo == 1
          or
          (
            max without (alertname, alertstate, severity) (ALERTS{alertname="AppStreamExporterDemoMode", alertstate="firing"})
              unless on (job) (up == 1)
              and on (job)
            (
              max by (job) (up) == 0
              or
              group by (job) (ALERTS{alertname=~"AppStream(Group|NodePool).+|AppStreamScheduledTargetAboveMax|AppStreamSessionCapacityLow", alertstate="firing"})
            )
          )
{{- with $o.for }}
        for: {{ . }}{{- end }}
        labels:
          severity: {{ $o.severity | default "info" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            appstream_exporter {{"{{"}} $labels.instance }} runs with --demo; its delivery
            groups are simulated.
          description: >-
            Every delivery group {{"{{"}} $labels.instance }} exports is made up by the built-in
            simulator, and the alerts they raise are not real. Run it without --demo, or
            stop scraping it.
          runbook_url: {{ $runbookUrl }}#appstreamexporterdemomode
{{- end }}

  - name: appstream.exporter
    rules:
{{- $o = index $alerts "AppStreamExporterTargetDown" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}
      # Prometheus cannot scrape the exporter. Group alerts hold meanwhile.
      - alert: AppStreamExporterTargetDown
        expr: |
          up{{"{"}}{{$targetSelector}}} == 0
        for: {{ $o.for | default "5m" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Prometheus cannot scrape appstream_exporter {{"{{"}} $labels.instance }}.
          description: >-
            The scrape target {{"{{"}} $labels.instance }} of job {{"{{"}} $labels.job }} has been
            down for 5 minutes: no delivery group is being watched there. Firing group
            alerts hold their state until it returns.
          runbook_url: {{ $runbookUrl }}#appstreamexportertargetdown
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-exporter/appstream-exporter?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-instance={{"{{"}} $labels.instance }}
{{- end }}
{{- $o = index $alerts "AppStreamExporterAbsent" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      # No target of the exporter's job at all (service discovery lost it, or it was never set up).
      - alert: AppStreamExporterAbsent
        expr: |
          absent(up{{"{"}}{{$targetSelector}}})
        for: {{ $o.for | default "15m" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            Prometheus has no appstream_exporter target.
          description: >-
            No scrape target matches up{{"{"}}{{$targetSelector}}} for 15 minutes: no delivery group
            is being watched. Check the scrape configuration, or set the alerts'
            target_selector to your job.
          runbook_url: {{ $runbookUrl }}#appstreamexporterabsent
{{- end }}
{{- $o = index $alerts "AppStreamExporterDown" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      - alert: AppStreamExporterDown
        expr: |
          last_over_time(aliyun_appstream_up[5m]) == 0
        for: {{ $o.for | default "10m" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            appstream_exporter cannot read delivery groups{{"{{"}} with $labels.biz_region }} in
            {{"{{"}} . }}{{"{{"}} end }}.
          description: >-
            The newest refreshes of {{"{{"}} $labels.instance }}{{"{{"}} with $labels.biz_region }}
            for biz_region {{"{{"}} . }}{{"{{"}} end }} have failed for 10 minutes: the API answers
            with errors or not at all. Group alerts there hold their state; no new one
            starts.
          runbook_url: {{ $runbookUrl }}#appstreamexporterdown
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-exporter/appstream-exporter?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-instance={{"{{"}} $labels.instance }}
{{- end }}
{{- $o = index $alerts "AppStreamAppInstancesDown" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      # Session counts (app_instances) cannot be read; the group data is
      # not affected. Session alerts there hold their state; no new one starts.
      - alert: AppStreamAppInstancesDown
        expr: |
          last_over_time(aliyun_appstream_app_instances_up[5m]) == 0
        for: {{ $o.for | default "15m" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            appstream_exporter cannot list app instances{{"{{"}} with $labels.biz_region }} in
            {{"{{"}} . }}{{"{{"}} end }}.
          description: >-
            The newest app instance refreshes (ListAppInstances) of {{"{{"}} $labels.instance
            }}{{"{{"}} with $labels.biz_region }} for biz_region {{"{{"}} . }}{{"{{"}} end }} have failed
            for 15 minutes. Its log says why: a missing appstreaming:ListAppInstances
            permission, throttling, a request budget too small for refresh_timeout, or no
            group data to list them for.
          runbook_url: {{ $runbookUrl }}#appstreamappinstancesdown
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-exporter/appstream-exporter?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-instance={{"{{"}} $labels.instance }}
{{- end }}
{{- $o = index $alerts "AppStreamDataStale" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      # Older than two refresh cycles plus a grace: derived from the exporter's
      # own cache_ttl, so a long cache_ttl is not stale by itself. Each account has
      # its own cache_ttl (no account label without accounts).
      - alert: AppStreamDataStale
        expr: |
          time() - last_over_time(aliyun_appstream_last_refresh_success_timestamp_seconds[10m])
            > on (job, instance, account) group_left ()
          (2 * last_over_time(aliyun_appstream_cache_ttl_seconds[10m]) + 900)
        for: {{ $o.for | default "5m" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            AppStream data{{"{{"}} with $labels.biz_region }} for {{"{{"}} . }}{{"{{"}} end }} is stale.
          description: >-
            The last successful refresh of {{"{{"}} $labels.instance }}{{"{{"}} with
            $labels.biz_region }} for biz_region {{"{{"}} . }}{{"{{"}} end }} was {{"{{"}} $value |
            humanizeDuration }} ago: more than two refresh cycles (cache_ttl) and a grace
            of 15m.
          runbook_url: {{ $runbookUrl }}#appstreamdatastale
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-exporter/appstream-exporter?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-instance={{"{{"}} $labels.instance }}
{{- end }}
{{- $o = index $alerts "AppStreamApiThrottled" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      # Throttling that costs something: at least {{$throttledRatioPercent}} % of the requests of
      # the last 15 minutes, or any while refreshes failed. Retried throttles that
      # still succeed are only counted.
      - alert: AppStreamApiThrottled
        expr: |
          (
            sum by (job, instance, account) (increase(aliyun_appstream_api_requests_total{code=~"Throttling.*|HTTP429"}[15m]))
              / sum by (job, instance, account) (increase(aliyun_appstream_api_requests_total[15m]))
          ) >= {{$throttledRatio}}
          or
          (
            sum by (job, instance, account) (increase(aliyun_appstream_api_requests_total{code=~"Throttling.*|HTTP429"}[15m]))
              / sum by (job, instance, account) (increase(aliyun_appstream_api_requests_total[15m]))
          ) > 0
            and on (job, instance, account)
          sum by (job, instance, account) (increase(aliyun_appstream_refreshes_total{result="failure"}[15m])) > 0
        for: {{ $o.for | default "10m" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            The appstream-center API is throttling appstream_exporter {{"{{"}} $labels.instance
            }}.
          description: >-
            {{"{{"}} $value | humanizePercentage }} of the API requests of {{"{{"}} $labels.instance
            }} were throttled in the last 15 minutes{{"{{"}} with printf
            "sum(increase(aliyun_appstream_refreshes_total{job=%q,instance=%q,result=\"failure\"}[15m]))
            > 0" $labels.job $labels.instance | query }}, and {{"{{"}} . | first | value |
            humanize }} refreshes failed{{"{{"}} end }}.
          runbook_url: {{ $runbookUrl }}#appstreamapithrottled
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-exporter/appstream-exporter?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-instance={{"{{"}} $labels.instance }}
{{- end }}
{{- $o = index $alerts "AppStreamConfigReloadFailed" | default dict }}{{- if ternary $o.enabled true (hasKey $o "enabled") }}

      - alert: AppStreamConfigReloadFailed
        expr: |
          aliyun_appstream_config_last_reload_successful == 0
        for: {{ $o.for | default "10m" }}
        labels:
          severity: {{ $o.severity | default "warning" }}
{{- range $name, $value := $o.labels }}
          {{ $name }}: {{ $value | toString | quote }}
{{- end }}
        annotations:
          summary: >-
            appstream_exporter {{"{{"}} $labels.instance }} failed to reload its configuration.
          description: >-
            The last configuration reload of {{"{{"}} $labels.instance }} failed; it keeps
            running with the previous configuration. Its log says why; fix the file and
            reload again.
          runbook_url: {{ $runbookUrl }}#appstreamconfigreloadfailed
          dashboard_url: >-
            {{$grafanaUrl}}/d/appstream-exporter/appstream-exporter?var-job={{"{{"}}
            $labels.job }}{{"{{"}} with $labels.account }}&var-account={{"{{"}} . }}{{"{{"}} end
            }}&var-instance={{"{{"}} $labels.instance }}
{{- end }}
{{- end }}
