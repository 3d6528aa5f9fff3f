// Label and field selectors: parsing the query-string forms and matching objects (pure).
import { badRequest } from './status.ts';
import type { KubeObject } from './types.ts';

export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: '=' | '!='; values: [string] }
  | { key: string; op: 'exists' | '!exists'; values: [] };

export type LabelSelector = Requirement[];

/** Parses `a=b,c!=d,e in (x,y),!f,g`. Throws a 400 Status for bad syntax. */
export function parseLabelSelector(text: string): LabelSelector {
  const out: Requirement[] = [];
  const src = text.trim();
  let i = 0;
  const skipWs = () => {
    while (i < src.length && src[i] === ' ') i++;
  };
  const readKey = () => {
    skipWs();
    const m = /^[A-Za-z0-9._\-/]+/.exec(src.slice(i));
    if (!m)
      throw badRequest(`unable to parse requirement: found '${src.slice(i, i + 1)}', expected: identifier`);
    i += m[0].length;
    return m[0];
  };
  while (i < src.length) {
    skipWs();
    if (src[i] === '!') {
      i++;
      out.push({ key: readKey(), op: '!exists', values: [] });
    } else {
      const key = readKey();
      skipWs();
      const rest = src.slice(i);
      let m: RegExpExecArray | null;
      if ((m = /^(==|=|!=)/.exec(rest))) {
        i += m[0].length;
        skipWs();
        const v = /^[A-Za-z0-9._\-/]*/.exec(src.slice(i))?.[0] ?? '';
        i += v.length;
        out.push({ key, op: m[1] === '!=' ? '!=' : '=', values: [v] });
      } else if ((m = /^(in|notin)\s*\(([^)]*)\)/.exec(rest))) {
        i += m[0].length;
        const values = (m[2] ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        out.push({ key, op: m[1] as 'in' | 'notin', values });
      } else if (rest === '' || rest.startsWith(',')) {
        out.push({ key, op: 'exists', values: [] });
      } else {
        throw badRequest(
          `unable to parse requirement: found '${rest.slice(0, 1)}', expected: in, notin, =, ==, !=`,
        );
      }
    }
    skipWs();
    if (i < src.length) {
      if (src[i] !== ',') throw badRequest(`found '${src[i]}', expected: ',' or 'end of string'`);
      i++;
    }
  }
  return out;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of selector) {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case '=':
        if (v !== r.values[0]) return false;
        break;
      case '!=':
        if (v === r.values[0]) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(v as string)) return false;
        break;
      case 'notin':
        if (has && r.values.includes(v as string)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case '!exists':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** A `metav1.LabelSelector` object (matchLabels/matchExpressions) as requirements. */
export function selectorFromObject(sel: unknown): LabelSelector | undefined {
  if (!sel || typeof sel !== 'object') return undefined;
  const s = sel as {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  const out: Requirement[] = [];
  for (const [key, value] of Object.entries(s.matchLabels ?? {})) out.push({ key, op: '=', values: [value] });
  for (const e of s.matchExpressions ?? []) {
    const op = e.operator.toLowerCase();
    if (op === 'in' || op === 'notin') out.push({ key: e.key, op, values: e.values ?? [] });
    else if (op === 'exists') out.push({ key: e.key, op: 'exists', values: [] });
    else if (op === 'doesnotexist') out.push({ key: e.key, op: '!exists', values: [] });
  }
  return out;
}

/** `a=b,c` form of a matchLabels map (for status.selector and tables). */
export function formatMatchLabels(sel: unknown): string {
  const s = (sel ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  return parts.join(',');
}

export interface FieldRequirement {
  path: string;
  op: '=' | '!=';
  value: string;
}

export function parseFieldSelector(text: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  for (const part of text.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(p);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${p}'`);
    out.push({ path: (m[1] ?? '').trim(), op: m[2] === '!=' ? '!=' : '=', value: (m[3] ?? '').trim() });
  }
  return out;
}

function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

export function matchesFields(reqs: FieldRequirement[], obj: KubeObject): boolean {
  for (const r of reqs) {
    const v = fieldValue(obj, r.path);
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}
