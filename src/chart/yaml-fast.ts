// A fast reader for the plain YAML most charts are made of (Chart.yaml, values files, rendered manifests):
// block mappings and sequences, plain and simply quoted scalars, literal block scalars, `[]`/`{}`, comments.
// It gives exactly what parseGoYaml's full parse (the yaml package, YAML 1.1) gives, and answers undefined
// for anything else — any other syntax, anything unusual, anything that might be an error — so the caller
// then runs the full parser, which also words the errors. Plain scalars are resolved by the yaml package's
// own YAML 1.1 tags, so `yes`, `017`, `1:30`, `.inf` and the rest mean what they mean there.
// Why: a CLI process runs every parse cold (not JIT-compiled); the yaml package's generator-based lexer and
// composer cost a `slipway template` start ~10-20 ms, this reader a fraction of that.
import { isScalar, Schema } from 'yaml';

/** Gives up on the text: the caller parses it with the full parser. */
class Bail extends Error {}
const BAIL = new Bail();

type ScalarTag = {
  default?: boolean | 'key';
  test?: RegExp;
  resolve: (v: string, e: (m: string) => void, o: object) => unknown;
};

let tags: ScalarTag[] | undefined;
/** The default scalar tags of the yaml package's YAML 1.1 schema, in the order it tries them. */
function schemaTags(): ScalarTag[] {
  tags ??= (
    new Schema({ schema: 'yaml-1.1', merge: true, resolveKnownTags: false }).tags as ScalarTag[]
  ).filter((t) => t.default === true && t.test !== undefined);
  return tags;
}

const RESOLVE_OPTIONS = { intAsBigInt: false };
const onError = (): void => {
  throw BAIL;
};

// Resolved plain scalars (keys and values repeat across a chart's files); bounded for a long-lived server.
const resolved = new Map<string, unknown>();

/** A plain scalar as the yaml package resolves it (YAML 1.1); only null, booleans, numbers and strings. */
function resolvePlain(text: string): unknown {
  if (resolved.has(text)) return resolved.get(text);
  const v = resolveByTags(text);
  if (resolved.size >= 10_000) resolved.clear();
  resolved.set(text, v);
  return v;
}

function resolveByTags(text: string): unknown {
  for (const tag of schemaTags()) {
    if (!tag.test!.test(text)) continue;
    const res = tag.resolve(text, onError, RESOLVE_OPTIONS);
    const v = isScalar(res) ? res.value : res;
    if (v === null || typeof v === 'boolean' || typeof v === 'number') return v;
    if (typeof v === 'string') return v;
    throw BAIL; // timestamps, binary: rare, left to the full parser
  }
  return text;
}

/** A plain mapping key: must stay a string under YAML 1.1 (`yes`, `1`, `~` would not). */
function plainKey(text: string): string {
  if (text === '' || text.length > 1000 || text === '<<' || text === '__proto__') throw BAIL;
  if (resolvePlain(text) !== text) throw BAIL;
  return text;
}

