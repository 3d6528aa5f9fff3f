// Turns Rancher 1.6-style docker-compose services into a Helm chart per service and environment in the
// GitOps layout (`<env>/<service>/{Chart.yaml,values.yaml,templates/}`), reporting what has no equivalent.
// Pure: text in, files out.
import { isMap, LineCounter, parseDocument, stringify, type YAMLMap } from 'yaml';
import { InputError } from '../core/index.ts';

export interface ComposeImportOptions {
  /** Path of the compose file, for messages. */
  file: string;
  /** Only this service (default: all). */
  service?: string;
  /** Environments to lay out (default dev, prod). */
  environments?: string[];
  /** Contents of env_file files by the path written in the compose file. */
  envFiles?: Record<string, string>;
}

export interface ImportWarning {
  service: string;
  key: string;
  line?: number;
  message: string;
}

export interface ComposeImportResult {
  /** Relative path → content. */
  files: Record<string, string>;
  services: string[];
  warnings: ImportWarning[];
}

interface PortMapping {
  container: number;
  published: number;
  protocol: 'TCP' | 'UDP';
}

const UNSUPPORTED: Record<string, string> = {
  build: 'images are built by the service pipeline (.slipway/pipeline.yaml), not at deploy time',
  depends_on: 'Kubernetes has no start order; use readiness probes and retries',
  links: 'services find each other by their Service name in the namespace',
  external_links: 'services find each other by their Service name in the namespace',
  network_mode: 'pods share the cluster network',
  networks: 'pods share the cluster network; use NetworkPolicies to restrict it',
  privileged: 'privileged containers are not carried over; set securityContext by hand if you must',
  cap_add: 'capabilities are not carried over; set securityContext.capabilities by hand',
  cap_drop: 'capabilities are not carried over; set securityContext.capabilities by hand',
  extra_hosts: 'use hostAliases in the pod spec by hand',
  container_name: 'pod names are generated',
  logging: 'cluster logging collects container output',
  devices: 'devices are not available to pods by default',
  pid: 'host PID namespace is not carried over',
  ipc: 'host IPC namespace is not carried over',
  security_opt: 'security options are not carried over',
  stop_signal: 'set lifecycle.preStop by hand',
  ulimits: 'ulimits are not carried over',
  sysctls: 'sysctls are not carried over',
  tmpfs: 'use an emptyDir with medium Memory by hand',
  dns: 'pods use the cluster DNS',
  dns_search: 'pods use the cluster DNS',
  secrets: 'create Kubernetes Secrets and reference them by hand',
  configs: 'use ConfigMaps by hand',
};

const IGNORED = new Set(['restart', 'stdin_open', 'tty', 'hostname', 'domainname']);

function fail(file: string, line: number | undefined, message: string, field?: string): never {
  throw new InputError(`${file}${line ? `:${line}` : ''}: ${message}`, {
    location: { file, ...(line ? { line } : {}), ...(field ? { field } : {}) },
  });
}

/** `nginx:1.25` → {repository: nginx, tag: 1.25}; digests and registry ports are kept apart from the tag. */
export function splitImage(image: string): { repository: string; tag: string } {
  const at = image.indexOf('@');
  if (at >= 0) return { repository: image.slice(0, at), tag: image.slice(at + 1) };
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon > slash) return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { repository: image, tag: 'latest' };
}

