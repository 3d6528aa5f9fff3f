// An in-memory cluster for tests and benchmarks: stores objects, simulates server-side apply and a
// rollout controller (Deployments become available; an image the "registry" lacks never does; Jobs complete).
import { randomUUID } from 'node:crypto';
import { NotFoundError, UnavailableError } from '../core/index.ts';
import type { ClusterClient, ClusterWatchEvent, KubeObject, ObjectRef } from './seams.ts';
import { isNamespacedKind, keyOfRef, refOf } from './sync-plan.ts';

export interface MemoryClusterOptions {
  /** Decides whether an image can be pulled; default: every image can. */
  imageExists?: (image: string) => boolean;
  /** Decides whether a hook Job succeeds; default: it does. */
  jobSucceeds?: (job: KubeObject) => boolean;
}

export interface MemoryCluster extends ClusterClient {
  /** All objects (copies). */
  objects(): KubeObject[];
  /** Changes a live object as `kubectl edit` would (bumps generation when spec changes). */
  mutate(ref: ObjectRef, change: (obj: KubeObject) => void): void;
  /** Makes every call fail as an unreachable cluster does. */
  setUnreachable(reason: string | undefined): void;
  /** Every write, in order: `apply Kind/name`, `delete Kind/name`. */
  readonly log: string[];
}

function containerImages(obj: KubeObject): string[] {
  const tpl = ((obj.spec as Record<string, unknown> | undefined)?.template ?? {}) as {
    spec?: { containers?: { image?: string }[] };
  };
  return (tpl.spec?.containers ?? []).map((c) => String(c.image ?? ''));
}

