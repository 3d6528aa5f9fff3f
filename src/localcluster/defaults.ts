// Defaulting and validation of the fields Slipway, kubectl and helm rely on (pure; mutates the given copy).
import type { StatusCause } from './status.ts';
import { isObject, type KubeObject } from './types.ts';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return isObject(v) ? v : {};
}

function setDefault(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}

export function defaultContainer(c: Obj): void {
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  const image = typeof c.image === 'string' ? c.image : '';
  const tagged = /:[^/]+$/.test(image.split('@')[0] ?? '') || image.includes('@');
  const latest = !tagged || /:latest$/.test(image);
  setDefault(c, 'imagePullPolicy', latest ? 'Always' : 'IfNotPresent');
  setDefault(c, 'resources', {});
  for (const p of Array.isArray(c.ports) ? c.ports : []) if (isObject(p)) setDefault(p, 'protocol', 'TCP');
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const pr = c[probe];
    if (!isObject(pr)) continue;
    setDefault(pr, 'timeoutSeconds', 1);
    setDefault(pr, 'periodSeconds', 10);
    setDefault(pr, 'successThreshold', 1);
    setDefault(pr, 'failureThreshold', 3);
    if (isObject(pr.httpGet)) setDefault(pr.httpGet, 'scheme', 'HTTP');
  }
}

export function defaultPodSpec(spec: Obj, restartPolicy = 'Always'): void {
  for (const list of ['containers', 'initContainers']) {
    for (const c of Array.isArray(spec[list]) ? (spec[list] as unknown[]) : [])
      if (isObject(c)) defaultContainer(c);
  }
  setDefault(spec, 'restartPolicy', restartPolicy);
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) {
    if (!isObject(v)) continue;
    if (isObject(v.configMap)) setDefault(v.configMap, 'defaultMode', 420);
    if (isObject(v.secret)) setDefault(v.secret, 'defaultMode', 420);
  }
}

function defaultTemplate(spec: Obj, restartPolicy = 'Always'): void {
  const t = obj(spec.template);
  spec.template = t;
  const meta = obj(t.metadata);
  t.metadata = meta;
  if (!('creationTimestamp' in meta)) meta.creationTimestamp = null;
  const ps = obj(t.spec);
  t.spec = ps;
  defaultPodSpec(ps, restartPolicy);
}

export interface DefaultContext {
  /** Allocates a ClusterIP for a new Service. */
  allocateClusterIP(): string;
  /** Uid of the object (for Job selectors). */
  uid: string;
}

