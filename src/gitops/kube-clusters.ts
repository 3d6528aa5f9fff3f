// Adapters from kube/'s KubeClient (any real cluster, or the embedded local cluster) to the reconciler's
// ClusterClient, and a provider of clusters by name.
import { NotFoundError } from '../core/index.ts';
import type { KubeClient, KubeObject as KubeModuleObject } from '../kube/index.ts';
import type { ClusterClient, ClusterProvider, KubeObject } from './seams.ts';

/** A {@link ClusterClient} over a kube/ client: server-side apply as field manager `slipway`. */
export function kubeClusterClient(client: KubeClient): ClusterClient {
  const toKube = (o: KubeObject) => o as unknown as KubeModuleObject;
  const fromKube = (o: KubeModuleObject) => o as unknown as KubeObject;
  return {
    async apply(obj, options = {}) {
      return fromKube(
        await client.apply(toKube(obj), {
          fieldManager: 'slipway',
          ...(options.dryRun ? { dryRun: true } : {}),
          ...(options.force ? { force: true } : {}),
        }),
      );
    },
    async get(ref) {
      const o = await client.get(ref);
      return o ? fromKube(o) : undefined;
    },
    async list(kind, options = {}) {
      const r = await client.list(kind.apiVersion, kind.kind, {
        ...(options.namespace ? { namespace: options.namespace } : {}),
        ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
      });
      return r.items.map(fromKube);
    },
    async delete(ref, options = {}) {
      await client.delete(
        ref,
        options.propagationPolicy ? { propagationPolicy: options.propagationPolicy } : {},
      );
    },
    watch(kind, handlers) {
      const handle = client.watch(
        kind.apiVersion,
        kind.kind,
        { ...(handlers.onError ? { onError: handlers.onError } : {}) },
        (e) =>
          handlers.onEvent(
            e.type === 'SYNC'
              ? { type: 'SYNC', objects: e.objects.map(fromKube) }
              : { type: e.type, object: fromKube(e.object) },
          ),
      );
      return { stop: () => void handle.stop() };
    },
  };
}

/**
 * A {@link ClusterClient} over a kube/ client that is looked up on each use (a cluster registry whose
 * clients can change); watches start once the client is known.
 */
export function lazyKubeClusterClient(client: () => Promise<KubeClient>): ClusterClient {
  const c = async () => kubeClusterClient(await client());
  return {
    apply: async (obj, options) => (await c()).apply(obj, options),
    get: async (ref) => (await c()).get(ref),
    list: async (kind, options) => (await c()).list(kind, options),
    delete: async (ref, options) => (await c()).delete(ref, options),
    watch(kind, handlers) {
      let stopped = false;
      let handle: { stop(): void } | undefined;
      c().then(
        (cc) => {
          if (!stopped) handle = cc.watch!(kind, handlers);
        },
        (err: unknown) => handlers.onError?.(err instanceof Error ? err : new Error(String(err))),
      );
      return {
        stop() {
          stopped = true;
          handle?.stop();
        },
      };
    },
  };
}

/** A mutable set of clusters by name (`in-cluster` is the local one). */
export class ClusterSet implements ClusterProvider {
  readonly #clusters = new Map<string, ClusterClient>();

  set(name: string, client: ClusterClient): void {
    this.#clusters.set(name, client);
  }

  get(name: string): ClusterClient {
    const c = this.#clusters.get(name);
    if (!c) {
      throw new NotFoundError(
        `Cluster "${name}" is not registered; known clusters: ${[...this.#clusters.keys()].join(', ') || 'none'}`,
      );
    }
    return c;
  }

  names(): string[] {
    return [...this.#clusters.keys()];
  }
}