/** Creates an empty in-memory cluster. */
export function createMemoryCluster(options: MemoryClusterOptions = {}): MemoryCluster {
  const store = new Map<string, KubeObject>();
  let unreachable: string | undefined;
  let rv = 1;
  const log: string[] = [];
  const imageExists = options.imageExists ?? (() => true);
  const watchers = new Set<{ apiVersion: string; kind: string; onEvent(e: ClusterWatchEvent): void }>();
  function notify(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void {
    for (const w of watchers) {
      if (w.kind !== obj.kind || w.apiVersion !== obj.apiVersion) continue;
      const copy = structuredClone(obj);
      queueMicrotask(() => {
        if (watchers.has(w)) w.onEvent({ type, object: copy });
      });
    }
  }

  function check(): void {
    if (unreachable) throw new UnavailableError(`Cluster unreachable: ${unreachable}`);
  }

  function settle(obj: KubeObject): void {
    const gen = obj.metadata.generation ?? 1;
    const spec = (obj.spec ?? {}) as Record<string, unknown>;
    if (obj.kind === 'Deployment' || obj.kind === 'StatefulSet') {
      const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
      const ok = containerImages(obj).every(imageExists);
      const prev = (obj.status ?? {}) as Record<string, number>;
      obj.status = ok
        ? {
            observedGeneration: gen,
            replicas,
            updatedReplicas: replicas,
            readyReplicas: replicas,
            availableReplicas: replicas,
          }
        : {
            observedGeneration: gen,
            replicas: (prev.availableReplicas ?? 0) + 1,
            updatedReplicas: 1,
            readyReplicas: prev.availableReplicas ?? 0,
            availableReplicas: prev.availableReplicas ?? 0,
            conditions: [
              {
                type: 'Progressing',
                status: 'False',
                reason: 'ProgressDeadlineExceeded',
                message: `ReplicaSet has timed out progressing: image ${containerImages(obj).find((i) => !imageExists(i))} cannot be pulled (ErrImagePull)`,
              },
            ],
          };
    } else if (obj.kind === 'Job') {
      const ok = options.jobSucceeds ? options.jobSucceeds(obj) : true;
      obj.status = {
        conditions: [
          {
            type: ok ? 'Complete' : 'Failed',
            status: 'True',
            message: ok ? 'Job completed' : 'BackoffLimitExceeded',
          },
        ],
      };
    } else if (obj.kind === 'Pod') {
      obj.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
    }
  }

  const cluster: MemoryCluster = {
    log,
    objects: () => [...store.values()].map((o) => structuredClone(o)),
    setUnreachable(reason) {
      unreachable = reason;
    },
    mutate(ref, change) {
      const key = keyOfRef(ref);
      const obj = store.get(key);
      if (!obj) throw new NotFoundError(`${ref.kind} ${ref.name} not found`);
      const before = JSON.stringify(obj.spec ?? null);
      change(obj);
      if (JSON.stringify(obj.spec ?? null) !== before)
        obj.metadata.generation = (obj.metadata.generation ?? 1) + 1;
      obj.metadata.resourceVersion = String(++rv);
      settle(obj);
      notify('MODIFIED', obj);
    },
    async apply(input, opts = {}) {
      check();
      const desired = structuredClone(input);
      if (!isNamespacedKind(desired.kind)) delete desired.metadata.namespace;
      else if (!desired.metadata.namespace) desired.metadata.namespace = 'default';
      if (
        desired.metadata.namespace &&
        desired.kind !== 'Namespace' &&
        !store.has(keyOfRef({ apiVersion: 'v1', kind: 'Namespace', name: desired.metadata.namespace })) &&
        desired.metadata.namespace !== 'default'
      ) {
        throw new NotFoundError(`namespaces "${desired.metadata.namespace}" not found`);
      }
      const key = keyOfRef(refOf(desired));
      const live = store.get(key);
      const next: KubeObject = {
        ...desired,
        metadata: {
          ...desired.metadata,
          uid: live?.metadata.uid ?? randomUUID(),
          creationTimestamp:
            (live?.metadata.creationTimestamp as string | undefined) ?? new Date().toISOString(),
          resourceVersion: String(++rv),
          generation: live
            ? JSON.stringify(live.spec ?? null) === JSON.stringify(desired.spec ?? null)
              ? (live.metadata.generation ?? 1)
              : (live.metadata.generation ?? 1) + 1
            : 1,
        },
      };
      if (live?.status) next.status = live.status;
      if (opts.dryRun) return next;
      settle(next);
      store.set(key, next);
      notify(live ? 'MODIFIED' : 'ADDED', next);
      log.push(`apply ${desired.kind}/${desired.metadata.name}`);
      return structuredClone(next);
    },
    async replace(obj) {
      return cluster.apply(obj);
    },
    async get(ref) {
      check();
      const obj = store.get(keyOfRef(ref));
      return obj ? structuredClone(obj) : undefined;
    },
    async list(kind, opts = {}) {
      check();
      const sel = (opts.labelSelector ?? '')
        .split(',')
        .filter(Boolean)
        .map((s) => s.split('='));
      return [...store.values()]
        .filter((o) => o.kind === kind.kind && o.apiVersion === kind.apiVersion)
        .filter((o) => !opts.namespace || o.metadata.namespace === opts.namespace)
        .filter((o) => sel.every(([k, v]) => o.metadata.labels?.[k!] === v))
        .map((o) => structuredClone(o));
    },
    async delete(ref) {
      check();
      const key = keyOfRef(ref);
      const gone = store.get(key);
      if (!gone || !store.delete(key)) throw new NotFoundError(`${ref.kind} "${ref.name}" not found`);
      notify('DELETED', gone);
      log.push(`delete ${ref.kind}/${ref.name}`);
    },
    isNamespaced: (k) => isNamespacedKind(k.kind),
    watch(kind, handlers) {
      const w = { ...kind, onEvent: handlers.onEvent };
      watchers.add(w);
      const objects = [...store.values()]
        .filter((o) => o.kind === kind.kind && o.apiVersion === kind.apiVersion)
        .map((o) => structuredClone(o));
      queueMicrotask(() => {
        if (watchers.has(w)) w.onEvent({ type: 'SYNC', objects });
      });
      return { stop: () => void watchers.delete(w) };
    },
  };
  return cluster;
}

/** A provider over fixed clusters by name. */
export function staticClusters(clusters: Record<string, ClusterClient>): {
  get(name: string): ClusterClient;
  names(): string[];
} {
  return {
    get(name) {
      const c = clusters[name];
      if (!c)
        throw new NotFoundError(
          `Cluster "${name}" is not registered; known clusters: ${Object.keys(clusters).join(', ') || 'none'}`,
        );
      return c;
    },
    names: () => Object.keys(clusters),
  };
}
