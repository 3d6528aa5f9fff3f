// Comparison of desired (from git) and live (from the cluster) objects. Pure. Like Argo CD's legacy diff,
// fields the cluster adds (defaults, status, managed metadata) do not count: only fields git sets do.
import type { IgnoreDifference } from './app-spec.ts';
import type { KubeObject } from './seams.ts';

export interface FieldChange {
  /** A readable path, e.g. `spec.template.spec.containers[name=app].image`. */
  path: string;
  desired: unknown;
  live: unknown;
}

export interface ObjectDiff {
  modified: boolean;
  changes: FieldChange[];
}

const SERVER_METADATA = [
  'creationTimestamp',
  'resourceVersion',
  'uid',
  'generation',
  'managedFields',
  'selfLink',
  'ownerReferences',
  'deletionTimestamp',
  'finalizers',
];

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Removes what never counts in a comparison, on a copy. */
export function normalizeObject(obj: KubeObject): KubeObject {
  const copy = structuredClone(obj) as KubeObject;
  delete copy.status;
  for (const k of SERVER_METADATA) delete copy.metadata[k];
  if (copy.metadata.annotations) {
    delete copy.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'];
    delete copy.metadata.annotations['deployment.kubernetes.io/revision'];
    if (Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations;
  }
  if (copy.kind === 'Secret' && isObj(copy.stringData)) {
    const data = isObj(copy.data) ? copy.data : {};
    for (const [k, v] of Object.entries(copy.stringData))
      data[k] = Buffer.from(String(v ?? ''), 'utf8').toString('base64');
    copy.data = data;
    delete copy.stringData;
  }
  return copy;
}

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

function removePointer(target: unknown, pointer: string): void {
  const parts = pointer.split('/').slice(1).map(unescapePointer);
  let cur: unknown = target;
  for (let i = 0; i < parts.length - 1; i++) {
    if (Array.isArray(cur)) cur = cur[Number(parts[i])];
    else if (isObj(cur)) cur = cur[parts[i]!];
    else return;
  }
  const last = parts[parts.length - 1];
  if (last === undefined) return;
  if (Array.isArray(cur)) cur.splice(Number(last), 1);
  else if (isObj(cur)) delete cur[last];
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

/** The ignore rules that apply to `obj`. */
export function ignoredPointers(obj: KubeObject, rules: IgnoreDifference[]): string[] {
  return rules
    .filter(
      (r) =>
        r.kind === obj.kind &&
        (r.group === undefined || r.group === groupOf(obj.apiVersion)) &&
        (r.name === undefined || r.name === obj.metadata.name) &&
        (r.namespace === undefined || r.namespace === obj.metadata.namespace),
    )
    .flatMap((r) => r.jsonPointers);
}

function sameScalar(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // The API server turns integer-looking quantities and ports into numbers or strings either way.
  if ((typeof a === 'number' && typeof b === 'string') || (typeof a === 'string' && typeof b === 'number'))
    return String(a) === String(b);
  return false;
}

function keyOf(item: unknown): string | undefined {
  if (!isObj(item)) return undefined;
  for (const k of ['name', 'containerPort', 'port', 'mountPath', 'type'])
    if (item[k] !== undefined) return `${k}=${String(item[k])}`;
  return undefined;
}

function compare(desired: unknown, live: unknown, path: string, out: FieldChange[]): void {
  if (desired === undefined || desired === null) return;
  if (isObj(desired)) {
    if (!isObj(live)) {
      if (Object.keys(desired).length > 0 || live !== undefined) out.push({ path, desired, live });
      return;
    }
    for (const [k, v] of Object.entries(desired)) compare(v, live[k], path ? `${path}.${k}` : k, out);
    return;
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) {
      if (desired.length > 0) out.push({ path, desired, live });
      return;
    }
    const keys = desired.map(keyOf);
    if (keys.every((k) => k !== undefined) && new Set(keys).size === keys.length) {
      const liveByKey = new Map(live.map((l) => [keyOf(l), l]));
      if (live.length !== desired.length) {
        out.push({ path, desired: desired.length, live: live.length });
      }
      desired.forEach((d, i) => {
        const l = liveByKey.get(keys[i]);
        if (l === undefined) out.push({ path: `${path}[${keys[i]}]`, desired: d, live: undefined });
        else compare(d, l, `${path}[${keys[i]}]`, out);
      });
      return;
    }
    if (live.length !== desired.length) {
      out.push({ path, desired, live });
      return;
    }
    desired.forEach((d, i) => {
      compare(d, live[i], `${path}[${i}]`, out);
    });
    return;
  }
  if (!sameScalar(desired, live)) out.push({ path, desired, live });
}

/**
 * Compares a desired object with the live one. Fields only the live object has are ignored (server
 * defaults, status); `ignore` lists JSON pointers to leave out on both sides.
 */
export function diffObject(
  desired: KubeObject,
  live: KubeObject | undefined,
  ignore: string[] = [],
): ObjectDiff {
  if (!live) return { modified: true, changes: [{ path: '', desired: 'object', live: undefined }] };
  const d = normalizeObject(desired);
  const l = normalizeObject(live);
  delete d.metadata.namespace;
  delete l.metadata.namespace;
  for (const p of ignore) {
    removePointer(d, p);
    removePointer(l, p);
  }
  const changes: FieldChange[] = [];
  compare(d, l, '', changes);
  return { modified: changes.length > 0, changes };
}

/** A short human description of a change list, one line per field. */
export function describeChanges(changes: FieldChange[]): string[] {
  const fmt = (v: unknown) => (v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));
  return changes.map((c) =>
    c.path ? `${c.path}: ${fmt(c.live)} → ${fmt(c.desired)}` : 'object is missing from the cluster',
  );
}
