// REST API for registered clusters, mounted at /api/v1/clusters, and the module factory createKube().
import type { FastifyPluginAsync } from 'fastify';
import { type AuthService, SYSTEM } from '../auth/index.ts';
import { type EventBus, InputError, isSlipwayError } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { type ClusterRegistry, createClusterRegistry } from './cluster-registry.ts';

declare module '../core/index.ts' {
  interface EventMap {
    'cluster.added': { name: string; server: string; actor: string };
    'cluster.removed': { name: string; actor: string };
  }
}

/** What the kube module needs from the server. */
export interface KubeDeps {
  store: Store;
  auth: Pick<AuthService, 'authenticate' | 'require' | 'audit'>;
  dataDir: string;
  events?: EventBus;
  /** Per-call timeout of cluster clients (default 15 s). */
  timeoutMs?: number;
  /** Timeout of a reachability probe when listing clusters (default 3 s). */
  probeTimeoutMs?: number;
}

export interface KubeModule {
  /** Mount at `/api/v1/clusters`. */
  routes: FastifyPluginAsync;
  clusters: ClusterRegistry;
  stop(): Promise<void>;
}

export function createKube(deps: KubeDeps): KubeModule {
  const clusters = createClusterRegistry({
    store: deps.store,
    dataDir: deps.dataDir,
    ...(deps.timeoutMs ? { timeoutMs: deps.timeoutMs } : {}),
    ...(deps.probeTimeoutMs ? { probeTimeoutMs: deps.probeTimeoutMs } : {}),
  });
  const routes: FastifyPluginAsync = async (app) => {
    app.get('/', async (request) => {
      const subject = await deps.auth.authenticate(request.headers);
      deps.auth.require(subject, 'cluster.view', SYSTEM);
      return { items: await clusters.status() };
    });

    app.get<{ Params: { name: string } }>('/:name', async (request) => {
      const subject = await deps.auth.authenticate(request.headers);
      deps.auth.require(subject, 'cluster.view', SYSTEM);
      const [status] = await clusters.status([request.params.name]);
      return status;
    });

    app.post<{ Body: { name?: unknown; kubeconfig?: unknown; context?: unknown } }>(
      '/',
      async (request, reply) => {
        const subject = await deps.auth.authenticate(request.headers);
        deps.auth.require(subject, 'cluster.admin', SYSTEM);
        const body = request.body;
        if (typeof body !== 'object' || body === null)
          throw new InputError('Expected a JSON body {name, kubeconfig, context?}');
        const { name, kubeconfig, context } = body;
        if (typeof name !== 'string')
          throw new InputError('"name" must be a string', { location: { field: 'name' } });
        if (typeof kubeconfig !== 'string') {
          throw new InputError('"kubeconfig" must be the kubeconfig file content (a string)', {
            location: { field: 'kubeconfig' },
          });
        }
        if (context !== undefined && typeof context !== 'string') {
          throw new InputError('"context" must be a string', { location: { field: 'context' } });
        }
        try {
          const info = clusters.add({ name, kubeconfig, ...(context ? { context } : {}) }, subject.name);
          deps.auth.audit({
            actor: subject,
            action: 'cluster.add',
            resource: `cluster/${name}`,
            details: { server: info.server, context: info.context },
          });
          deps.events?.emit('cluster.added', { name, server: info.server, actor: subject.name });
          const [status] = await clusters.status([name]);
          reply.code(201);
          return status;
        } catch (err) {
          if (isSlipwayError(err) && err.isUserError) {
            deps.auth.audit({
              actor: subject,
              action: 'cluster.add',
              resource: `cluster/${name}`,
              outcome: 'failed',
              details: { error: err.message },
            });
          }
          throw err;
        }
      },
    );

    app.delete<{ Params: { name: string } }>('/:name', async (request, reply) => {
      const subject = await deps.auth.authenticate(request.headers);
      deps.auth.require(subject, 'cluster.admin', SYSTEM);
      const { name } = request.params;
      clusters.remove(name, subject.name);
      deps.auth.audit({ actor: subject, action: 'cluster.remove', resource: `cluster/${name}` });
      deps.events?.emit('cluster.removed', { name, actor: subject.name });
      reply.code(204);
      return null;
    });
  };
  return {
    routes,
    clusters,
    async stop() {
      clusters.close();
    },
  };
}
