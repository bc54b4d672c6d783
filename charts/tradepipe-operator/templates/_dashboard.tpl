{{/* The dashboard's names and labels (dashboard-*.yaml). */}}
{{- define "tradepipe-operator.dashboard.name" -}}
{{- printf "%s-dashboard" (include "tradepipe-operator.fullname" . | trunc 52 | trimSuffix "-") }}
{{- end }}

{{- define "tradepipe-operator.dashboard.pipeline" -}}
{{- default .Values.pipeline.name .Values.dashboard.pipeline }}
{{- end }}

{{- define "tradepipe-operator.dashboard.namespace" -}}
{{- default .Release.Namespace .Values.dashboard.namespace }}
{{- end }}

{{- define "tradepipe-operator.dashboard.tokensSecret" -}}
{{- default (printf "%s-tokens" (include "tradepipe-operator.dashboard.name" .)) .Values.dashboard.auth.existingSecret }}
{{- end }}

{{/* True when the chart also installs the dashboard's pipeline: its spec is mounted. */}}
{{- define "tradepipe-operator.dashboard.hasSpec" -}}
{{- if and .Values.pipeline.create (eq (include "tradepipe-operator.dashboard.pipeline" .) .Values.pipeline.name) }}true{{- end }}
{{- end }}

{{- define "tradepipe-operator.dashboard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tradepipe-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: dashboard
{{- end }}

{{- define "tradepipe-operator.dashboard.labels" -}}
helm.sh/chart: {{ include "tradepipe-operator.chart" . }}
{{ include "tradepipe-operator.dashboard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tradepipe
tradepipe.io/pipeline: {{ include "tradepipe-operator.dashboard.pipeline" . }}
{{- end }}
