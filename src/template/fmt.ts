// Go's fmt package for template values: Sprint, Sprintln, Sprintf with Go's verbs, flags and error forms.
import { GoInt64, intValue, isGoMap, sortedKeys, typeName, utf8Bytes, utf8Decode } from './value.ts';

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  widPresent: boolean;
  prec: number;
  precPresent: boolean;
}

function newFlags(): Flags {
  return {
    plus: false,
    minus: false,
    sharp: false,
    space: false,
    zero: false,
    plusV: false,
    sharpV: false,
    wid: 0,
    widPresent: false,
    prec: 0,
    precPresent: false,
  };
}

const PLAIN: Flags = Object.freeze(newFlags());

/** Go's `%v` of a value (fmt.Sprint of one operand). Nil prints `<nil>`. */
export function formatValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'bigint':
      return v.toString();
    case 'number': {
      // JS and Go's %v agree on plain decimal notation in this range.
      const a = Math.abs(v);
      if (a >= 1e-4 && a < 1e6) return String(v);
      return formatFloat(v, 'g', -1);
    }
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return printArg(v, 'v', PLAIN, 0);
  }
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(...args: unknown[]): string {
  let out = '';
  let prevString = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const isString = typeof a === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += formatValue(a);
    prevString = isString;
  }
  return out;
}

/** fmt.Sprintln: spaces between all operands and a final newline. */
export function sprintln(...args: unknown[]): string {
  return args.map(formatValue).join(' ') + '\n';
}

/** Go's fmt.Sprintf. */
export function sprintf(format: string, ...args: unknown[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  const end = format.length;
  let i = 0;
  while (i < end) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    if (pct > i) out += format.slice(i, pct);
    i = pct + 1;
    const f = newFlags();
    // flags
    for (; i < end; i++) {
      const c = format[i];
      if (c === '#') f.sharp = true;
      else if (c === '0') f.zero = !f.minus;
      else if (c === '+') f.plus = true;
      else if (c === '-') {
        f.minus = true;
        f.zero = false;
      } else if (c === ' ') f.space = true;
      else break;
    }
    let goodArgNum = true;
    let afterIndex = false;
    const readIndex = (): void => {
      if (i >= end || format[i] !== '[') return;
      reordered = true;
      const close = format.indexOf(']', i);
      if (close < 0) {
        goodArgNum = false;
        return;
      }
      const n = Number.parseInt(format.slice(i + 1, close), 10);
      if (!/^[0-9]+$/.test(format.slice(i + 1, close)) || n < 1 || n > args.length) {
        goodArgNum = false;
        i = close + 1;
        return;
      }
      argNum = n - 1;
      i = close + 1;
      afterIndex = true;
    };
    readIndex();
    // width
    if (i < end && format[i] === '*') {
      i++;
      const w = intFromArg(args, argNum);
      argNum = w.argNum;
      if (!w.ok) out += '%!(BADWIDTH)';
      else {
        f.wid = w.n;
        f.widPresent = true;
        if (f.wid < 0) {
          f.wid = -f.wid;
          f.minus = true;
          f.zero = false;
        }
      }
      afterIndex = false;
    } else {
      const start = i;
      while (i < end && format.charCodeAt(i) >= 48 && format.charCodeAt(i) <= 57) i++;
      if (i > start) {
        f.wid = Number.parseInt(format.slice(start, i), 10);
        f.widPresent = true;
        if (afterIndex) goodArgNum = false;
      }
    }
    // precision
    if (i + 1 <= end && format[i] === '.') {
      i++;
      if (afterIndex) goodArgNum = false;
      afterIndex = false;
      readIndex();
      if (i < end && format[i] === '*') {
        i++;
        const p = intFromArg(args, argNum);
        argNum = p.argNum;
        f.prec = p.n;
        f.precPresent = p.ok;
        if (f.prec < 0) {
          f.prec = 0;
          f.precPresent = false;
        }
        if (!p.ok) out += '%!(BADPREC)';
        afterIndex = false;
      } else {
        const start = i;
        while (i < end && format.charCodeAt(i) >= 48 && format.charCodeAt(i) <= 57) i++;
        f.prec = i > start ? Number.parseInt(format.slice(start, i), 10) : 0;
        f.precPresent = true;
      }
    }
    if (!afterIndex) readIndex();
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const cp = format.codePointAt(i)!;
    const verb = String.fromCodePoint(cp);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    if (verb === 'v') {
      f.sharpV = f.sharp;
      f.sharp = false;
      f.plusV = f.plus;
      f.plus = false;
    }
    out += printArg(args[argNum], verb, f, 0);
    argNum++;
  }
  if (!reordered && argNum < args.length) {
    out += '%!(EXTRA ';
    for (let k = argNum; k < args.length; k++) {
      if (k > argNum) out += ', ';
      const a = args[k];
      if (a === null || a === undefined) out += '<nil>';
      else out += typeName(a) + '=' + printArg(a, 'v', PLAIN, 0);
    }
    out += ')';
  }
  return out;
}

