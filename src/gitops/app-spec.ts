// Application specs: Slipway's own YAML and Argo CD `Application` manifests (argoproj.io/v1alpha1), parsed
// and validated into one normalised shape. Pure: every error names the file, line and field.
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { InputError, ValidationError } from '../core/index.ts';

export interface HelmSource {
  /** Values files relative to the chart path; `$<ref>/path` reads from another source with that `ref`. */
  valueFiles: string[];
  /** Inline values as YAML text. */
  values?: string;
  /** Inline values as an object. */
  valuesObject?: Record<string, unknown>;
  parameters: { name: string; value: string; forceString?: boolean }[];
  releaseName?: string;
}

export interface AppSource {
  repoURL: string;
  targetRevision: string;
  /** Directory in the repo (chart, manifests or kustomization). */
  path?: string;
  /** Chart name, for a Helm repository or `oci://` source. */
  chart?: string;
  /** Name other sources use as `$ref/...` in valueFiles. */
  ref?: string;
  helm?: HelmSource;
  directory?: { recurse: boolean };
  kustomize?: Record<string, unknown>;
}

export interface SyncOptions {
  createNamespace: boolean;
  serverSideApply: boolean;
  pruneLast: boolean;
  replace: boolean;
}

export interface SyncPolicy {
  automated: { prune: boolean; selfHeal: boolean } | null;
  syncOptions: SyncOptions;
  retry: { limit: number; backoffSeconds: number; factor: number; maxBackoffSeconds: number };
}

export interface IgnoreDifference {
  group?: string;
  kind: string;
  name?: string;
  namespace?: string;
  jsonPointers: string[];
  /** jq paths (the subset kube/ supports: `.a.b`, `.a[]`, `select(.name == "x")`). */
  jqPathExpressions?: string[];
}

