// YAML the way Helm sees it: parsing like sigs.k8s.io/yaml (go-yaml v2 → JSON → float64 numbers) and emitting
// like its Marshal (JSON round trip, then go-yaml v2 style: sorted keys, unindented sequences, Go quoting rules).
//
// The parser is js-yaml (YAML syntax, ~10× faster than the `yaml` package the rest of Slipway edits YAML with)
// with a schema that resolves plain scalars the way go-yaml v2 does (`yes`/`on`/`y` are booleans, `0777` is
// octal, `1:20` and timestamps stay strings); the conversion afterwards does what sigs.k8s.io/yaml's JSON step
// does (map keys become strings, NaN and ±Inf are refused) and what go-yaml's decoder does with `<<` merge keys,
// aliases (each use a copy of its own) and excessive aliasing. test/charts/yaml-scalars.test.ts compares the
// result with the real helm's.
import { FAILSAFE_SCHEMA, loadAll, Type, YAMLException } from 'js-yaml';
import { InputError } from '../core/index.ts';
import { formatFloat, GoInt64 } from '../template/index.ts';

export type YamlValue = unknown;

/** Error from a YAML document, with the 1-based line and column when known. */
export class YamlSyntaxError extends InputError {}

/**
 * A failure go-yaml or the JSON step reports without a line, with its own prefix (`yaml: cannot decode ...`,
 * `json: unsupported value: NaN`); raised from inside js-yaml and from the conversion.
 */
class GoYamlFailure extends Error {}

/** sigs.k8s.io/yaml's wording for any failure of its YAML → JSON step. */
const CONVERTING = 'error converting YAML to JSON: ';

/**
 * A number whose map-key spelling differs from JavaScript's String(): go-yaml resolves keys like values, and
 * sigs.k8s.io/yaml spells a float key with strconv 'g' at 32 bits (`1e+06`, `0.3`) and an int64 key exactly.
 * js-yaml turns keys into strings with String(), which calls toString() on objects with a Symbol.toStringTag.
 */
class NumberKey {
  constructor(
    readonly value: number,
    readonly key: string,
  ) {}
  get [Symbol.toStringTag](): string {
    return 'GoYamlNumber';
  }
  toString(): string {
    return this.key;
  }
}

/** Keys sigs.k8s.io/yaml refuses (nil, uint64) are spelled with this prefix and refused after parsing. */
const BAD_KEY = '\u0000slipway-unsupported-key:';

/** YAML's null resolved from a plain scalar (`~`, `null`): a key made of it is refused like go-yaml's nil key. */
const NULL_KEY = {
  get [Symbol.toStringTag](): string {
    return 'GoYamlNull';
  },
  toString: () => `${BAD_KEY}nil`,
};

const BOOLS = new Map<string, boolean>();
for (const s of ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']) BOOLS.set(s, true);
for (const s of ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'])
  BOOLS.set(s, false);
const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
const SPECIAL_FLOATS = new Map<string, number>();
for (const s of ['.nan', '.NaN', '.NAN']) SPECIAL_FLOATS.set(s, Number.NaN);
for (const s of ['.inf', '.Inf', '.INF']) {
  SPECIAL_FLOATS.set(s, Number.POSITIVE_INFINITY);
  SPECIAL_FLOATS.set(`+${s}`, Number.POSITIVE_INFINITY);
  SPECIAL_FLOATS.set(`-${s}`, Number.NEGATIVE_INFINITY);
}
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/;
const MISPLACED_UNDERSCORE = /(^|[^0-9])_|_([^0-9]|$)/;
/** What go-yaml's reader refuses anywhere in a stream: C0 and C1 controls but tab, LF, CR and NEL; U+FFFE/F. */
const CONTROL_CHARACTERS = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFE\uFFFF]/;
/** Go's strconv.ParseInt(s, 0, 64) syntax: sign, then 0x / 0o / 0b / leading-0 octal / decimal digits. */
const GO_INT = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]+|[0-9]+)$/;
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
/** The first characters go-yaml's resolve table gives a hint for; any other plain scalar is a string. */
const HINTED = /^[-+0-9.yYnNtTfFoO~]/;

type Resolved =
  | { tag: 'str' }
  | { tag: 'null' }
  | { tag: 'bool'; value: boolean }
  | { tag: 'int'; value: bigint }
  | { tag: 'float'; value: number };

