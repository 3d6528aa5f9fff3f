// Sprig's string functions.
import { quoteGo, sprintf } from '../fmt.ts';
import { type GoParamType, type TemplateFunction, withSignature } from '../signature.ts';
import { GO_TYPE, isAscii, typedSlice, utf8Bytes, utf8Decode, utf8Length } from '../value.ts';
import { strslice, strval } from './convert.ts';

export function sig(params: GoParamType[], variadic?: GoParamType) {
  return (fn: (...args: never[]) => unknown): TemplateFunction =>
    withSignature(fn as unknown as TemplateFunction, params, variadic);
}

const S = sig(['string']);
const SS = sig(['string', 'string']);
const IS = sig(['int', 'string']);

const num = (v: unknown): number => Number(v as bigint);

/** Byte-indexed string slicing like Go's s[a:b]. */
function byteSlice(s: string, start: number, end?: number): string {
  if (isAscii(s)) return s.slice(start, end);
  return utf8Decode(utf8Bytes(s).subarray(start, end));
}

function byteLen(s: string): number {
  return utf8Length(s);
}

function trunc(c: number, s: string): string {
  const len = byteLen(s);
  if (c < 0 && len + c > 0) return byteSlice(s, len + c);
  if (c >= 0 && len > c) return byteSlice(s, 0, c);
  return s;
}

function substr(start: number, end: number, s: string): string {
  const len = byteLen(s);
  if (start < 0) {
    if (end > len || end < 0)
      throw new Error(`runtime error: slice bounds out of range [:${end}] with length ${len}`);
    return byteSlice(s, 0, end);
  }
  if (end < 0 || end > len) {
    if (start > len) throw new Error(`runtime error: slice bounds out of range [${start}:${len}]`);
    return byteSlice(s, start);
  }
  if (start > end) throw new Error(`runtime error: slice bounds out of range [${start}:${end}]`);
  return byteSlice(s, start, end);
}

function abbreviateFull(str: string, offset: number, maxWidth: number): string {
  if (str === '') return '';
  const len = byteLen(str);
  if (len <= maxWidth) return str;
  if (offset > len) offset = len;
  if (len - offset < maxWidth - 3) offset = len - (maxWidth - 3);
  if (offset <= 4) return byteSlice(str, 0, maxWidth - 3) + '...';
  if (maxWidth < 7) return '';
  if (offset + maxWidth - 3 < len) return '...' + abbreviateFull(byteSlice(str, offset), 0, maxWidth - 3);
  return '...' + byteSlice(str, len - (maxWidth - 3));
}

// ASCII without the Unicode classes, whose first use compiles a large regular expression.
const isAsciiUpper = (ch: string): boolean => ch >= 'A' && ch <= 'Z';
const isAsciiLower = (ch: string): boolean => ch >= 'a' && ch <= 'z';
const isLetter = (ch: string): boolean =>
  ch < '\x80' ? isAsciiUpper(ch) || isAsciiLower(ch) : /[\p{L}]/u.test(ch);
const isUpper = (ch: string): boolean => (ch < '\x80' ? isAsciiUpper(ch) : /\p{Lu}/u.test(ch));
const isLower = (ch: string): boolean => (ch < '\x80' ? isAsciiLower(ch) : /\p{Ll}/u.test(ch));
const isDigit = (ch: string): boolean => /\p{Nd}/u.test(ch);
const isWhite = (ch: string): boolean => /\s/u.test(ch);