export interface AppSpec {
  name: string;
  project: string;
  environment: string;
  sources: AppSource[];
  destination: { name: string; namespace: string };
  syncPolicy: SyncPolicy;
  ignoreDifferences: IgnoreDifference[];
  /** Free-form labels (kept from the manifest). */
  labels: Record<string, string>;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const KNOWN_ENVS = ['dev', 'qa', 'stage', 'staging', 'prod', 'production', 'test', 'uat'];

interface Ctx {
  file: string;
  doc: Document;
  lines: LineCounter;
}

function fail(
  ctx: Ctx,
  path: (string | number)[],
  message: string,
  Cls: typeof InputError = ValidationError,
): never {
  let node: unknown;
  for (let i = path.length; i >= 0 && !node; i--) node = ctx.doc.getIn(path.slice(0, i), true);
  const range = (node as Node | undefined)?.range;
  const pos = range ? ctx.lines.linePos(range[0]) : undefined;
  const field = path.join('.');
  throw new Cls(
    `${ctx.file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${field ? `${field}: ` : ''}${message}`,
    {
      location: { file: ctx.file, ...(pos ? { line: pos.line, column: pos.col } : {}), field },
    },
  );
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function str(ctx: Ctx, v: unknown, path: (string | number)[], required: boolean): string | undefined {
  if (v === undefined || v === null || v === '') {
    if (required) fail(ctx, path, 'is required');
    return undefined;
  }
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v !== 'string') fail(ctx, path, `must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function bool(ctx: Ctx, v: unknown, path: (string | number)[], dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  fail(ctx, path, `must be true or false, got ${JSON.stringify(v)}`);
}

function parseSource(ctx: Ctx, raw: unknown, path: (string | number)[]): AppSource {
  const s = obj(raw) ?? fail(ctx, path, 'must be a mapping');
  const ociChart = typeof s.chart === 'string' && s.chart.startsWith('oci://') ? s.chart : undefined;
  const repoURL = str(ctx, s.repoURL ?? s.repo ?? ociChart, [...path, 'repoURL'], true)!;
  // With a chart name, a scheme-less repoURL is an OCI registry path (Argo CD's `enableOCI` form).
  const hostPath =
    s.chart !== undefined ? /^[\w.-]+(:\d+)?(\/[\w.-]+)+\/?$/ : /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
  if (!/^(https?:\/\/|oci:\/\/|file:\/\/|\/)/.test(repoURL) && !hostPath.test(repoURL)) {
    fail(
      ctx,
      [...path, 'repoURL'],
      `must be a git URL (https://...), oci://..., or org/name, got ${JSON.stringify(repoURL)}`,
    );
  }
  if (/\s/.test(repoURL))
    fail(ctx, [...path, 'repoURL'], `must not contain spaces, got ${JSON.stringify(repoURL)}`);
  const out: AppSource = {
    repoURL,
    targetRevision:
      str(ctx, s.targetRevision ?? s.revision ?? s.version, [...path, 'targetRevision'], false) ?? 'HEAD',
  };
  const p = str(ctx, s.path, [...path, 'path'], false);
  if (p !== undefined) {
    const clean = p.replace(/^\.\/?/, '').replace(/\/+$/, '');
    if (clean.split('/').includes('..') || clean.startsWith('/'))
      fail(ctx, [...path, 'path'], `must stay inside the repository, got ${JSON.stringify(p)}`);
    out.path = clean;
  }
  const chart = str(ctx, s.chart, [...path, 'chart'], false);
  if (chart !== undefined) out.chart = chart;
  const ref = str(ctx, s.ref, [...path, 'ref'], false);
  if (ref !== undefined) {
    if (!/^[A-Za-z0-9_-]+$/.test(ref))
      fail(ctx, [...path, 'ref'], `must be letters, digits, "_" or "-", got ${JSON.stringify(ref)}`);
    out.ref = ref;
  }
  if (s.helm !== undefined) {
    const h = obj(s.helm) ?? fail(ctx, [...path, 'helm'], 'must be a mapping');
    const valueFiles = h.valueFiles ?? [];
    if (!Array.isArray(valueFiles)) fail(ctx, [...path, 'helm', 'valueFiles'], 'must be a list of paths');
    const helm: HelmSource = {
      valueFiles: valueFiles.map((f, i) => str(ctx, f, [...path, 'helm', 'valueFiles', i], true)!),
      parameters: [],
    };
    if (h.values !== undefined) {
      if (typeof h.values === 'string') helm.values = h.values;
      else if (obj(h.values)) helm.valuesObject = obj(h.values)!;
      else fail(ctx, [...path, 'helm', 'values'], 'must be a YAML string or a mapping');
    }
    if (h.valuesObject !== undefined)
      helm.valuesObject =
        obj(h.valuesObject) ?? fail(ctx, [...path, 'helm', 'valuesObject'], 'must be a mapping');
    const params = h.parameters ?? [];
    if (!Array.isArray(params)) fail(ctx, [...path, 'helm', 'parameters'], 'must be a list of {name, value}');
    helm.parameters = params.map((pr, i) => {
      const o = obj(pr) ?? fail(ctx, [...path, 'helm', 'parameters', i], 'must be a mapping {name, value}');
      return {
        name: str(ctx, o.name, [...path, 'helm', 'parameters', i, 'name'], true)!,
        value: str(ctx, o.value, [...path, 'helm', 'parameters', i, 'value'], false) ?? '',
        ...(o.forceString !== undefined
          ? {
              forceString: bool(ctx, o.forceString, [...path, 'helm', 'parameters', i, 'forceString'], false),
            }
          : {}),
      };
    });
    const rn = str(ctx, h.releaseName, [...path, 'helm', 'releaseName'], false);
    if (rn !== undefined) helm.releaseName = rn;
    out.helm = helm;
  }
  if (s.directory !== undefined) {
    const d = obj(s.directory) ?? {};
    out.directory = { recurse: bool(ctx, d.recurse, [...path, 'directory', 'recurse'], false) };
  }
  if (s.kustomize !== undefined) out.kustomize = obj(s.kustomize) ?? {};
  const oci = repoURL.startsWith('oci://');
  if (out.path === undefined && !out.chart && !out.ref && !oci)
    fail(ctx, path, 'needs a path (directory in the repo) or a chart');
  return out;
}

const SYNC_OPTIONS: Record<string, keyof SyncOptions> = {
  CreateNamespace: 'createNamespace',
  ServerSideApply: 'serverSideApply',
  PruneLast: 'pruneLast',
  Replace: 'replace',
};

function parseSyncPolicy(ctx: Ctx, raw: unknown, path: (string | number)[]): SyncPolicy {
  const sp = raw === undefined || raw === null ? {} : (obj(raw) ?? fail(ctx, path, 'must be a mapping'));
  const policy: SyncPolicy = {
    automated: null,
    syncOptions: { createNamespace: false, serverSideApply: true, pruneLast: false, replace: false },
    retry: { limit: 3, backoffSeconds: 1, factor: 2, maxBackoffSeconds: 60 },
  };
  if (sp.automated !== undefined && sp.automated !== null && sp.automated !== false) {
    const a =
      sp.automated === true
        ? {}
        : (obj(sp.automated) ?? fail(ctx, [...path, 'automated'], 'must be a mapping'));
    policy.automated = {
      prune: bool(ctx, a.prune, [...path, 'automated', 'prune'], false),
      selfHeal: bool(ctx, a.selfHeal, [...path, 'automated', 'selfHeal'], false),
    };
  }
  const opts = sp.syncOptions ?? [];
  if (!Array.isArray(opts))
    fail(ctx, [...path, 'syncOptions'], 'must be a list such as [CreateNamespace=true]');
  opts.forEach((o, i) => {
    const text = str(ctx, o, [...path, 'syncOptions', i], true)!;
    const m = /^([A-Za-z]+)=(true|false)$/.exec(text);
    const key = m ? SYNC_OPTIONS[m[1]!] : undefined;
    if (!m || !key) {
      fail(
        ctx,
        [...path, 'syncOptions', i],
        `unknown sync option ${JSON.stringify(text)}; use ${Object.keys(SYNC_OPTIONS)
          .map((k) => `${k}=true|false`)
          .join(', ')}`,
      );
    }
    policy.syncOptions[key] = m[2] === 'true';
  });
  if (sp.retry !== undefined) {
    const r = obj(sp.retry) ?? fail(ctx, [...path, 'retry'], 'must be a mapping');
    const b = obj(r.backoff) ?? {};
    const num = (v: unknown, p: string[], d: number) => {
      if (v === undefined) return d;
      const n = typeof v === 'number' ? v : Number.parseFloat(String(v).replace(/s$/, ''));
      if (!Number.isFinite(n) || n < 0)
        fail(ctx, [...path, 'retry', ...p], `must be a non-negative number, got ${JSON.stringify(v)}`);
      return n;
    };
    policy.retry = {
      limit: num(r.limit, ['limit'], 3),
      backoffSeconds: num(b.duration, ['backoff', 'duration'], 1),
      factor: num(b.factor, ['backoff', 'factor'], 2),
      maxBackoffSeconds: num(b.maxDuration, ['backoff', 'maxDuration'], 60),
    };
  }
  return policy;
}

function inferEnvironment(
  name: string,
  labels: Record<string, string>,
  explicit: string | undefined,
): string {
  if (explicit) return explicit;
  const label = labels['slipway.dev/environment'];
  if (label) return label;
  const suffix = name.split('-').pop() ?? '';
  return KNOWN_ENVS.includes(suffix) ? suffix : 'default';
}

function parseOne(ctx: Ctx, raw: unknown): AppSpec {
  const root = obj(raw) ?? fail(ctx, [], 'an Application must be a mapping', InputError);
  const apiVersion = str(ctx, root.apiVersion, ['apiVersion'], false);
  const kind = str(ctx, root.kind, ['kind'], false);
  if (apiVersion && !['argoproj.io/v1alpha1', 'slipway.dev/v1'].includes(apiVersion)) {
    fail(
      ctx,
      ['apiVersion'],
      `must be argoproj.io/v1alpha1 or slipway.dev/v1, got ${JSON.stringify(apiVersion)}`,
    );
  }
  if (kind && kind !== 'Application') fail(ctx, ['kind'], `must be Application, got ${JSON.stringify(kind)}`);
  const metadata = obj(root.metadata) ?? fail(ctx, ['metadata'], 'is required (with a name)');
  const name = str(ctx, metadata.name, ['metadata', 'name'], true)!;
  if (!NAME_RE.test(name))
    fail(
      ctx,
      ['metadata', 'name'],
      `must be a DNS label (lower-case letters, digits, "-", max 63), got ${JSON.stringify(name)}`,
    );
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(metadata.labels) ?? {})) labels[k] = String(v);
  for (const [k, v] of Object.entries(obj(metadata.annotations) ?? {}))
    if (k.startsWith('slipway.dev/')) labels[k] = String(v);
  const spec = obj(root.spec) ?? fail(ctx, ['spec'], 'is required');
  let sources: AppSource[];
  if (spec.sources !== undefined) {
    if (!Array.isArray(spec.sources) || spec.sources.length === 0)
      fail(ctx, ['spec', 'sources'], 'must be a non-empty list');
    sources = spec.sources.map((s, i) => parseSource(ctx, s, ['spec', 'sources', i]));
    if (spec.source !== undefined) fail(ctx, ['spec', 'source'], 'give either source or sources, not both');
  } else {
    sources = [parseSource(ctx, spec.source, ['spec', 'source'])];
  }
  if (!sources.some((s) => s.path !== undefined || s.chart !== undefined || s.repoURL.startsWith('oci://'))) {
    fail(ctx, ['spec', 'sources'], 'at least one source must have a path or a chart');
  }
  const refs = new Set(sources.map((s) => s.ref).filter(Boolean));
  sources.forEach((s, i) => {
    s.helm?.valueFiles.forEach((f, j) => {
      const m = /^\$([^/]+)\//.exec(f);
      if (m && !refs.has(m[1]!)) {
        fail(
          ctx,
          [
            'spec',
            spec.sources ? 'sources' : 'source',
            ...(spec.sources ? [i] : []),
            'helm',
            'valueFiles',
            j,
          ],
          `refers to source "$${m[1]}" but no source has ref: ${m[1]}`,
        );
      }
    });
  });
  const dest =
    obj(spec.destination) ?? fail(ctx, ['spec', 'destination'], 'is required (name and namespace)');
  let cluster = str(ctx, dest.name, ['spec', 'destination', 'name'], false);
  const server = str(ctx, dest.server, ['spec', 'destination', 'server'], false);
  if (!cluster) cluster = !server || server === 'https://kubernetes.default.svc' ? 'in-cluster' : server;
  const namespace = str(ctx, dest.namespace, ['spec', 'destination', 'namespace'], false) ?? 'default';
  if (!NAME_RE.test(namespace))
    fail(ctx, ['spec', 'destination', 'namespace'], `must be a DNS label, got ${JSON.stringify(namespace)}`);
  const environment = inferEnvironment(
    name,
    labels,
    str(ctx, spec.environment, ['spec', 'environment'], false),
  );
  if (!NAME_RE.test(environment))
    fail(ctx, ['spec', 'environment'], `must be a DNS label, got ${JSON.stringify(environment)}`);
  const ignore = spec.ignoreDifferences ?? [];
  if (!Array.isArray(ignore)) fail(ctx, ['spec', 'ignoreDifferences'], 'must be a list');
  const ignoreDifferences = ignore.map((d, i): IgnoreDifference => {
    const o = obj(d) ?? fail(ctx, ['spec', 'ignoreDifferences', i], 'must be a mapping');
    const ptrs = o.jsonPointers ?? [];
    if (!Array.isArray(ptrs))
      fail(ctx, ['spec', 'ignoreDifferences', i, 'jsonPointers'], 'must be a list of JSON pointers');
    const out: IgnoreDifference = {
      kind: str(ctx, o.kind, ['spec', 'ignoreDifferences', i, 'kind'], true)!,
      jsonPointers: ptrs.map((p, j) => {
        const t = str(ctx, p, ['spec', 'ignoreDifferences', i, 'jsonPointers', j], true)!;
        if (!t.startsWith('/'))
          fail(
            ctx,
            ['spec', 'ignoreDifferences', i, 'jsonPointers', j],
            `must start with "/", got ${JSON.stringify(t)}`,
          );
        return t;
      }),
    };
    if (o.jqPathExpressions !== undefined) {
      const jq = o.jqPathExpressions;
      if (!Array.isArray(jq))
        fail(ctx, ['spec', 'ignoreDifferences', i, 'jqPathExpressions'], 'must be a list of jq paths');
      out.jqPathExpressions = jq.map(
        (e, j) => str(ctx, e, ['spec', 'ignoreDifferences', i, 'jqPathExpressions', j], true)!,
      );
    }
    for (const k of ['group', 'name', 'namespace'] as const) {
      const v = str(ctx, o[k], ['spec', 'ignoreDifferences', i, k], false);
      if (v !== undefined) out[k] = v;
    }
    return out;
  });
  return {
    name,
    project: str(ctx, spec.project, ['spec', 'project'], false) ?? 'default',
    environment,
    sources,
    destination: { name: cluster, namespace },
    syncPolicy: parseSyncPolicy(ctx, spec.syncPolicy, ['spec', 'syncPolicy']),
    ignoreDifferences,
    labels,
  };
}

