{{- define "zz.name" -}}from-zz{{- end -}}
