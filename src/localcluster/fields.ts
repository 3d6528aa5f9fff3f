// Field ownership (managedFields, FieldsV1) and server-side apply (pure).
import { applyStrategicMergePatch, mergeKeyFor } from './patch.ts';
import { KubeError } from './status.ts';
import { isObject, type JsonObject, type KubeObject, type ManagedFieldsEntry } from './types.ts';

const SEP = '\u0000';
const SET_LISTS = new Set(['finalizers']);
const SKIP_TOP = new Set(['apiVersion', 'kind']);
const SKIP_META = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'generation',
  'managedFields',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
]);
const DOT_MAPS = new Set(['labels', 'annotations', 'matchLabels', 'nodeSelector']);

/** Leaf paths (and `.` markers) of every field set in `obj`. */
export function fieldSet(obj: unknown, subtree?: string): Set<string> {
  const out = new Set<string>();
  if (!isObject(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    if (SKIP_TOP.has(k)) continue;
    if (subtree && k !== subtree) continue;
    if (k === 'metadata' && isObject(v)) {
      for (const [mk, mv] of Object.entries(v)) {
        if (SKIP_META.has(mk)) continue;
        walk(mv, `f:metadata${SEP}f:${mk}`, mk, out);
      }
      continue;
    }
    walk(v, `f:${k}`, k, out);
  }
  return out;
}

const MISSING = Symbol('missing');

/**
 * Adds the paths of `value` to `out`; with `changed`, also the paths whose value differs from `old`
 * (the same field in the previous object, or MISSING).
 */
function walk(
  value: unknown,
  path: string,
  field: string,
  out: Set<string>,
  old: unknown = MISSING,
  changed?: Set<string>,
): void {
  if (value === null || value === undefined) return;
  if (isObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) {
      out.add(path);
      if (changed && !isObject(old)) changed.add(path);
      return;
    }
    const o = isObject(old) ? old : undefined;
    if (DOT_MAPS.has(field)) {
      out.add(`${path}${SEP}.`);
      if (changed && !o) changed.add(`${path}${SEP}.`);
    }
    for (const [k, v] of entries)
      walk(v, `${path}${SEP}f:${k}`, k, out, o && k in o ? o[k] : MISSING, changed);
    return;
  }
  if (Array.isArray(value)) {
    const oldList = Array.isArray(old) ? old : undefined;
    if (SET_LISTS.has(field) && value.every((x) => typeof x === 'string')) {
      for (const x of value) {
        const p = `${path}${SEP}v:${JSON.stringify(x)}`;
        out.add(p);
        if (changed && !oldList?.includes(x)) changed.add(p);
      }
      return;
    }
    const key = value.length > 0 && value.every(isObject) ? mergeKeyFor(field, value) : undefined;
    if (key && value.every((x) => isObject(x) && x[key] !== undefined)) {
      for (const item of value as Record<string, unknown>[]) {
        const id =
          key === 'containerPort'
            ? { containerPort: item[key], protocol: item.protocol ?? 'TCP' }
            : { [key]: item[key] };
        const ipath = `${path}${SEP}k:${JSON.stringify(id)}`;
        out.add(`${ipath}${SEP}.`);
        const oldItem = changed
          ? oldList?.find(
              (x) =>
                isObject(x) &&
                x[key] === item[key] &&
                (key !== 'containerPort' || (x.protocol ?? 'TCP') === (item.protocol ?? 'TCP')),
            )
          : undefined;
        if (changed && !oldItem) changed.add(`${ipath}${SEP}.`);
        for (const [k, v] of Object.entries(item))
          walk(
            v,
            `${ipath}${SEP}f:${k}`,
            k,
            out,
            isObject(oldItem) && k in oldItem ? oldItem[k] : MISSING,
            changed,
          );
      }
      return;
    }
  }
  out.add(path);
  if (changed && (old === MISSING || !sameValue(old, value))) changed.add(path);
}

/** Paths of `next` (optionally only `subtree`) and those among them that differ from `old`. */
function diffFields(
  old: unknown,
  next: unknown,
  subtree?: string,
): { all: Set<string>; changed: Set<string> } {
  const all = new Set<string>();
  const changed = new Set<string>();
  if (!isObject(next)) return { all, changed };
  const o = isObject(old) ? old : {};
  for (const [k, v] of Object.entries(next)) {
    if (SKIP_TOP.has(k)) continue;
    if (subtree && k !== subtree) continue;
    if (k === 'metadata' && isObject(v)) {
      const om = isObject(o.metadata) ? o.metadata : {};
      for (const [mk, mv] of Object.entries(v)) {
        if (SKIP_META.has(mk)) continue;
        walk(mv, `f:metadata${SEP}f:${mk}`, mk, all, mk in om ? om[mk] : MISSING, changed);
      }
      continue;
    }
    walk(v, `f:${k}`, k, all, k in o ? o[k] : MISSING, changed);
  }
  return { all, changed };
}

