// Parses and validates `.slipway/pipeline.yaml`. Pure: text in, PipelineSpec out, or a ValidationError
// whose location names the file, line, column and field of every problem.
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import { ValidationError } from '../core/index.ts';
import type {
  CredentialUse,
  ExtendsSpec,
  PipelineSpec,
  StageSpec,
  StepSpec,
  TriggerSpec,
  WhenSpec,
} from './spec-types.ts';

export const PIPELINE_FILE = '.slipway/pipeline.yaml';

export interface SpecIssue {
  message: string;
  file: string;
  line: number;
  column: number;
  field: string;
}

class Ctx {
  readonly issues: SpecIssue[] = [];
  constructor(
    readonly file: string,
    readonly lc: LineCounter,
  ) {}
  pos(node: Node | null | undefined): { line: number; column: number } {
    const offset = node?.range?.[0];
    if (offset === undefined) return { line: 1, column: 1 };
    const p = this.lc.linePos(offset);
    return { line: p.line, column: p.col };
  }
  fail(node: Node | null | undefined, field: string, message: string): undefined {
    const { line, column } = this.pos(node);
    this.issues.push({ message, file: this.file, line, column, field });
    return undefined;
  }
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;

/** `90`, `90s`, `10m`, `1h`, `500ms` → milliseconds. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return value > 0 ? value * 1000 : undefined;
  const m = DURATION.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  return ms > 0 ? ms : undefined;
}

function entries(map: YAMLMap): { key: string; keyNode: Node; value: Node | null }[] {
  const out: { key: string; keyNode: Node; value: Node | null }[] = [];
  for (const pair of map.items) {
    const k = pair.key as Node;
    const key = isScalar(k) ? String(k.value) : String(k);
    out.push({ key, keyNode: k, value: (pair.value as Node | null) ?? null });
  }
  return out;
}

function scalarString(ctx: Ctx, node: Node | null, field: string): string | undefined {
  if (!node || !isScalar(node) || node.value === null)
    return ctx.fail(node, field, `${field} must be a string`);
  const v = node.value;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return ctx.fail(node, field, `${field} must be a string`);
}

function stringList(ctx: Ctx, node: Node | null, field: string): string[] {
  if (node && isScalar(node)) {
    const s = scalarString(ctx, node, field);
    return s === undefined ? [] : [s];
  }
  if (!node || !isSeq(node)) {
    ctx.fail(node, field, `${field} must be a string or a list of strings`);
    return [];
  }
  const out: string[] = [];
  node.items.forEach((item, i) => {
    const s = scalarString(ctx, item as Node, `${field}[${i}]`);
    if (s !== undefined) out.push(s);
  });
  return out;
}

function stringMap(ctx: Ctx, node: Node | null, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!node || !isMap(node)) {
    ctx.fail(node, field, `${field} must be a mapping of NAME: value`);
    return out;
  }
  for (const { key, keyNode, value } of entries(node)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      ctx.fail(keyNode, `${field}.${key}`, `${field} name "${key}" is not a valid environment variable name`);
      continue;
    }
    const s = scalarString(ctx, value, `${field}.${key}`);
    if (s !== undefined) out[key] = s;
  }
  return out;
}

function duration(ctx: Ctx, node: Node | null, field: string): number | undefined {
  const raw = node && isScalar(node) ? node.value : undefined;
  const ms = typeof raw === 'number' || typeof raw === 'string' ? parseDuration(raw) : undefined;
  if (ms === undefined) return ctx.fail(node, field, `${field} must be a duration such as 30s, 10m or 1h`);
  return ms;
}

function checkKeys(ctx: Ctx, map: YAMLMap, field: string, allowed: string[]): void {
  for (const { key, keyNode } of entries(map)) {
    if (!allowed.includes(key)) {
      ctx.fail(
        keyNode,
        field ? `${field}.${key}` : key,
        `Unknown field "${key}"${field ? ` in ${field}` : ''}; expected one of ${allowed.join(', ')}`,
      );
    }
  }
}

function get(map: YAMLMap, key: string): Node | null | undefined {
  for (const pair of map.items) {
    const k = pair.key as Node;
    if ((isScalar(k) ? String(k.value) : String(k)) === key) return (pair.value as Node | null) ?? null;
  }
  return undefined;
}

function parseTriggers(ctx: Ctx, node: Node | null): TriggerSpec {
  const t: TriggerSpec = { branches: [], tags: [], manual: true, cron: [] };
  if (!node || !isMap(node)) {
    ctx.fail(node, 'triggers', 'triggers must be a mapping with branches, tags, manual, cron');
    return t;
  }
  checkKeys(ctx, node, 'triggers', ['branches', 'tags', 'manual', 'cron']);
  const b = get(node, 'branches');
  if (b !== undefined) t.branches = stringList(ctx, b, 'triggers.branches');
  const tags = get(node, 'tags');
  if (tags !== undefined) t.tags = stringList(ctx, tags, 'triggers.tags');
  const manual = get(node, 'manual');
  if (manual !== undefined) {
    if (isScalar(manual) && typeof manual.value === 'boolean') t.manual = manual.value;
    else ctx.fail(manual, 'triggers.manual', 'triggers.manual must be true or false');
  }
  const cron = get(node, 'cron');
  if (cron !== undefined) {
    t.cron = stringList(ctx, cron, 'triggers.cron');
    t.cron.forEach((c) => {
      if (c.trim().split(/\s+/).length !== 5)
        ctx.fail(cron, 'triggers.cron', `cron "${c}" must have 5 fields (minute hour day month weekday)`);
    });
  }
  return t;
}

function parseCredentials(ctx: Ctx, node: Node | null): CredentialUse[] {
  if (!node || !isSeq(node)) {
    ctx.fail(node, 'credentials', 'credentials must be a list of names or {name, env|file}');
    return [];
  }
  const out: CredentialUse[] = [];
  node.items.forEach((item, i) => {
    const field = `credentials[${i}]`;
    const n = item as Node;
    if (isScalar(n)) {
      const name = scalarString(ctx, n, field);
      if (name) out.push({ name });
      return;
    }
    if (!isMap(n)) {
      ctx.fail(n, field, `${field} must be a name or {name, env|file}`);
      return;
    }
    checkKeys(ctx, n, field, ['name', 'env', 'file']);
    const name = scalarString(ctx, get(n, 'name') ?? null, `${field}.name`);
    if (!name) return;
    const use: CredentialUse = { name };
    const env = get(n, 'env');
    if (env !== undefined) {
      const v = scalarString(ctx, env, `${field}.env`);
      if (v) use.env = v;
    }
    const file = get(n, 'file');
    if (file !== undefined) {
      const v = scalarString(ctx, file, `${field}.file`);
      if (v) use.file = v;
    }
    out.push(use);
  });
  return out;
}

function parseWhen(ctx: Ctx, node: Node | null, field: string): WhenSpec | undefined {
  if (node && isScalar(node)) {
    const s = scalarString(ctx, node, field);
    if (s === undefined) return undefined;
    return /[=!&|()]/.test(s) ? { expression: s } : { branch: s };
  }
  if (!node || !isMap(node))
    return ctx.fail(
      node,
      field,
      `${field} must be a branch glob or a mapping with branch, tag, event, expression`,
    );
  checkKeys(ctx, node, field, ['branch', 'tag', 'event', 'expression']);
  const w: WhenSpec = {};
  for (const k of ['branch', 'tag', 'event', 'expression'] as const) {
    const v = get(node, k);
    if (v !== undefined) {
      const s = scalarString(ctx, v, `${field}.${k}`);
      if (s !== undefined) w[k] = s;
    }
  }
  return w;
}

const STEP_KINDS = ['run', 'checkout', 'image-build', 'image-push', 'deploy', 'approval'] as const;
const STEP_COMMON = ['name', 'timeout', 'retry', 'continue-on-error', 'env'];

function parseStep(ctx: Ctx, node: Node, field: string): StepSpec | undefined {
  const line = ctx.pos(node).line;
  if (isScalar(node)) {
    if (node.value === 'checkout')
      return { kind: 'checkout', name: 'checkout', retry: 0, continueOnError: false, env: {}, line };
    return ctx.fail(
      node,
      field,
      `${field}: a step is a mapping such as {run: "make test"}; the only bare step is "checkout"`,
    );
  }
  if (!isMap(node)) return ctx.fail(node, field, `${field} must be a mapping`);
  const kinds = entries(node).filter((e) => (STEP_KINDS as readonly string[]).includes(e.key));
  if (kinds.length !== 1) {
    return ctx.fail(node, field, `${field} must have exactly one of ${STEP_KINDS.join(', ')}`);
  }
  const kindEntry = kinds[0]!;
  checkKeys(ctx, node, field, [...STEP_COMMON, kindEntry.key]);
  const common = {
    name: kindEntry.key,
    retry: 0,
    continueOnError: false,
    env: {} as Record<string, string>,
    line,
  } as StepSpec;
  const name = get(node, 'name');
  if (name !== undefined) {
    const s = scalarString(ctx, name, `${field}.name`);
    if (s) common.name = s;
  }
  const timeout = get(node, 'timeout');
  if (timeout !== undefined) {
    const ms = duration(ctx, timeout, `${field}.timeout`);
    if (ms !== undefined) common.timeoutMs = ms;
  }
  const retry = get(node, 'retry');
  if (retry !== undefined) {
    if (
      retry &&
      isScalar(retry) &&
      Number.isInteger(retry.value) &&
      (retry.value as number) >= 0 &&
      (retry.value as number) <= 10
    )
      common.retry = retry.value as number;
    else ctx.fail(retry, `${field}.retry`, `${field}.retry must be a whole number from 0 to 10`);
  }
  const coe = get(node, 'continue-on-error');
  if (coe !== undefined) {
    if (coe && isScalar(coe) && typeof coe.value === 'boolean') common.continueOnError = coe.value;
    else ctx.fail(coe, `${field}.continue-on-error`, `${field}.continue-on-error must be true or false`);
  }
  const env = get(node, 'env');
  if (env !== undefined) common.env = stringMap(ctx, env, `${field}.env`);
  const v = kindEntry.value;
  const kf = `${field}.${kindEntry.key}`;
  const opts = (allowed: string[]): YAMLMap | undefined => {
    if (v && isMap(v)) {
      checkKeys(ctx, v, kf, allowed);
      return v;
    }
    if (v === null || (isScalar(v) && v.value === null)) return undefined;
    ctx.fail(v, kf, `${kf} must be a mapping with ${allowed.join(', ')}`);
    return undefined;
  };
  const optStr = (m: YAMLMap | undefined, key: string): string | undefined => {
    if (!m) return undefined;
    const n = get(m, key);
    return n === undefined ? undefined : scalarString(ctx, n, `${kf}.${key}`);
  };
  const reqStr = (m: YAMLMap | undefined, key: string): string => {
    const s = optStr(m, key);
    if (s === undefined && (!m || get(m, key) === undefined))
      ctx.fail(m ?? v ?? node, `${kf}.${key}`, `${kf}.${key} is required`);
    return s ?? '';
  };
  const tagsOf = (m: YAMLMap | undefined, dflt: string[]): string[] => {
    const n = m ? get(m, 'tags') : undefined;
    return n === undefined ? dflt : stringList(ctx, n, `${kf}.tags`);
  };
  switch (kindEntry.key) {
    case 'run': {
      const run = scalarString(ctx, v, kf);
      if (run !== undefined && run.trim() === '') ctx.fail(v, kf, `${kf} must not be empty`);
      if (name === undefined && run) common.name = run.split('\n')[0]!.slice(0, 60);
      return { ...common, kind: 'run', run: run ?? '' };
    }
    case 'checkout':
      return { ...common, kind: 'checkout' };
    case 'image-build': {
      const m = opts(['image', 'context', 'dockerfile', 'tags', 'credentials']);
      const step: StepSpec = {
        ...common,
        kind: 'image-build',
        image: reqStr(m, 'image'),
        context: optStr(m, 'context') ?? '.',
        dockerfile: optStr(m, 'dockerfile') ?? 'Dockerfile',
        tags: tagsOf(m, ['{build}']),
      };
      const c = optStr(m, 'credentials');
      if (c) step.credentials = c;
      return step;
    }
    case 'image-push': {
      const m = opts(['image', 'tags', 'credentials']);
      const step: StepSpec = { ...common, kind: 'image-push', tags: tagsOf(m, ['latest']) };
      const image = optStr(m, 'image');
      if (image) step.image = image;
      const c = optStr(m, 'credentials');
      if (c) step.credentials = c;
      return step;
    }
    case 'deploy': {
      const m = opts(['repo', 'environment', 'env', 'service', 'tag', 'file', 'message']);
      const environment = optStr(m, 'environment') ?? optStr(m, 'env');
      if (!environment) ctx.fail(m ?? node, `${kf}.environment`, `${kf}.environment is required`);
      const step: StepSpec = {
        ...common,
        kind: 'deploy',
        repo: reqStr(m, 'repo'),
        environment: environment ?? '',
        service: reqStr(m, 'service'),
        tag: optStr(m, 'tag') ?? '{build}',
        message: optStr(m, 'message') ?? 'updated the image tag',
      };
      const file = optStr(m, 'file');
      if (file) step.file = file;
      return step;
    }
    case 'approval': {
      const m = opts(['right', 'environment', 'message']);
      const step: StepSpec = { ...common, kind: 'approval', right: optStr(m, 'right') ?? 'env.approve' };
      const e = optStr(m, 'environment');
      if (e) step.environment = e;
      const msg = optStr(m, 'message');
      if (msg) step.message = msg;
      if (step.right.startsWith('env.') && !step.environment) {
        ctx.fail(m ?? node, `${kf}.environment`, `${kf}.environment is required for right "${step.right}"`);
      }
      return step;
    }
  }
  return undefined;
}

function parseStage(ctx: Ctx, node: Node, field: string, depth: number): StageSpec | undefined {
  if (!isMap(node))
    return ctx.fail(node, field, `${field} must be a mapping with name and steps (or parallel)`);
  checkKeys(ctx, node, field, ['name', 'when', 'image', 'timeout', 'env', 'steps', 'parallel']);
  const nameNode = get(node, 'name');
  const name =
    nameNode === undefined
      ? ctx.fail(node, `${field}.name`, `${field}.name is required`)
      : scalarString(ctx, nameNode, `${field}.name`);
  const stage: StageSpec = { name: name ?? '', env: {}, parallel: [], steps: [], line: ctx.pos(node).line };
  const when = get(node, 'when');
  if (when !== undefined) {
    const w = parseWhen(ctx, when, `${field}.when`);
    if (w) stage.when = w;
  }
  const image = get(node, 'image');
  if (image !== undefined) {
    const s = scalarString(ctx, image, `${field}.image`);
    if (s !== undefined) {
      if (!/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(s))
        ctx.fail(image, `${field}.image`, `${field}.image "${s}" is not an image reference`);
      else stage.image = s;
    }
  }
  const timeout = get(node, 'timeout');
  if (timeout !== undefined) {
    const ms = duration(ctx, timeout, `${field}.timeout`);
    if (ms !== undefined) stage.timeoutMs = ms;
  }
  const env = get(node, 'env');
  if (env !== undefined) stage.env = stringMap(ctx, env, `${field}.env`);
  const steps = get(node, 'steps');
  const parallel = get(node, 'parallel');
  if (steps === undefined && parallel === undefined)
    ctx.fail(node, `${field}.steps`, `${field} needs steps or parallel`);
  if (steps !== undefined && parallel !== undefined)
    ctx.fail(parallel, `${field}.parallel`, `${field} may have steps or parallel, not both`);
  if (steps !== undefined) {
    if (!steps || !isSeq(steps) || steps.items.length === 0)
      ctx.fail(steps, `${field}.steps`, `${field}.steps must be a non-empty list`);
    else
      steps.items.forEach((item, i) => {
        const s = parseStep(ctx, item as Node, `${field}.steps[${i}]`);
        if (s) stage.steps.push(s);
      });
  }
  if (parallel !== undefined) {
    if (depth > 0) ctx.fail(parallel, `${field}.parallel`, 'parallel stages cannot be nested');
    else if (!parallel || !isSeq(parallel) || parallel.items.length === 0)
      ctx.fail(parallel, `${field}.parallel`, `${field}.parallel must be a non-empty list of stages`);
    else
      parallel.items.forEach((item, i) => {
        const s = parseStage(ctx, item as Node, `${field}.parallel[${i}]`, depth + 1);
        if (s) stage.parallel.push(s);
      });
  }
  return stage;
}

function parseExtends(ctx: Ctx, node: Node | null): ExtendsSpec | undefined {
  if (node && isScalar(node)) {
    // `org/repo` or `org/repo//path/file.yaml@ref`
    const s = scalarString(ctx, node, 'extends') ?? '';
    const m = /^([^/@]+\/[^/@]+?)(?:\/\/([^@]+))?(?:@(.+))?$/.exec(s);
    if (!m)
      return ctx.fail(
        node,
        'extends',
        `extends "${s}" must look like org/repo, org/repo//path.yaml or org/repo//path.yaml@ref`,
      );
    return { repo: m[1]!, file: m[2] ?? PIPELINE_FILE, ref: m[3] ?? 'main' };
  }
  if (!node || !isMap(node))
    return ctx.fail(node, 'extends', 'extends must be "org/repo//file@ref" or {repo, file, ref}');
  checkKeys(ctx, node, 'extends', ['repo', 'file', 'ref']);
  const repo = scalarString(ctx, get(node, 'repo') ?? null, 'extends.repo');
  if (!repo) return undefined;
  const fileNode = get(node, 'file');
  const refNode = get(node, 'ref');
  return {
    repo,
    file:
      fileNode === undefined ? PIPELINE_FILE : (scalarString(ctx, fileNode, 'extends.file') ?? PIPELINE_FILE),
    ref: refNode === undefined ? 'main' : (scalarString(ctx, refNode, 'extends.ref') ?? 'main'),
  };
}

/** Parses without throwing: the spec (when there were no problems) and every problem found. */
export function tryParsePipeline(
  text: string,
  file = PIPELINE_FILE,
): { spec?: PipelineSpec; issues: SpecIssue[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const ctx = new Ctx(file, lc);
  for (const err of doc.errors) {
    const p = lc.linePos(err.pos[0]);
    ctx.issues.push({
      message: `YAML syntax error: ${err.message.split('\n')[0]}`,
      file,
      line: p.line,
      column: p.col,
      field: '',
    });
  }
  if (ctx.issues.length > 0) return { issues: ctx.issues };
  const root = doc.contents as Node | null;
  if (!root || !isMap(root)) {
    ctx.fail(root, '', `${file} must hold a mapping with stages`);
    return { issues: ctx.issues };
  }
  checkKeys(ctx, root, '', ['extends', 'triggers', 'env', 'credentials', 'concurrency', 'timeout', 'stages']);
  const spec: PipelineSpec = {
    file,
    triggers: { branches: [], tags: [], manual: true, cron: [] },
    env: {},
    credentials: [],
    concurrency: 1,
    stages: [],
    present: entries(root).map((e) => e.key),
  };
  const ext = get(root, 'extends');
  if (ext !== undefined) {
    const e = parseExtends(ctx, ext);
    if (e) spec.extends = e;
  }
  const triggers = get(root, 'triggers');
  if (triggers !== undefined) spec.triggers = parseTriggers(ctx, triggers);
  const env = get(root, 'env');
  if (env !== undefined) spec.env = stringMap(ctx, env, 'env');
  const creds = get(root, 'credentials');
  if (creds !== undefined) spec.credentials = parseCredentials(ctx, creds);
  const conc = get(root, 'concurrency');
  if (conc !== undefined) {
    if (
      conc &&
      isScalar(conc) &&
      Number.isInteger(conc.value) &&
      (conc.value as number) >= 1 &&
      (conc.value as number) <= 100
    )
      spec.concurrency = conc.value as number;
    else ctx.fail(conc, 'concurrency', 'concurrency must be a whole number from 1 to 100');
  }
  const timeout = get(root, 'timeout');
  if (timeout !== undefined) {
    const ms = duration(ctx, timeout, 'timeout');
    if (ms !== undefined) spec.timeoutMs = ms;
  }
  const stages = get(root, 'stages');
  if (stages === undefined) {
    if (!spec.extends) ctx.fail(root, 'stages', 'stages is required');
  } else if (!stages || !isSeq(stages) || (stages.items.length === 0 && !spec.extends)) {
    ctx.fail(stages, 'stages', 'stages must be a non-empty list');
  } else {
    const names = new Set<string>();
    stages.items.forEach((item, i) => {
      const s = parseStage(ctx, item as Node, `stages[${i}]`, 0);
      if (!s) return;
      if (names.has(s.name))
        ctx.fail(item as Node, `stages[${i}].name`, `Stage name "${s.name}" is used twice`);
      names.add(s.name);
      spec.stages.push(s);
    });
  }
  if (ctx.issues.length > 0) return { issues: ctx.issues };
  return { spec, issues: [] };
}

/** Parses and validates; throws ValidationError located at the first problem (all problems in details). */
export function parsePipeline(text: string, file = PIPELINE_FILE): PipelineSpec {
  const { spec, issues } = tryParsePipeline(text, file);
  if (spec) return spec;
  const first = issues[0]!;
  throw new ValidationError(`${first.file}:${first.line}:${first.column}: ${first.message}`, {
    location: { file: first.file, line: first.line, column: first.column, field: first.field },
    details: { issues },
  });
}

/**
 * Applies a pipeline over its `extends:` base: top-level fields the child sets replace the base's;
 * a child stage with a base stage's name replaces it in place; other child stages are appended.
 */
export function mergePipelines(base: PipelineSpec, child: PipelineSpec): PipelineSpec {
  const has = (k: string) => child.present.includes(k);
  const stages = base.stages.map((s) => child.stages.find((c) => c.name === s.name) ?? s);
  for (const c of child.stages) if (!base.stages.some((s) => s.name === c.name)) stages.push(c);
  const merged: PipelineSpec = {
    file: child.file,
    triggers: has('triggers') ? child.triggers : base.triggers,
    env: { ...base.env, ...child.env },
    credentials: has('credentials') ? child.credentials : base.credentials,
    concurrency: has('concurrency') ? child.concurrency : base.concurrency,
    stages,
    present: [...new Set([...base.present, ...child.present])].filter((k) => k !== 'extends'),
  };
  const timeout = has('timeout') ? child.timeoutMs : base.timeoutMs;
  if (timeout !== undefined) merged.timeoutMs = timeout;
  return merged;
}
