// Helm's values algebra (pkg/chartutil/coalesce.go, values.go, pkg/cli/values/options.go): user values over
// chart defaults, `null` deleting a default, `global` copied into every sub-chart, maps merged, the rest replaced.
import type { ChartMetadata } from './chart.ts';
import { GoInt64 } from '../template/index.ts';

export type Dict = Record<string, unknown>;

/** A chart being rendered: its (possibly aliased) metadata, its current values and its enabled sub-charts. */
export interface ValuesNode {
  metadata: ChartMetadata;
  values: Dict;
  deps: ValuesNode[];
}

export function isTable(v: unknown): v is Dict {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array) &&
    !(v instanceof GoInt64)
  );
}

/** Deep copy of plain data (maps, lists, scalars). */
export function deepCopy<T>(v: T): T {
  if (Array.isArray(v)) return v.map(deepCopy) as T;
  if (isTable(v)) {
    const out: Dict = {};
    for (const [k, val] of Object.entries(v)) out[k] = deepCopy(val);
    return out as T;
  }
  return v;
}

/** `-f` files are merged with this (later wins, maps merge, `null` kept so coalescing can delete). */
export function mergeMaps(a: Dict, b: Dict): Dict {
  const out: Dict = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (isTable(v)) {
      const bv = out[k];
      if (isTable(bv)) {
        out[k] = mergeMaps(bv, v);
        continue;
      }
    }
    out[k] = v;
  }
  return out;
}

/** Helm's CoalesceValues: the chart's values (and its sub-charts') under `vals`; `null` in `vals` deletes. */
export function coalesceValues(node: ValuesNode, vals: Dict | undefined): Dict {
  return coalesce(node, deepCopy(vals ?? {}), false);
}

/** Helm's MergeValues: like coalesceValues but `null` values are kept. */
export function mergeValues(node: ValuesNode, vals: Dict | undefined): Dict {
  return coalesce(node, deepCopy(vals ?? {}), true);
}

function coalesce(node: ValuesNode, dest: Dict, merge: boolean): Dict {
  coalesceChartValues(node, dest, merge);
  return coalesceDeps(node, dest, merge);
}

function coalesceDeps(node: ValuesNode, dest: Dict, merge: boolean): Dict {
  for (const sub of node.deps) {
    const name = sub.metadata.Name;
    if (!(name in dest)) dest[name] = {};
    else if (!isTable(dest[name])) {
      throw new Error(`type mismatch on ${name}: ${String(dest[name])}`);
    }
    const dv = dest[name] as Dict;
    coalesceGlobals(dv, dest);
    dest[name] = coalesce(sub, dv, merge);
  }
  return dest;
}

function coalesceGlobals(dest: Dict, src: Dict): void {
  let dg: Dict;
  let sg: Dict;
  if (!('global' in dest)) dg = {};
  else if (isTable(dest.global)) dg = dest.global;
  else return;
  if (!('global' in src)) sg = {};
  else if (isTable(src.global)) sg = src.global;
  else return;
  for (const [key, val] of Object.entries(sg)) {
    if (isTable(val)) {
      const vv = deepCopy(val);
      if (!(key in dg)) dg[key] = vv;
      else {
        const destv = dg[key];
        if (isTable(destv)) {
          coalesceTables(vv, destv, true);
          dg[key] = vv;
        }
      }
    } else if (key in dg && isTable(dg[key])) {
      // a table in the sub-chart is not replaced by a scalar
    } else {
      dg[key] = val;
    }
  }
  dest.global = dg;
}

function coalesceChartValues(node: ValuesNode, v: Dict, merge: boolean): void {
  const vc = deepCopy(node.values);
  for (const [key, val] of Object.entries(vc)) {
    if (key in v) {
      const value = v[key];
      if (value === null && !merge) {
        delete v[key];
      } else if (isTable(value)) {
        if (isTable(val)) {
          const childMerge = node.deps.some((d) => d.metadata.Name === key) ? true : merge;
          coalesceTables(value, val, childMerge);
        }
      }
    } else {
      v[key] = val;
    }
  }
}

/**
 * Merges `src` into `dst` (dst wins). With `merge` false a `null` in dst deletes the key; with true it stays.
 * Returns dst.
 */
export function coalesceTables(dst: Dict | undefined, src: Dict | undefined, merge = false): Dict {
  if (src === undefined) return dst ?? {};
  if (dst === undefined) return src;
  for (const [key, val] of Object.entries(dst)) {
    if (val === null) src[key] = null;
  }
  for (const [key, val] of Object.entries(src)) {
    const has = key in dst;
    const dv = dst[key];
    if (has && !merge && dv === null) {
      delete dst[key];
    } else if (!has) {
      dst[key] = val;
    } else if (isTable(val)) {
      if (isTable(dv)) coalesceTables(dv, val, merge);
    }
  }
  return dst;
}

/** Removes keys whose value is null, recursively (Helm's trimNilValues). */
export function trimNilValues(v: Dict): Dict {
  const out: Dict = {};
  for (const [k, val] of Object.entries(v)) {
    if (val === null) continue;
    out[k] = isTable(val) ? trimNilValues(val) : val;
  }
  return out;
}

/** Helm's Values.Table: the map at a dotted path, or undefined. */
export function table(v: Dict, path: string): Dict | undefined {
  if (path === '') return v;
  let cur: unknown = v;
  for (const part of path.split('.')) {
    if (!isTable(cur)) return undefined;
    cur = cur[part];
  }
  return isTable(cur) ? cur : undefined;
}

/** Helm's Values.PathValue: a non-table value at a dotted path, or undefined when there is none. */
export function pathValue(v: Dict, path: string): { found: boolean; value: unknown } {
  if (path === '') return { found: false, value: undefined };
  const parts = path.split('.');
  const key = parts.pop()!;
  const t = parts.length === 0 ? v : table(v, parts.join('.'));
  if (!t || !(key in t) || isTable(t[key])) return { found: false, value: undefined };
  return { found: true, value: t[key] };
}

/** Builds `{a: {b: data}}` from `a.b` (Helm's pathToMap; `.` gives data itself). */
export function pathToMap(path: string, data: Dict): Dict {
  if (path === '.') return data;
  const parts = path.split('.').filter((p) => p !== '');
  let out: Dict = data;
  for (let i = parts.length - 1; i >= 0; i--) out = { [parts[i]!]: out };
  return out;
}