/** strings.Title: upper-cases letters that begin words. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isSeparator(prev) ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function isSeparator(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  if (c <= 0x7f) {
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95) return false;
    return true;
  }
  if (isLetter(ch) || isDigit(ch)) return false;
  return isWhite(ch);
}

function untitle(s: string): string {
  let out = '';
  let boundary = true;
  for (const ch of s) {
    if (isWhite(ch)) {
      boundary = true;
      out += ch;
    } else if (boundary) {
      out += ch.toLowerCase();
      boundary = false;
    } else out += ch;
  }
  return out;
}

function initials(s: string): string {
  let out = '';
  let boundary = true;
  for (const ch of s) {
    if (isWhite(ch)) boundary = true;
    else if (boundary) {
      out += ch;
      boundary = false;
    }
  }
  return out;
}

function swapcase(s: string): string {
  let out = '';
  let whitespace = true;
  for (const ch of s) {
    if (isUpper(ch)) out += ch.toLowerCase();
    else if (isLower(ch)) out += whitespace ? ch.toUpperCase() : ch.toUpperCase();
    else out += ch;
    whitespace = isWhite(ch);
  }
  return out;
}

/** goutils.WrapCustom. */
function wrapCustom(str: string, wrapLength: number, newLine: string, wrapLong: boolean): string {
  if (str === '') return '';
  if (newLine === '') newLine = '\n';
  if (wrapLength < 1) wrapLength = 1;
  const len = str.length;
  let offset = 0;
  let out = '';
  while (len - offset > wrapLength) {
    if (str[offset] === ' ') {
      offset++;
      continue;
    }
    const end = wrapLength + offset + 1;
    const spaceToWrapAt = str.slice(offset, end).lastIndexOf(' ') + offset;
    if (spaceToWrapAt >= offset) {
      out += str.slice(offset, spaceToWrapAt) + newLine;
      offset = spaceToWrapAt + 1;
    } else if (wrapLong) {
      out += str.slice(offset, wrapLength + offset) + newLine;
      offset += wrapLength;
    } else {
      const e = wrapLength + offset;
      const index = str.slice(e).indexOf(' ');
      if (index === -1) {
        out += str.slice(offset);
        offset = len;
      } else {
        const at = index + e;
        out += str.slice(offset, at) + newLine;
        offset = at + 1;
      }
    }
  }
  return out + str.slice(offset);
}

/** Splits an identifier into words the way xstrings' case converters do (approximately). */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  const chars = [...s];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (!(isLetter(ch) || isDigit(ch))) {
      if (cur) out.push(cur);
      cur = '';
      continue;
    }
    const prev = chars[i - 1];
    const next = chars[i + 1];
    if (cur && isUpper(ch)) {
      if (prev !== undefined && (isLower(prev) || isDigit(prev))) {
        out.push(cur);
        cur = '';
      } else if (prev !== undefined && isUpper(prev) && next !== undefined && isLower(next)) {
        out.push(cur);
        cur = '';
      }
    }
    cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

function snakecase(s: string): string {
  return words(s)
    .map((w) => w.toLowerCase())
    .join('_');
}

function kebabcase(s: string): string {
  return words(s)
    .map((w) => w.toLowerCase())
    .join('-');
}

/** xstrings.ToCamelCase: words separated by '_' are joined, each capitalised. */
function camelcase(s: string): string {
  if (s === '') return '';
  let out = '';
  let upperNext = true;
  for (const ch of s) {
    if (ch === '_') {
      if (upperNext && out === '') out += '_';
      upperNext = true;
      continue;
    }
    if (upperNext) {
      out += ch.toUpperCase();
      upperNext = false;
    } else out += ch;
  }
  return out;
}

function goSplit(s: string, sep: string, n = -1): string[] {
  if (n === 0) return [];
  if (sep === '') {
    const chars = [...s];
    if (n > 0 && chars.length > n) return [...chars.slice(0, n - 1), chars.slice(n - 1).join('')];
    return chars;
  }
  const parts = s.split(sep);
  if (n > 0 && parts.length > n) return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
  return parts;
}

function splitMap(parts: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  Object.defineProperty(out, GO_TYPE, { value: 'map[string]string', enumerable: false });
  parts.forEach((p, i) => {
    out[`_${i}`] = p;
  });
  return out;
}

/** Go's strings.TrimSpace (Unicode white space). */
export function trimSpace(s: string): string {
  return s.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, '');
}

function trimCutset(s: string, cutset: string, left: boolean, right: boolean): string {
  const set = new Set([...cutset]);
  const chars = [...s];
  let a = 0;
  let b = chars.length;
  if (left) while (a < b && set.has(chars[a]!)) a++;
  if (right) while (b > a && set.has(chars[b - 1]!)) b--;
  return chars.slice(a, b).join('');
}

