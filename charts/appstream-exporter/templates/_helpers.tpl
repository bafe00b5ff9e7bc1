{{- define "appstream-exporter.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "appstream-exporter.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "appstream-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "appstream-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "appstream-exporter.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The configuration file: values.config plus the credentials block. */}}
{{- define "appstream-exporter.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- if hasKey $config "credentials" -}}
{{- fail "config.credentials: set credentials.existingSecret (or credentials.rrsa) instead; secrets do not belong in a ConfigMap" -}}
{{- end -}}
{{- with .Values.credentials -}}
{{- if and .existingSecret .rrsa.enabled -}}
{{- fail "credentials: set existingSecret or rrsa.enabled, not both" -}}
{{- end -}}
{{- if .existingSecret -}}
{{- $creds := dict "access_key_secret_file" (printf "/etc/appstream_exporter/credentials/%s" .accessKeySecretKey) -}}
{{- if .securityTokenKey -}}
{{- $_ := set $creds "security_token_file" (printf "/etc/appstream_exporter/credentials/%s" .securityTokenKey) -}}
{{- end -}}
{{- if .roleArn -}}
{{- $_ := set $creds "role_arn" .roleArn -}}
{{- end -}}
{{- $_ := set $config "credentials" $creds -}}
{{- end -}}
{{- end -}}
{{- with .Values.accounts -}}
{{- if $.Values.credentials.existingSecret -}}
{{- fail "credentials.existingSecret: with accounts, each account names its own existingSecret" -}}
{{- end -}}
{{- range $k := list "endpoint" "region_id" "biz_regions" "filters" -}}
{{- $_ := unset $config $k -}}
{{- end -}}
{{- $accounts := list -}}
{{- range $i, $a := . -}}
{{- if not $a.name -}}
{{- fail (printf "accounts[%d].name is required" $i) -}}
{{- end -}}
{{- if eq (not $a.existingSecret) (not $a.rrsa) -}}
{{- fail (printf "accounts[%d] (%s): set existingSecret or rrsa: true, one of them" $i $a.name) -}}
{{- end -}}
{{- if and $a.rrsa (not $.Values.credentials.rrsa.enabled) -}}
{{- fail (printf "accounts[%d] (%s): rrsa needs credentials.rrsa.enabled with its roleArn and oidcProviderArn" $i $a.name) -}}
{{- end -}}
{{- $entry := deepCopy ($a.config | default dict) -}}
{{- $_ := set $entry "name" $a.name -}}
{{- if $a.existingSecret -}}
{{- $dir := printf "/etc/appstream_exporter/accounts/%d" $i -}}
{{- $creds := dict "access_key_id_file" (printf "%s/%s" $dir $.Values.credentials.accessKeyIdKey) "access_key_secret_file" (printf "%s/%s" $dir $.Values.credentials.accessKeySecretKey) -}}
{{- if $.Values.credentials.securityTokenKey -}}
{{- $_ := set $creds "security_token_file" (printf "%s/%s" $dir $.Values.credentials.securityTokenKey) -}}
{{- end -}}
{{- if $a.roleArn -}}
{{- $_ := set $creds "role_arn" $a.roleArn -}}
{{- end -}}
{{- $_ := set $entry "credentials" $creds -}}
{{- end -}}
{{- $accounts = append $accounts $entry -}}
{{- end -}}
{{- $_ := set $config "accounts" $accounts -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* Alertmanager matchers (name op "value") as AlertmanagerConfig v1alpha1
matchers. Values with a backslash are refused: their unescaping is not done
here. */}}
{{- define "appstream-exporter.matchers" -}}
{{- $re := `^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"\\]*)"\s*$` -}}
{{- $out := list -}}
{{- range . -}}
{{- if not (regexMatch $re .) -}}
{{- fail (printf "alertmanagerConfig: matcher %q of alerts/alertmanager.yml: write it as name=\"value\" (or =~, !=, !~), without backslashes" .) -}}
{{- end -}}
{{- $out = append $out (dict "name" (regexReplaceAll $re . "${1}") "matchType" (regexReplaceAll $re . "${2}") "value" (regexReplaceAll $re . "${3}")) -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
Refuses prometheusRule values the rules cannot use, naming the key, as the
generator refuses a bad parameters file: a typo must not keep a default.
*/}}
{{- define "appstream-exporter.checkRuleValues" -}}
{{- $r := .Values.prometheusRule }}
{{- $t := $r.thresholds }}
{{- $thresholds := list "expiryInfoDays" "expiryWarningDays" "expiryCriticalDays" "expiredPagingDays" "saturationRatio" "saturationMinNodes" "sessionCapacityRatio" "throttledRatio" }}
{{- range $key, $value := $t }}
{{- if not (has $key $thresholds) }}
{{- fail (printf "prometheusRule.thresholds.%s: no such threshold; the thresholds are %s" $key (join ", " $thresholds)) }}
{{- end }}
{{- /* --set gives a decimal fraction as a string */}}
{{- if not (regexMatch "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$" (toString $value)) }}
{{- fail (printf "prometheusRule.thresholds.%s: %v is not a number" $key $value) }}
{{- end }}
{{- end }}
{{- if not (and (gt (float64 $t.expiryCriticalDays) 0.0) (lt (float64 $t.expiryCriticalDays) (float64 $t.expiryWarningDays)) (lt (float64 $t.expiryWarningDays) (float64 $t.expiryInfoDays))) }}
{{- fail (printf "prometheusRule.thresholds: need 0 < expiryCriticalDays < expiryWarningDays < expiryInfoDays (got %v, %v, %v)" $t.expiryCriticalDays $t.expiryWarningDays $t.expiryInfoDays) }}
{{- end }}
{{- if le (float64 $t.expiredPagingDays) 0.0 }}
{{- fail "prometheusRule.thresholds.expiredPagingDays: must be positive" }}
{{- end }}
{{- range $key := list "saturationRatio" "sessionCapacityRatio" "throttledRatio" }}
{{- $v := float64 (index $t $key) }}
{{- if or (le $v 0.0) (gt $v 1.0) }}
{{- fail (printf "prometheusRule.thresholds.%s: must be in (0, 1], e.g. 0.9 (got %v)" $key (index $t $key)) }}
{{- end }}
{{- end }}
{{- if or (lt (float64 $t.saturationMinNodes) 0.0) (ne (float64 $t.saturationMinNodes) (float64 (int64 $t.saturationMinNodes))) }}
{{- fail (printf "prometheusRule.thresholds.saturationMinNodes: must be a whole number of nodes (got %v)" $t.saturationMinNodes) }}
{{- end }}
{{- range $key := list "runbookUrl" "grafanaUrl" "targetSelector" }}
{{- if regexMatch "\\s" (toString (index $r $key)) }}
{{- fail (printf "prometheusRule.%s: %q has a space; URLs and the selector must not" $key (index $r $key)) }}
{{- end }}
{{- end }}
{{- $names := include "appstream-exporter.alertNames" . | fromJsonArray }}
{{- range $name, $o := $r.alerts }}
{{- if not (has $name $names) }}
{{- fail (printf "prometheusRule.alerts.%s: no such alert; the alerts are %s" $name (join ", " $names)) }}
{{- end }}
{{- range $key, $_ := $o }}
{{- if not (has $key (list "enabled" "for" "severity" "labels")) }}
{{- fail (printf "prometheusRule.alerts.%s.%s: no such setting; an alert has enabled, for, severity and labels" $name $key) }}
{{- end }}
{{- end }}
{{- if and (hasKey $o "enabled") (not (kindIs "bool" $o.enabled)) }}
{{- fail (printf "prometheusRule.alerts.%s.enabled: must be true or false" $name) }}
{{- end }}
{{- with $o.for }}
{{- if not (regexMatch "^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$" (toString .)) }}
{{- fail (printf "prometheusRule.alerts.%s.for: %q is not a duration such as 15m" $name (toString .)) }}
{{- end }}
{{- end }}
{{- with $o.severity }}
{{- if not (regexMatch "^[a-zA-Z0-9_-]+$" (toString .)) }}
{{- fail (printf "prometheusRule.alerts.%s.severity: %q is not a label value of letters, digits, _ and - such as critical" $name (toString .)) }}
{{- end }}
{{- end }}
{{- range $label, $_ := $o.labels }}
{{- if or (not (regexMatch "^[a-zA-Z_][a-zA-Z0-9_]*$" $label)) (eq $label "severity") (eq $label "alertname") }}
{{- fail (printf "prometheusRule.alerts.%s.labels: %q cannot be an extra label (severity has its own key; alertname is the alert's)" $name $label) }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
