// Benchmarks parsing and executing a chart-like template set (helpers + a Deployment) with Sprig.
// Usage: npx tsx bench/template/render.ts [iterations]
import { TemplateSet, sprigFunctions } from '../../src/template/index.ts';

const helpers = `
{{- define "app.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- define "app.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}
{{- define "app.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "app.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
{{- define "app.selectorLabels" -}}
app.kubernetes.io/name: {{ include "app.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
`;

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "app.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      annotations:
        checksum/config: {{ .Values.config | toJson | sha256sum }}
      labels:
        {{- include "app.selectorLabels" . | nindent 8 }}
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          {{- if semverCompare ">=1.21-0" .Capabilities.KubeVersion.Version }}
          ports:
            {{- range .Values.ports }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: {{ .protocol | default "TCP" }}
            {{- end }}
          {{- end }}
          env:
            {{- range $k, $v := .Values.env }}
            - name: {{ $k | upper | replace "-" "_" }}
              value: {{ $v | quote }}
            {{- end }}
          resources:
            {{- toJson .Values.resources | nindent 12 }}
`;

const data = {
  Chart: { Name: 'myapp', Version: '1.2.3', AppVersion: '4.5.6' },
  Release: { Name: 'prod', Namespace: 'default', Service: 'Helm' },
  Capabilities: { KubeVersion: { Version: 'v1.29.0' } },
  Values: {
    replicaCount: 3,
    autoscaling: { enabled: false },
    image: { repository: 'nginx', tag: '', pullPolicy: 'IfNotPresent' },
    ports: [
      { name: 'http', port: 80 },
      { name: 'metrics', port: 9090, protocol: 'TCP' },
    ],
    env: { 'log-level': 'info', 'db-host': 'db', feature: 'on', region: 'eu' },
    resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } },
    config: { a: 1, b: [1, 2, 3], c: { d: 'e' } },
  },
};

const iterations = Number(process.argv[2] ?? 20000);
const set = new TemplateSet();
set.addFuncs(sprigFunctions());
set.addFuncs({
  include: (name: unknown, dot: unknown) => set.execute(String(name), dot, { missingKey: 'zero' }),
});

// CPU time, not wall time: the benchmark machine is shared.
const cpuMs = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};
let t0 = process.cpuUsage();
const parses = 2000;
for (let i = 0; i < parses; i++) {
  const s = set.clone();
  s.parse('app/templates/_helpers.tpl', helpers);
  s.parse('app/templates/deployment.yaml', deployment);
}
let ms = cpuMs(t0);
console.log(
  `parse: ${(ms / parses).toFixed(3)} ms per chart (helpers + deployment), ${Math.round((parses / ms) * 1000)}/s`,
);

set.parse('app/templates/_helpers.tpl', helpers);
set.parse('app/templates/deployment.yaml', deployment);
const out = set.execute('app/templates/deployment.yaml', data, { missingKey: 'zero' });
for (let i = 0; i < 1000; i++) set.execute('app/templates/deployment.yaml', data, { missingKey: 'zero' });
t0 = process.cpuUsage();
for (let i = 0; i < iterations; i++)
  set.execute('app/templates/deployment.yaml', data, { missingKey: 'zero' });
ms = cpuMs(t0);
console.log(
  `execute: ${((ms / iterations) * 1000).toFixed(1)} µs per render, ${Math.round((iterations / ms) * 1000)} renders/s`,
);
if (process.env.SHOW) console.log(out);
