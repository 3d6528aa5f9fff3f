// text/template's predefined functions (and, or, not, len, index, slice, print*, eq..., html, js, urlquery, call).
import { formatValue, isPrintRune, sprint, sprintf, sprintln } from './fmt.ts';
import { type TemplateFunction, withSignature } from './signature.ts';
import { GoInt64, intValue, isGoMap, isTrue, mapGet, typeName, utf8Bytes, utf8Length } from './value.ts';

type BasicKind = 'invalid' | 'bool' | 'int' | 'float' | 'string' | 'other';

function basicKind(v: unknown): BasicKind {
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
    case 'string':
      return 'string';
    case 'undefined':
      return 'invalid';
    case 'object':
      return v === null ? 'invalid' : v instanceof GoInt64 ? 'int' : 'other';
    default:
      return 'other';
  }
}

const errBadComparisonType = 'invalid type for comparison';
const errBadComparison = 'incompatible types for comparison';
const errNoComparison = 'missing argument for comparison';

function isNilish(v: unknown): boolean {
  return v === null || v === undefined;
}

function comparable(v: unknown): boolean {
  return !(Array.isArray(v) || isGoMap(v) || typeof v === 'function' || v instanceof Uint8Array);
}

/** Go's template eq: arg1 == arg2 || arg1 == arg3 ... */
export function goEq(arg1: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new Error(errNoComparison);
  const k1 = basicKind(arg1);
  for (const arg of rest) {
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2 && !(k1 === 'other' && k2 === 'invalid') && !(k1 === 'invalid' && k2 === 'other')) {
      if (!isNilish(arg1) && !isNilish(arg)) throw new Error(errBadComparison);
    } else {
      switch (k1) {
        case 'bool':
        case 'float':
        case 'string':
          truth = arg1 === arg;
          break;
        case 'int':
          // Go compares every signed integer kind by value (int with int64 too).
          truth = intValue(arg1) === intValue(arg);
          break;
        default:
          if (isNilish(arg1) || isNilish(arg)) truth = isNilish(arg1) === isNilish(arg);
          else {
            if (typeName(arg1) !== typeName(arg)) {
              throw new Error(
                `non-comparable types ${sprintf('%s', arg1)}: ${typeName(arg1)}, ${typeName(arg)}: ${formatValue(arg)}`,
              );
            }
            if (!comparable(arg))
              throw new Error(`non-comparable type ${sprintf('%s', arg)}: ${typeName(arg)}`);
            truth = arg1 === arg;
          }
      }
    }
    if (truth) return true;
  }
  return false;
}

/** Go's template lt. */
export function goLt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  if (k1 === 'invalid' || k1 === 'other') throw new Error(errBadComparisonType);
  const k2 = basicKind(b);
  if (k2 === 'invalid' || k2 === 'other') throw new Error(errBadComparisonType);
  if (k1 !== k2) throw new Error(errBadComparison);
  if (k1 === 'bool') throw new Error(errBadComparisonType);
  if (k1 === 'int') return intValue(a)! < intValue(b)!;
  return (a as number) < (b as number);
}

function lengthOf(v: unknown): bigint {
  if (v === null || v === undefined) throw new Error('len of nil pointer');
  if (typeof v === 'string') return BigInt(utf8Length(v));
  if (Array.isArray(v) || v instanceof Uint8Array) return BigInt(v.length);
  if (v instanceof Map) return BigInt(v.size);
  if (isGoMap(v)) return BigInt(Object.keys(v).length);
  throw new Error(`len of type ${typeName(v)}`);
}

function indexArg(arg: unknown, cap: number): number {
  const index = intValue(arg);
  if (index !== undefined) {
    if (index < 0n || index > BigInt(cap)) throw new Error(`index out of range: ${index}`);
    return Number(index);
  }
  if (arg === null || arg === undefined) throw new Error('cannot index slice/array with nil');
  throw new Error(`cannot index slice/array with type ${typeName(arg)}`);
}