/** FieldsV1 JSON from a flat set. */
export function toFieldsV1(set: Set<string>): JsonObject {
  const root: JsonObject = {};
  for (const p of [...set].sort()) {
    let cur = root;
    for (const seg of p.split(SEP)) {
      let next = cur[seg];
      if (!isObject(next)) cur[seg] = next = {};
      cur = next as JsonObject;
    }
  }
  return root;
}

/** Flat set from FieldsV1 JSON. */
export function fromFieldsV1(fields: unknown, prefix = ''): Set<string> {
  const out = new Set<string>();
  const rec = (node: unknown, path: string) => {
    if (!isObject(node)) return;
    const keys = Object.keys(node);
    if (keys.length === 0 && path) {
      out.add(path);
      return;
    }
    for (const k of keys) rec(node[k], path ? `${path}${SEP}${k}` : k);
  };
  rec(fields, prefix);
  return out;
}

const keyCache = new Map<string, Record<string, unknown>>();
function parseKey(seg: string): Record<string, unknown> {
  let v = keyCache.get(seg);
  if (!v) {
    v = JSON.parse(seg.slice(2)) as Record<string, unknown>;
    if (keyCache.size > 10_000) keyCache.clear();
    keyCache.set(seg, v);
  }
  return v;
}

/** The value at a flat path, or undefined. */
export function valueAt(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const seg of path.split(SEP)) {
    if (seg === '.') return cur;
    if (seg.startsWith('f:')) {
      if (!isObject(cur)) return undefined;
      cur = cur[seg.slice(2)];
    } else if (seg.startsWith('k:')) {
      if (!Array.isArray(cur)) return undefined;
      const id = parseKey(seg);
      cur = cur.find(
        (x) =>
          isObject(x) &&
          Object.entries(id).every(([k, v]) => (x[k] ?? (k === 'protocol' ? 'TCP' : undefined)) === v),
      );
    } else if (seg.startsWith('v:')) {
      if (!Array.isArray(cur)) return undefined;
      const v = JSON.parse(seg.slice(2)) as unknown;
      return cur.includes(v) ? v : undefined;
    } else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isObject(a) && isObject(b) && Object.keys(b).length === 0) return true;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `.spec.template.spec.containers[name="web"].image` for messages. */