/**
 * go-yaml v2's resolve() of a plain scalar (or of one with an explicit core tag). Timestamps are left out: a
 * plain one stays the string it is, and only `!!timestamp` asks (isGoTimestamp).
 */
function resolveScalar(s: string): Resolved {
  if (s === '') return { tag: 'null' };
  if (!HINTED.test(s)) return { tag: 'str' };
  const b = BOOLS.get(s);
  if (b !== undefined) return { tag: 'bool', value: b };
  if (NULLS.has(s)) return { tag: 'null' };
  const special = SPECIAL_FLOATS.get(s);
  if (special !== undefined) return { tag: 'float', value: special };
  const c = s.charCodeAt(0);
  if (c === 46 /* . */) {
    // ParseFloat of the text as it stands, which takes underscores between digits.
    const t = s.includes('_') && !MISPLACED_UNDERSCORE.test(s) ? s.replaceAll('_', '') : s;
    return DOT_FLOAT.test(t) ? { tag: 'float', value: Number(t) } : { tag: 'str' };
  }
  const digitOrSign = (c >= 48 && c <= 57) || c === 43 || c === 45;
  if (!digitOrSign) return { tag: 'str' };
  const plain = s.includes('_') ? s.replaceAll('_', '') : s;
  const m = GO_INT.exec(plain);
  if (m) {
    const [, sign, digits] = m as unknown as [string, string, string];
    // BigInt reads 0x, 0o and 0b itself; a bare leading 0 is octal to Go.
    const magnitude = BigInt(/^0[0-7]/.test(digits) ? `0o${digits.slice(1)}` : digits);
    const value = sign === '-' ? -magnitude : magnitude;
    // ParseInt's int64, else ParseUint's uint64 (no sign allowed there); beyond both it is not an int.
    if (value <= INT64_MAX && value >= -INT64_MAX - 1n) return { tag: 'int', value };
    if (sign === '' && value <= UINT64_MAX) return { tag: 'int', value };
  }
  if (YAML_STYLE_FLOAT.test(plain)) {
    const f = Number(plain);
    // ParseFloat reports overflow as an error: the scalar stays a string.
    if (Number.isFinite(f)) return { tag: 'float', value: f };
  }
  return { tag: 'str' };
}

const GO_TIMESTAMP =
  /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:([Tt ])([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(\.[0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})?)?$/;

/** go-yaml v2's parseTimestamp: the formats it tries after a `YYYY-` prefix. */
function isGoTimestamp(s: string): boolean {
  const m = GO_TIMESTAMP.exec(s);
  if (!m) return false;
  const [, y, mo, d, sep, h, mi, sec, , zone] = m;
  if (sep !== undefined && sep !== ' ' && zone === undefined) return false; // the T forms need a zone
  if (sep === ' ' && zone !== undefined) return false; // the space form takes none
  const month = Number(mo);
  const day = Number(d);
  const daysIn = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysIn) return false;
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59)) return false;
  if (zone !== undefined && zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4)) > 59))
    return false;
  return true;
}

/** strconv.FormatFloat(f, 'g', -1, 32), with go-yaml's spellings of the special values. */
function formatFloatKey(f: number): string {
  const f32 = Math.fround(f);
  if (Number.isNaN(f32)) return '.nan';
  if (f32 === Number.POSITIVE_INFINITY) return '.inf';
  if (f32 === Number.NEGATIVE_INFINITY) return '-.inf';
  // The shortest digits that read back as the same float32, spelled as FormatFloat spells them.
  let digits = '';
  for (let p = 1; p <= 9; p++) {
    digits = f32.toPrecision(p);
    if (Math.fround(Number(digits)) === f32) break;
  }
  return formatFloat(Number(digits), 'g', -1);
}

/** What a resolved scalar becomes: the value JSON will see, boxed where its key spelling differs. */
function scalarValue(r: Resolved, text: string): unknown {
  switch (r.tag) {
    case 'null':
      return NULL_KEY;
    case 'bool':
      return r.value;
    case 'int': {
      const n = Number(r.value);
      if (r.value > INT64_MAX) return new NumberKey(n, `${BAD_KEY}uint64:0x${r.value.toString(16)}`);
      return Number.isSafeInteger(n) ? n : new NumberKey(n, r.value.toString());
    }
    case 'float': {
      const key = formatFloatKey(r.value);
      return key === String(r.value) ? r.value : new NumberKey(r.value, key);
    }
    default:
      return text;
  }
}