export function stringFunctions(random: () => number): Record<string, TemplateFunction> {
  const randFrom = (alphabet: string) =>
    sig(['int'])((count: unknown) => {
      const n = num(count);
      if (n < 0) throw new Error('count must be >= 0');
      let out = '';
      for (let i = 0; i < n; i++) out += alphabet[Math.floor(random() * alphabet.length)];
      return out;
    });
  const lettersLower = 'abcdefghijklmnopqrstuvwxyz';
  const letters = lettersLower + lettersLower.toUpperCase();
  const digits = '0123456789';
  let ascii = '';
  for (let c = 32; c <= 126; c++) ascii += String.fromCharCode(c);
  return {
    hello: sig([])(() => 'Hello!'),
    abbrev: IS((width: unknown, s: string) => (num(width) < 4 ? s : abbreviateFull(s, 0, num(width)))),
    abbrevboth: sig(['int', 'int', 'string'])((left: unknown, right: unknown, s: string) => {
      const l = num(left);
      const r = num(right);
      if (r < 4 || (l > 0 && r < 7)) return s;
      return abbreviateFull(s, l, r);
    }),
    trunc: IS((c: unknown, s: string) => trunc(num(c), s)),
    trim: S((s: string) => trimSpace(s)),
    upper: S((s: string) => s.toUpperCase()),
    lower: S((s: string) => s.toLowerCase()),
    title: S(title),
    untitle: S(untitle),
    substr: sig(['int', 'int', 'string'])((a: unknown, b: unknown, s: string) => substr(num(a), num(b), s)),
    repeat: IS((count: unknown, s: string) => {
      const n = num(count);
      if (n < 0) throw new Error('strings: negative Repeat count');
      return s.repeat(n);
    }),
    trimAll: SS((a: string, b: string) => trimCutset(b, a, true, true)),
    trimSuffix: SS((a: string, b: string) =>
      a !== '' && b.endsWith(a) ? b.slice(0, b.length - a.length) : b,
    ),
    trimPrefix: SS((a: string, b: string) => (a !== '' && b.startsWith(a) ? b.slice(a.length) : b)),
    nospace: S((s: string) => s.replace(/\s/gu, '')),
    initials: S(initials),
    randAlphaNum: randFrom(letters + digits),
    randAlpha: randFrom(letters),
    randAscii: randFrom(ascii),
    randNumeric: randFrom(digits),
    swapcase: S(swapcase),
    shuffle: S((s: string) => {
      const chars = [...s];
      for (let i = chars.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [chars[i], chars[j]] = [chars[j]!, chars[i]!];
      }
      return chars.join('');
    }),
    snakecase: S(snakecase),
    camelcase: S(camelcase),
    kebabcase: S(kebabcase),
    wrap: IS((l: unknown, s: string) => wrapCustom(s, num(l), '\n', false)),
    wrapWith: sig(['int', 'string', 'string'])((l: unknown, sep: string, s: string) =>
      wrapCustom(s, num(l), sep, true),
    ),
    contains: SS((sub: string, s: string) => s.includes(sub)),
    hasPrefix: SS((sub: string, s: string) => s.startsWith(sub)),
    hasSuffix: SS((sub: string, s: string) => s.endsWith(sub)),
    quote: sig(
      [],
      'any',
    )((...args: unknown[]) =>
      args
        .filter((a) => a !== null && a !== undefined)
        .map((a) => quoteGo(strval(a)))
        .join(' '),
    ),
    squote: sig(
      [],
      'any',
    )((...args: unknown[]) =>
      args
        .filter((a) => a !== null && a !== undefined)
        .map((a) => `'${sprintf('%v', a)}'`)
        .join(' '),
    ),
    cat: sig(
      [],
      'any',
    )((...args: unknown[]) => {
      const vals = args.filter((a) => a !== null && a !== undefined);
      return sprintf(vals.map(() => '%v').join(' '), ...vals);
    }),
    indent: IS((spaces: unknown, v: string) => {
      const pad = ' '.repeat(Math.max(0, num(spaces)));
      return pad + v.replaceAll('\n', '\n' + pad);
    }),
    nindent: IS((spaces: unknown, v: string) => {
      const pad = ' '.repeat(Math.max(0, num(spaces)));
      return '\n' + pad + v.replaceAll('\n', '\n' + pad);
    }),
    replace: sig(['string', 'string', 'string'])((o: string, n: string, s: string) => s.replaceAll(o, n)),
    plural: sig(['string', 'string', 'int'])((one: string, many: string, count: unknown) =>
      count === 1n ? one : many,
    ),
    toString: sig(['any'])((v: unknown) => strval(v)),
    toStrings: sig(['any'])((v: unknown) => typedSlice(strslice(v), '[]string')),
    split: SS((sep: string, s: string) => splitMap(goSplit(s, sep))),
    splitList: SS((sep: string, s: string) => typedSlice(goSplit(s, sep), '[]string')),
    splitn: sig(['string', 'int', 'string'])((sep: string, n: unknown, s: string) =>
      splitMap(goSplit(s, sep, num(n))),
    ),
    join: sig(['string', 'any'])((sep: string, v: unknown) => strslice(v).join(sep)),
    sortAlpha: sig(['any'])((v: unknown) => {
      if (!Array.isArray(v)) return typedSlice([strval(v)], '[]string');
      return typedSlice(
        strslice(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
        '[]string',
      );
    }),
  };
}
