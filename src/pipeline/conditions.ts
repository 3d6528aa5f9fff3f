// Trigger matching, `when:` conditions, tag templates and cron schedules. Pure.
import picomatch from 'picomatch';
import { ValidationError } from '../core/index.ts';
import type { PipelineSpec, WhenSpec } from './spec-types.ts';

export function globMatch(glob: string, value: string): boolean {
  return picomatch(glob, { dot: true })(value);
}

export interface BuildFacts {
  event: 'push' | 'manual' | 'cron';
  branch?: string;
  tag?: string;
  env: Record<string, string>;
  build: number;
  sha: string;
}

/** Splits a full ref into branch or tag. */
export function refFacts(ref: string): { branch?: string; tag?: string } {
  if (ref.startsWith('refs/heads/')) return { branch: ref.slice(11) };
  if (ref.startsWith('refs/tags/')) return { tag: ref.slice(10) };
  return { branch: ref };
}

/** Whether a push of `ref` should start the pipeline. */
export function matchesTrigger(spec: PipelineSpec, ref: string): boolean {
  const { branch, tag } = refFacts(ref);
  if (branch !== undefined) return spec.triggers.branches.some((g) => globMatch(g, branch));
  if (tag !== undefined) return spec.triggers.tags.some((g) => globMatch(g, tag));
  return false;
}

/** Evaluates a stage's `when:`; all given parts must hold. */
export function evaluateWhen(when: WhenSpec | undefined, facts: BuildFacts): boolean {
  if (!when) return true;
  if (when.branch !== undefined && !(facts.branch !== undefined && globMatch(when.branch, facts.branch)))
    return false;
  if (when.tag !== undefined && !(facts.tag !== undefined && globMatch(when.tag, facts.tag))) return false;
  if (when.event !== undefined && when.event !== facts.event) return false;
  if (when.expression !== undefined && !evaluateExpression(when.expression, facts)) return false;
  return true;
}

