// Helm's `--set` syntax (pkg/strvals): `a.b=c,d[0]=e,f={x,y}`, `\` escapes, typed scalars for --set
// (true/false/null/int64), strings for --set-string, JSON for --set-json, a reader for --set-file.
import { InputError } from '../core/index.ts';
import { GoInt64 } from '../template/index.ts';

const MAX_INDEX = 65536;
const MAX_NESTED_NAME_LEVEL = 30;

type Dict = Record<string, unknown>;
type ValueReader = (runes: string) => unknown;

/** A `--set` expression that Helm would reject. The message is Helm's. */
export class SetSyntaxError extends InputError {}

class Eof {}
const EOF = new Eof();
class NotList {}
const NOT_LIST = new NotList();

class Scanner {
  pos = 0;
  constructor(readonly runes: string[]) {}
  read(): string | undefined {
    if (this.pos >= this.runes.length) return undefined;
    return this.runes[this.pos++];
  }
  unread(): void {
    if (this.pos > 0) this.pos--;
  }
  rest(): string {
    return this.runes.slice(this.pos).join('');
  }
}

interface RunesResult {
  v: string;
  last: string | undefined;
  eof: boolean;
}

function runesUntil(sc: Scanner, stop: Set<string>): RunesResult {
  let v = '';
  for (;;) {
    const r = sc.read();
    if (r === undefined) return { v, last: undefined, eof: true };
    if (stop.has(r)) return { v, last: r, eof: false };
    if (r === '\\') {
      const next = sc.read();
      if (next === undefined) return { v, last: undefined, eof: true };
      v += next;
    } else v += r;
  }
}

function fail(msg: string): never {
  throw new SetSyntaxError(msg);
}

/** Helm's typedVal: true/false/null (any case), "0", and int64 without a leading zero; everything else a string. */
export function typedValue(val: string): unknown {
  const lower = val.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (lower === 'null') return null;
  if (val === '0') return new GoInt64(0n);
  if (val.length > 0 && val[0] !== '0' && /^[+-]?\d+$/.test(val)) {
    const n = BigInt(val);
    if (n >= -(2n ** 63n) && n < 2n ** 63n) return new GoInt64(n);
  }
  return val;
}

class Parser {
  private readonly sc: Scanner;
  constructor(
    text: string,
    private readonly data: Dict,
    private readonly reader: ValueReader,
    private readonly isJson: boolean,
  ) {
    this.sc = new Scanner([...text]);
  }

  parse(): void {
    for (;;) {
      const done = this.key(this.data, 0);
      if (done) return;
    }
  }

  /** Returns true at end of input. */
  private key(data: Dict, nested: number): boolean {
    const stop = new Set(['=', '[', ',', '.']);
    const { v: k, last, eof } = runesUntil(this.sc, stop);
    if (eof) {
      if (k.length === 0) return true;
      fail(`key "${k}" has no value`);
    }
    if (last === '[') {
      const i = this.keyIndex();
      let list: unknown[] = [];
      if (k in data) {
        const existing = data[k];
        if (!Array.isArray(existing)) {
          fail(
            `unable to parse key: interface conversion: interface {} is ${goTypeName(existing)}, not []interface {}`,
          );
        }
        list = existing;
      }
      const result = this.listItem(list, i, nested);
      set(data, k, result.list);
      return result.eof;
    }
    if (last === '=') {
      if (this.isJson) {
        if (this.emptyVal()) {
          set(data, k, null);
          return false;
        }
        set(data, k, this.jsonValue());
        this.emptyVal();
        return false;
      }
      const vl = this.valList();
      if (Array.isArray(vl)) {
        set(data, k, vl);
        return false;
      }
      if (vl === EOF) {
        set(data, k, '');
        return true;
      }
      const { v: rs, eof: atEnd } = runesUntil(this.sc, new Set([',']));
      set(data, k, this.reader(rs));
      return atEnd;
    }
    if (last === ',') {
      set(data, k, '');
      fail(`key "${k}" has no value (cannot end with ,)`);
    }
    // last === '.'
    nested++;
    if (nested > MAX_NESTED_NAME_LEVEL) {
      fail(
        `value name nested level is greater than maximum supported nested level of ${MAX_NESTED_NAME_LEVEL}`,
      );
    }
    let inner: Dict = {};
    if (k in data) {
      const existing = data[k];
      if (!isDict(existing)) {
        fail(
          `unable to parse key: interface conversion: interface {} is ${goTypeName(existing)}, not map[string]interface {}`,
        );
      }
      inner = existing;
    }
    const done = this.key(inner, nested);
    if (!done && Object.keys(inner).length === 0) fail(`key map "${k}" has no value`);
    if (Object.keys(inner).length !== 0) set(data, k, inner);
    return done;
  }