// Characters that make the text something this reader does not handle: tabs, CR, control and special
// Unicode characters, BOM.
const UNUSUAL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/;
// A plain scalar may not start with these (indicators); `-`, `?`, `:` are checked separately.
const INDICATOR = /^[,[\]{}#&*!|>'"%@`]/;

/** Parses `text` like parseGoYaml's first document, or answers undefined when it cannot vouch for the result. */
export function parseYamlFast(text: string): unknown {
  if (UNUSUAL.test(text)) return undefined;
  try {
    return new Reader(text).document();
  } catch (err) {
    if (err === BAIL) return undefined;
    throw err;
  }
}

class Reader {
  private readonly lines: string[];
  private i = 0;

  constructor(text: string) {
    this.lines = text.split('\n');
  }

  document(): unknown {
    this.skip();
    if (this.i < this.lines.length && this.lines[this.i] === '---') {
      this.i++;
      this.skip();
    }
    for (let j = this.i; j < this.lines.length; j++) {
      const l = this.lines[j]!;
      if (l.startsWith('---') || l.startsWith('...') || l.startsWith('%')) throw BAIL;
    }
    if (this.i >= this.lines.length) return null;
    const indent = indentOf(this.lines[this.i]!);
    const v = this.node(indent, this.lines[this.i]!.slice(indent));
    this.skip();
    if (this.i < this.lines.length) throw BAIL;
    return v;
  }

  /** Moves past blank and comment lines. */
  private skip(): void {
    while (this.i < this.lines.length) {
      const l = this.lines[this.i]!;
      const t = l.trimStart();
      if (t !== '' && !t.startsWith('#')) return;
      this.i++;
    }
  }

  /** The indentation of the next content line, or -1 at the end. */
  private nextIndent(): number {
    this.skip();
    return this.i < this.lines.length ? indentOf(this.lines[this.i]!) : -1;
  }

  /**
   * A block node whose first line is `content` at column `col` (line this.i; the rest of the line when it
   * follows `- `): a sequence, a mapping, or a lone scalar (only as a whole document).
   */
  private node(col: number, content: string): unknown {
    if (isSeqItem(content)) return this.sequence(col, content);
    const entry = splitEntry(content);
    if (entry !== undefined) return this.mapping(col, entry);
    // A scalar on a line of its own: a whole document, or the value of `key:` / `-` on the lines above.
    if (col === 0 || content[0] === '|') throw BAIL;
    return this.scalar(content, col - 1);
  }

  private sequence(col: number, first: string): unknown[] {
    const out: unknown[] = [];
    let content: string | undefined = first;
    for (;;) {
      const rest = content.slice(1);
      const after = rest.trimStart();
      if (after === '' || after.startsWith('#')) {
        if (after !== '' && rest[0] !== ' ') throw BAIL;
        this.i++;
        const ind = this.nextIndent();
        if (ind > col) out.push(this.node(ind, this.lines[this.i]!.slice(ind)));
        else out.push(null);
      } else {
        const itemCol = col + 1 + (rest.length - after.length);
        if (isSeqItem(after) || splitEntry(after) !== undefined) out.push(this.node(itemCol, after));
        else out.push(this.scalar(after, col));
      }
      const ind = this.nextIndent();
      if (ind < col) return out;
      if (ind > col) throw BAIL;
      content = this.lines[this.i]!.slice(col);
      if (!isSeqItem(content)) {
        // A mapping entry at the sequence's column ends it when the sequence is a mapping value there.
        return out;
      }
    }
  }

  private mapping(col: number, first: Entry): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let entry: Entry | undefined = first;
    for (;;) {
      const { key, rest } = entry;
      let value: unknown;
      const after = rest.trimStart();
      if (after === '' || after.startsWith('#')) {
        this.i++;
        const ind = this.nextIndent();
        if (ind > col) value = this.node(ind, this.lines[this.i]!.slice(ind));
        else if (ind === col && isSeqItem(this.lines[this.i]!.slice(col))) {
          value = this.sequence(col, this.lines[this.i]!.slice(col));
        } else value = null;
      } else value = this.scalar(after, col);
      if (key in out) {
        Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
      } else out[key] = value;
      const ind = this.nextIndent();
      if (ind < col) return out;
      if (ind > col) throw BAIL;
      entry = splitEntry(this.lines[this.i]!.slice(col));
      if (entry === undefined) {
        // A sequence item at the mapping's column ends the mapping only when it is a sequence's item.
        if (isSeqItem(this.lines[this.i]!.slice(col))) return out;
        throw BAIL;
      }
    }
  }

  /**
   * The scalar `text` (the rest of line this.i after its key or dash); `parent` is the column of the node it
   * belongs to: more-indented lines after it would continue it, which this reader leaves to the full parser.
   */
  private scalar(text: string, parent: number): unknown {
    const c = text[0]!;
    let value: unknown;
    if (c === '|') return this.literal(text, parent);
    if (c === '"' || c === "'") {
      const [body, end] = quoted(text);
      value = body;
      endOfValue(text.slice(end + 1));
    } else if (text.startsWith('{}')) {
      value = {};
      endOfValue(text.slice(2));
    } else if (c === '[') {
      const [list, end] = flowSequence(text);
      value = list;
      endOfValue(text.slice(end + 1));
    } else {
      if (INDICATOR.test(text)) throw BAIL;
      if ((c === '-' || c === '?' || c === ':') && (text.length === 1 || text[1] === ' ')) throw BAIL;
      const hash = text.indexOf(' #');
      const plain = (hash < 0 ? text : text.slice(0, hash)).trimEnd();
      if (plain.includes(': ') || plain.endsWith(':')) throw BAIL;
      value = resolvePlain(plain);
    }
    this.i++;
    if (this.nextIndent() > parent && parent >= 0) throw BAIL;
    return value;
  }

  /** A literal block scalar (`|` or `|-`) whose header is `header`, on line this.i. */
  private literal(header: string, parent: number): string {
    let chomp = header[1];
    if (chomp !== '-') chomp = undefined;
    endOfValue(header.slice(chomp ? 2 : 1));
    const lines = this.lines;
    let j = this.i + 1;
    // Indentation: that of the first non-blank line; leading blank lines may not be longer.
    let m = -1;
    let maxBlank = 0;
    for (let k = j; k < lines.length; k++) {
      const l = lines[k]!;
      if (l.trim() === '') {
        maxBlank = Math.max(maxBlank, l.length);
        continue;
      }
      m = indentOf(l);
      break;
    }
    if (m <= parent || m < 0) {
      // No content: an empty string; the blank lines are left to the caller.
      if (maxBlank > parent + 1) throw BAIL;
      this.i = j;
      return '';
    }
    if (maxBlank > m) throw BAIL;
    const parts: string[] = [];
    for (; j < lines.length; j++) {
      const l = lines[j]!;
      if (l.trim() === '') {
        parts.push(l.length > m ? l.slice(m) : '');
        continue;
      }
      if (indentOf(l) < m) break;
      parts.push(l.slice(m));
    }
    // Trailing blank lines belong to no one under clip and strip chomping.
    let end = parts.length;
    while (end > 0 && parts[end - 1]!.trim() === '') {
      if (parts[end - 1] !== '') throw BAIL;
      end--;
    }
    this.i = j;
    const body = parts.slice(0, end).join('\n');
    return chomp === '-' || body === '' ? body : `${body}\n`;
  }
}

