// Sprig's list and dict functions, including mergo's merge semantics for merge/mergeOverwrite.
import type { TemplateFunction } from '../signature.ts';
import { isGoMap, typeName, typedSlice } from '../value.ts';
import { deepCopy, deepEqual, isEmpty, kindName, strval, toInt64 } from './convert.ts';
import { sig } from './strings.ts';

type Dict = Record<string, unknown>;

function listOf(v: unknown): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  // reflect.TypeOf(nil).Kind() panics in Go.
  if (v === null || v === undefined)
    throw new Error('runtime error: invalid memory address or nil pointer dereference');
  if (v instanceof Uint8Array) return [...v].map((b) => BigInt(b));
  return undefined;
}

function kindForError(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  return typeName(v);
}

/** Runs a must-function and turns its error into a panic-like error (the non-must variant). */
function mustPair(
  name: string,
  impl: (...a: never[]) => unknown,
  params: Parameters<typeof sig>[0],
  variadic?: Parameters<typeof sig>[1],
) {
  return {
    [name]: sig(params, variadic)(impl),
    [`must${name[0]!.toUpperCase()}${name.slice(1)}`]: sig(params, variadic)(impl),
  };
}

function toDict(v: unknown): Dict {
  if (v instanceof Map) return Object.fromEntries(v) as Dict;
  return v as Dict;
}

function mergeInto(dst: Dict, src: Dict, overwrite: boolean): void {
  for (const key of Object.keys(src)) {
    const s = src[key];
    const has = Object.hasOwn(dst, key);
    if (s === null || s === undefined) {
      // mergo skips nil sources, except that overwriting copies them.
      if (overwrite) dst[key] = null;
      continue;
    }
    const d = has ? dst[key] : undefined;
    if (isGoMap(s) && has && isGoMap(d)) {
      mergeInto(toDict(d), toDict(s), overwrite);
      continue;
    }
    if (overwrite || !has || isEmpty(d)) dst[key] = s;
  }
}

function dig(dict: Dict, def: unknown, keys: string[]): unknown {
  const [k, ...rest] = keys;
  if (k === undefined || !Object.hasOwn(dict, k)) return def;
  const step = dict[k];
  if (rest.length === 0) return step;
  if (!isGoMap(step)) {
    throw new Error(
      `interface conversion: interface {} is ${kindForError(step)}, not map[string]interface {}`,
    );
  }
  return dig(toDict(step), def, rest);
}

function untilStep(start: bigint, stop: bigint, step: bigint): bigint[] {
  const out: bigint[] = [];
  if (stop < start) {
    if (step >= 0n) return out;
    for (let i = start; i > stop; i += step) out.push(i);
    return out;
  }
  if (step <= 0n) return out;
  for (let i = start; i < stop; i += step) out.push(i);
  return out;
}

function seq(...params: unknown[]): string {
  const p = params.map((x) => x as bigint);
  let list: bigint[];
  switch (p.length) {
    case 1: {
      const end = p[0]!;
      const inc = end < 1n ? -1n : 1n;
      list = untilStep(1n, end + inc, inc);
      break;
    }
    case 2: {
      const [start, end] = [p[0]!, p[1]!];
      const step = end < start ? -1n : 1n;
      list = untilStep(start, end + step, step);
      break;
    }
    case 3: {
      const [start, step, end] = [p[0]!, p[1]!, p[2]!];
      let inc = 1n;
      if (end < start) {
        inc = -1n;
        if (step > 0n) return '';
      }
      list = untilStep(start, end + inc, step);
      break;
    }
    default:
      return '';
  }
  return list.join(' ');
}