// js-yaml calls resolve() and then construct() with the same text: the second reuses the first's work.
let memoText: string | undefined;
let memo: Resolved = { tag: 'str' };
function resolveOnce(s: string): Resolved {
  if (s !== memoText) {
    memo = resolveScalar(s);
    memoText = s;
  }
  return memo;
}

/** Plain scalars that go-yaml resolves to something other than a string. */
const implicitScalar = new Type('tag:yaml.org,2002:go-implicit', {
  kind: 'scalar',
  resolve: (s: string) => resolveOnce(s).tag !== 'str',
  construct: (s: string) => scalarValue(resolveOnce(s), s),
});

const SHORT_TAGS = {
  str: '!!str',
  null: '!!null',
  bool: '!!bool',
  int: '!!int',
  float: '!!float',
  timestamp: '!!timestamp',
};

/** A scalar with an explicit core tag: resolved as usual, then checked against the tag as go-yaml does. */
function explicitScalar(tag: 'null' | 'bool' | 'int' | 'float' | 'timestamp'): Type {
  return new Type(`tag:yaml.org,2002:${tag}`, {
    kind: 'scalar',
    construct: (data: string | null) => {
      const s = data ?? '';
      if (tag === 'timestamp' && isGoTimestamp(s)) return s; // sigs.k8s.io/yaml keeps it as written
      const r = resolveScalar(s);
      if (r.tag === tag) return scalarValue(r, s);
      if (tag === 'float' && r.tag === 'int') return scalarValue({ tag: 'float', value: Number(r.value) }, s);
      throw new GoYamlFailure(`yaml: cannot decode ${SHORT_TAGS[r.tag]} \`${s}\` as a ${SHORT_TAGS[tag]}`);
    },
  });
}

/** `!!binary`: base64 (StdEncoding, line breaks ignored), decoded into a string as Go's string([]byte). */
const binary = new Type('tag:yaml.org,2002:binary', {
  kind: 'scalar',
  construct: (s: string) => {
    const b64 = s.replace(/[\r\n]/g, '');
    if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
      throw new GoYamlFailure('yaml: !!binary value contains invalid base64 data');
    }
    return Buffer.from(b64, 'base64').toString('utf8');
  },
});

/** Any other tag (`!Ref x`, `!!set {a}`): go-yaml ignores it and decodes the node as it is. */
const otherTags = (['scalar', 'sequence', 'mapping'] as const).map(
  (kind) => new Type('', { kind, multi: true, construct: (data: unknown) => data }),
);

const GO_SCHEMA = FAILSAFE_SCHEMA.extend({
  implicit: [implicitScalar],
  explicit: [
    explicitScalar('null'),
    explicitScalar('bool'),
    explicitScalar('int'),
    explicitScalar('float'),
    explicitScalar('timestamp'),
    binary,
    ...otherTags,
  ],
});

const LOAD_OPTIONS = { schema: GO_SCHEMA, json: true, maxDepth: 10_000 };

/**
 * Parses the first document of `text` into plain JS values. Numbers become JS numbers (Go float64), keys
 * become strings and timestamps stay strings, as they do after Helm's YAML → JSON conversion. Like go-yaml,
 * it reads only the first document: a later one may be broken. Errors are YamlSyntaxErrors worded as
 * sigs.k8s.io/yaml words them (`error converting YAML to JSON: yaml: line 3: ...`).
 */
export function parseGoYaml(text: string, file?: string): YamlValue {
  try {
    if (CONTROL_CHARACTERS.test(text)) throw new GoYamlFailure('yaml: control characters are not allowed');
    let docs: unknown[];
    try {
      docs = loadAll(text, undefined, LOAD_OPTIONS);
    } catch (err) {
      docs = [firstDocumentOnly(text, err, file)];
    }
    return docs.length === 0 ? null : toGoJson(docs[0]);
  } catch (err) {
    if (err instanceof GoYamlFailure)
      throw new YamlSyntaxError(CONVERTING + err.message, { location: file ? { file } : {} });
    throw err;
  }
}

/**
 * The first document when the error lies in a later one (go-yaml never reads past the first); otherwise a
 * syntax error as a YamlSyntaxError naming the line and column, and any other error as it is.
 */
