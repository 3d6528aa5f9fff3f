{{- define "tplreq" }}{{ tpl "{{ required \"tpl value needed\" .Values.yyy }}" . }}{{- end }}
