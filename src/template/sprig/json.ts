// Go's encoding/json Marshal for template values (sorted map keys, HTML escaping, Go's float format).
import { GoInt64, isGoMap, sortedKeys, typeName } from '../value.ts';

export interface JsonOptions {
  escapeHtml: boolean;
  indent?: string;
}

/** json.Marshal / MarshalIndent of a value. Throws Go's error text for NaN, Inf and functions. */
export function marshalJson(v: unknown, options: JsonOptions): string {
  return encode(v, options, '', 0);
}

const NEEDS_FIXUP = /[<>&\u2028\u2029\ud800-\udfff]/;

function encodeString(s: string, escapeHtml: boolean): string {
  let out = JSON.stringify(s);
  if (!NEEDS_FIXUP.test(s)) return out;
  if (escapeHtml)
    out = out.replace(/[<>&]/g, (c) => (c === '<' ? '\\u003c' : c === '>' ? '\\u003e' : '\\u0026'));
  return out
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
    .replace(/\\ud[89a-f][0-9a-f]{2}/g, '\ufffd');
}

function encodeNumber(n: number): string {
  if (Number.isNaN(n)) throw new Error('json: unsupported value: NaN');
  if (!Number.isFinite(n)) throw new Error(`json: unsupported value: ${n > 0 ? '+Inf' : '-Inf'}`);
  if (Object.is(n, -0)) return '-0';
  return String(n);
}

function encode(v: unknown, o: JsonOptions, prefix: string, depth: number): string {
  switch (typeof v) {
    case 'undefined':
      return 'null';
    case 'string':
      return encodeString(v, o.escapeHtml);
    case 'number':
      return encodeNumber(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'function':
      throw new Error(`json: unsupported type: ${typeName(v)}`);
    default:
      if (v instanceof GoInt64) return v.value.toString();
      break;
  }
  if (v === null) return 'null';
  const obj = v as object;
  if (obj instanceof Uint8Array) return JSON.stringify(Buffer.from(obj).toString('base64'));
  if (obj instanceof Date) return JSON.stringify(obj.toISOString().replace('.000Z', 'Z'));
  // Go reports a cycle once nesting passes 1000 levels.
  if (depth > 1000) throw new Error(`json: unsupported value: encountered a cycle via ${typeName(obj)}`);
  {
    const inner = o.indent === undefined ? '' : prefix + o.indent;
    const nl = o.indent === undefined ? '' : '\n';
    const colon = o.indent === undefined ? ':' : ': ';
    if (Array.isArray(obj)) {
      if (obj.length === 0) return '[]';
      const parts = obj.map((x) => inner + encode(x, o, inner, depth + 1));
      return `[${nl}${parts.join(',' + nl)}${nl}${o.indent === undefined ? '' : prefix}]`;
    }
    let entries: Array<[string, unknown]>;
    if (isGoMap(obj)) {
      const keys = sortedKeys(obj);
      entries = keys.map((k) => [
        String(k),
        obj instanceof Map ? obj.get(k) : (obj as Record<string, unknown>)[k as string],
      ]);
    } else {
      entries = Object.entries(obj).filter(([, x]) => typeof x !== 'function');
    }
    if (entries.length === 0) return '{}';
    const parts = entries.map(
      ([k, x]) => inner + encodeString(k, o.escapeHtml) + colon + encode(x, o, inner, depth + 1),
    );
    return `{${nl}${parts.join(',' + nl)}${nl}${o.indent === undefined ? '' : prefix}}`;
  }
}

/** json.Unmarshal into interface{}: numbers become float64, objects maps. */
export function unmarshalJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch (e) {
    throw new Error(goJsonError(s, e));
  }
}

function goJsonError(s: string, e: unknown): string {
  if (s.trim() === '') return 'unexpected end of JSON input';
  const msg = e instanceof Error ? e.message : String(e);
  if (/end of (JSON )?input/i.test(msg)) return 'unexpected end of JSON input';
  const m = /position (\d+)/.exec(msg);
  if (m) {
    const ch = s[Number(m[1])] ?? '';
    return `invalid character '${ch}' looking for beginning of value`;
  }
  return msg;
}