function intFromArg(args: unknown[], argNum: number): { n: number; ok: boolean; argNum: number } {
  if (argNum >= args.length) return { n: 0, ok: false, argNum };
  const a = intValue(args[argNum]);
  if (a !== undefined) {
    const n = Number(a);
    if (n > 1e6 || n < -1e6) return { n: 0, ok: false, argNum: argNum + 1 };
    return { n, ok: true, argNum: argNum + 1 };
  }
  return { n: 0, ok: false, argNum: argNum + 1 };
}

function badVerb(v: unknown, verb: string, f: Flags): string {
  if (v === null || v === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(v)}=${printArg(v, 'v', f, 0)})`;
}

function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

function pad(s: string, f: Flags): string {
  if (!f.widPresent || f.wid === 0) return s;
  const width = f.wid - runeCount(s);
  if (width <= 0) return s;
  if (f.minus) return s + ' '.repeat(width);
  return (f.zero ? '0' : ' ').repeat(width) + s;
}

function printArg(v: unknown, verb: string, f: Flags, depth: number): string {
  if (v === null || v === undefined) {
    if (verb === 'T' || verb === 'v') return pad('<nil>', f);
    return badVerb(v, verb, f);
  }
  if (verb === 'T') return pad(typeName(v), f);
  if (verb === 'p') return badVerb(v, verb, f);
  switch (typeof v) {
    case 'boolean':
      if (verb === 't' || verb === 'v') return pad(v ? 'true' : 'false', f);
      return badVerb(v, verb, f);
    case 'number':
      return fmtFloatVerb(v, verb, f);
    case 'bigint':
      return fmtIntVerb(v, verb, f);
    case 'string':
      return fmtStringVerb(v, verb, f);
    case 'function':
      if (verb === 'v') return pad('0x0', f);
      return badVerb(v, verb, f);
    default:
      break;
  }
  const obj = v as object;
  if (obj instanceof GoInt64) return fmtIntVerb(obj.value, verb, f, obj);
  if (obj instanceof Uint8Array) {
    if (verb === 's' || verb === 'q' || verb === 'x' || verb === 'X')
      return fmtStringVerb(utf8Decode(obj), verb, f);
    return printList(
      [...obj].map((b) => BigInt(b)),
      verb,
      f,
      depth,
    );
  }
  if (obj instanceof Date) {
    const s = formatGoTime(obj);
    if (verb === 'v' || verb === 's' || verb === 'q' || verb === 'x' || verb === 'X')
      return fmtStringVerb(s, verb, f);
    return badVerb(s, verb, f);
  }
  if (Array.isArray(obj)) return printList(obj, verb, f, depth);
  if (isGoMap(obj)) {
    const keys = sortedKeys(obj);
    let out = f.sharpV ? 'map[string]interface {}{' : 'map[';
    for (let k = 0; k < keys.length; k++) {
      if (k > 0) out += f.sharpV ? ', ' : ' ';
      const key = keys[k];
      const val = obj instanceof Map ? obj.get(key) : (obj as Record<string, unknown>)[key as string];
      out += printElem(key, verb, f, depth + 1);
      out += ':';
      out += printElem(val, verb, f, depth + 1);
    }
    return out + (f.sharpV ? '}' : ']');
  }
  // A struct-like object: a String() or Error() method wins for string verbs, like Go's Stringer.
  const stringer = (obj as { String?: unknown }).String;
  if (typeof stringer === 'function' && 'vsxXq'.includes(verb)) {
    return fmtStringVerb(String(stringer.call(obj)), verb, f);
  }
  if (obj instanceof Error && 'vsxXq'.includes(verb)) return fmtStringVerb(obj.message, verb, f);
  let out = '{';
  let first = true;
  for (const [k, val] of Object.entries(obj)) {
    if (typeof val === 'function') continue;
    if (!first) out += f.sharpV ? ', ' : ' ';
    first = false;
    if (f.plusV || f.sharpV) out += k + ':';
    out += printElem(val, verb, f, depth + 1);
  }
  return out + '}';
}

function printElem(v: unknown, verb: string, f: Flags, depth: number): string {
  if (v === null || v === undefined) return f.sharpV ? 'interface {}(nil)' : '<nil>';
  if (f.sharpV && typeof v === 'string') return quoteGo(v);
  return printArg(v, verb, f, depth);
}

function printList(list: unknown[], verb: string, f: Flags, depth: number): string {
  let out = f.sharpV ? '[]interface {}{' : '[';
  for (let k = 0; k < list.length; k++) {
    if (k > 0) out += f.sharpV ? ', ' : ' ';
    out += printElem(list[k], verb, f, depth + 1);
  }
  return out + (f.sharpV ? '}' : ']');
}

function fmtStringVerb(s: string, verb: string, f: Flags): string {
  switch (verb) {
    case 'v':
      if (f.sharpV) return pad(quoteGo(s), f);
      return pad(truncRunes(s, f), f);
    case 's':
      return pad(truncRunes(s, f), f);
    case 'q':
      s = truncRunes(s, f);
      if (f.sharp && canBackquote(s)) return pad('`' + s + '`', f);
      return pad(f.plus ? quoteGo(s, true) : quoteGo(s), f);
    case 'x':
    case 'X': {
      let bytes = utf8Bytes(s);
      if (f.precPresent && f.prec < bytes.length) bytes = bytes.slice(0, f.prec);
      return pad(hexBytes(bytes, verb === 'X', f), f);
    }
    default:
      return badVerb(s, verb, f);
  }
}

function truncRunes(s: string, f: Flags): string {
  if (!f.precPresent) return s;
  const chars = [...s];
  return chars.length > f.prec ? chars.slice(0, f.prec).join('') : s;
}

function hexBytes(bytes: Uint8Array, upper: boolean, f: Flags): string {
  const digits = upper ? '0123456789ABCDEF' : '0123456789abcdef';
  let out = '';
  for (let k = 0; k < bytes.length; k++) {
    if (f.space && k > 0) out += ' ';
    if (f.sharp && (f.space || k === 0)) out += upper ? '0X' : '0x';
    const b = bytes[k]!;
    out += digits[b >> 4]! + digits[b & 15]!;
  }
  return out;
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    if (ch === '`' || ch === '\uFFFD') return false;
    const c = ch.codePointAt(0)!;
    if (c < 0x20 && ch !== '\t') return false;
    if (c === 0x7f) return false;
  }
  return true;
}

