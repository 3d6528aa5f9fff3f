// YAML the way Helm sees it: parsing like sigs.k8s.io/yaml (YAML → JSON → float64 numbers) and emitting like
// its Marshal (JSON round trip, then go-yaml v2 style: sorted keys, unindented sequences, Go quoting rules).
import { parseAllDocuments } from 'yaml';
import { InputError } from '../core/index.ts';
import { GoInt64 } from '../template/index.ts';

export type YamlValue = unknown;

/** Error from a YAML document, with the 1-based line and column when known. */
export class YamlSyntaxError extends InputError {}

/**
 * Parses the first document of `text` into plain JS values. Numbers become JS numbers (Go float64), keys
 * become strings and timestamps stay strings, as they do after Helm's YAML → JSON conversion.
 */
export function parseGoYaml(text: string, file?: string): YamlValue {
  const docs = parseAllDocuments(text, {
    version: '1.1',
    intAsBigInt: false,
    uniqueKeys: false,
    merge: true,
    prettyErrors: true,
    strict: false,
  });
  const list = Array.isArray(docs) ? docs : [];
  const doc = list[0];
  if (!doc) return null;
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    throw new YamlSyntaxError(`yaml: line ${pos?.line ?? 0}: ${firstLine(err.message)}`, {
      location: { ...(file ? { file } : {}), ...(pos ? { line: pos.line, column: pos.col } : {}) },
    });
  }
  try {
    return normalize(doc.toJS({ maxAliasCount: 10000 }));
  } catch (e) {
    // go-yaml refuses excessive aliasing too ("billion laughs")
    throw new YamlSyntaxError(`yaml: ${(e as Error).message}`, { location: file ? { file } : {} });
  }
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

function normalize(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof GoInt64) return Number(v.value);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString().replace('.000Z', 'Z');
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of v) out[String(k)] = normalize(val);
    return out;
  }
  if (v instanceof Set) return [...v].map(normalize);
  if (Array.isArray(v)) return v.map(normalize);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) out[k] = normalize(val);
    return out;
  }
  return v;
}

/** Parses a map document (values files); `null`/empty gives `{}`; a non-map is an error. */
export function parseGoYamlMap(text: string, file?: string): Record<string, unknown> {
  const v = parseGoYaml(text, file);
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new YamlSyntaxError(
      `error unmarshaling JSON: json: cannot unmarshal ${goJsonKind(v)} into Go value of type map[string]interface {}`,
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
  return /\p{L}/u.test(c);
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/** Formats a float64 the way the JSON → YAML round trip prints it. */
export function formatGoYamlNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  // go-yaml formats floats with strconv 'g' (shortest repr), exponent at least two digits.
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e21)) {
    const [m, e] = n.toExponential().split('e');
    const exp = Number(e);
    const sign = exp < 0 ? '-' : '+';
    const digits = String(Math.abs(exp)).padStart(2, '0');
    return `${m}e${sign}${digits}`;
  }
  return String(n);
}

const boolLike = new Set([
  'y',
  'Y',
  'yes',
  'Yes',
  'YES',
  'n',
  'N',
  'no',
  'No',
  'NO',
  'true',
  'True',
  'TRUE',
  'false',
  'False',
  'FALSE',
  'on',
  'On',
  'ON',
  'off',
  'Off',
  'OFF',
  '~',
  'null',
  'Null',
  'NULL',
  '',
]);

function resolvesToNonString(s: string): boolean {
  if (boolLike.has(s)) return true;
  const plain = s.replace(/_/g, '');
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(plain)) return true;
  if (/^[-+]?0[xob]?[0-9a-fA-F]+$/.test(plain) && /^[-+]?[0-9]/.test(s)) return true;
  if (/^[-+]?0x[0-9a-fA-F_]+$/.test(s) || /^[-+]?0b[01_]+$/.test(s) || /^[-+]?0o?[0-7_]+$/.test(s))
    return true;
  if (/^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$/.test(s)) return true;
  if (/^[-+]?\.(inf|Inf|INF)$/.test(s) || /^\.(nan|NaN|NAN)$/.test(s)) return true;
  if (/^\d{4}-\d\d?-\d\d?([Tt ]|$)/.test(s)) return true;
  return false;
}

function plainAllowed(s: string): boolean {
  if (s.length === 0) return false;
  if (/^[\s]|[\s]$/.test(s)) return false;
  if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(s)) {
    // "-x", "?x", ":x" are allowed in block context when followed by a non-space.
    if (!/^[-?:][^\s]/.test(s)) return false;
  }
  if (/: |:$| #|[\t]/.test(s)) return false;
  if (/[\u0000-\u0008\u000b-\u001f\u007f\u0085\ufeff]/.test(s)) return false;
  return true;
}

function quoteDouble(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function scalarString(s: string): string {
  if (resolvesToNonString(s)) return quoteDouble(s);
  if (plainAllowed(s)) return s;
  if (/[\u0000-\u001f\u007f]/.test(s)) return quoteDouble(s);
  return `'${s.replace(/'/g, "''")}'`;
}

function literalBlock(s: string, indent: string): string | undefined {
  // A block scalar cannot start with a space on its first line without an indentation indicator.
  if (/^[ \t]/.test(s) || /[\r\t]/.test(s) || /[ ]\n/.test(s)) return undefined;
  let chomp = '-';
  let body = s;
  if (s.endsWith('\n')) {
    chomp = '';
    body = s.slice(0, -1);
    if (body.endsWith('\n') || body === '') chomp = '+';
  }
  if (chomp === '+') body = s.slice(0, -1);
  const lines = body.split('\n').map((l) => (l === '' ? '' : indent + l));
  return `|${chomp}\n${lines.join('\n')}`;
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint' || v instanceof GoInt64) return v.toString();
  if (typeof v === 'number') return formatGoYamlNumber(v);
  return scalarString(String(v));
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
      const key = scalarString(k);
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

const BEST_WIDTH = 80;

/** go-yaml v2 folds plain and single-quoted scalars at a space once the line is past 80 columns. */
function fold(text: string, indent: number, column: number, quoted: boolean): string {
  let out = '';
  let col = column;
  let spaces = false;
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === ' ') {
      const inner = !quoted || (i > 1 && i < chars.length - 2);
      if (inner && !spaces && col > BEST_WIDTH && chars[i + 1] !== ' ') {
        out += `\n${' '.repeat(indent)}`;
        col = indent;
      } else {
        out += ch;
        col++;
      }
      spaces = true;
    } else {
      out += ch;
      col++;
      spaces = false;
    }
  }
  return out;
}

function inline(v: unknown, indent: number, column: number): string {
  if (isMap(v)) return '{}';
  if (Array.isArray(v)) return '[]';
  if (typeof v === 'string') {
    if (v.includes('\n') && !resolvesToNonString(v)) {
      const block = literalBlock(v, ' '.repeat(indent));
      if (block !== undefined) return block;
    }
    const s = scalarString(v);
    if (s.startsWith('"') || !s.includes(' ')) return s;
    return fold(s, indent, column, s.startsWith("'"));
  }
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