interface Entry {
  key: string;
  /** What follows the `:`. */
  rest: string;
}

function indentOf(line: string): number {
  let n = 0;
  while (line.charCodeAt(n) === 32) n++;
  return n;
}

function isSeqItem(content: string): boolean {
  return content[0] === '-' && (content.length === 1 || content[1] === ' ');
}

/** `key: rest` or `key:` with a plain or simply quoted key; undefined when `content` is no such entry. */
function splitEntry(content: string): Entry | undefined {
  const c = content[0];
  if (c === '"' || c === "'") {
    const [key, end] = quoted(content);
    const after = content.slice(end + 1);
    const colon = after.trimStart();
    if (!colon.startsWith(':')) return undefined;
    if (colon !== ':' && colon[1] !== ' ') throw BAIL;
    if (key === '__proto__' || key === '<<') throw BAIL;
    return { key, rest: colon.slice(1) };
  }
  let colon = content.indexOf(': ');
  if (colon < 0 && content.endsWith(':')) colon = content.length - 1;
  if (colon < 0) return undefined;
  const raw = content.slice(0, colon);
  if (raw.includes('#') || INDICATOR.test(raw) || raw.includes('\\')) throw BAIL;
  if ((raw[0] === '-' || raw[0] === '?' || raw[0] === ':') && (raw.length === 1 || raw[1] === ' '))
    throw BAIL;
  return { key: plainKey(raw.trimEnd()), rest: content.slice(colon + 1) };
}

/**
 * A one-line flow sequence of scalars that starts `text` (`[]`, `[a, "b", 'c']`): its items and the index of
 * its `]`. Nested collections, empty items and multi-line sequences are left to the full parser.
 */
function flowSequence(text: string): [unknown[], number] {
  const items: unknown[] = [];
  let k = 1;
  const space = () => {
    while (text[k] === ' ') k++;
  };
  space();
  if (text[k] === ']') return [items, k];
  for (;;) {
    space();
    const c = text[k];
    if (c === '"' || c === "'") {
      const [v, end] = quoted(text.slice(k));
      items.push(v);
      k += end + 1;
    } else {
      let e = k;
      while (e < text.length && !',[]{}#'.includes(text[e]!)) e++;
      const plain = text.slice(k, e).trimEnd();
      if (plain === '' || INDICATOR.test(plain) || plain.includes(':') || /^[-?] /.test(plain)) throw BAIL;
      items.push(resolvePlain(plain));
      k = e;
    }
    space();
    if (text[k] === ']') return [items, k];
    if (text[k] !== ',') throw BAIL;
    k++;
    space();
    if (text[k] === ']') throw BAIL; // a trailing comma
  }
}

const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};
const HEX_LENGTH: Record<string, number> = { x: 2, u: 4, U: 8 };

/**
 * The quoted scalar that starts `text` and ends on this line: its value and the index of its closing quote.
 * Single quotes escape themselves (`''`); double quotes take YAML's backslash escapes.
 */
function quoted(text: string): [string, number] {
  const q = text[0];
  let out = '';
  for (let k = 1; k < text.length; k++) {
    const ch = text[k]!;
    if (ch === q) {
      if (q === "'" && text[k + 1] === "'") {
        out += "'";
        k++;
        continue;
      }
      return [out, k];
    }
    if (ch !== '\\' || q === "'") {
      out += ch;
      continue;
    }
    const e = text[++k];
    if (e === undefined) throw BAIL;
    const simple = ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    const n = HEX_LENGTH[e];
    const hex = n === undefined ? '' : text.slice(k + 1, k + 1 + n);
    if (n === undefined || hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) throw BAIL;
    const code = Number.parseInt(hex, 16);
    if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) throw BAIL;
    out += String.fromCodePoint(code);
    k += n;
  }
  throw BAIL; // not closed on this line
}

/** What may follow a scalar on its line: nothing, or a comment. */
function endOfValue(rest: string): void {
  const t = rest.trimStart();
  if (t === '') return;
  if (t.startsWith('#') && t.length < rest.length) return;
  throw BAIL;
}