function firstDocumentOnly(text: string, err: unknown, file: string | undefined): unknown {
  if (err instanceof YAMLException && err.mark) {
    let depth = 0;
    let firstEnd = -1;
    try {
      loadAll(text, undefined, {
        ...LOAD_OPTIONS,
        listener(event, state) {
          if (event === 'open') depth++;
          else if (--depth === 0 && firstEnd < 0) firstEnd = state.position;
        },
      });
    } catch {}
    if (firstEnd >= 0 && err.mark.position > firstEnd) {
      const [first] = loadAll(text.slice(0, firstEnd), undefined, LOAD_OPTIONS);
      return first ?? null;
    }
    const line = err.mark.line + 1;
    throw new YamlSyntaxError(`${CONVERTING}yaml: line ${line}: ${err.reason}`, {
      location: { ...(file ? { file } : {}), line, column: err.mark.column + 1 },
    });
  }
  throw err;
}

/**
 * go-yaml's alias budget: past 1,000 decoded nodes and 100 from aliases, the share from aliases may be at
 * most 99 % (up to 400,000 nodes), falling to 10 % at 4,000,000.
 */
function allowedAliasRatio(decoded: number): number {
  if (decoded <= 400_000) return 0.99;
  if (decoded >= 4_000_000) return 0.1;
  return 0.99 - 0.89 * ((decoded - 400_000) / 3_600_000);
}

/**
 * js-yaml's result as sigs.k8s.io/yaml hands it over: fresh objects (an alias is a copy of its anchor), `<<`
 * merged where it stands, numbers unboxed, and what JSON cannot hold refused.
 */
function toGoJson(root: unknown): unknown {
  const onPath = new Set<object>();
  const seen = new Set<object>();
  let decoded = 0;
  let fromAliases = 0;
  let aliasDepth = 0;
  const count = () => {
    decoded++;
    if (aliasDepth > 0) fromAliases++;
    if (fromAliases > 100 && decoded > 1000 && fromAliases / decoded > allowedAliasRatio(decoded)) {
      throw new GoYamlFailure('yaml: document contains excessive aliasing');
    }
  };
  const walk = (v: unknown): unknown => {
    count();
    if (v === null || v === NULL_KEY) return null;
    if (typeof v !== 'object') {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new GoYamlFailure(unsupported(v));
      return v;
    }
    if (v instanceof NumberKey) {
      if (!Number.isFinite(v.value)) throw new GoYamlFailure(unsupported(v.value));
      return v.value;
    }
    if (onPath.has(v)) throw new GoYamlFailure('yaml: anchor value contains itself');
    const alias = seen.has(v);
    seen.add(v);
    onPath.add(v);
    if (alias) aliasDepth++;
    try {
      if (Array.isArray(v)) return v.map(walk);
      const out: Record<string, unknown> = {};
      for (const [k, val] of Object.entries(v)) {
        if (k === '<<') merge(out, val);
        else {
          if (k.startsWith(BAD_KEY)) throw new GoYamlFailure(unsupportedKey(k, val));
          out[k] = walk(val);
        }
      }
      return out;
    } finally {
      onPath.delete(v);
      if (alias) aliasDepth--;
    }
  };
  // go-yaml merges a `<<` value where the key stands (later keys win); in a list the earlier maps win.
  const merge = (out: Record<string, unknown>, val: unknown) => {
    const maps = Array.isArray(val) ? [...val].reverse() : [val];
    for (const m of maps) {
      const map = walk(m);
      if (map === null || typeof map !== 'object' || Array.isArray(map)) {
        throw new GoYamlFailure('yaml: map merge requires map or sequence of maps as the value');
      }
      Object.assign(out, map);
    }
  };
  return walk(root);
}

function unsupported(n: number): string {
  return `json: unsupported value: ${Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf'}`;
}

function unsupportedKey(key: string, value: unknown): string {
  const what = key.slice(BAD_KEY.length);
  const v = typeof value === 'string' ? JSON.stringify(value) : String(value);
  if (what === 'nil') return `unsupported map key of type: %!s(<nil>), key: <nil>, value: ${v}`;
  return `unsupported map key of type: uint64, key: ${what.slice('uint64:'.length)}, value: ${v}`;
}