let printable: RegExp | undefined;

/**
 * Go's unicode.IsPrint (letters, marks, numbers, punctuation, symbols and the ASCII space) for one character.
 * The class is built on first use: creating it costs a CLI start ~2 ms, and most runs never quote non-ASCII.
 */
export function isPrintRune(ch: string): boolean {
  printable ??= /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;
  return printable.test(ch);
}

/** strconv.Quote (or QuoteToASCII when `ascii`). */
export function quoteGo(s: string, ascii = false): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') {
      out += '\\' + ch;
      continue;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += ch;
      continue;
    }
    if (c >= 0x80 && !ascii && isPrintRune(ch)) {
      out += ch;
      continue;
    }
    switch (ch) {
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else if (c < 0x10000) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += '\\U' + c.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** An integer verb; `orig` is the operand as given (an int64 names its type in a bad-verb message). */
function fmtIntVerb(v: bigint, verb: string, f: Flags, orig: unknown = v): string {
  switch (verb) {
    case 'v':
    case 'd':
      return fmtInteger(v, 10, f, verb);
    case 'b':
      return fmtInteger(v, 2, f, verb);
    case 'o':
    case 'O':
      return fmtInteger(v, 8, f, verb);
    case 'x':
      return fmtInteger(v, 16, f, verb);
    case 'X':
      return fmtInteger(v, 16, f, verb).toUpperCase();
    case 'c':
      return pad(safeRune(v), f);
    case 'q':
      return pad(quoteRune(safeRune(v)), f);
    case 'U': {
      const hex = (v < 0n ? -v : v).toString(16).toUpperCase().padStart(4, '0');
      let s = 'U+' + hex;
      if (f.sharp) s += " '" + safeRune(v) + "'";
      return pad(s, f);
    }
    default:
      return badVerb(orig, verb, f);
  }
}

function safeRune(v: bigint): string {
  if (v < 0n || v > 0x10ffffn || (v >= 0xd800n && v <= 0xdfffn)) return '\uFFFD';
  return String.fromCodePoint(Number(v));
}

function quoteRune(ch: string): string {
  if (ch === "'") return "'\\''";
  const q = quoteGo(ch);
  return "'" + q.slice(1, -1).replace(/\\"/g, '"') + "'";
}

function fmtInteger(v: bigint, base: number, f: Flags, verb: string): string {
  const negative = v < 0n;
  const abs = negative ? -v : v;
  let digits = abs.toString(base);
  if (f.precPresent) {
    if (f.prec === 0 && abs === 0n) return pad('', { ...f, zero: false });
    if (digits.length < f.prec) digits = '0'.repeat(f.prec - digits.length) + digits;
  } else if (f.zero && f.widPresent && !f.minus) {
    let prec = f.wid;
    if (negative || f.plus || f.space) prec--;
    if (f.sharp && base === 16) prec -= 2;
    if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits;
  }
  if (f.sharp) {
    if (base === 8 && digits[0] !== '0') digits = '0' + digits;
    else if (base === 16) digits = '0x' + digits;
    else if (base === 2) digits = '0b' + digits;
  }
  if (verb === 'O') digits = '0o' + digits;
  if (negative) digits = '-' + digits;
  else if (f.plus) digits = '+' + digits;
  else if (f.space) digits = ' ' + digits;
  return pad(digits, { ...f, zero: false });
}

function fmtFloatVerb(v: number, verb: string, f: Flags): string {
  switch (verb) {
    case 'v':
      return fmtFloat(v, 'g', -1, f);
    case 'b':
    case 'g':
    case 'G':
    case 'x':
    case 'X':
      return fmtFloat(v, verb, f.precPresent ? f.prec : -1, f);
    case 'f':
    case 'e':
    case 'E':
    case 'F':
      return fmtFloat(v, verb, f.precPresent ? f.prec : 6, f);
    default:
      return badVerb(v, verb, f);
  }
}

function fmtFloat(v: number, verb: string, prec: number, f: Flags): string {
  let num = formatFloat(v, verb === 'F' ? 'f' : verb, prec);
  if (f.sharp && verb !== 'b' && !Number.isNaN(v) && Number.isFinite(v)) {
    if (!num.includes('.') && !/[eEpP]/.test(num) && verb !== 'x' && verb !== 'X') num += '.';
    else if (!num.includes('.')) num = num.replace(/([eEpP])/, '.$1');
  }
  let sign = '+';
  if (num[0] === '-' || num[0] === '+') {
    sign = num[0]!;
    num = num.slice(1);
  }
  if (f.space && sign === '+' && !f.plus) sign = ' ';
  if (num === 'Inf' || num === 'NaN') {
    if (num === 'NaN' && !f.space && !f.plus) return pad(num, { ...f, zero: false });
    return pad(sign + num, { ...f, zero: false });
  }
  if (f.plus || sign !== '+') {
    const full = sign + num;
    if (f.zero && !f.minus && f.widPresent && f.wid > full.length) {
      return sign + '0'.repeat(f.wid - full.length) + num;
    }
    return pad(full, f);
  }
  return pad(num, f);
}

/** Decimal digits of |v| and the position of the decimal point: value = 0.DIGITS × 10^dp. */
function shortestDigits(v: number): { digits: string; dp: number } {
  const s = Math.abs(v).toExponential();
  const e = s.indexOf('e');
  const mant = s.slice(0, e).replace('.', '');
  const exp = Number.parseInt(s.slice(e + 1), 10);
  return { digits: mant.replace(/0+$/, '') || '0', dp: exp + 1 };
}

/** The exact decimal expansion of a finite double: value = 0.DIGITS × 10^dp. */
function exactDigits(v: number): { digits: string; dp: number } {
  const a = Math.abs(v);
  if (a === 0) return { digits: '0', dp: 1 };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, a);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2: number;
  if (bexp === 0) e2 = -1074;
  else {
    mant |= 1n << 52n;
    e2 = bexp - 1075;
  }
  let digits: string;
  let dp: number;
  if (e2 >= 0) {
    digits = (mant << BigInt(e2)).toString();
    dp = digits.length;
  } else {
    const scaled = mant * 5n ** BigInt(-e2);
    digits = scaled.toString();
    dp = digits.length + e2;
  }
  const trimmed = digits.replace(/0+$/, '');
  return { digits: trimmed || '0', dp };
}

/** Rounds an exact expansion to n digits (n may be 0 or negative) with round-half-even, like strconv. */
function roundDigits(d: { digits: string; dp: number }, n: number): { digits: string; dp: number } {
  if (n >= d.digits.length) return d;
  if (n < 0) return { digits: '0', dp: d.dp };
  const keep = d.digits.slice(0, n);
  const next = d.digits.charCodeAt(n) - 48;
  const restNonZero = /[1-9]/.test(d.digits.slice(n + 1));
  const lastOdd = n > 0 && (d.digits.charCodeAt(n - 1) - 48) % 2 === 1;
  const up = next > 5 || (next === 5 && (restNonZero || lastOdd));
  if (!up) return { digits: keep.replace(/0+$/, '') || '0', dp: keep === '' ? d.dp : d.dp };
  // increment
  const arr = keep.split('').map(Number);
  let i = arr.length - 1;
  while (i >= 0) {
    if (arr[i]! < 9) {
      arr[i]!++;
      break;
    }
    arr[i] = 0;
    i--;
  }
  if (i < 0) return { digits: '1', dp: d.dp + 1 };
  return { digits: arr.join('').replace(/0+$/, '') || '0', dp: d.dp };
}

function roundedDigits(v: number, sig: number): { digits: string; dp: number } {
  const r = roundDigits(exactDigits(v), Math.max(sig, 0));
  const digits = r.digits.length < sig ? r.digits + '0'.repeat(sig - r.digits.length) : r.digits;
  return { digits, dp: r.dp };
}

/** %.<prec>f of |v| with Go's exact round-half-even. */
function fixedDigits(v: number, prec: number): string {
  const ex = exactDigits(v);
  const r = roundDigits(ex, ex.dp + prec);
  if (r.digits === '0' && (ex.dp + prec < 0 || r.dp <= -prec))
    return prec > 0 ? '0.' + '0'.repeat(prec) : '0';
  let s = fixedFromDigits(r.digits, r.dp);
  const dot = s.indexOf('.');
  const have = dot < 0 ? 0 : s.length - dot - 1;
  if (prec > 0) s = (dot < 0 ? s + '.' : s) + '0'.repeat(prec - have);
  return s;
}

function expString(exp: number, upper: boolean): string {
  const sign = exp < 0 ? '-' : '+';
  const a = Math.abs(exp);
  return (upper ? 'E' : 'e') + sign + (a < 10 ? '0' + a : String(a));
}

/** strconv.FormatFloat(v, fmt, prec, 64) for fmt in e, E, f, g, G (others fall back to g). */
export function formatFloat(v: number, fmt: string, prec: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  const neg = v < 0 || Object.is(v, -0);
  const sign = neg ? '-' : '';
  const a = Math.abs(v);
  switch (fmt) {
    case 'e':
    case 'E': {
      if (a === 0) return sign + (prec > 0 ? '0.' + '0'.repeat(prec) : '0') + expString(0, fmt === 'E');
      const d = prec < 0 ? shortestDigits(a) : roundedDigits(a, prec + 1);
      const frac = d.digits.slice(1);
      return sign + d.digits[0] + (frac ? '.' + frac : '') + expString(d.dp - 1, fmt === 'E');
    }
    case 'f': {
      if (prec < 0) {
        const d = shortestDigits(a);
        if (a === 0) return sign + '0';
        return sign + fixedFromDigits(d.digits, d.dp);
      }
      if (a === 0) return sign + (prec > 0 ? '0.' + '0'.repeat(prec) : '0');
      return sign + fixedDigits(a, prec);
    }
    default: {
      const upper = fmt === 'G';
      if (a === 0) return sign + '0';
      let d: { digits: string; dp: number };
      let eprec: number;
      if (prec < 0) {
        d = shortestDigits(a);
        eprec = 6;
      } else {
        const p = prec === 0 ? 1 : prec;
        d = roundedDigits(a, p);
        d = { digits: d.digits.replace(/0+$/, '') || '0', dp: d.dp };
        eprec = p;
        if (eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length;
      }
      const exp = d.dp - 1;
      if (exp < -4 || exp >= eprec) {
        const frac = d.digits.slice(1);
        return sign + d.digits[0] + (frac ? '.' + frac : '') + expString(exp, upper);
      }
      return sign + fixedFromDigits(d.digits, d.dp);
    }
  }
}

function fixedFromDigits(digits: string, dp: number): string {
  if (dp <= 0) return '0.' + '0'.repeat(-dp) + digits;
  if (dp >= digits.length) return digits + '0'.repeat(dp - digits.length);
  return digits.slice(0, dp) + '.' + digits.slice(dp);
}

const pad2 = (n: number): string => (n < 10 ? '0' + n : String(n));

/** time.Time's String() for a JS Date, in UTC: `2006-01-02 15:04:05.999999999 +0000 UTC`. */
export function formatGoTime(d: Date): string {
  if (Number.isNaN(d.getTime())) return '0001-01-01 00:00:00 +0000 UTC';
  const ms = d.getUTCMilliseconds();
  const frac = ms ? '.' + String(ms).padStart(3, '0').replace(/0+$/, '') : '';
  return (
    `${String(d.getUTCFullYear()).padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}${frac} +0000 UTC`
  );
}