/** Parses compose port syntax: "80", "8080:80", "127.0.0.1:8080:80/udp", long form {target, published}. */
export function parsePort(spec: unknown): PortMapping | undefined {
  if (typeof spec === 'number') return { container: spec, published: spec, protocol: 'TCP' };
  if (spec && typeof spec === 'object') {
    const o = spec as { target?: unknown; published?: unknown; protocol?: unknown };
    const target = Number(o.target);
    if (!Number.isInteger(target)) return undefined;
    const published = o.published === undefined ? target : Number(o.published);
    return {
      container: target,
      published: Number.isInteger(published) ? published : target,
      protocol: o.protocol === 'udp' ? 'UDP' : 'TCP',
    };
  }
  if (typeof spec !== 'string') return undefined;
  const [main, proto] = spec.split('/') as [string, string?];
  const parts = main.split(':');
  const container = Number(parts[parts.length - 1]);
  const published = parts.length >= 2 ? Number(parts[parts.length - 2]) : container;
  if (!Number.isInteger(container) || container <= 0 || container > 65535) return undefined;
  return {
    container,
    published: Number.isInteger(published) && published > 0 ? published : container,
    protocol: proto === 'udp' ? 'UDP' : 'TCP',
  };
}

/** Compose duration ("30s", "1m30s", "500ms") → whole seconds (at least 1). */
export function durationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Math.max(1, Math.round(value));
  if (typeof value !== 'string') return undefined;
  let total = 0;
  let matched = false;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)/g)) {
    matched = true;
    const n = Number(m[1]);
    total +=
      m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : m[2] === 'ms' ? n / 1000 : 0;
  }
  return matched ? Math.max(1, Math.round(total)) : undefined;
}

function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out[line.slice(0, eq).trim()] = line
      .slice(eq + 1)
      .trim()
      .replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

function envOf(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const item of value) {
      const s = String(item);
      const eq = s.indexOf('=');
      if (eq > 0) out[s.slice(0, eq)] = s.slice(eq + 1);
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out[k] = v === null || v === undefined ? '' : String(v);
  }
  return out;
}

/** A Kubernetes-safe name (RFC 1123 label). */
export function kubeName(name: string): string {
  const n = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return n || 'service';
}

interface Probe {
  exec?: { command: string[] };
  httpGet?: { path: string; port: number };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  initialDelaySeconds?: number;
}

function probeFrom(hc: Record<string, unknown>, port: number | undefined): Probe | undefined {
  if (hc.disable === true) return undefined;
  let test = hc.test;
  if (typeof test === 'string') test = ['CMD-SHELL', test];
  if (!Array.isArray(test) || test.length === 0 || test[0] === 'NONE') return undefined;
  const [kind, ...rest] = test.map(String) as [string, ...string[]];
  const command =
    kind === 'CMD-SHELL' ? ['sh', '-c', rest.join(' ')] : kind === 'CMD' ? rest : [kind, ...rest];
  const text = command.join(' ');
  const http = /(?:curl|wget)[^\n]*?https?:\/\/(?:localhost|127\.0\.0\.1)(?::(\d+))?(\/[^\s'"|&;]*)?/.exec(
    text,
  );
  const probe: Probe = http
    ? { httpGet: { path: http[2] ?? '/', port: http[1] ? Number(http[1]) : (port ?? 80) } }
    : { exec: { command } };
  const period = durationSeconds(hc.interval);
  const timeout = durationSeconds(hc.timeout);
  const start = durationSeconds(hc.start_period);
  if (period) probe.periodSeconds = period;
  if (timeout) probe.timeoutSeconds = timeout;
  if (typeof hc.retries === 'number') probe.failureThreshold = hc.retries;
  if (start) probe.initialDelaySeconds = start;
  return probe;
}

const HELPERS = `{{- define "svc.fullname" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "svc.labels" -}}
app.kubernetes.io/name: {{ include "svc.fullname" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "svc.selector" -}}
app.kubernetes.io/name: {{ include "svc.fullname" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
`;

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "svc.fullname" . }}
  labels:
    {{- include "svc.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "svc.selector" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "svc.selector" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ toJson .Values.env | sha256sum }}
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          {{- with .Values.command }}
          command:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .Values.args }}
          args:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- if .Values.service.ports }}
          ports:
            {{- range .Values.service.ports }}
            - name: {{ .name }}
              containerPort: {{ .targetPort }}
              protocol: {{ .protocol }}
            {{- end }}
          {{- end }}
          {{- if .Values.env }}
          envFrom:
            - configMapRef:
                name: {{ include "svc.fullname" . }}
          {{- end }}
          {{- with .Values.livenessProbe }}
          livenessProbe:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .Values.readinessProbe }}
          readinessProbe:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .Values.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .Values.volumeMounts }}
          volumeMounts:
            {{- toYaml . | nindent 12 }}
          {{- end }}
      {{- with .Values.volumes }}
      volumes:
        {{- toYaml . | nindent 8 }}
      {{- end }}