/** Applies the API server's defaults for `key` (`group/resource`). */
export function applyDefaults(key: string, o: KubeObject, isCreate: boolean, ctx: DefaultContext): void {
  const spec = obj(o.spec);
  switch (key) {
    case 'apps/deployments':
      o.spec = spec;
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'progressDeadlineSeconds', 600);
      {
        const strategy = obj(spec.strategy);
        spec.strategy = strategy;
        setDefault(strategy, 'type', 'RollingUpdate');
        if (strategy.type === 'RollingUpdate') {
          const ru = obj(strategy.rollingUpdate);
          strategy.rollingUpdate = ru;
          setDefault(ru, 'maxUnavailable', '25%');
          setDefault(ru, 'maxSurge', '25%');
        }
      }
      defaultTemplate(spec);
      break;
    case 'apps/replicasets':
      o.spec = spec;
      setDefault(spec, 'replicas', 1);
      defaultTemplate(spec);
      break;
    case 'apps/statefulsets':
      o.spec = spec;
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'podManagementPolicy', 'OrderedReady');
      setDefault(spec, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
      setDefault(spec, 'revisionHistoryLimit', 10);
      defaultTemplate(spec);
      break;
    case 'apps/daemonsets':
      o.spec = spec;
      setDefault(spec, 'updateStrategy', {
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
      });
      setDefault(spec, 'revisionHistoryLimit', 10);
      defaultTemplate(spec);
      break;
    case 'batch/jobs': {
      o.spec = spec;
      setDefault(spec, 'parallelism', 1);
      setDefault(spec, 'completions', 1);
      setDefault(spec, 'backoffLimit', 6);
      setDefault(spec, 'completionMode', 'NonIndexed');
      setDefault(spec, 'suspend', false);
      if (isCreate && !spec.selector && spec.manualSelector !== true) {
        spec.selector = { matchLabels: { 'controller-uid': ctx.uid } };
        const t = obj(spec.template);
        spec.template = t;
        const meta = obj(t.metadata);
        t.metadata = meta;
        meta.labels = { ...obj(meta.labels), 'controller-uid': ctx.uid, 'job-name': o.metadata.name ?? '' };
      }
      defaultTemplate(spec, 'Never');
      break;
    }
    case 'batch/cronjobs': {
      o.spec = spec;
      setDefault(spec, 'concurrencyPolicy', 'Allow');
      setDefault(spec, 'suspend', false);
      setDefault(spec, 'successfulJobsHistoryLimit', 3);
      setDefault(spec, 'failedJobsHistoryLimit', 1);
      const jt = obj(spec.jobTemplate);
      spec.jobTemplate = jt;
      const js = obj(jt.spec);
      jt.spec = js;
      defaultTemplate(js, 'Never');
      break;
    }
    case '/pods':
      o.spec = spec;
      defaultPodSpec(spec);
      if (isCreate) {
        setDefault(spec, 'enableServiceLinks', true);
        setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
        setDefault(spec, 'priority', 0);
        if (!Array.isArray(spec.tolerations)) {
          spec.tolerations = [
            {
              key: 'node.kubernetes.io/not-ready',
              operator: 'Exists',
              effect: 'NoExecute',
              tolerationSeconds: 300,
            },
            {
              key: 'node.kubernetes.io/unreachable',
              operator: 'Exists',
              effect: 'NoExecute',
              tolerationSeconds: 300,
            },
          ];
        }
        setDefault(spec, 'serviceAccountName', 'default');
        setDefault(spec, 'serviceAccount', spec.serviceAccountName);
        if (!o.status) o.status = { phase: 'Pending', qosClass: 'BestEffort' };
      }
      break;
    case '/services': {
      o.spec = spec;
      setDefault(spec, 'type', 'ClusterIP');
      setDefault(spec, 'sessionAffinity', 'None');
      for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
        if (!isObject(p)) continue;
        setDefault(p, 'protocol', 'TCP');
        setDefault(p, 'targetPort', p.port);
      }
      if (isCreate && spec.type !== 'ExternalName') {
        if (spec.clusterIP === undefined || spec.clusterIP === '') spec.clusterIP = ctx.allocateClusterIP();
        setDefault(spec, 'clusterIPs', [spec.clusterIP]);
        setDefault(spec, 'ipFamilies', ['IPv4']);
        setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
        setDefault(spec, 'internalTrafficPolicy', 'Cluster');
      }
      if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
        setDefault(spec, 'externalTrafficPolicy', 'Cluster');
        for (const p of Array.isArray(spec.ports) ? spec.ports : [])
          if (isObject(p))
            setDefault(p, 'nodePort', 30000 + (Math.abs(hash(`${o.metadata.name}/${p.port}`)) % 2768));
      }
      if (!o.status) o.status = { loadBalancer: {} };
      break;
    }
    case '/namespaces':
      o.spec = spec;
      setDefault(spec, 'finalizers', ['kubernetes']);
      o.metadata.labels = {
        ...(o.metadata.labels ?? {}),
        'kubernetes.io/metadata.name': o.metadata.name ?? '',
      };
      if (!o.status) o.status = { phase: 'Active' };
      break;
    case '/secrets':
      if (o.type === undefined) o.type = 'Opaque';
      if (isObject(o.stringData)) {
        const data = { ...obj(o.data) };
        for (const [k, v] of Object.entries(o.stringData))
          data[k] = Buffer.from(String(v)).toString('base64');
        o.data = data;
        delete o.stringData;
      }
      break;
    case '/persistentvolumeclaims':
      o.spec = spec;
      setDefault(spec, 'volumeMode', 'Filesystem');
      if (!o.status) o.status = { phase: 'Pending' };
      break;
    case 'networking.k8s.io/ingresses':
      if (!o.status) o.status = { loadBalancer: {} };
      break;
    default:
      break;
  }
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/** Go's %#v-like rendering of a value in "Invalid value" messages. */
export function goValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (isObject(v)) {
    const entries = Object.entries(v)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, x]) => `${JSON.stringify(k)}:${JSON.stringify(x)}`);
    return `map[string]string{${entries.join(', ')}}`;
  }
  return String(v);
}

function invalidValue(field: string, value: unknown, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', message: `Invalid value: ${goValue(value)}: ${detail}`, field };
}

function required(field: string): StatusCause {
  return { reason: 'FieldValueRequired', message: 'Required value', field };
}