/** Parses a map document (values files); `null`/empty gives `{}`; a non-map is an error. */
export function parseGoYamlMap(text: string, file?: string): Record<string, unknown> {
  const v = parseGoYaml(text, file);
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new YamlSyntaxError(
      `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${goJsonKind(v)} into Go value of type map[string]interface {}`,
      { location: file ? { file } : {} },
    );
  }
  return v as Record<string, unknown>;
}

function goJsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return 'object';
}

// ---------------------------------------------------------------- emitting

/** Converts a value to what Go's encoding/json would produce and decode again (the sigs.k8s.io/yaml round trip). */
export function toJsonModel(v: unknown, seen: Set<unknown> = new Set()): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v;
  if (v instanceof GoInt64) return v.value;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'function') return null;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (typeof v !== 'object') return String(v);
  if (seen.has(v)) return null;
  seen.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => toJsonModel(x, seen));
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (typeof val === 'function') continue;
      out[k] = toJsonModel(val, seen);
    }
    return out;
  } finally {
    seen.delete(v);
  }
}

/** go-yaml v2's key order: letters after other runes, digit runs compared as numbers. */
export function compareGoYamlKeys(a: string, b: string): number {
  const ar = [...a];
  const br = [...b];
  for (let i = 0; i < ar.length && i < br.length; i++) {
    const ca = ar[i]!;
    const cb = br[i]!;
    if (ca === cb) continue;
    const al = isLetter(ca);
    const bl = isLetter(cb);
    if (al && bl) return ca < cb ? -1 : 1;
    if (al || bl) return bl ? -1 : 1;
    let an = 0;
    let bn = 0;
    if (ca === '0' || cb === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]!); j--) {
        if (ar[j] !== '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    let ai = i;
    let bi = i;
    for (; ai < ar.length && isDigit(ar[ai]!); ai++) an = an * 10 + (ar[ai]!.charCodeAt(0) - 48);
    for (; bi < br.length && isDigit(br[bi]!); bi++) bn = bn * 10 + (br[bi]!.charCodeAt(0) - 48);
    if (an !== bn) return an < bn ? -1 : 1;
    if (ai !== bi) return ai < bi ? -1 : 1;
    return ca < cb ? -1 : 1;
  }
  return ar.length - br.length;
}

function isLetter(c: string): boolean {
  const code = c.charCodeAt(0);
  if (code < 0x80) return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
  return /\p{L}/u.test(c);
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/**
 * Formats a float64 the way the JSON → YAML round trip prints it: encoding/json writes the shortest digits
 * (`9223372036854776000`, `1e+21`), go-yaml reads that back as an int when it fits int64 or uint64 and as a
 * float otherwise, and writes floats with strconv 'g' (an exponent from 1e+06 up and below 1e-04).
 */
export function formatGoYamlNumber(n: number): string {
  const json = String(n);
  if (/^-?[0-9]+$/.test(json)) {
    const b = BigInt(json);
    if (b >= -INT64_MAX - 1n && b <= UINT64_MAX) return json;
  }
  return formatFloat(n, 'g', -1);
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint' || v instanceof GoInt64) return v.toString();
  if (typeof v === 'number') return formatGoYamlNumber(v);
  return keyText(String(v));
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoInt64);
}

function emitNode(v: unknown, indent: number, out: string[], seqIndent = 0): void {
  const pad = ' '.repeat(indent);
  if (isMap(v)) {
    const keys = Object.keys(v).sort(compareGoYamlKeys);
    for (const k of keys) {
      const val = v[k];
      const key = keyText(k);
      if (isMap(val) && Object.keys(val).length > 0) {
        out.push(`${pad}${key}:`);
        emitNode(val, indent + 2, out, seqIndent);
      } else if (Array.isArray(val) && val.length > 0) {
        out.push(`${pad}${key}:`);
        emitNode(val, indent + seqIndent, out, seqIndent);
      } else {
        const prefix = `${pad}${key}: `;
        out.push(prefix + inline(val, indent + 2, prefix.length));
      }
    }
    return;
  }
  if (Array.isArray(v)) {
    for (const item of v) {
      if ((isMap(item) && Object.keys(item).length > 0) || (Array.isArray(item) && item.length > 0)) {
        const sub: string[] = [];
        emitNode(item, indent + 2, sub, seqIndent);
        const first = sub[0] ?? '';
        sub[0] = `${pad}- ${first.slice(indent + 2)}`;
        out.push(...sub);
      } else {
        out.push(`${pad}- ${inline(item, indent + 2, indent + 2)}`);
      }
    }
    return;
  }
  out.push(pad + inline(v, indent, indent));
}

