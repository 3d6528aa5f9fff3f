// The Go value model: how JS values stand for Go values, their Go type names, kinds and truthiness.

/** Any value a template sees. */
export type GoValue = unknown;

/** Set this symbol on an object to give it a Go type name (e.g. `*chart.Metadata`) in messages and `typeOf`. */
export const GO_TYPE: unique symbol = Symbol.for('slipway.template.goType');

export type GoKind =
  | 'invalid'
  | 'string'
  | 'bool'
  | 'float64'
  | 'int'
  | 'int64'
  | 'slice'
  | 'map'
  | 'struct'
  | 'func'
  | 'ptr';

/**
 * A Go int64. Go's int is a plain bigint; int64 is what `--set` integers, Sprig's arithmetic (add, sub, mul,
 * div, mod, max, min, int64, toDecimal) give, and `kindOf`/`typeOf`/`%T`/`deepEqual` tell them apart.
 * Everywhere else they behave the same: valueOf() gives the bigint, so relational operators, Number() and
 * BigInt() work on it; intValue() reads either kind.
 */
export class GoInt64 {
  readonly value: bigint;
  constructor(value: bigint) {
    this.value = value;
  }
  valueOf(): bigint {
    return this.value;
  }
  toString(): string {
    return this.value.toString();
  }
  /** JSON.stringify gives the number (exact within ±2^53, else its digits as a string). */
  toJSON(): number | string {
    const n = Number(this.value);
    return Number.isSafeInteger(n) ? n : this.value.toString();
  }
}

/** The integer of a Go int (bigint) or int64 (GoInt64); undefined for anything else. */
export function intValue(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (v instanceof GoInt64) return v.value;
  return undefined;
}

/** Whether a value is a Go integer of either kind. */
export function isGoInt(v: unknown): v is bigint | GoInt64 {
  return typeof v === 'bigint' || v instanceof GoInt64;
}

/** Marks a JS array as a typed Go slice (e.g. `[]string`) for type names in messages and typeOf. */
export function typedSlice<T>(list: T[], goType: string): T[] {
  Object.defineProperty(list, GO_TYPE, { value: goType, enumerable: false });
  return list;
}

/** A Go `map` — a plain object (or null-prototype object) or a `Map`. */
export function isGoMap(v: unknown): v is Record<string, unknown> | Map<unknown, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  if (v instanceof Map) return true;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A plain-object map (not a `Map`). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function kindOf(v: unknown): GoKind {
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
    case 'undefined':
      return 'invalid';
    case 'object':
      if (v === null) return 'invalid';
      if (v instanceof GoInt64) return 'int64';
      if (Array.isArray(v) || v instanceof Uint8Array) return 'slice';
      if (isGoMap(v)) return 'map';
      return 'struct';
    default:
      return 'invalid';
  }
}

/** Go's reflect type name of a value, as `%T` prints it. */
export function typeName(v: unknown): string {
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
      return 'func(...interface {}) interface {}';
    case 'undefined':
      return '<nil>';
    case 'object': {
      if (v === null) return '<nil>';
      if (v instanceof GoInt64) return 'int64';
      if (Array.isArray(v)) {
        const named = (v as { [GO_TYPE]?: unknown })[GO_TYPE];
        return typeof named === 'string' ? named : '[]interface {}';
      }
      if (v instanceof Uint8Array) return '[]uint8';
      if (v instanceof Date) return 'time.Time';
      const named = (v as { [GO_TYPE]?: unknown })[GO_TYPE];
      if (typeof named === 'string') return named;
      if (isGoMap(v)) return 'map[string]interface {}';
      const ctor = (v as { constructor?: { name?: string } }).constructor?.name;
      return ctor ? `*${ctor}` : 'struct {}';
    }
    default:
      return '<nil>';
  }
}

/** Number of entries of a Go map value. */
export function mapSize(m: Record<string, unknown> | Map<unknown, unknown>): number {
  if (m instanceof Map) return m.size;
  let n = 0;
  for (const _ in m) n++;
  return n;
}

/** Sorted keys of a Go map, as Go's fmt and range sort them. */
export function sortedKeys(m: Record<string, unknown> | Map<unknown, unknown>): unknown[] {
  const keys = m instanceof Map ? [...m.keys()] : Object.keys(m);
  return keys.sort(compareKeys);
}

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'number' || isGoInt(a)) && (typeof b === 'number' || isGoInt(b))) {
    const x = intValue(a) ?? (a as number);
    const y = intValue(b) ?? (b as number);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Looks up a key in a Go map; `undefined` when absent. A present key holding undefined reads as null. */
export function mapGet(m: Record<string, unknown> | Map<unknown, unknown>, key: unknown): unknown {
  if (m instanceof Map) {
    if (!m.has(key)) return undefined;
    const v = m.get(key);
    return v === undefined ? null : v;
  }
  const k = typeof key === 'string' ? key : String(key);
  const v = m[k];
  // Fast path: an own data value. Inherited members (functions, __proto__) need the own-property check.
  if (v !== undefined && typeof v !== 'function' && k !== '__proto__') return v;
  if (!Object.hasOwn(m, k)) return undefined;
  return v === undefined ? null : v;
}

/** Go's truthiness (template.IsTrue): zero values are false. */
export function isTrue(v: GoValue): boolean {
  switch (typeof v) {
    case 'string':
      return v.length > 0;
    case 'boolean':
      return v;
    case 'number':
      return v !== 0;
    case 'bigint':
      return v !== 0n;
    case 'function':
      return true;
    case 'object':
      if (v === null) return false;
      if (v instanceof GoInt64) return v.value !== 0n;
      if (Array.isArray(v)) return v.length > 0;
      if (v instanceof Uint8Array) return v.length > 0;
      if (v instanceof Map) return v.size > 0;
      if (isGoMap(v)) {
        for (const _ in v) return true;
        return false;
      }
      return true;
    default:
      return false;
  }
}

/** Go's `len` in bytes of a string (UTF-8). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

export function utf8Decode(b: Uint8Array): string {
  return decoder.decode(b);
}

/** Whether a string is pure ASCII (byte offsets equal char offsets). */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}
