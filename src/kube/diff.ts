// Desired-vs-live comparison of Kubernetes objects, free of false differences from server defaults. Pure.
//
// Approach (docs/kubernetes.md): "desired is a subset of live after normalisation", like Argo CD's legacy diff,
// plus removal detection from the managedFields of Slipway's field manager. A field set in the desired manifest
// must have the same value live; fields only live has (defaults, status, server metadata) do not count, unless
// Slipway's manager owns them and the desired manifest no longer sets them (server-side apply would remove them).
import { stringify } from 'yaml';
import { quantitiesEqual } from './quantity.ts';
import { unifiedDiff } from './text-diff.ts';
import { groupOf, isRecord, type KubeObject, type ObjectRef, refKey, refOf } from './types.ts';

export type SyncStatus = 'Synced' | 'OutOfSync' | 'Missing' | 'Extra';

/** One field that differs. `desired` is `undefined` for a field the manifest no longer sets. */
export interface FieldChange {
  path: string;
  desired: unknown;
  live: unknown;
}

export interface ResourceDiff {
  ref: ObjectRef;
  /** Synced; OutOfSync; Missing (desired, not live); Extra (live, not desired: a prune candidate). */
  status: SyncStatus;
  changes: FieldChange[];
  /** Unified diff from the live YAML (restricted to what matters) to the desired YAML; `''` when Synced. */
  diff: string;
}

/** Argo CD's `ignoreDifferences` entry. `group` `''` is the core group; omitted or `*` matches any. */
export interface IgnoreDifference {
  group?: string;
  kind: string;
  name?: string;
  namespace?: string;
  /** RFC 6901 pointers such as `/spec/replicas`. */
  jsonPointers?: string[];
  /** A jq subset: `.a.b`, `.a[0]`, `.a[]`, `.a["k"]`, `.a[] | select(.name == "x") | .b`. */
  jqPathExpressions?: string[];
}

export interface DiffOptions {
  ignoreDifferences?: IgnoreDifference[];
  /** The field manager whose managedFields reveal removed fields (default `slipway`). */
  fieldManager?: string;
}

type Segment = string | number;

const SERVER_METADATA = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];
const QUANTITY_PARENTS = new Set(['requests', 'limits', 'hard', 'capacity', 'allocatable', 'overhead']);
const QUANTITY_KEYS = new Set(['sizeLimit', 'storage']);
const SECRET_MASK = '++++++++';

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** Formats a path the way users read it: `spec.template.spec.containers[0].image`. */
export function formatPath(segments: Segment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/**
 * Normalises a desired manifest: drops status and server-populated metadata, folds Secret `stringData` into
 * base64 `data` (as the API server does).
 */
export function normalizeDesired(obj: KubeObject): KubeObject {
  const out = clone(obj);
  delete out.status;
  const meta = isRecord(out.metadata) ? out.metadata : ({} as KubeObject['metadata']);
  for (const key of SERVER_METADATA) delete meta[key];
  if (out.kind === 'Secret' && groupOf(out.apiVersion) === '') {
    const stringData = out.stringData;
    if (isRecord(stringData)) {
      const data: Record<string, unknown> = isRecord(out.data) ? out.data : {};
      for (const [k, v] of Object.entries(stringData)) {
        data[k] = Buffer.from(v === null || v === undefined ? '' : String(v), 'utf8').toString('base64');
      }
      out.data = data;
    }
    delete out.stringData;
  }
  return out;
}

/** A live object without status and server-populated metadata (what the YAML diff shows). */
export function normalizeLive(obj: KubeObject): KubeObject {
  const out = clone(obj);
  delete out.status;
  if (isRecord(out.metadata)) {
    for (const key of SERVER_METADATA) delete out.metadata[key];
    const ann = out.metadata.annotations;
    if (isRecord(ann)) {
      delete ann['kubectl.kubernetes.io/last-applied-configuration'];
      if (Object.keys(ann).length === 0) delete out.metadata.annotations;
    }
  }
  return out;
}

function isZero(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false || value === 0) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isRecord(value)) return Object.keys(value).length === 0;
  return false;
}

function scalarsEqual(desired: unknown, live: unknown, path: Segment[]): boolean {
  if (desired === live) return true;
  // The API server drops zero values of omitempty fields (readOnly: false, initialDelaySeconds: 0, "").
  if (live === undefined || live === null) return isZero(desired);
  // int-or-string and YAML numbers written for strings: 80 vs "80".
  if (
    (typeof desired === 'number' && typeof live === 'string') ||
    (typeof desired === 'string' && typeof live === 'number')
  ) {
    if (String(desired) === String(live)) return true;
  }
  const key = path[path.length - 1];
  const parent = path[path.length - 2];
  if (
    (typeof key === 'string' && QUANTITY_KEYS.has(key)) ||
    (typeof parent === 'string' && QUANTITY_PARENTS.has(parent))
  ) {
    return quantitiesEqual(desired, live);
  }
  return false;
}