`;

const SERVICE = `{{- if .Values.service.ports }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "svc.fullname" . }}
  labels:
    {{- include "svc.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  selector:
    {{- include "svc.selector" . | nindent 4 }}
  ports:
    {{- range .Values.service.ports }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .targetPort }}
      protocol: {{ .protocol }}
    {{- end }}
{{- end }}
`;

const CONFIGMAP = `{{- if .Values.env }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "svc.fullname" . }}
  labels:
    {{- include "svc.labels" . | nindent 4 }}
data:
  {{- range $k, $v := .Values.env }}
  {{ $k }}: {{ $v | toString | quote }}
  {{- end }}
{{- end }}
`;

const INGRESS = `{{- if .Values.ingress.enabled }}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "svc.fullname" . }}
  labels:
    {{- include "svc.labels" . | nindent 4 }}
spec:
  rules:
    - host: {{ required "ingress.host is required when ingress.enabled is true" .Values.ingress.host | quote }}
      http:
        paths:
          - path: {{ .Values.ingress.path }}
            pathType: Prefix
            backend:
              service:
                name: {{ include "svc.fullname" . }}
                port:
                  number: {{ (index .Values.service.ports 0).port }}
{{- end }}
`;

const PVC = `{{- range .Values.persistence }}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ include "svc.fullname" $ }}-{{ .name }}
  labels:
    {{- include "svc.labels" $ | nindent 4 }}