function validatePodSpec(spec: unknown, path: string, causes: StatusCause[]): void {
  const s = obj(spec);
  const containers = s.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push(required(`${path}.containers`));
    return;
  }
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const co = obj(c);
    const p = `${path}.containers[${i}]`;
    if (typeof co.name !== 'string' || co.name === '') causes.push(required(`${p}.name`));
    else if (!DNS1123_LABEL.test(co.name)) causes.push(invalidValue(`${p}.name`, co.name, LABEL_MSG));
    else if (names.has(co.name))
      causes.push({
        reason: 'FieldValueDuplicate',
        message: `Duplicate value: ${JSON.stringify(co.name)}`,
        field: `${p}.name`,
      });
    else names.add(co.name);
    if (typeof co.image !== 'string' || co.image.trim() === '') causes.push(required(`${p}.image`));
  });
}

function selectorMatches(selector: unknown, labels: unknown): boolean {
  const sel = obj(selector);
  const l = obj(labels);
  const ml = obj(sel.matchLabels);
  for (const [k, v] of Object.entries(ml)) if (l[k] !== v) return false;
  for (const e of Array.isArray(sel.matchExpressions) ? sel.matchExpressions : []) {
    const ex = obj(e);
    const key = String(ex.key);
    const vals = Array.isArray(ex.values) ? ex.values : [];
    const op = String(ex.operator);
    if (op === 'In' && !vals.includes(l[key])) return false;
    if (op === 'NotIn' && vals.includes(l[key])) return false;
    if (op === 'Exists' && !(key in l)) return false;
    if (op === 'DoesNotExist' && key in l) return false;
  }
  return true;
}

/** Validates `o` for resource `key`; returns causes (empty when valid). */
export function validate(key: string, o: KubeObject, namespaced: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = o.metadata.name;
  if (!name)
    causes.push({
      reason: 'FieldValueRequired',
      message: 'Required value: name or generateName is required',
      field: 'metadata.name',
    });
  else if (key === '/namespaces' || key === '/services') {
    if (!DNS1123_LABEL.test(name) || name.length > 63)
      causes.push(invalidValue('metadata.name', name, LABEL_MSG));
  } else if (
    !key.startsWith('rbac.') &&
    (!DNS1123_SUBDOMAIN.test(name) || name.length > 253) &&
    !key.endsWith('/nodes')
  ) {
    causes.push(invalidValue('metadata.name', name, SUBDOMAIN_MSG));
  }
  if (namespaced && !o.metadata.namespace) causes.push(required('metadata.namespace'));
  for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
    if (typeof v !== 'string' || v.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v))
      causes.push(
        invalidValue(
          `metadata.labels`,
          v,
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
    if (!/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(k))
      causes.push(invalidValue('metadata.labels', k, 'name part must consist of alphanumeric characters'));
  }
  const spec = obj(o.spec);
  switch (key) {
    case 'apps/deployments':
    case 'apps/replicasets':
    case 'apps/statefulsets':
    case 'apps/daemonsets': {
      if (typeof spec.replicas === 'number' && spec.replicas < 0)
        causes.push(invalidValue('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
      const t = obj(spec.template);
      const labels = obj(t.metadata).labels;
      if (!isObject(spec.selector)) causes.push(required('spec.selector'));
      else if (
        Object.keys(obj(spec.selector.matchLabels)).length === 0 &&
        !Array.isArray(spec.selector.matchExpressions)
      )
        causes.push({
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "null": empty selector is invalid for deployment',
          field: 'spec.selector',
        });
      else if (!selectorMatches(spec.selector, labels))
        causes.push(
          invalidValue(
            'spec.template.metadata.labels',
            labels ?? {},
            '`selector` does not match template `labels`',
          ),
        );
      validatePodSpec(t.spec, 'spec.template.spec', causes);
      break;
    }
    case 'batch/jobs':
      validatePodSpec(obj(obj(spec.template).spec), 'spec.template.spec', causes);
      break;
    case 'batch/cronjobs':
      if (typeof spec.schedule !== 'string' || spec.schedule === '') causes.push(required('spec.schedule'));
      break;
    case '/pods':
      validatePodSpec(o.spec, 'spec', causes);
      break;
    case '/services':
      for (const [i, p] of (Array.isArray(spec.ports) ? spec.ports : []).entries()) {
        const port = obj(p).port;
        if (typeof port !== 'number' || port < 1 || port > 65535)
          causes.push(invalidValue(`spec.ports[${i}].port`, port, 'must be between 1 and 65535, inclusive'));
      }
      break;
    case '/configmaps':
      for (const k of Object.keys(obj(o.data)))
        if (!/^[-._a-zA-Z0-9]+$/.test(k))
          causes.push(
            invalidValue(
              'data',
              k,
              "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
            ),
          );
      break;
    default:
      break;
  }
  return causes;
}