/** Compares `desired` against `live`, collecting changes; returns the live value projected onto desired's shape. */
function compare(desired: unknown, live: unknown, path: Segment[], changes: FieldChange[]): unknown {
  if (desired === undefined || desired === null) return undefined;
  if (isRecord(desired)) {
    if (!isRecord(live)) {
      if ((live === undefined || live === null) && isZero(desired)) return desired;
      changes.push({ path: formatPath(path), desired, live });
      return live;
    }
    const projected: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(desired)) {
      const p = compare(v, live[k], [...path, k], changes);
      if (p !== undefined) projected[k] = p;
    }
    return projected;
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) {
      if ((live === undefined || live === null) && desired.length === 0) return desired;
      changes.push({ path: formatPath(path), desired, live });
      return live;
    }
    if (live.length !== desired.length) {
      changes.push({ path: formatPath(path), desired, live });
      return live.map((item, i) => (i < desired.length ? projectOnto(desired[i], item, [...path, i]) : item));
    }
    return desired.map((item, i) => compare(item, live[i], [...path, i], changes) ?? null);
  }
  if (scalarsEqual(desired, live, path)) return desired;
  changes.push({ path: formatPath(path), desired, live });
  return live;
}

function projectOnto(desired: unknown, live: unknown, path: Segment[]): unknown {
  return compare(desired, live, path, []);
}

/** The paths (segments) that `manager`'s Apply entry owns, resolved against `live`. Leaves only. */
function ownedPaths(live: KubeObject, manager: string): Segment[][] {
  const entries = live.metadata?.managedFields ?? [];
  const out: Segment[][] = [];
  for (const entry of entries) {
    if (entry.manager !== manager || entry.operation !== 'Apply' || entry.subresource) continue;
    if (!isRecord(entry.fieldsV1)) continue;
    walkFields(entry.fieldsV1, live, [], out);
  }
  return out;
}

function walkFields(fields: Record<string, unknown>, live: unknown, path: Segment[], out: Segment[][]): void {
  let children = 0;
  for (const [key, sub] of Object.entries(fields)) {
    if (key === '.') continue;
    children++;
    let seg: Segment | undefined;
    let value: unknown;
    if (key.startsWith('f:')) {
      seg = key.slice(2);
      value = isRecord(live) ? live[seg] : undefined;
    } else if (key.startsWith('k:') && Array.isArray(live)) {
      let keys: Record<string, unknown>;
      try {
        keys = JSON.parse(key.slice(2)) as Record<string, unknown>;
      } catch {
        continue;
      }
      const index = live.findIndex(
        (item) => isRecord(item) && Object.entries(keys).every(([k, v]) => String(item[k]) === String(v)),
      );
      if (index < 0) continue;
      seg = index;
      value = live[index];
    } else if (key.startsWith('v:') && Array.isArray(live)) {
      const wanted = key.slice(2);
      const index = live.findIndex((item) => JSON.stringify(item) === wanted);
      if (index < 0) continue;
      seg = index;
      value = live[index];
    } else if (key.startsWith('i:') && Array.isArray(live)) {
      seg = Number(key.slice(2));
      value = live[seg];
    }
    if (seg === undefined || value === undefined) continue;
    if (isRecord(sub) && Object.keys(sub).some((k) => k !== '.')) walkFields(sub, value, [...path, seg], out);
    else out.push([...path, seg]);
  }
  if (children === 0 && path.length > 0) out.push(path);
}

function lookup(value: unknown, path: Segment[]): { found: boolean; value: unknown } {
  let cur = value;
  for (const seg of path) {
    if (typeof seg === 'number') {
      if (!Array.isArray(cur) || seg >= cur.length) return { found: false, value: undefined };
      cur = cur[seg];
    } else {
      if (!isRecord(cur) || !(seg in cur) || cur[seg] === null) return { found: false, value: undefined };
      cur = cur[seg];
    }
  }
  return { found: true, value: cur };
}

function setIn(target: Record<string, unknown>, path: Segment[], value: unknown): void {
  let cur: unknown = target;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i]!;
    const next = path[i + 1]!;
    const container = cur as Record<string | number, unknown>;
    if (container[seg] === undefined || container[seg] === null)
      container[seg] = typeof next === 'number' ? [] : {};
    cur = container[seg];
  }
  (cur as Record<string | number, unknown>)[path[path.length - 1]!] = value;
}

/** Removes the field at an RFC 6901 pointer, if present. */
export function removePointer(obj: unknown, pointer: string): void {
  if (!pointer.startsWith('/')) return;
  const parts = pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  removeSegments(obj, parts);
}

