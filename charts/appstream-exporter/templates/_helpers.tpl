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