  private jsonValue(): unknown {
    const rest = this.sc.rest();
    const { value, length } = decodeFirstJson(rest);
    this.sc.pos += [...rest.slice(0, length)].length;
    return value;
  }

  private keyIndex(): number {
    const { v, eof } = runesUntil(this.sc, new Set([']']));
    if (eof) fail('error parsing index: EOF');
    if (!/^[+-]?\d+$/.test(v)) fail(`error parsing index: strconv.Atoi: parsing "${v}": invalid syntax`);
    return Number(v);
  }

  private listItem(list: unknown[], i: number, nested: number): { list: unknown[]; eof: boolean } {
    if (i < 0) fail(`negative ${i} index not allowed`);
    const { v: k, last, eof } = runesUntil(this.sc, new Set(['[', '.', '=']));
    if (k.length > 0) fail(`unexpected data at end of array index: "${k}"`);
    if (eof) return { list, eof: true };
    if (last === '=') {
      if (this.isJson) {
        if (this.emptyVal()) return { list: setIndex(list, i, null), eof: false };
        const value = this.jsonValue();
        const out = setIndex(list, i, value);
        this.emptyVal();
        return { list: out, eof: false };
      }
      const vl = this.valList();
      if (Array.isArray(vl)) return { list: setIndex(list, i, vl), eof: false };
      if (vl === EOF) return { list: setIndex(list, i, ''), eof: true };
      const { v: rs, eof: atEnd } = runesUntil(this.sc, new Set([',']));
      return { list: setIndex(list, i, this.reader(rs)), eof: atEnd };
    }
    if (last === '[') {
      const nextI = this.keyIndex();
      let crt: unknown[] = [];
      if (list.length > i && list[i] !== null && list[i] !== undefined) {
        const existing = list[i];
        if (!Array.isArray(existing)) {
          fail(
            `unable to parse key: interface conversion: interface {} is ${goTypeName(existing)}, not []interface {}`,
          );
        }
        crt = existing;
      }
      const r = this.listItem(crt, nextI, nested);
      return { list: setIndex(list, i, r.list), eof: r.eof };
    }
    // last === '.'
    let inner: Dict = {};
    if (list.length > i) {
      const existing = list[i];
      if (isDict(existing)) inner = existing;
      else list[i] = inner;
    }
    const done = this.key(inner, nested);
    return { list: setIndex(list, i, inner), eof: done };
  }

  /** Consumes blanks up to a comma or the end (true), or stops before anything else (false). */
  private emptyVal(): boolean {
    for (;;) {
      const r = this.sc.read();
      if (r === undefined || r === ',') return true;
      if (!/\s/u.test(r)) {
        this.sc.unread();
        return false;
      }
    }
  }

  private valList(): unknown[] | Eof | NotList {
    const r = this.sc.read();
    if (r === undefined) return EOF;
    if (r !== '{') {
      this.sc.unread();
      return NOT_LIST;
    }
    const list: unknown[] = [];
    const stop = new Set([',', '}']);
    for (;;) {
      const { v, last, eof } = runesUntil(this.sc, stop);
      if (eof) fail("list must terminate with '}'");
      if (last === '}') {
        const next = this.sc.read();
        if (next !== undefined && next !== ',') this.sc.unread();
        list.push(this.reader(v));
        return list;
      }
      list.push(this.reader(v));
    }
  }
}

function set(data: Dict, key: string, val: unknown): void {
  if (key.length === 0) return;
  data[key] = val;
}

function setIndex(list: unknown[], index: number, val: unknown): unknown[] {
  if (index < 0) fail(`negative ${index} index not allowed`);
  if (index > MAX_INDEX) fail(`index of ${index} is greater than maximum supported index of ${MAX_INDEX}`);
  while (list.length <= index) list.push(null);
  list[index] = val;
  return list;
}

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoInt64);
}

function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return 'string';
  if (v instanceof GoInt64) return 'int64';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** Decodes the first JSON value at the start of `text` (after blanks), like Go's json.Decoder. */