/**
 * Parses one or more Applications from YAML (multi-document allowed). Accepts Slipway's
 * `slipway.dev/v1` and Argo CD's `argoproj.io/v1alpha1` `Application`. Throws {@link InputError} (syntax)
 * or {@link ValidationError} (rules) with `file:line:column` and the field.
 */
export function parseApplications(text: string, file = 'app.yaml'): AppSpec[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  if (!Array.isArray(docs)) return [];
  const out: AppSpec[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const pos = lines.linePos(err.pos[0]);
      throw new InputError(`Cannot parse ${file}:${pos.line}:${pos.col}: ${err.message.split('\n')[0]}`, {
        location: { file, line: pos.line, column: pos.col },
      });
    }
    if (doc.contents === null) continue;
    if (!isMap(doc.contents) && !isSeq(doc.contents)) {
      throw new InputError(`${file}: an Application must be a mapping`, { location: { file, line: 1 } });
    }
    out.push(parseOne({ file, doc, lines }, doc.toJS()));
  }
  if (out.length === 0) throw new InputError(`${file} holds no Application`, { location: { file } });
  return out;
}

/** Validates an Application given as a JSON object (REST bodies). */
export function parseApplicationObject(value: unknown, file = 'request body'): AppSpec {
  return parseApplications(JSON.stringify(value ?? null), file)[0]!;
}

