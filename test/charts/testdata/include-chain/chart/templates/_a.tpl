{{- define "a.name" -}}{{ .Chart.Name }}-{{ .Release.Name }}{{- end -}}
{{- define "a.selector" -}}
app: {{ include "a.name" . }}
{{- end -}}
{{- define "a.labels" -}}
{{ include "a.selector" . }}
{{- range $k, $v := .Values.labels }}
{{ $k }}: {{ $v }}
{{- end }}
{{- end -}}
{{- define "a.meta" -}}
name: {{ include "a.name" . }}
labels:
  {{- include "a.labels" . | nindent 2 }}
{{- end -}}
