// Sync planning: tracking labels, default namespaces, hooks and sync waves. Pure.
import { INSTALL_ORDER } from '../chart/index.ts';
import { InputError } from '../core/index.ts';
import type { KubeObject, ObjectRef, RenderedManifest } from './seams.ts';

export const APP_ANNOTATION = 'slipway.dev/app';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const MANAGED_LABEL = 'slipway.dev/app';

export type HookPhase = 'PreSync' | 'Sync' | 'PostSync' | 'SyncFail';
export type DeletePolicy = 'HookSucceeded' | 'HookFailed' | 'BeforeHookCreation';

export interface PlannedObject {
  object: KubeObject;
  source: string;
  wave: number;
  /** Set for hooks. */
  hook?: HookPhase;
  deletePolicies: DeletePolicy[];
}

export interface SyncPlan {
  /** Ordinary resources (what is compared and pruned), sorted by wave then kind. */
  resources: PlannedObject[];
  hooks: Record<HookPhase, PlannedObject[]>;
  /** Objects marked `Skip`. */
  skipped: PlannedObject[];
}

/** Within a wave, kinds go in Helm's install order (shared with chart/). */
const KIND_ORDER = INSTALL_ORDER;

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'StorageClass',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'IngressClass',
  'APIService',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'CSIDriver',
  'RuntimeClass',
]);

/** True for kinds that live in a namespace (a built-in table; unknown kinds are namespaced). */
export function isNamespacedKind(kind: string): boolean {
  return !CLUSTER_SCOPED.has(kind);
}

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i === -1 ? KIND_ORDER.length : i;
}

const HELM_HOOKS: Record<string, HookPhase | undefined> = {
  'pre-install': 'PreSync',
  'pre-upgrade': 'PreSync',
  'post-install': 'PostSync',
  'post-upgrade': 'PostSync',
};

const HELM_POLICIES: Record<string, DeletePolicy> = {
  'hook-succeeded': 'HookSucceeded',
  'hook-failed': 'HookFailed',
  'before-hook-creation': 'BeforeHookCreation',
};

function parseWave(value: string | undefined, where: string): number {
  if (value === undefined || value.trim() === '') return 0;
  if (!/^-?\d+$/.test(value.trim())) {
    throw new InputError(`${where}: sync wave must be a whole number, got ${JSON.stringify(value)}`, {
      location: { file: where, field: 'metadata.annotations' },
    });
  }
  return Number(value.trim());
}

/** The identity of an object in the cluster. */
export function refOf(obj: KubeObject): ObjectRef {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name,
    ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
  };
}

/** A stable string key for an object: `group/Kind/namespace/name`. */
export function keyOfRef(ref: ObjectRef): string {
  const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
  return `${group}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

/**
 * Builds the sync plan for an app: adds the tracking label and annotation, fills in the destination
 * namespace, splits hooks (Argo CD and Helm annotations) from resources and orders both by wave then kind.
 * Throws {@link InputError} naming the source file for a bad wave or hook annotation, or a duplicate object.
 */
export function planSync(app: string, namespace: string, manifests: RenderedManifest[]): SyncPlan {
  const plan: SyncPlan = {
    resources: [],
    hooks: { PreSync: [], Sync: [], PostSync: [], SyncFail: [] },
    skipped: [],
  };
  const seen = new Map<string, string>();
  for (const m of manifests) {
    const object = structuredClone(m.object);
    const md = object.metadata;
    if (isNamespacedKind(object.kind)) md.namespace = md.namespace || namespace;
    else delete md.namespace;
    md.labels = { ...(md.labels ?? {}) };
    if (!md.labels[INSTANCE_LABEL]) md.labels[INSTANCE_LABEL] = app;
    md.labels[MANAGED_LABEL] = app;
    const ann = (md.annotations = { ...(md.annotations ?? {}) });
    ann[APP_ANNOTATION] = app;
    const where = `${m.source} (${object.kind} ${md.name})`;
    let hook: HookPhase | 'Skip' | undefined;
    const argoHook = ann['argocd.argoproj.io/hook'];
    const helmHook = ann['helm.sh/hook'];
    if (argoHook) {
      const first = argoHook.split(',')[0]!.trim();
      if (!['PreSync', 'Sync', 'PostSync', 'SyncFail', 'Skip'].includes(first)) {
        throw new InputError(
          `${where}: unknown hook ${JSON.stringify(argoHook)}; use PreSync, Sync, PostSync, SyncFail or Skip`,
          {
            location: { file: m.source, field: 'metadata.annotations.argocd.argoproj.io/hook' },
          },
        );
      }
      hook = first as HookPhase | 'Skip';
    } else if (helmHook) {
      const phases = helmHook
        .split(',')
        .map((h) => HELM_HOOKS[h.trim()])
        .filter(Boolean);
      // Hooks Slipway has no phase for (test, delete, rollback) are not run by a sync.
      hook = phases[0] ?? 'Skip';
    }
    const policyText =
      ann['argocd.argoproj.io/hook-delete-policy'] ?? ann['helm.sh/hook-delete-policy'] ?? '';
    const deletePolicies = policyText
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => (HELM_POLICIES[p] ?? p) as DeletePolicy)
      .filter((p) => ['HookSucceeded', 'HookFailed', 'BeforeHookCreation'].includes(p));
    if (hook && hook !== 'Skip' && deletePolicies.length === 0) deletePolicies.push('BeforeHookCreation');
    const waveText =
      ann['slipway.dev/sync-wave'] ??
      ann['argocd.argoproj.io/sync-wave'] ??
      (hook ? ann['helm.sh/hook-weight'] : undefined);
    const planned: PlannedObject = {
      object,
      source: m.source,
      wave: parseWave(waveText, where),
      deletePolicies,
    };
    if (hook === 'Skip') {
      plan.skipped.push(planned);
      continue;
    }
    if (hook) {
      planned.hook = hook;
      plan.hooks[hook].push(planned);
      continue;
    }
    const key = keyOfRef(refOf(object));
    const prev = seen.get(key);
    if (prev) {
      throw new InputError(`${m.source}: ${object.kind} "${md.name}" is also defined in ${prev}`, {
        location: { file: m.source, field: 'metadata.name' },
      });
    }
    seen.set(key, m.source);
    plan.resources.push(planned);
  }
  const order = (a: PlannedObject, b: PlannedObject) =>
    a.wave - b.wave ||
    kindRank(a.object.kind) - kindRank(b.object.kind) ||
    a.object.metadata.name.localeCompare(b.object.metadata.name);
  plan.resources.sort(order);
  for (const list of Object.values(plan.hooks)) list.sort(order);
  return plan;
}

/** Groups planned objects by wave, in ascending order. */
export function groupByWave(items: PlannedObject[]): { wave: number; items: PlannedObject[] }[] {
  const waves = new Map<number, PlannedObject[]>();
  for (const it of items) waves.set(it.wave, [...(waves.get(it.wave) ?? []), it]);
  return [...waves.entries()].sort((a, b) => a[0] - b[0]).map(([wave, list]) => ({ wave, items: list }));
}