export function describePath(path: string): string {
  let out = '';
  for (const seg of path.split(SEP)) {
    if (seg === '.') continue;
    if (seg.startsWith('f:')) out += `.${seg.slice(2)}`;
    else if (seg.startsWith('k:')) {
      const id = JSON.parse(seg.slice(2)) as Record<string, unknown>;
      out += `[${Object.entries(id)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    } else if (seg.startsWith('v:')) out += `[${seg.slice(2)}]`;
  }
  return out;
}

/** Removes the field at `path` from `obj` (mutates). */
function removeAt(obj: unknown, path: string): void {
  const segs = path.split(SEP);
  if (segs[segs.length - 1] === '.') segs.pop();
  let cur: unknown = obj;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i] as string;
    const last = i === segs.length - 1;
    if (seg.startsWith('f:')) {
      if (!isObject(cur)) return;
      if (last) {
        delete cur[seg.slice(2)];
        return;
      }
      cur = cur[seg.slice(2)];
    } else if (seg.startsWith('k:') || seg.startsWith('v:')) {
      if (!Array.isArray(cur)) return;
      const list = cur;
      let idx: number;
      if (seg.startsWith('v:')) idx = list.indexOf(JSON.parse(seg.slice(2)));
      else {
        const id = JSON.parse(seg.slice(2)) as Record<string, unknown>;
        idx = list.findIndex(
          (x) =>
            isObject(x) &&
            Object.entries(id).every(([k, v]) => (x[k] ?? (k === 'protocol' ? 'TCP' : undefined)) === v),
        );
      }
      if (idx < 0) return;
      if (last) {
        list.splice(idx, 1);
        return;
      }
      cur = list[idx];
    } else return;
  }
}

interface Manager {
  entry: ManagedFieldsEntry;
  set: Set<string>;
  /** The set changed: fieldsV1 must be rebuilt. */
  dirty?: boolean;
}

function managersOf(obj: KubeObject | undefined): Manager[] {
  return (obj?.metadata.managedFields ?? []).map((entry) => ({
    entry,
    set: fromFieldsV1(entry.fieldsV1),
    dirty: false,
  }));
}

function leaves(set: Set<string>): string[] {
  return [...set].filter((p) => !p.endsWith(`${SEP}.`));
}

function sameManager(
  e: ManagedFieldsEntry,
  manager: string,
  operation: string,
  subresource: string | undefined,
) {
  return e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '');
}

function serialize(managers: Manager[]): ManagedFieldsEntry[] {
  return managers
    .filter((m) => m.set.size > 0)
    .map((m) => (m.dirty ? { ...m.entry, fieldsV1: toFieldsV1(m.set) } : m.entry));
}

/** Recomputes managedFields after a non-apply write by `manager`. */
export function trackUpdate(
  old: KubeObject | undefined,
  next: KubeObject,
  manager: string,
  apiVersion: string,
  time: string,
  subresource?: string,
): ManagedFieldsEntry[] {
  const subtree = subresource === 'status' ? 'status' : undefined;
  const { all: nextSet, changed } = diffFields(old, next, subtree);
  const managers = managersOf(old);
  for (const m of managers) {
    for (const p of m.set) {
      if (changed.has(p)) {
        m.set.delete(p);
        m.dirty = true;
      } else if (
        (!subtree || p.startsWith(`f:${subtree}`)) &&
        !nextSet.has(p) &&
        valueAt(next, p) === undefined
      ) {
        m.set.delete(p);
        m.dirty = true;
      }
    }
  }
  if (changed.size > 0) {
    let mine = managers.find((m) => sameManager(m.entry, manager, 'Update', subresource));
    if (!mine) {
      mine = {
        entry: {
          manager,
          operation: 'Update',
          apiVersion,
          time,
          fieldsType: 'FieldsV1',
          fieldsV1: {},
          ...(subresource ? { subresource } : {}),
        },
        set: new Set(),
        dirty: true,
      };
      managers.push(mine);
    }
    mine.entry = { ...mine.entry, time, apiVersion };
    for (const p of changed) {
      if (mine.set.has(p)) continue;
      mine.set.add(p);
      mine.dirty = true;
    }
  }
  return serialize(managers);
}

export interface ApplyResult {
  object: KubeObject;
  managedFields: ManagedFieldsEntry[];
}

/** Server-side apply of `config` by `manager` onto `live` (undefined when creating). */
export function serverSideApply(
  live: KubeObject | undefined,
  config: KubeObject,
  manager: string,
  force: boolean,
  apiVersion: string,
  time: string,
  subresource?: string,
): ApplyResult {
  const base: KubeObject = live ? structuredClone(live) : { metadata: {} };
  const applied = fieldSet(config, subresource === 'status' ? 'status' : undefined);
  const managers = managersOf(live);
  const mine = managers.find((m) => sameManager(m.entry, manager, 'Apply', subresource));
  const conflicts: { manager: string; path: string }[] = [];
  // Like the API server's last-applied manager: an object last written by client-side apply (with its
  // last-applied annotation) may be taken over by server-side apply without conflicts.
  const csaUpgrade =
    live?.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] !== undefined;
  for (const m of managers) {
    if (m === mine) continue;
    if (
      csaUpgrade &&
      (m.entry.manager === 'kubectl-client-side-apply' || m.entry.manager === 'before-first-apply')
    ) {
      for (const p of leaves(applied)) if (m.set.delete(p)) m.dirty = true;
      continue;
    }
    for (const p of leaves(applied)) {
      if (m.set.has(p) && !sameValue(valueAt(base, p), valueAt(config, p)))
        conflicts.push({ manager: m.entry.manager, path: p });
    }
  }
  if (conflicts.length > 0 && !force) {
    const causes = conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${c.manager}"`,
      field: describePath(c.path),
    }));
    const lines = conflicts.map((c) => `conflict with "${c.manager}": ${describePath(c.path)}`);
    const message =
      conflicts.length === 1
        ? `Apply failed with 1 conflict: ${lines[0]}`
        : `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
    throw new KubeError(409, 'Conflict', message, { causes });
  }
  if (force)
    for (const c of conflicts)
      for (const m of managers) if (m !== mine && m.set.delete(c.path)) m.dirty = true;
  const cfg = structuredClone(config) as Record<string, unknown>;
  const cfgMeta = isObject(cfg.metadata) ? { ...cfg.metadata } : {};
  for (const k of SKIP_META) if (k !== 'name' && k !== 'namespace') delete cfgMeta[k];
  cfg.metadata = cfgMeta;
  const merged = applyStrategicMergePatch(base, cfg) as KubeObject;
  // Fields this manager applied before but not now, owned by nobody else, are removed.
  if (mine) {
    const others = new Set<string>();
    for (const m of managers) if (m !== mine) for (const p of m.set) others.add(p);
    for (const p of mine.set) {
      if (applied.has(p) || others.has(p)) continue;
      if ([...applied].some((a) => a.startsWith(`${p}${SEP}`))) continue;
      removeAt(merged, p);
    }
  }
  const entry: ManagedFieldsEntry = {
    manager,
    operation: 'Apply',
    apiVersion,
    time,
    fieldsType: 'FieldsV1',
    fieldsV1: {},
    ...(subresource ? { subresource } : {}),
  };
  if (mine) {
    mine.entry = entry;
    mine.set = applied;
    mine.dirty = true;
  } else managers.push({ entry, set: applied, dirty: true });
  return { object: merged, managedFields: serialize(managers) };
}
