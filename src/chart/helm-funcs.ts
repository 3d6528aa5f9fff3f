// The functions Helm adds to Sprig (pkg/engine/funcs.go): YAML/JSON/TOML conversion, required, fail, lookup.
// include and tpl need the template set and live in render.ts.
import { parseGoYaml, stringifyGoYaml, toJsonModel } from './go-yaml.ts';
import { formatGoFloat } from './schema.ts';
import { GoInt64 } from '../template/index.ts';

type Fn = (...args: unknown[]) => unknown;

/** Helm wraps messages of `required` and `fail` in these so the engine can report them as-is. */
export const WARN_START = 'HELM_ERR_START';
export const WARN_END = 'HELM_ERR_END';
export const WARN_RE = /HELM_ERR_START([\s\S]*)HELM_ERR_END/;

/** Go's encoding/json.Marshal: sorted keys, HTML-safe escapes, Go float formatting. */
export function goJson(v: unknown): string {
  const m = toJsonModel(v);
  return encodeJson(m);
}

function encodeJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint' || v instanceof GoInt64) return v.toString();
  if (typeof v === 'number') return goJsonNumber(v);
  if (typeof v === 'string') return goJsonString(v);
  if (Array.isArray(v)) return `[${v.map(encodeJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort(byteCompare);
  return `{${keys.map((k) => `${goJsonString(k)}:${encodeJson(o[k])}`).join(',')}}`;
}

function byteCompare(a: string, b: string): number {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return Buffer.compare(ab, bb);
}

function goJsonNumber(n: number): string {
  if (!Number.isFinite(n)) return 'null';
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    const [m, e] = n.toExponential().split('e');
    const ev = Number(e);
    return `${m}e${ev < 0 ? '-' : '+'}${Math.abs(ev) < 10 ? `0${Math.abs(ev)}` : Math.abs(ev)}`.replace(
      /e([+-])0(\d)$/,
      'e$1$2',
    );
  }
  return String(n);
}

function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '<') out += '\\u003c';
    else if (ch === '>') out += '\\u003e';
    else if (ch === '&') out += '\\u0026';
    else if (c === 0x2028) out += '\\u2028';
    else if (c === 0x2029) out += '\\u2029';
    else if (c < 0x20) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  if (v === null || v === undefined) return '';
  return String(v);
}

function goError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A TOML encoding close to BurntSushi/toml's for the map shapes charts use. */
export function toToml(v: unknown): string {
  const model = toJsonModel(v);
  if (typeof model !== 'object' || model === null || Array.isArray(model)) {
    return 'toml: top-level values must be Go maps or structs';
  }
  const lines: string[] = [];
  const isTable = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
  const key = (k: string) => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k));
  const scalar = (x: unknown): string => {
    if (typeof x === 'string') return JSON.stringify(x);
    if (typeof x === 'number') return Number.isInteger(x) ? `${x}.0` : String(x);
    if (typeof x === 'bigint') return x.toString();
    if (typeof x === 'boolean') return String(x);
    if (Array.isArray(x)) return `[${x.map(scalar).join(', ')}]`;
    if (isTable(x)) {
      const o = x as Record<string, unknown>;
      return `{${Object.keys(o)
        .sort()
        .map((k) => `${key(k)} = ${scalar(o[k])}`)
        .join(', ')}}`;
    }
    return '""';
  };
  const emit = (o: Record<string, unknown>, prefix: string[], indent: string) => {
    const keys = Object.keys(o).sort();
    for (const k of keys) {
      const x = o[k];
      if (x === null || x === undefined || isTable(x)) continue;
      lines.push(`${indent}${key(k)} = ${scalar(x)}`);
    }
    for (const k of keys) {
      const x = o[k];
      if (!isTable(x)) continue;
      const p = [...prefix, key(k)];
      lines.push('');
      lines.push(`${indent}[${p.join('.')}]`);
      emit(x as Record<string, unknown>, p, `${indent}  `);
    }
  };
  emit(model as Record<string, unknown>, [], '');
  const out = lines.join('\n').replace(/^\n/, '');
  return out === '' ? '' : `${out}\n`;
}

export interface HelmFuncOptions {
  lookup?: (apiVersion: string, kind: string, namespace: string, name: string) => unknown;
}

/** Helm's additions to the function map, except include and tpl. */
export function helmFunctions(options: HelmFuncOptions = {}): Record<string, Fn> {
  return {
    toYaml: (v: unknown) => {
      try {
        return stringifyGoYaml(v).replace(/\n$/, '');
      } catch {
        return '';
      }
    },
    toYamlPretty: (v: unknown) => {
      try {
        return stringifyGoYaml(v, { indentSequences: true }).replace(/\n$/, '');
      } catch {
        return '';
      }
    },
    fromYaml: (s: unknown) => {
      try {
        const v = parseGoYaml(str(s));
        if (v === null) return {};
        if (typeof v !== 'object' || Array.isArray(v)) {
          const kind = Array.isArray(v) ? 'array' : typeof v === 'string' ? 'string' : typeof v;
          return {
            Error: `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`,
          };
        }
        return v;
      } catch (err) {
        return { Error: goError(err) };
      }
    },
    fromYamlArray: (s: unknown) => {
      try {
        const v = parseGoYaml(str(s));
        if (v === null) return [];
        if (!Array.isArray(v)) {
          const kind = typeof v === 'object' ? 'object' : typeof v === 'string' ? 'string' : typeof v;
          return [
            `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${kind} into Go value of type []interface {}`,
          ];
        }
        return v;
      } catch (err) {
        return [goError(err)];
      }
    },
    toJson: (v: unknown) => {
      try {
        return goJson(v);
      } catch {
        return '';
      }
    },
    fromJson: (s: unknown) => {
      try {
        const v = JSON.parse(str(s)) as unknown;
        if (typeof v !== 'object' || v === null || Array.isArray(v)) {
          if (v === null) return {};
          return { Error: 'json: cannot unmarshal into Go value of type map[string]interface {}' };
        }
        return v;
      } catch (err) {
        return { Error: goError(err) };
      }
    },
    fromJsonArray: (s: unknown) => {
      try {
        const v = JSON.parse(str(s)) as unknown;
        if (v === null) return [];
        if (!Array.isArray(v)) return ['json: cannot unmarshal object into Go value of type []interface {}'];
        return v;
      } catch (err) {
        return [goError(err)];
      }
    },
    toToml: (v: unknown) => toToml(v),
    required: (warn: unknown, val: unknown) => {
      if (val === null || val === undefined || val === '')
        throw new Error(`${WARN_START}${str(warn)}${WARN_END}`);
      return val;
    },
    fail: (msg: unknown) => {
      throw new Error(`${WARN_START}${str(msg)}${WARN_END}`);
    },
    lookup: (apiVersion: unknown, kind: unknown, namespace: unknown, name: unknown) => {
      if (!options.lookup) return {};
      return options.lookup(str(apiVersion), str(kind), str(namespace), str(name)) ?? {};
    },
    getHostByName: () => '',
  };
}

export { formatGoFloat };