/** The Argo CD-shaped manifest of a spec (what `app get -o yaml` prints and what is stored). */
export function toManifest(spec: AppSpec): Record<string, unknown> {
  const srcs = spec.sources.map((s) => ({ ...s }));
  const opts = Object.entries(SYNC_OPTIONS)
    .filter(([, k]) => spec.syncPolicy.syncOptions[k] !== (k === 'serverSideApply'))
    .map(([n, k]) => `${n}=${spec.syncPolicy.syncOptions[k]}`);
  return {
    apiVersion: 'slipway.dev/v1',
    kind: 'Application',
    metadata: { name: spec.name, ...(Object.keys(spec.labels).length ? { labels: spec.labels } : {}) },
    spec: {
      project: spec.project,
      environment: spec.environment,
      ...(srcs.length === 1 ? { source: srcs[0] } : { sources: srcs }),
      destination: spec.destination,
      syncPolicy: {
        ...(spec.syncPolicy.automated ? { automated: spec.syncPolicy.automated } : {}),
        ...(opts.length ? { syncOptions: opts } : {}),
        retry: {
          limit: spec.syncPolicy.retry.limit,
          backoff: {
            duration: `${spec.syncPolicy.retry.backoffSeconds}s`,
            factor: spec.syncPolicy.retry.factor,
            maxDuration: `${spec.syncPolicy.retry.maxBackoffSeconds}s`,
          },
        },
      },
      ...(spec.ignoreDifferences.length ? { ignoreDifferences: spec.ignoreDifferences } : {}),
    },
  };
}
