// Value conversions Sprig relies on: spf13/cast's ToInt64/ToFloat64, Sprig's strval/strslice/empty.
import { formatValue } from '../fmt.ts';
import { parseGoInt } from '../parser.ts';
import { GoInt64, isGoMap, typeName, utf8Decode } from '../value.ts';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** Go's int64(f) conversion of a float (truncation; out-of-range gives Go's amd64 result, the min int64). */
export function floatToInt64(f: number): bigint {
  if (!Number.isFinite(f) || Number.isNaN(f)) return INT64_MIN;
  const t = BigInt(Math.trunc(f));
  if (t > INT64_MAX || t < INT64_MIN) return INT64_MIN;
  return t;
}

/** Wraps a bigint to int64 like Go's overflow. */
export function wrapInt64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

function trimZeroDecimal(s: string): string {
  let foundZero = false;
  for (let i = s.length; i > 0; i--) {
    const c = s[i - 1];
    if (c === '.') {
      if (foundZero) return s.slice(0, i - 1);
    } else if (c === '0') foundZero = true;
    else return s;
  }
  return s;
}

/** cast.ToInt64: numbers, numeric strings (Go syntax, base prefixes), bools; anything else is 0. */
export function toInt64(v: unknown): bigint {
  switch (typeof v) {
    case 'bigint':
      return v;
    case 'object':
      return v instanceof GoInt64 ? v.value : 0n;
    case 'number':
      return floatToInt64(v);
    case 'boolean':
      return v ? 1n : 0n;
    case 'string': {
      const n = parseGoInt(trimZeroDecimal(v));
      if (n === undefined || n > INT64_MAX || n < INT64_MIN) return 0n;
      return n;
    }
    default:
      return 0n;
  }
}

/** cast.ToFloat64. */
export function toFloat64(v: unknown): number {
  switch (typeof v) {
    case 'bigint':
      return Number(v);
    case 'object':
      return v instanceof GoInt64 ? Number(v.value) : 0;
    case 'number':
      return v;
    case 'boolean':
      return v ? 1 : 0;
    case 'string': {
      const f = parseGoFloatLoose(v);
      return f ?? 0;
    }
    default:
      return 0;
  }
}

/** strconv.ParseFloat(s, 64) for decimal and special forms. */
export function parseGoFloatLoose(s: string): number | undefined {
  const t = s.replace(/_/g, '');
  if (/^[+-]?(inf|infinity)$/i.test(t))
    return t.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (/^nan$/i.test(t)) return Number.NaN;
  if (/^[+-]?0[xX]/.test(t)) {
    const i = parseGoInt(t);
    return i === undefined ? undefined : Number(i);
  }
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(t)) return undefined;
  return Number(t);
}

/** Sprig's strval: strings as they are, byte slices decoded, errors and Stringers by their text, else %v. */
export function strval(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return utf8Decode(v);
  if (v instanceof Error) return v.message;
  return formatValue(v);
}

/** Sprig's strslice: a list's non-nil elements as strings; a non-list as a one-element list. */
export function strslice(v: unknown): string[] {
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const s of v) if (s !== null && s !== undefined) out.push(strval(s));
    return out;
  }
  if (v === null || v === undefined) return [];
  return [strval(v)];
}

/** Sprig's empty: Go zero values, empty collections and nil are empty; structs never are. */
export function isEmpty(v: unknown): boolean {
  switch (typeof v) {
    case 'undefined':
      return true;
    case 'string':
      return v.length === 0;
    case 'boolean':
      return !v;
    case 'number':
      return v === 0;
    case 'bigint':
      return v === 0n;
    case 'object':
      if (v === null) return true;
      if (v instanceof GoInt64) return v.value === 0n;
      if (Array.isArray(v) || v instanceof Uint8Array) return v.length === 0;
      if (v instanceof Map) return v.size === 0;
      if (isGoMap(v)) {
        for (const _ in v) return false;
        return true;
      }
      return false;
    default:
      return false;
  }
}

/** reflect.Value.Kind().String() of a value, as Sprig's kindOf returns it. */
export function kindName(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return 'float64';
    case 'bigint':
      return 'int';
    case 'function':
      return 'func';
    case 'object':
      if (v === null) return 'invalid';
      if (v instanceof GoInt64) return 'int64';
      if (Array.isArray(v) || v instanceof Uint8Array) return 'slice';
      if (isGoMap(v)) return 'map';
      if (v instanceof Date) return 'struct';
      return typeName(v).startsWith('*') ? 'ptr' : 'struct';
    default:
      return 'invalid';
  }
}

/** reflect.DeepEqual for template values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return a === b;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  // int and int64 differ for reflect.DeepEqual even with one value.
  if (a instanceof GoInt64) return b instanceof GoInt64 && a.value === b.value;
  if (isGoMap(a)) {
    if (!isGoMap(b)) return false;
    const ea = a instanceof Map ? [...a.entries()] : Object.entries(a);
    const mb = b instanceof Map ? b : new Map(Object.entries(b));
    if (ea.length !== mb.size) return false;
    for (const [k, v] of ea) {
      if (!mb.has(k) || !deepEqual(v, mb.get(k))) return false;
    }
    return true;
  }
  if (typeof a === 'object' && typeof b === 'object') {
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

/** A deep copy of maps, lists and byte slices (copystructure.Copy). */
export function deepCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(deepCopy);
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (v instanceof Map) return new Map([...v.entries()].map(([k, x]) => [k, deepCopy(x)]));
  if (isGoMap(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = deepCopy(x);
    return out;
  }
  if (v instanceof Date) return new Date(v.getTime());
  return v;
}

/** A Go panic-style error for the non-must variants of Sprig functions. */
export function fail(message: string): never {
  throw new Error(message);
}