function removeSegments(obj: unknown, parts: string[]): void {
  let cur = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i]!;
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isRecord(cur)) cur = cur[p];
    else return;
  }
  const last = parts[parts.length - 1]!;
  if (Array.isArray(cur)) {
    const i = Number(last);
    if (Number.isInteger(i) && i >= 0 && i < cur.length) cur.splice(i, 1);
  } else if (isRecord(cur)) delete cur[last];
}

type JqStep =
  | { key: string }
  | { index: number }
  | { each: true }
  | { select: { field: string[]; equals: unknown } };

/** Parses the supported jq subset; returns undefined for anything else. */
function parseJq(expr: string): JqStep[] | undefined {
  const steps: JqStep[] = [];
  for (const stage of expr.split('|').map((s) => s.trim())) {
    const sel = /^select\(\s*\.([\w.-]+)\s*==\s*(.+?)\s*\)$/.exec(stage);
    if (sel) {
      let equals: unknown;
      try {
        equals = JSON.parse(sel[2]!);
      } catch {
        return undefined;
      }
      steps.push({ select: { field: sel[1]!.split('.'), equals } });
      continue;
    }
    const re = /\.([A-Za-z_][\w-]*)|\["([^"]*)"\]|\[(\d+)\]|\[\]|^\.$/gy;
    let pos = 0;
    if (stage === '.') continue;
    while (pos < stage.length) {
      re.lastIndex = pos;
      const m = re.exec(stage);
      if (!m || m.index !== pos) return undefined;
      if (m[1] !== undefined) steps.push({ key: m[1] });
      else if (m[2] !== undefined) steps.push({ key: m[2] });
      else if (m[3] !== undefined) steps.push({ index: Number(m[3]) });
      else steps.push({ each: true });
      pos = re.lastIndex;
      // ".a[]" and ".a.b": a following "." starts the next key.
    }
  }
  return steps;
}

/** Removes every field a jq path (subset) selects. */
export function removeJqPath(obj: unknown, expr: string): void {
  const steps = parseJq(expr);
  if (!steps || steps.length === 0) return;
  // Collect concrete paths, then delete from the deepest so indexes stay valid.
  let paths: Segment[][] = [[]];
  for (const step of steps) {
    const next: Segment[][] = [];
    for (const p of paths) {
      const { found, value } = lookup(obj, p);
      if (!found) continue;
      if ('key' in step) next.push([...p, step.key]);
      else if ('index' in step) next.push([...p, step.index]);
      else if ('each' in step) {
        if (Array.isArray(value)) for (let i = 0; i < value.length; i++) next.push([...p, i]);
        else if (isRecord(value)) for (const k of Object.keys(value)) next.push([...p, k]);
      } else {
        const got = lookup(value, step.select.field);
        if (got.found && JSON.stringify(got.value) === JSON.stringify(step.select.equals)) next.push(p);
      }
    }
    paths = next;
  }
  const sorted = paths
    .filter((p) => p.length > 0)
    .sort((a, b) => {
      const x = a[a.length - 1];
      const y = b[b.length - 1];
      return typeof x === 'number' && typeof y === 'number' ? y - x : 0;
    });
  for (const p of sorted) removeSegments(obj, p.map(String));
}

function matchesIgnore(rule: IgnoreDifference, ref: ObjectRef): boolean {
  if (rule.group !== undefined && rule.group !== '*' && rule.group !== groupOf(ref.apiVersion)) return false;
  if (rule.kind !== '*' && rule.kind !== ref.kind) return false;
  if (rule.name !== undefined && rule.name !== '' && rule.name !== ref.name) return false;
  if (rule.namespace !== undefined && rule.namespace !== '' && rule.namespace !== (ref.namespace ?? ''))
    return false;
  return true;
}

function applyIgnores(obj: KubeObject, rules: IgnoreDifference[]): void {
  for (const rule of rules) {
    for (const p of rule.jsonPointers ?? []) removePointer(obj, p);
    for (const e of rule.jqPathExpressions ?? []) removeJqPath(obj, e);
  }
}

function maskSecret(obj: KubeObject | undefined, other: KubeObject | undefined): void {
  if (obj?.kind !== 'Secret' || groupOf(obj.apiVersion) !== '') return;
  for (const field of ['data', 'stringData']) {
    const data = obj[field];
    if (!isRecord(data)) continue;
    const otherData = other && isRecord(other[field]) ? (other[field] as Record<string, unknown>) : {};
    for (const k of Object.keys(data)) {
      data[k] = k in otherData && otherData[k] !== data[k] ? `${SECRET_MASK}+` : SECRET_MASK;
    }
  }
}

function toYaml(obj: unknown): string {
  return obj === undefined ? '' : stringify(obj, { lineWidth: 0 });
}

