{{- define "zz.name" -}}from-aa{{- end -}}