// ---------------------------------------------------------------- strings, as go-yaml v2's emitter writes them

const BEST_WIDTH = 80;

/** libyaml's is_printable: what may stand unescaped in a YAML stream (tab, CR and U+FEFF may not). */
function isPrintable(c: number): boolean {
  return (
    c === 0x0a ||
    (c >= 0x20 && c <= 0x7e) ||
    (c >= 0xa0 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff)
  );
}

function isBreak(c: number | undefined): boolean {
  return c === 0x0a || c === 0x0d || c === 0x85 || c === 0x2028 || c === 0x2029;
}

function isBlankOrEnd(c: number | undefined): boolean {
  return c === undefined || c === 0x20 || c === 0x09 || isBreak(c);
}

type ScalarStyle = 'plain' | 'single' | 'double' | 'literal';

/**
 * The style go-yaml writes a string in: encoder.stringv's choice (a literal block for text with a newline,
 * plain unless the text would read back as something else, double-quoted otherwise), then what libyaml's
 * scalar analysis allows. `key`: a mapping key (libyaml's simple-key context: no block scalars).
 */
function scalarStyle(s: string, cps: number[], key: boolean): ScalarStyle {
  const plainReadsBack = resolveScalar(s).tag === 'str' && !isGoTimestamp(s) && !BASE60_FLOAT.test(s);
  let style: ScalarStyle = s.includes('\n') ? 'literal' : plainReadsBack ? 'plain' : 'double';
  if (style === 'double') return style;
  let blockPlain = !s.startsWith('---') && !s.startsWith('...');
  let single = true;
  let block = true;
  let special = false;
  let precededByWhitespace = true;
  let previousSpace = false;
  let previousBreak = false;
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!;
    const next = cps[i + 1];
    const followedByWhitespace = next === undefined || next === 0x20 || next === 0x09;
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(String.fromCodePoint(c))) blockPlain = false;
      else if ((c === 0x3f || c === 0x3a || c === 0x2d) && followedByWhitespace) blockPlain = false; // ? : -
    } else if ((c === 0x3a && followedByWhitespace) || (c === 0x23 && precededByWhitespace)) {
      blockPlain = false; // ': ' and ' #'
    }
    if (!isPrintable(c)) special = true;
    if (c === 0x20) {
      if (i === 0 || i === cps.length - 1) blockPlain = false; // leading or trailing space
      if (i === cps.length - 1) block = false;
      if (previousBreak) {
        blockPlain = false; // a break then a space
        single = false;
      }
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(c)) {
      blockPlain = false;
      if (previousSpace) {
        single = false; // a space then a break
        block = false;
      }
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlankOrEnd(c) || c === 0;
  }
  if (special) {
    blockPlain = false;
    single = false;
    block = false;
  }
  if (style === 'plain' && !blockPlain) style = 'single';
  if (style === 'single' && !single) style = 'double';
  if (style === 'literal' && (!block || key)) style = 'double';
  return style;
}

const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;

const ESCAPES = new Map<number, string>([
  [0x00, '\\0'],
  [0x07, '\\a'],
  [0x08, '\\b'],
  [0x09, '\\t'],
  [0x0a, '\\n'],
  [0x0b, '\\v'],
  [0x0c, '\\f'],
  [0x0d, '\\r'],
  [0x1b, '\\e'],
  [0x22, '\\"'],
  [0x5c, '\\\\'],
  [0x85, '\\N'],
  [0xa0, '\\_'],
  [0x2028, '\\L'],
  [0x2029, '\\P'],
]);

function escapeChar(c: number): string {
  const named = ESCAPES.get(c);
  if (named !== undefined) return named;
  const hex = c.toString(16).toUpperCase();
  if (c <= 0xff) return `\\x${hex.padStart(2, '0')}`;
  if (c <= 0xffff) return `\\u${hex.padStart(4, '0')}`;
  return `\\U${hex.padStart(8, '0')}`;
}

/**
 * A string as go-yaml writes it starting at `column`, continuation lines indented by `indent`. Plain and
 * quoted text is folded at a space once the line is past 80 columns, except in keys.
 */