function maskChanges(ref: ObjectRef, changes: FieldChange[]): FieldChange[] {
  if (ref.kind !== 'Secret' || groupOf(ref.apiVersion) !== '') return changes;
  return changes.map((c) =>
    c.path.startsWith('data') || c.path.startsWith('stringData')
      ? {
          path: c.path,
          desired: c.desired === undefined ? undefined : `${SECRET_MASK}+`,
          live: c.live === undefined ? undefined : SECRET_MASK,
        }
      : c,
  );
}

/**
 * Compares one desired manifest with its live object. Either may be absent: desired without live is
 * `Missing`, live without desired is `Extra`. Secret values never appear in the result (masked as `++++++++`).
 */
export function diff(
  desired: KubeObject | undefined,
  live: KubeObject | undefined,
  options: DiffOptions = {},
): ResourceDiff {
  const source = desired ?? live;
  if (!source) throw new TypeError('diff() needs a desired or a live object');
  const ref = refOf(source);
  if (desired && live) {
    if (live.metadata?.namespace) ref.namespace = live.metadata.namespace;
    else delete ref.namespace;
  }
  const rules = (options.ignoreDifferences ?? []).filter((r) => matchesIgnore(r, ref));

  if (!live) {
    const d = normalizeDesired(desired!);
    applyIgnores(d, rules);
    maskSecret(d, undefined);
    return { ref, status: 'Missing', changes: [], diff: unifiedDiff('', toYaml(d)) };
  }
  if (!desired) {
    const l = normalizeLive(live);
    maskSecret(l, undefined);
    return { ref, status: 'Extra', changes: [], diff: unifiedDiff(toYaml(l), '') };
  }

  const d = normalizeDesired(desired);
  const l = clone(live);
  // The namespace only matched the objects; a cluster-scoped kind has none live (Argo CD drops it too).
  if (isRecord(d.metadata)) {
    if (l.metadata?.namespace) d.metadata.namespace = l.metadata.namespace;
    else delete d.metadata.namespace;
  }
  applyIgnores(d, rules);
  applyIgnores(l, rules);
  const changes: FieldChange[] = [];
  const projected = (compare(d, l, [], changes) ?? {}) as Record<string, unknown>;

  // Fields Slipway applied before but the manifest no longer sets: server-side apply would remove them.
  const removed = ownedPaths(l, options.fieldManager ?? 'slipway')
    .filter((p) => !lookup(d, p).found && lookup(l, p).found)
    .filter((p) => !(p[0] === 'metadata' && (p[1] === 'name' || p[1] === 'namespace')));
  const reported = changes.map((c) => c.path);
  for (const p of removed) {
    const key = formatPath(p);
    // A list whose length changed is already reported as a whole.
    if (reported.some((r) => key === r || key.startsWith(`${r}.`) || key.startsWith(`${r}[`))) continue;
    const value = lookup(l, p).value;
    changes.push({ path: key, desired: undefined, live: value });
    reported.push(key);
    setIn(projected, p, clone(value));
  }

  if (changes.length === 0) return { ref, status: 'Synced', changes: [], diff: '' };
  const liveView = projected as KubeObject;
  const desiredView = clone(d);
  maskSecret(desiredView, liveView);
  maskSecret(liveView, undefined);
  return {
    ref,
    status: 'OutOfSync',
    changes: maskChanges(ref, changes),
    diff: unifiedDiff(toYaml(liveView), toYaml(desiredView)),
  };
}

/**
 * Diffs a set of desired manifests against the live objects: every desired object gets a result (Synced,
 * OutOfSync or Missing), and every live object that no desired one names gets `Extra`. Objects are matched by
 * group, kind, namespace and name; a desired object without a namespace matches a live one of any namespace
 * when that is unambiguous.
 */
export function diffAll(
  desired: KubeObject[],
  live: KubeObject[],
  options: DiffOptions = {},
): ResourceDiff[] {
  const liveByKey = new Map<string, KubeObject>();
  for (const obj of live) liveByKey.set(refKey(refOf(obj)), obj);
  const used = new Set<string>();
  const results: ResourceDiff[] = [];
  for (const d of desired) {
    const ref = refOf(d);
    let key = refKey(ref);
    let match = liveByKey.get(key);
    if (!match) {
      // A desired object without a namespace, or a cluster-scoped one given a namespace anyway.
      const candidates = [...liveByKey.entries()].filter(
        ([k, o]) =>
          !used.has(k) &&
          groupOf(o.apiVersion) === groupOf(ref.apiVersion) &&
          o.kind === ref.kind &&
          o.metadata.name === ref.name &&
          (!ref.namespace || !o.metadata.namespace),
      );
      if (candidates.length === 1) [key, match] = candidates[0]!;
    }
    if (match) used.add(key);
    results.push(diff(d, match, options));
  }
  for (const [key, obj] of liveByKey) if (!used.has(key)) results.push(diff(undefined, obj, options));
  return results;
}
