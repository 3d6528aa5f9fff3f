// From rendered files to what `helm template` prints (pkg/releaseutil/manifest*.go, kind_sorter.go,
// pkg/action/action.go, cmd/helm/template.go): split documents, pull hooks apart, sort by install order.
import { InputError } from '../core/index.ts';
import { goPathMatch } from './chart.ts';
import { parseGoYaml } from './go-yaml.ts';

export interface HookInfo {
  events: string[];
  weight: number;
  deletePolicies: string[];
}

export interface RenderedManifest {
  /** Chart-prefixed template path, e.g. `mychart/templates/deployment.yaml`. */
  path: string;
  /** The document text (trimmed, without `---`). */
  content: string;
  kind?: string;
  name?: string;
  apiVersion?: string;
  hook?: HookInfo;
}

/** Helm's InstallOrder: kinds not listed go last, alphabetically by kind. */
export const INSTALL_ORDER: readonly string[] = [
  'PriorityClass',
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'PodSecurityPolicy',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Secret',
  'SecretList',
  'ConfigMap',
  'StorageClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleList',
  'ClusterRoleBinding',
  'ClusterRoleBindingList',
  'Role',
  'RoleList',
  'RoleBinding',
  'RoleBindingList',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'IngressClass',
  'Ingress',
  'APIService',
];

const HOOK_EVENTS = new Set([
  'pre-install',
  'post-install',
  'pre-delete',
  'post-delete',
  'pre-upgrade',
  'post-upgrade',
  'pre-rollback',
  'post-rollback',
  'test',
  'test-success',
]);

const SEP = /(?:^|\s*\n)---\s*/;

/** Helm's SplitManifests: documents separated by `---`, each trimmed, empty ones dropped. */
export function splitManifests(text: string): string[] {
  return text
    .trim()
    .split(SEP)
    .filter((d) => d !== '')
    .map((d) => d.trim());
}

interface Head {
  apiVersion?: string;
  kind?: string;
  name?: string;
  annotations?: Record<string, string>;
}

function readHead(doc: string, path: string): Head {
  let v: unknown;
  try {
    v = parseGoYaml(doc, path);
  } catch (err) {
    const loc = (err as InputError).location;
    throw new InputError(`YAML parse error on ${path}: ${(err as Error).message}`, {
      location: { file: path, ...(loc?.line ? { line: loc.line } : {}) },
    });
  }
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    const t = Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v;
    throw new InputError(
      `YAML parse error on ${path}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${t} into Go value of type releaseutil.SimpleHead`,
      { location: { file: path } },
    );
  }
  const o = v as Record<string, unknown>;
  const md = o.metadata;
  const head: Head = {};
  if (typeof o.apiVersion === 'string') head.apiVersion = o.apiVersion;
  if (typeof o.kind === 'string') head.kind = o.kind;
  if (typeof md === 'object' && md !== null && !Array.isArray(md)) {
    const m = md as Record<string, unknown>;
    if (typeof m.name === 'string') head.name = m.name;
    if (typeof m.annotations === 'object' && m.annotations !== null) {
      const ann: Record<string, string> = {};
      for (const [k, val] of Object.entries(m.annotations as Record<string, unknown>)) {
        if (typeof val === 'string') ann[k] = val;
      }
      head.annotations = ann;
    }
  }
  return head;
}

function kindRank(kind: string | undefined): number {
  const i = INSTALL_ORDER.indexOf(kind ?? '');
  return i < 0 ? -1 : i;
}

/** Helm's lessByKind, as a stable comparator. */
export function compareByKind(a: string | undefined, b: string | undefined): number {
  const ra = kindRank(a);
  const rb = kindRank(b);
  if (ra < 0 && rb < 0) {
    const ka = a ?? '';
    const kb = b ?? '';
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  }
  if (ra < 0) return 1;
  if (rb < 0) return -1;
  return ra - rb;
}

/**
 * Helm's SortManifests: files sorted by path (partials and blank files skipped), each split into documents;
 * documents with a known `helm.sh/hook` become hooks (unknown hook events are dropped, as Helm does).
 * Both lists are stable-sorted by kind in install order.
 */
export function sortManifests(files: Map<string, string>): {
  manifests: RenderedManifest[];
  hooks: RenderedManifest[];
} {
  const manifests: RenderedManifest[] = [];
  const hooks: RenderedManifest[] = [];
  const paths = [...files.keys()].sort();
  for (const path of paths) {
    const content = files.get(path)!;
    const base = path.slice(path.lastIndexOf('/') + 1);
    if (base.startsWith('_')) continue;
    if (content.trim() === '') continue;
    for (const doc of splitManifests(content)) {
      const head = readHead(doc, path);
      const m: RenderedManifest = { path, content: doc };
      if (head.kind !== undefined) m.kind = head.kind;
      if (head.name !== undefined) m.name = head.name;
      if (head.apiVersion !== undefined) m.apiVersion = head.apiVersion;
      const hookTypes = head.annotations?.['helm.sh/hook'];
      if (hookTypes === undefined) {
        manifests.push(m);
        continue;
      }
      const events: string[] = [];
      let unknown = false;
      for (const t of hookTypes.split(',')) {
        const e = t.trim().toLowerCase();
        if (!HOOK_EVENTS.has(e)) {
          unknown = true;
          break;
        }
        events.push(e);
      }
      if (unknown) continue;
      const w = head.annotations?.['helm.sh/hook-weight'];
      const weight = w !== undefined && /^[+-]?\d+$/.test(w.trim()) ? Number.parseInt(w.trim(), 10) : 0;
      const dp = head.annotations?.['helm.sh/hook-delete-policy'];
      const deletePolicies = dp ? dp.split(',').map((s) => s.trim()) : [];
      m.hook = { events, weight, deletePolicies };
      hooks.push(m);
    }
  }
  const byKind = (a: RenderedManifest, b: RenderedManifest) => compareByKind(a.kind, b.kind);
  return { manifests: manifests.sort(byKind), hooks: hooks.sort(byKind) };
}

export interface CrdFile {
  /** e.g. `mychart/crds/crontab.yaml` */
  path: string;
  content: string;
}

/** What `helm template` prints: CRDs (with --include-crds), manifests, then hooks; `--show-only` filters. */
export function formatTemplateOutput(input: {
  crds: CrdFile[];
  manifests: RenderedManifest[];
  hooks: RenderedManifest[];
  showOnly?: string[];
}): string {
  let manifest = '';
  for (const c of input.crds) manifest += `---\n# Source: ${c.path}\n${c.content}\n`;
  for (const m of input.manifests) manifest += `---\n# Source: ${m.path}\n${m.content}\n`;
  let out = `${manifest.trim()}\n`;
  for (const h of input.hooks) out += `---\n# Source: ${h.path}\n${h.content}\n`;
  const showOnly = input.showOnly ?? [];
  if (showOnly.length === 0) return out;
  const docs = splitManifests(out);
  const picked: string[] = [];
  for (const raw of showOnly) {
    const f = raw.replace(/\\/g, '/');
    let missing = true;
    for (const doc of docs) {
      const m = /# Source: [^/]+\/(.+)/.exec(doc);
      if (!m) continue;
      if (!goPathMatch(f, m[1]!)) continue;
      picked.push(doc);
      missing = false;
    }
    if (missing) throw new InputError(`could not find template ${raw} in chart`, { location: { file: raw } });
  }
  return picked.map((d) => `---\n${d}\n`).join('');
}