type Token = { t: 'id' | 'str' | 'op'; v: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '&&', '||', '=~'].includes(two)) {
      out.push({ t: 'op', v: two });
      i += 2;
      continue;
    }
    if ('!()'.includes(c)) {
      out.push({ t: 'op', v: c });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new ValidationError(`Unterminated string in expression "${src}"`);
      out.push({ t: 'str', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const m = /^(?:\d+(?:\.\d+)*|[A-Za-z_][A-Za-z0-9_.-]*)/.exec(src.slice(i));
    if (!m) throw new ValidationError(`Unexpected "${c}" in expression "${src}"`);
    out.push({ t: 'id', v: m[0] });
    i += m[0].length;
  }
  return out;
}

/**
 * Evaluates `branch == 'main' && !(tag =~ 'v*') || env.DEPLOY != 'no'`. Identifiers: branch, tag, event,
 * build, sha, env.NAME, true, false; `=~` is a glob match. Missing values are "".
 */
export function evaluateExpression(src: string, facts: BuildFacts): boolean {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = () => tokens[pos];
  const value = (tok: Token): string => {
    if (tok.t === 'str') return tok.v;
    if (tok.v === 'true' || tok.v === 'false' || /^\d/.test(tok.v)) return tok.v;
    if (tok.v === 'branch') return facts.branch ?? '';
    if (tok.v === 'tag') return facts.tag ?? '';
    if (tok.v === 'event') return facts.event;
    if (tok.v === 'build') return String(facts.build);
    if (tok.v === 'sha') return facts.sha;
    if (tok.v.startsWith('env.')) return facts.env[tok.v.slice(4)] ?? '';
    throw new ValidationError(
      `Unknown name "${tok.v}" in expression "${src}"; use branch, tag, event, build, sha or env.NAME`,
    );
  };
  const primary = (): boolean => {
    const tok = tokens[pos++];
    if (!tok) throw new ValidationError(`Expression "${src}" ends too early`);
    if (tok.t === 'op' && tok.v === '!') return !primary();
    if (tok.t === 'op' && tok.v === '(') {
      const v = or();
      if (tokens[pos++]?.v !== ')') throw new ValidationError(`Missing ")" in expression "${src}"`);
      return v;
    }
    if (tok.t === 'op') throw new ValidationError(`Unexpected "${tok.v}" in expression "${src}"`);
    const left = value(tok);
    const op = peek();
    if (op?.t === 'op' && (op.v === '==' || op.v === '!=' || op.v === '=~')) {
      pos++;
      const rt = tokens[pos++];
      if (!rt || rt.t === 'op')
        throw new ValidationError(`Expected a value after "${op.v}" in expression "${src}"`);
      const right = value(rt);
      if (op.v === '==') return left === right;
      if (op.v === '!=') return left !== right;
      return globMatch(right, left);
    }
    return left !== '' && left !== 'false';
  };
  const and = (): boolean => {
    let v = primary();
    while (peek()?.v === '&&') {
      pos++;
      const r = primary();
      v = v && r;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (peek()?.v === '||') {
      pos++;
      const r = and();
      v = v || r;
    }
    return v;
  };
  const result = or();
  if (pos !== tokens.length)
    throw new ValidationError(`Unexpected "${tokens[pos]?.v}" in expression "${src}"`);
  return result;
}

/**
 * Expands a tag template: `{build}`, `{branch-version}` (`pre-release/1.2.0` → `1.2.0`, the part after
 * the last `/`), `{sha7}`, `{date}` (UTC `YYYYMMDD`), `{branch}` (with `/` → `-`). The result must be a
 * valid OCI tag.
 */
export function expandTag(template: string, facts: BuildFacts & { now: Date }): string {
  const branchish = facts.branch ?? facts.tag ?? '';
  const out = template.replace(/\{([a-z0-9-]+)\}/g, (whole, key: string) => {
    switch (key) {
      case 'build':
        return String(facts.build);
      case 'branch-version':
        return branchish.split('/').pop() ?? '';
      case 'branch':
        return branchish.replace(/\//g, '-');
      case 'sha7':
        return facts.sha.slice(0, 7);
      case 'date':
        return facts.now.toISOString().slice(0, 10).replace(/-/g, '');
      default:
        throw new ValidationError(
          `Unknown tag placeholder ${whole} in "${template}"; use {build}, {branch-version}, {branch}, {sha7}, {date}`,
        );
    }
  });
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(out)) {
    throw new ValidationError(`Tag template "${template}" gives "${out}", which is not a valid image tag`);
  }
  return out;
}

function cronField(field: string, value: number, min: number, max: number): boolean {
  for (const part of field.split(',')) {
    const [range, stepRaw] = part.split('/') as [string, string?];
    const step = stepRaw ? Number(stepRaw) : 1;
    let lo = min;
    let hi = max;
    if (range !== '*') {
      const [a, b] = range.split('-');
      lo = Number(a);
      hi = b === undefined ? (stepRaw ? max : lo) : Number(b);
    }
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || !Number.isInteger(step) || step < 1) {
      throw new ValidationError(`Invalid cron field "${field}"`);
    }
    if (value >= lo && value <= hi && (value - lo) % step === 0) return true;
  }
  return false;
}

/** Whether a 5-field cron expression (UTC) fires at the minute of `date`. */
export function cronMatches(expr: string, date: Date): boolean {
  const f = expr.trim().split(/\s+/);
  if (f.length !== 5) throw new ValidationError(`Cron "${expr}" must have 5 fields`);
  const dow = date.getUTCDay();
  return (
    cronField(f[0]!, date.getUTCMinutes(), 0, 59) &&
    cronField(f[1]!, date.getUTCHours(), 0, 23) &&
    cronField(f[2]!, date.getUTCDate(), 1, 31) &&
    cronField(f[3]!, date.getUTCMonth() + 1, 1, 12) &&
    (cronField(f[4]!, dow, 0, 7) || (dow === 0 && cronField(f[4]!, 7, 0, 7)))
  );
}
