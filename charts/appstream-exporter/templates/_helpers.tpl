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
