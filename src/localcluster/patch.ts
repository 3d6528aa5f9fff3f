// JSON patch (RFC 6902), JSON merge patch (RFC 7386) and Kubernetes strategic merge patch (pure).
import { KubeError } from './status.ts';
import { isObject } from './types.ts';

function patchError(message: string): KubeError {
  return new KubeError(422, 'Invalid', message);
}

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/'))
    throw patchError(
      `the server rejected our request due to an error in our request: invalid JSON pointer "${pointer}"`,
    );
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Applies an RFC 6902 JSON patch to a deep copy of `doc`. */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops))
    throw new KubeError(400, 'BadRequest', 'error decoding patch: json patch must be an array');
  let root = structuredClone(doc);
  const parentOf = (path: string[]): { parent: unknown; key: string } => {
    let cur: unknown = root;
    for (const part of path.slice(0, -1)) {
      if (Array.isArray(cur)) cur = cur[Number(part)];
      else if (isObject(cur)) cur = cur[part];
      else throw patchError(`jsonpatch: path not found: /${path.join('/')}`);
      if (cur === undefined) throw patchError(`doc is missing path: "/${path.join('/')}": missing value`);
    }
    return { parent: cur, key: path[path.length - 1] ?? '' };
  };
  const getAt = (path: string[]): unknown => {
    let cur: unknown = root;
    for (const part of path) {
      if (Array.isArray(cur)) cur = cur[Number(part)];
      else if (isObject(cur)) cur = cur[part];
      else return undefined;
    }
    return cur;
  };
  const remove = (path: string[]): unknown => {
    const { parent, key } = parentOf(path);
    if (Array.isArray(parent)) {
      const idx = Number(key);
      if (!(idx >= 0 && idx < parent.length))
        throw patchError(`unable to remove nonexistent key: ${key}: missing value`);
      return parent.splice(idx, 1)[0];
    }
    if (isObject(parent)) {
      if (!Object.hasOwn(parent, key))
        throw patchError(`unable to remove nonexistent key: ${key}: missing value`);
      const v = parent[key];
      delete parent[key];
      return v;
    }
    throw patchError(`jsonpatch remove operation does not apply: doc is missing path: "/${path.join('/')}"`);
  };
  const add = (path: string[], value: unknown, replace: boolean) => {
    if (path.length === 0) {
      root = value;
      return;
    }
    const { parent, key } = parentOf(path);
    if (Array.isArray(parent)) {
      if (key === '-') parent.push(value);
      else {
        const idx = Number(key);
        if (!(idx >= 0 && idx <= parent.length))
          throw patchError(`add operation does not apply: index out of range`);
        if (replace) parent[idx] = value;
        else parent.splice(idx, 0, value);
      }
    } else if (isObject(parent)) {
      if (replace && !Object.hasOwn(parent, key))
        throw patchError(
          `jsonpatch replace operation does not apply: doc is missing key: /${path.join('/')}: missing value`,
        );
      parent[key] = value;
    } else
      throw patchError(`jsonpatch add operation does not apply: doc is missing path: "/${path.join('/')}"`);
  };
  for (const raw of ops) {
    if (!isObject(raw)) throw new KubeError(400, 'BadRequest', 'error decoding patch: invalid operation');
    const op = String(raw.op);
    const path = decodePointer(String(raw.path ?? ''));
    switch (op) {
      case 'add':
        add(path, structuredClone(raw.value), false);
        break;
      case 'replace':
        add(path, structuredClone(raw.value), true);
        break;
      case 'remove':
        remove(path);
        break;
      case 'move': {
        const v = remove(decodePointer(String(raw.from ?? '')));
        add(path, v, false);
        break;
      }
      case 'copy':
        add(path, structuredClone(getAt(decodePointer(String(raw.from ?? '')))), false);
        break;
      case 'test':
        if (JSON.stringify(getAt(path)) !== JSON.stringify(raw.value))
          throw patchError(`testing value /${path.join('/')} failed: test failed`);
        break;
      default:
        throw new KubeError(400, 'BadRequest', `Unexpected kind: ${op}`);
    }
  }
  return root;
}

/** RFC 7386 merge patch. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

/** Merge keys of lists that strategic merge patch merges by key (by field name; `ports` by content). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  conditions: 'type',
  hostAliases: 'ip',
  ownerReferences: 'uid',
  topologySpreadConstraints: 'topologyKey',
  subsets: '',
  rules: '',
};

/** Primitive lists merged as sets. */
const SET_LISTS = new Set(['finalizers']);

export function mergeKeyFor(field: string, items: unknown[]): string | undefined {
  if (field === 'ports') {
    const first = items.find(isObject);
    if (first && 'containerPort' in first) return 'containerPort';
    return 'port';
  }
  const k = MERGE_KEYS[field];
  return k ? k : undefined;
}

/** Kubernetes strategic merge patch with merge keys, `$patch` and `$deleteFromPrimitiveList` directives. */
export function applyStrategicMergePatch(target: unknown, patch: unknown): unknown {
  return smpMap(isObject(target) ? target : {}, isObject(patch) ? patch : {});
}

function smpMap(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  if (patch.$patch === 'replace') {
    const copy = { ...patch };
    delete copy.$patch;
    return stripDirectives(copy) as Record<string, unknown>;
  }
  if (patch.$patch === 'delete') return {};
  const out: Record<string, unknown> = { ...target };
  const retainKeys = Array.isArray(patch.$retainKeys) ? (patch.$retainKeys as string[]) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) out[field] = cur.filter((x) => !v.includes(x));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (Array.isArray(v)) out[k] = smpList(k, Array.isArray(cur) ? cur : [], v);
    else if (isObject(v)) out[k] = smpMap(isObject(cur) ? cur : {}, v);
    else out[k] = v;
  }
  if (retainKeys)
    for (const k of Object.keys(out)) if (!retainKeys.includes(k) && !(k in patch)) delete out[k];
  return out;
}

function smpList(field: string, target: unknown[], patch: unknown[]): unknown[] {
  if (SET_LISTS.has(field)) {
    const out = [...target];
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  const replaceDirective = patch.find(
    (p) => isObject(p) && p.$patch === 'replace' && Object.keys(p).length === 1,
  );
  if (replaceDirective) return patch.filter((p) => p !== replaceDirective).map(stripDirectives);
  const key = mergeKeyFor(field, [...patch, ...target]);
  if (!key || !patch.every(isObject)) return patch.map(stripDirectives);
  const out = target.map((x) => x);
  for (const item of patch as Record<string, unknown>[]) {
    const id = item[key];
    const idx = out.findIndex(
      (t) => isObject(t) && t[key] === id && (key !== 'containerPort' || sameProtocol(t, item)),
    );
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = smpMap(out[idx] as Record<string, unknown>, item);
    else out.push(stripDirectives(item));
  }
  return out;
}

function sameProtocol(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return (a.protocol ?? 'TCP') === (b.protocol ?? 'TCP') || b.protocol === undefined;
}

function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('$')) continue;
    if (v === null) continue;
    out[k] = stripDirectives(v);
  }
  return out;
}