function stringText(s: string, indent: number, column: number, key = false): string {
  if (s.includes('\u0085')) s = foldNextLines(s);
  // Fast path: identifiers, names and paths that read back as strings are written as they are.
  if (/^[A-Za-z_][A-Za-z0-9_./-]*$/.test(s) && (s.length > 5 || resolveScalar(s).tag === 'str')) return s;
  const cps = Array.from(s, (ch) => ch.codePointAt(0)!);
  const style = scalarStyle(s, cps, key);
  if (style === 'literal') return literalText(s, cps, indent);
  const fold = !key;
  const pad = `\n${' '.repeat(indent)}`;
  const n = cps.length;
  let out = style === 'plain' ? '' : style === 'single' ? "'" : '"';
  let col = column + out.length;
  let spaces = false;
  let breaks = false;
  for (let i = 0; i < n; i++) {
    const c = cps[i]!;
    if (style === 'double' && (!isPrintable(c) || isBreak(c) || c === 0x22 || c === 0x5c)) {
      const e = escapeChar(c);
      out += e;
      col += e.length;
      spaces = false;
      continue;
    }
    if (c === 0x20) {
      const inner = style === 'plain' || (i !== 0 && i !== n - 1);
      const nextSpace = cps[i + 1] === 0x20;
      if (fold && inner && !spaces && col > BEST_WIDTH && (style === 'double' || !nextSpace)) {
        out += pad;
        col = indent;
        if (style === 'double' && nextSpace) {
          out += '\\';
          col++;
        }
      } else {
        out += ' ';
        col++;
      }
      spaces = true;
      continue;
    }
    if (isBreak(c)) {
      // Only U+2028 and U+2029 get here (single-quoted): written as they are, the line starts again.
      out += String.fromCodePoint(c);
      col = 0;
      breaks = true;
      continue;
    }
    if (breaks && col < indent) {
      out += ' '.repeat(indent - col);
      col = indent;
    }
    out += c === 0x27 && style === 'single' ? "''" : String.fromCodePoint(c);
    col += c === 0x27 && style === 'single' ? 2 : 1;
    spaces = false;
    breaks = false;
  }
  if (style === 'single') out += "'";
  else if (style === 'double') out += '"';
  return out;
}

/**
 * The JSON → YAML step reads encoding/json's text back with go-yaml, and encoding/json leaves U+0085 (NEL)
 * unescaped: YAML 1.1 takes it for a line break inside the double-quoted string and folds it like one (a
 * single break becomes a space, n breaks become n-1 newlines, blanks around them go).
 */
function foldNextLines(s: string): string {
  return s.replace(/[ \t]*((?:\u0085[ \t]*)+)/g, (_, breaks: string) => {
    const n = breaks.split('\u0085').length - 1;
    return n === 1 ? ' ' : '\n'.repeat(n - 1);
  });
}

/** A literal block scalar (`|`, `|-`, `|+`, `|2-` when the text starts with a space or a break). */
function literalText(s: string, cps: number[], indent: number): string {
  const n = cps.length;
  const hint = cps[0] === 0x20 || isBreak(cps[0]) ? '2' : '';
  let chomp = '';
  if (!isBreak(cps[n - 1])) chomp = '-';
  else if (n === 1 || isBreak(cps[n - 2])) chomp = '+';
  const body = s.endsWith('\n') ? s.slice(0, -1) : s;
  const pad = ' '.repeat(indent);
  const lines = body.split('\n').map((l) => (l === '' ? '' : pad + l));
  return `|${hint}${chomp}\n${lines.join('\n')}`;
}

/** A mapping key, or a scalar standing alone. */
function keyText(s: string): string {
  return stringText(s, 0, 0, true);
}

function inline(v: unknown, indent: number, column: number): string {
  if (isMap(v)) return '{}';
  if (Array.isArray(v)) return '[]';
  if (typeof v === 'string') return stringText(v, indent, column);
  return scalar(v);
}

/** Marshals like sigs.k8s.io/yaml: returns the YAML text ending with a newline (`{}\n` for an empty map). */
export function stringifyGoYaml(value: unknown, options: { indentSequences?: boolean } = {}): string {
  const model = toJsonModel(value);
  if (isMap(model) && Object.keys(model).length === 0) return '{}\n';
  if (Array.isArray(model) && model.length === 0) return '[]\n';
  const out: string[] = [];
  emitNode(model, 0, out, options.indentSequences ? 2 : 0);
  return `${out.join('\n')}\n`;
}