function decodeFirstJson(text: string): { value: unknown; length: number } {
  let i = 0;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  const start = i;
  const c = text[i];
  if (c === undefined) fail('EOF');
  if (c === '{' || c === '[') {
    let depth = 0;
    let inStr = false;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (inStr) {
        if (ch === '\\') i++;
        else if (ch === '"') inStr = false;
        continue;
      }
      if (ch === '"') inStr = true;
      else if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      }
    }
  } else if (c === '"') {
    i++;
    for (; i < text.length; i++) {
      if (text[i] === '\\') i++;
      else if (text[i] === '"') {
        i++;
        break;
      }
    }
  } else {
    while (i < text.length && !/[\s,{}[\]"]/.test(text[i]!)) i++;
  }
  const raw = text.slice(start, i);
  try {
    return { value: JSON.parse(raw) as unknown, length: i };
  } catch (err) {
    fail(`invalid JSON value ${JSON.stringify(raw)}: ${(err as Error).message}`);
  }
}

/** `--set`: typed scalars. Mutates and returns `dest`. */
export function parseSet(expr: string, dest: Dict = {}): Dict {
  new Parser(expr, dest, typedValue, false).parse();
  return dest;
}

/** `--set-string`: every scalar stays a string. */
export function parseSetString(expr: string, dest: Dict = {}): Dict {
  new Parser(expr, dest, (s) => s, false).parse();
  return dest;
}

/** `--set-json`: each value is a JSON document (numbers are float64). */
export function parseSetJson(expr: string, dest: Dict = {}): Dict {
  new Parser(expr, dest, (s) => s, true).parse();
  return dest;
}

/** `--set-file`: each value names a file; `readFile` returns its contents (injected, so this stays pure). */
export function parseSetFile(expr: string, dest: Dict, readFile: (path: string) => string): Dict {
  new Parser(expr, dest, readFile, false).parse();
  return dest;
}

/**
 * `--set-literal`: the key path is `a.b[0].c` (no escapes) and the value is everything after the first `=`,
 * commas and backslashes included, always a string.
 */
export function parseSetLiteral(expr: string, dest: Dict = {}): Dict {
  const eq = expr.indexOf('=');
  if (eq < 0) {
    if (expr === '') return dest;
    const last = expr.split(/[.[]/).pop() ?? expr;
    fail(`key "${last}" has no value`);
  }
  const keyPart = expr.slice(0, eq);
  const value = expr.slice(eq + 1);
  const path: (string | number)[] = [];
  const re = /([^.[]*)((?:\[[^\]]*\])*)(?:\.|$)/y;
  let pos = 0;
  while (pos < keyPart.length) {
    re.lastIndex = pos;
    const m = re.exec(keyPart);
    if (!m || m[0] === '') fail(`unable to parse key "${keyPart}"`);
    if (m[1] !== '') path.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[([^\]]*)\]/g)) {
      if (!/^[+-]?\d+$/.test(idx[1]!))
        fail(`error parsing index: strconv.Atoi: parsing "${idx[1]}": invalid syntax`);
      const n = Number(idx[1]);
      if (n < 0) fail(`negative ${n} index not allowed`);
      if (n > MAX_INDEX) fail(`index of ${n} is greater than maximum supported index of ${MAX_INDEX}`);
      path.push(n);
    }
    pos = re.lastIndex;
  }
  if (path.length === 0) return dest;
  if (path.length > MAX_NESTED_NAME_LEVEL + 1) {
    fail(
      `value name nested level is greater than maximum supported nested level of ${MAX_NESTED_NAME_LEVEL}`,
    );
  }
  let cur: Dict | unknown[] = dest;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    const nextIsIndex = typeof path[i + 1] === 'number';
    if (typeof seg === 'number') {
      if (!Array.isArray(cur)) fail('unable to parse key: expected a list');
      while (cur.length <= seg) cur.push(null);
      if (last) cur[seg] = value;
      else {
        const existing: unknown = cur[seg];
        const next: Dict | unknown[] = nextIsIndex
          ? Array.isArray(existing)
            ? existing
            : []
          : isDict(existing)
            ? existing
            : {};
        cur[seg] = next;
        cur = next;
      }
    } else {
      if (Array.isArray(cur)) fail('unable to parse key: expected a map');
      const d: Dict = cur;
      if (last) d[seg] = value;
      else {
        const existing = d[seg];
        if (existing !== undefined && !(nextIsIndex ? Array.isArray(existing) : isDict(existing))) {
          fail(
            `unable to parse key: interface conversion: interface {} is ${goTypeName(existing)}, not ${nextIsIndex ? '[]interface {}' : 'map[string]interface {}'}`,
          );
        }
        const next = existing ?? (nextIsIndex ? [] : {});
        d[seg] = next;
        cur = next as Dict | unknown[];
      }
    }
  }
  return dest;
}
