{{- define "shared.name" -}}from-sub{{- end -}}