function goIndex(item: unknown, ...indexes: unknown[]): unknown {
  if (item === null || item === undefined) throw new Error('index of untyped nil');
  for (const index of indexes) {
    if (item === null || item === undefined) throw new Error('index of nil pointer');
    if (typeof item === 'string' || Array.isArray(item) || item instanceof Uint8Array) {
      const bytes = typeof item === 'string' ? utf8Bytes(item) : item;
      const x = indexArg(index, bytes.length);
      if (x === bytes.length) throw new Error(`index out of range: ${x}`);
      const v = bytes[x];
      item =
        typeof item === 'string' || item instanceof Uint8Array
          ? BigInt(v as number)
          : v === undefined
            ? null
            : v;
    } else if (isGoMap(item)) {
      if (index === null || index === undefined) throw new Error('value is nil; should be of type string');
      if (typeof index !== 'string' && !(item instanceof Map))
        throw new Error(`value has type ${typeName(index)}; should be string`);
      const v = mapGet(item, index);
      item = v === undefined ? null : v;
    } else {
      throw new Error(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

function goSlice(item: unknown, ...indexes: unknown[]): unknown {
  if (item === null || item === undefined) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  let len: number;
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string');
    len = utf8Length(item);
  } else if (Array.isArray(item) || item instanceof Uint8Array) len = item.length;
  else throw new Error(`can't slice item of type ${typeName(item)}`);
  const idx = [0, len, len];
  indexes.forEach((ix, i) => {
    idx[i] = indexArg(ix, len);
  });
  if (idx[0]! > idx[1]!) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!)
    throw new Error(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (typeof item === 'string') {
    const b = utf8Bytes(item).subarray(idx[0], idx[1]);
    return new TextDecoder().decode(b);
  }
  return item.slice(idx[0], idx[1]);
}

function printable(v: unknown): unknown {
  return v === undefined ? '<no value>' : v;
}

function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(...args.map((a) => (a === null || a === undefined ? '<no value>' : a)));
}

/** Go's template.HTMLEscapeString. */
export function htmlEscape(s: string): string {
  return s.replace(/[<>&'"\0]/g, (c) => {
    switch (c) {
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '&':
        return '&amp;';
      case "'":
        return '&#39;';
      case '"':
        return '&#34;';
      default:
        return '\uFFFD';
    }
  });
}

/** Go's template.JSEscapeString. */
export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    if (c < 0x20) out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
    else if (c < 0x80 || isPrintRune(ch)) out += ch;
    else out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
  }
  return out;
}

/** Go's url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of utf8Bytes(s)) {
    if (
      (b >= 0x30 && b <= 0x39) ||
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      b === 0x2d ||
      b === 0x2e ||
      b === 0x5f ||
      b === 0x7e
    )
      out += String.fromCharCode(b);
    else if (b === 0x20) out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function goCall(fn: unknown, ...args: unknown[]): unknown {
  if (fn === null || fn === undefined) throw new Error('call of nil');
  if (typeof fn !== 'function') throw new Error(`non-function of type ${typeName(fn)}`);
  return (fn as TemplateFunction)(...args.map((a) => (a === undefined ? null : a)));
}

/** Marker for and/or, which the executor evaluates lazily. */
export const AND_OR = new Set(['and', 'or']);

/** The predefined functions, each with its Go signature. */
export const BUILTINS: ReadonlyMap<string, TemplateFunction> = new Map<string, TemplateFunction>([
  ['and', withSignature((v: unknown) => v, ['value'], 'value')],
  ['or', withSignature((v: unknown) => v, ['value'], 'value')],
  ['not', withSignature((v: unknown) => !isTrue(v), ['value'])],
  ['len', withSignature((v: unknown) => lengthOf(v), ['value'])],
  ['index', withSignature(goIndex as TemplateFunction, ['value'], 'value')],
  ['slice', withSignature(goSlice as TemplateFunction, ['value'], 'value')],
  ['print', withSignature((...a: unknown[]) => sprint(...a.map(printable)), [], 'any')],
  ['printf', withSignature((f: unknown, ...a: unknown[]) => sprintf(f as string, ...a), ['string'], 'any')],
  ['println', withSignature((...a: unknown[]) => sprintln(...a.map(printable)), [], 'any')],
  ['eq', withSignature(goEq as TemplateFunction, ['value'], 'value')],
  ['ne', withSignature((a: unknown, b: unknown) => !goEq(a, b), ['value', 'value'])],
  ['lt', withSignature((a: unknown, b: unknown) => goLt(a, b), ['value', 'value'])],
  ['le', withSignature((a: unknown, b: unknown) => goLt(a, b) || goEq(a, b), ['value', 'value'])],
  ['gt', withSignature((a: unknown, b: unknown) => !(goLt(a, b) || goEq(a, b)), ['value', 'value'])],
  ['ge', withSignature((a: unknown, b: unknown) => !goLt(a, b), ['value', 'value'])],
  ['html', withSignature((...a: unknown[]) => htmlEscape(evalArgs(a)), [], 'any')],
  ['js', withSignature((...a: unknown[]) => jsEscape(evalArgs(a)), [], 'any')],
  ['urlquery', withSignature((...a: unknown[]) => queryEscape(evalArgs(a)), [], 'any')],
  ['call', withSignature(goCall as TemplateFunction, ['value'], 'value')],
]);