export function collectionFunctions(): Record<string, TemplateFunction> {
  const listFn = sig([], 'any')((...v: unknown[]) => v.map((x) => (x === undefined ? null : x)));
  const appendFn = (list: unknown, v: unknown): unknown[] => {
    const l = listOf(list);
    if (!l) throw new Error(`Cannot push on type ${kindName(list)}`);
    return [...l, v];
  };
  const prependFn = (list: unknown, v: unknown): unknown[] => {
    const l = listOf(list);
    if (!l) throw new Error(`Cannot prepend on type ${kindName(list)}`);
    return [v, ...l];
  };
  const mergeFn = (overwrite: boolean) =>
    sig(
      ['map'],
      'map',
    )((dst: unknown, ...srcs: unknown[]) => {
      const d = (dst ?? {}) as Dict;
      for (const s of srcs) if (s !== null && s !== undefined) mergeInto(toDict(d), toDict(s), overwrite);
      return d;
    });
  return {
    list: listFn,
    tuple: listFn,
    ...mustPair('append', appendFn, ['any', 'any']),
    ...mustPair('push', appendFn, ['any', 'any']),
    ...mustPair('prepend', prependFn, ['any', 'any']),
    ...mustPair(
      'first',
      (list: unknown) => {
        const l = listOf(list);
        if (!l) throw new Error(`Cannot find first on type ${kindName(list)}`);
        return l.length === 0 ? null : l[0];
      },
      ['any'],
    ),
    ...mustPair(
      'last',
      (list: unknown) => {
        const l = listOf(list);
        if (!l) throw new Error(`Cannot find last on type ${kindName(list)}`);
        return l.length === 0 ? null : l[l.length - 1];
      },
      ['any'],
    ),
    ...mustPair(
      'rest',
      (list: unknown) => {
        const l = listOf(list);
        if (!l) throw new Error(`Cannot find rest on type ${kindName(list)}`);
        // A nil []interface{} prints as [].
        return l.length === 0 ? [] : l.slice(1);
      },
      ['any'],
    ),
    ...mustPair(
      'initial',
      (list: unknown) => {
        const l = listOf(list);
        if (!l) throw new Error(`Cannot find initial on type ${kindName(list)}`);
        return l.length === 0 ? [] : l.slice(0, -1);
      },
      ['any'],
    ),
    ...mustPair(
      'reverse',
      (list: unknown) => {
        const l = listOf(list);
        if (!l) throw new Error(`Cannot find reverse on type ${kindName(list)}`);
        return [...l].reverse();
      },
      ['any'],
    ),
    ...mustPair(
      'uniq',
      (list: unknown) => {
        const l = listOf(list);
        if (!l) throw new Error(`Cannot find uniq on type ${kindName(list)}`);
        const out: unknown[] = [];
        for (const x of l) if (!out.some((y) => deepEqual(x, y))) out.push(x);
        return out;
      },
      ['any'],
    ),
    ...mustPair(
      'compact',
      (list: unknown) => {
        const l = listOf(list);
        if (!l) throw new Error(`Cannot compact on type ${kindName(list)}`);
        return l.filter((x) => !isEmpty(x));
      },
      ['any'],
    ),
    ...mustPair(
      'without',
      (list: unknown, ...omit: unknown[]) => {
        const l = listOf(list);
        if (!l) throw new Error(`Cannot find without on type ${kindName(list)}`);
        return l.filter((x) => !omit.some((o) => deepEqual(x, o)));
      },
      ['any'],
      'any',
    ),
    ...mustPair(
      'has',
      (needle: unknown, haystack: unknown) => {
        if (haystack === null || haystack === undefined) return false;
        if (!Array.isArray(haystack) && !(haystack instanceof Uint8Array))
          throw new Error(`Cannot find has on type ${kindName(haystack)}`);
        const l = listOf(haystack);
        if (!l) throw new Error(`Cannot find has on type ${kindName(haystack)}`);
        return l.some((x) => deepEqual(x, needle));
      },
      ['any', 'any'],
    ),
    ...mustPair(
      'slice',
      (list: unknown, ...indices: unknown[]) => {
        const l = listOf(list);
        if (!l) throw new Error(`list should be type of slice or array but ${kindName(list)}`);
        if (l.length === 0) return null;
        const start = indices.length > 0 ? Number(toInt64(indices[0])) : 0;
        const end = indices.length > 1 ? Number(toInt64(indices[1])) : l.length;
        if (start < 0 || end > l.length || start > end)
          throw new Error('reflect.Value.Slice: slice index out of bounds');
        return l.slice(start, end);
      },
      ['any'],
      'any',
    ),
    ...mustPair(
      'chunk',
      (size: unknown, list: unknown) => {
        const l = listOf(list);
        if (!l) throw new Error(`Cannot chunk type ${kindName(list)}`);
        const n = Number(size as bigint);
        if (n <= 0) throw new Error('runtime error: integer divide by zero');
        const out: unknown[][] = [];
        for (let i = 0; i < l.length; i += n) out.push(l.slice(i, i + n));
        return out;
      },
      ['int', 'any'],
    ),
    concat: sig(
      [],
      'any',
    )((...lists: unknown[]) => {
      const out: unknown[] = [];
      for (const l of lists) {
        const x = listOf(l);
        if (!x) throw new Error(`Cannot concat type ${kindName(l)} as list`);
        out.push(...x);
      }
      return out;
    }),
    until: sig(['int'])((count: unknown) => {
      const c = count as bigint;
      return typedSlice(untilStep(0n, c, c < 0n ? -1n : 1n), '[]int');
    }),
    untilStep: sig(['int', 'int', 'int'])((a: unknown, b: unknown, c: unknown) =>
      typedSlice(untilStep(a as bigint, b as bigint, c as bigint), '[]int'),
    ),
    seq: sig([], 'int')(seq),
    // dicts
    dict: sig(
      [],
      'any',
    )((...v: unknown[]) => {
      const d: Dict = {};
      for (let i = 0; i < v.length; i += 2) {
        const key = strval(v[i]);
        d[key] = i + 1 >= v.length ? '' : (v[i + 1] ?? null);
      }
      return d;
    }),
    get: sig(['map', 'string'])((d: unknown, key: string) => {
      const m = toDict(d ?? {});
      return Object.hasOwn(m, key) ? (m[key] ?? null) : '';
    }),
    set: sig(['map', 'string', 'any'])((d: unknown, key: string, value: unknown) => {
      const m = (d ?? {}) as Dict;
      if (m instanceof Map) m.set(key, value);
      else m[key] = value;
      return m;
    }),
    unset: sig(['map', 'string'])((d: unknown, key: string) => {
      const m = (d ?? {}) as Dict;
      if (m instanceof Map) m.delete(key);
      else delete m[key];
      return m;
    }),
    hasKey: sig(['map', 'string'])((d: unknown, key: string) => d !== null && Object.hasOwn(toDict(d), key)),
    pluck: sig(
      ['string'],
      'map',
    )((name: string, ...dicts: unknown[]) => {
      const out: unknown[] = [];
      for (const d of dicts) {
        if (d === null) continue;
        const m = toDict(d);
        if (Object.hasOwn(m, name)) out.push(m[name] ?? null);
      }
      return out;
    }),
    keys: sig(
      [],
      'map',
    )((...dicts: unknown[]) => {
      const out: string[] = [];
      for (const d of dicts) if (d !== null) out.push(...Object.keys(toDict(d)));
      return typedSlice(out, '[]string');
    }),
    values: sig(['map'])((d: unknown) => (d === null ? [] : Object.values(toDict(d)).map((v) => v ?? null))),
    pick: sig(
      ['map'],
      'string',
    )((d: unknown, ...keys: string[]) => {
      const m = toDict(d ?? {});
      const out: Dict = {};
      for (const k of keys) if (Object.hasOwn(m, k)) out[k] = m[k];
      return out;
    }),
    omit: sig(
      ['map'],
      'string',
    )((d: unknown, ...keys: string[]) => {
      const m = toDict(d ?? {});
      const out: Dict = {};
      for (const k of Object.keys(m)) if (!keys.includes(k)) out[k] = m[k];
      return out;
    }),
    dig: sig(
      [],
      'any',
    )((...ps: unknown[]) => {
      if (ps.length < 3) throw new Error('dig needs at least three arguments');
      const dict = ps[ps.length - 1];
      if (!isGoMap(dict)) {
        throw new Error(
          `interface conversion: interface {} is ${kindForError(dict)}, not map[string]interface {}`,
        );
      }
      const keys = ps.slice(0, -2).map((k) => {
        if (typeof k !== 'string')
          throw new Error(`interface conversion: interface {} is ${kindForError(k)}, not string`);
        return k;
      });
      return dig(toDict(dict), ps[ps.length - 2], keys);
    }),
    merge: mergeFn(false),
    mustMerge: mergeFn(false),
    mergeOverwrite: mergeFn(true),
    mustMergeOverwrite: mergeFn(true),
    deepCopy: sig(['any'])((v: unknown) => deepCopy(v)),
    mustDeepCopy: sig(['any'])((v: unknown) => {
      if (v === null || v === undefined) throw new Error('mustDeepCopy: cannot copy nil');
      return deepCopy(v);
    }),
    deepEqual: sig(['any', 'any'])((a: unknown, b: unknown) => deepEqual(a, b)),
  };
}