spec:
  accessModes: ["ReadWriteOnce"]
  resources:
    requests:
      storage: {{ .size }}
{{- end }}
`;

/**
 * Converts a compose file. Throws {@link InputError} with file:line for YAML errors or a malformed
 * services section; everything that cannot be translated is reported in `warnings`.
 */
export function importCompose(text: string, options: ComposeImportOptions): ComposeImportResult {
  const { file } = options;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    fail(file, pos.line, `cannot parse YAML at column ${pos.col}: ${first.message.split('\n')[0]}`);
  }
  if (!isMap(doc.contents)) fail(file, 1, 'a compose file must be a mapping with a "services" key');
  const root = doc.contents as YAMLMap;
  const servicesNode = root.get('services', true);
  const lineOf = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    return range ? lineCounter.linePos(range[0]).line : undefined;
  };
  // Compose v1 files have the services at the top level.
  const servicesMap = servicesNode === undefined ? root : servicesNode;
  if (!isMap(servicesMap))
    fail(
      file,
      lineOf(servicesNode),
      '"services" must be a mapping of service names to definitions',
      'services',
    );
  const all = (servicesMap as YAMLMap).items.map((pair) => ({
    name: String((pair.key as { value?: unknown })?.value ?? pair.key),
    node: pair.value,
    line: lineOf(pair.key),
  }));
  const services = all.filter((s) => s.name !== 'version' && s.name !== 'volumes' && s.name !== 'networks');
  const selected = options.service ? services.filter((s) => s.name === options.service) : services;
  if (options.service && selected.length === 0) {
    fail(
      file,
      undefined,
      `no service "${options.service}" (services: ${services.map((s) => s.name).join(', ') || 'none'})`,
      'services',
    );
  }
  const envs = options.environments?.length ? options.environments : ['dev', 'prod'];
  const files: Record<string, string> = {};
  const warnings: ImportWarning[] = [];

  for (const svc of selected) {
    if (!isMap(svc.node))
      fail(file, svc.line, `service "${svc.name}" must be a mapping`, `services.${svc.name}`);
    const node = svc.node as YAMLMap;
    const def = node.toJSON() as Record<string, unknown>;
    const warn = (key: string, message: string) => {
      const keyNode = node.items.find((p) => (p.key as { value?: unknown })?.value === key)?.key;
      const line = lineOf(keyNode);
      warnings.push({ service: svc.name, key, ...(line ? { line } : {}), message });
    };
    const name = kubeName(svc.name);
    if (typeof def.image !== 'string' || !def.image) {
      fail(
        file,
        svc.line,
        `service "${svc.name}" has no image; build it with a pipeline and set image`,
        `services.${svc.name}.image`,
      );
    }
    const image = splitImage(def.image);
    for (const key of Object.keys(def)) {
      if (UNSUPPORTED[key]) warn(key, `not translated: ${UNSUPPORTED[key]}`);
      else if (IGNORED.has(key)) continue;
    }

    const ports: { name: string; port: number; targetPort: number; protocol: string }[] = [];
    for (const [i, spec] of (Array.isArray(def.ports) ? def.ports : []).entries()) {
      const p = parsePort(spec);
      if (!p) {
        warn('ports', `port ${JSON.stringify(spec)} is not understood and was skipped`);
        continue;
      }
      ports.push({
        name: i === 0 ? 'http' : `port-${p.container}`,
        port: p.published,
        targetPort: p.container,
        protocol: p.protocol,
      });
    }
    for (const spec of Array.isArray(def.expose) ? def.expose : []) {
      const p = parsePort(String(spec));
      if (p && !ports.some((x) => x.targetPort === p.container)) {
        ports.push({
          name: `port-${p.container}`,
          port: p.container,
          targetPort: p.container,
          protocol: p.protocol,
        });
      }
    }

    const env: Record<string, string> = {};
    for (const f of typeof def.env_file === 'string'
      ? [def.env_file]
      : Array.isArray(def.env_file)
        ? def.env_file
        : []) {
      const path = typeof f === 'string' ? f : String((f as { path?: unknown }).path ?? '');
      const content = options.envFiles?.[path];
      if (content === undefined)
        warn('env_file', `env_file "${path}" was not found; its variables are missing`);
      else Object.assign(env, parseEnvFile(content));
    }
    Object.assign(env, envOf(def.environment));
    const secretish = Object.keys(env).filter((k) => /pass(word)?|secret|token|api[_-]?key|private/i.test(k));
    if (secretish.length) {
      warn(
        'environment',
        `${secretish.join(', ')} look like secrets; they were put in a ConfigMap — move them to a Secret`,
      );
    }

    const labels = envOf(def.labels);
    let replicas = 1;
    const scale =
      def.scale ?? (def.deploy as { replicas?: unknown } | undefined)?.replicas ?? labels['io.rancher.scale'];
    if (scale !== undefined) {
      const n = Number(scale);
      if (Number.isInteger(n) && n >= 0) replicas = n;
      else warn('scale', `scale ${JSON.stringify(scale)} is not a whole number; using 1`);
    }
    const podLabels: Record<string, string> = {};
    for (const [k, v] of Object.entries(labels)) {
      if (k.startsWith('io.rancher.')) {
        if (k !== 'io.rancher.scale')
          warn('labels', `Rancher label ${k}=${v} has no Kubernetes equivalent and was dropped`);
        continue;
      }
      const key = k.replace(/[^A-Za-z0-9._/-]/g, '-');
      const value = v.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63);
      if (/^([a-z0-9.-]+\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(key)) podLabels[key] = value;
      else warn('labels', `label ${k} is not a valid Kubernetes label key and was dropped`);
    }

    const toArgs = (v: unknown): string[] | undefined =>
      typeof v === 'string' ? ['sh', '-c', v] : Array.isArray(v) ? v.map(String) : undefined;
    const command = toArgs(def.entrypoint);
    let args = toArgs(def.command);
    if (typeof def.command === 'string' && !command) args = def.command.split(/\s+/).filter(Boolean);

    const volumes: unknown[] = [];
    const volumeMounts: unknown[] = [];
    const persistence: { name: string; size: string }[] = [];
    for (const v of Array.isArray(def.volumes) ? def.volumes : []) {
      const spec =
        typeof v === 'string'
          ? v
          : `${(v as { source?: string }).source ?? ''}:${(v as { target?: string }).target ?? ''}`;
      const [source = '', target = '', mode] = spec.split(':');
      if (!target) {
        const volName = kubeName(source.replace(/^\//, '') || 'data');
        volumes.push({ name: volName, emptyDir: {} });
        volumeMounts.push({ name: volName, mountPath: source });
        warn('volumes', `anonymous volume ${source} became an emptyDir (its data does not outlive the pod)`);
      } else if (source.startsWith('/') || source.startsWith('.') || source.startsWith('~')) {
        const volName = kubeName(target.split('/').filter(Boolean).pop() ?? 'data');
        volumes.push({ name: volName, emptyDir: {} });
        volumeMounts.push({ name: volName, mountPath: target, ...(mode === 'ro' ? { readOnly: true } : {}) });
        warn(
          'volumes',
          `bind mount ${source}:${target} became an emptyDir; put files in a ConfigMap or image instead`,
        );
      } else {
        const volName = kubeName(source);
        persistence.push({ name: volName, size: '1Gi' });
        volumes.push({ name: volName, persistentVolumeClaim: { claimName: `${name}-${volName}` } });
        volumeMounts.push({ name: volName, mountPath: target, ...(mode === 'ro' ? { readOnly: true } : {}) });
      }
    }

    const hc =
      def.healthcheck && typeof def.healthcheck === 'object'
        ? probeFrom(def.healthcheck as Record<string, unknown>, ports[0]?.targetPort)
        : undefined;
    const resources: Record<string, Record<string, string>> = {};
    if (typeof def.mem_limit === 'string' || typeof def.mem_limit === 'number') {
      resources.limits = {
        memory: String(def.mem_limit).replace(/([kmg])b?$/i, (_m, u: string) => `${u.toUpperCase()}i`),
      };
    }
    if (def.cpus !== undefined) resources.limits = { ...(resources.limits ?? {}), cpu: String(def.cpus) };

    const values = {
      replicaCount: replicas,
      image: { repository: image.repository, tag: image.tag, pullPolicy: 'IfNotPresent' },
      ...(command ? { command } : {}),
      ...(args ? { args } : {}),
      service: { type: 'ClusterIP', ports },
      env,
      podLabels,
      ingress: { enabled: false, host: '', path: '/' },
      ...(hc ? { livenessProbe: hc, readinessProbe: hc } : {}),
      ...(Object.keys(resources).length ? { resources } : {}),
      ...(volumes.length ? { volumes, volumeMounts } : {}),
      persistence,
    };
    const chart = {
      apiVersion: 'v2',
      name,
      description: `${svc.name}, imported from ${file}`,
      type: 'application',
      version: '0.1.0',
      appVersion: image.tag,
    };
    for (const env of envs) {
      const dir = `${env}/${name}`;
      files[`${dir}/Chart.yaml`] = stringify(chart);
      files[`${dir}/values.yaml`] =
        `# ${svc.name} in ${env}, imported from ${file}.\n# The pipeline's deploy step updates image.tag here.\n${stringify(values)}`;
      files[`${dir}/templates/_helpers.tpl`] = HELPERS;
      files[`${dir}/templates/deployment.yaml`] = DEPLOYMENT;
      files[`${dir}/templates/service.yaml`] = SERVICE;
      files[`${dir}/templates/configmap.yaml`] = CONFIGMAP;
      files[`${dir}/templates/ingress.yaml`] = INGRESS;
      files[`${dir}/templates/pvc.yaml`] = PVC;
    }
  }
  return { files, services: selected.map((s) => s.name), warnings };
}
