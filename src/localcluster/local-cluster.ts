// The local cluster module: API server routes, object store with persistence, controllers, simulated kubelet.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyPluginAsync } from 'fastify';
import type { AuthService } from '../auth/index.ts';
import {
  type Clock,
  constantTimeEqual,
  type EventBus,
  type Logger,
  NotAllowedError,
  silentLogger,
  systemClock,
  writeFileAtomicSync,
} from '../core/index.ts';
import { Cluster } from './api.ts';
import type { KubeletOptions } from './controllers/kubelet.ts';
import { nodeObject } from './controllers/kubelet.ts';
import { ensureIngressClass } from './controllers/others.ts';
import { type ControllerManager, startControllers } from './controllers/manager.ts';
import { cachingResolver, type ImageResolver, registryResolver } from './images.ts';
import { openPersistence, type Persistence } from './persist.ts';
import { ResourceRegistry } from './resources.ts';
import { PodLogs } from './pod-logs.ts';
import { type Caller, restRoutes } from './rest.ts';
import { KubeError } from './status.ts';
import { ObjectStore } from './store.ts';

declare module '../core/index.ts' {
  interface EventMap {
    'cluster.started': { objects: number };
  }
}

export interface LocalClusterDeps {
  logger?: Logger;
  events?: EventBus;
  /** Slipway's data directory: the cluster keeps its state in `<dataDir>/cluster/`, the kubeconfig in `<dataDir>/kubeconfig`. */
  dataDir: string;
  /** Slipway's public URL; the API server is at `${publicUrl}/kube`. */
  publicUrl: string;
  /** Slipway API tokens are accepted as bearer tokens when given (admins write; `cluster.view` reads). */
  auth?: Pick<AuthService, 'authenticate' | 'can' | 'require'>;
  /** Resolves container images (default: the image's registry over HTTP(S)). */
  resolveImage?: ImageResolver;
  kubelet?: Partial<Omit<KubeletOptions, 'resolveImage'>>;
  clock?: Clock;
  /** Path prefix under which the routes are mounted (for the kubeconfig); default `/kube`. */
  mountPath?: string;
}

export interface LocalCluster {
  /** Fastify plugin with the Kubernetes API (mount with prefix `/kube`). */
  routes: FastifyPluginAsync;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A kubeconfig for this cluster at `${server ?? publicUrl + mountPath}` with the cluster-admin bearer token. */
  kubeconfig(server?: string): string;
  /** The in-process API (create/get/patch objects without HTTP). */
  readonly api: Cluster;
  /** REST routes for Slipway's API (mount with prefix `/api/v1/cluster`): `GET /kubeconfig` for admins. */
  apiRoutes: FastifyPluginAsync;
}

/**
 * What starting a container costs once its image is resolved (ms): the order of a runc create + start of an
 * already-unpacked image on a local containerd. Image resolution itself takes its real time.
 */
export const DEFAULT_CONTAINER_START_MS = 50;

const VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-slipway',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/**
 * Renders a kubeconfig document. Over plain http, kubectl and helm (client-go) send no token, so the
 * credential also goes into the server URL, which Go's HTTP client sends as Basic authentication.
 */
export function renderKubeconfig(server: string, token: string, namespace = 'default'): string {
  if (server.startsWith('http://'))
    server = `http://slipway-admin:${token}@${server.slice('http://'.length)}`;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: slipway',
    '  cluster:',
    `    server: ${server}`,
    'contexts:',
    '- name: slipway',
    '  context:',
    '    cluster: slipway',
    '    user: slipway-admin',
    `    namespace: ${namespace}`,
    'current-context: slipway',
    'preferences: {}',
    'users:',
    '- name: slipway-admin',
    '  user:',
    `    token: ${token}`,
    '',
  ].join('\n');
}

export function createLocalCluster(deps: LocalClusterDeps): LocalCluster {
  const logger = deps.logger ?? silentLogger();
  const clock = deps.clock ?? systemClock;
  const dir = join(deps.dataDir, 'cluster');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tokenPath = join(dir, 'admin-token');
  if (!existsSync(tokenPath))
    writeFileAtomicSync(tokenPath, `${randomBytes(32).toString('base64url')}\n`, 0o600);
  const adminToken = readFileSync(tokenPath, 'utf8').trim();
  const registry = new ResourceRegistry();
  const store = new ObjectStore();
  let persistence: Persistence | undefined = openPersistence(dir);
  const loaded = persistence.load(store);
  const api = new Cluster(registry, store, clock);
  const logs = new PodLogs(() => clock.now());
  for (const crd of store.list('apiextensions.k8s.io/customresourcedefinitions')) registry.registerCrd(crd);
  let controllers: ControllerManager | undefined;
  const mountPath = deps.mountPath ?? '/kube';

  const authenticate = async (
    headers: Record<string, string | string[] | undefined>,
  ): Promise<Caller | undefined> => {
    const header = typeof headers.authorization === 'string' ? headers.authorization : undefined;
    const m = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
    if (m && constantTimeEqual((m[1] ?? '').trim(), adminToken))
      return { name: 'slipway-admin', admin: true };
    // kubectl and helm send no credentials over plain http except those in the server URL (Basic).
    const basic = header ? /^Basic\s+(.+)$/i.exec(header) : null;
    if (basic) {
      const decoded = Buffer.from(basic[1] ?? '', 'base64').toString('utf8');
      const password = decoded.slice(decoded.indexOf(':') + 1);
      if (constantTimeEqual(password, adminToken)) return { name: 'slipway-admin', admin: true };
    }
    // The web UI reads the cluster with its session cookie.
    const cookie = typeof headers.cookie === 'string' ? headers.cookie : undefined;
    if (!deps.auth || (!header && !cookie)) return undefined;
    try {
      const subject = await deps.auth.authenticate({
        ...(header ? { authorization: header } : {}),
        ...(cookie ? { cookie } : {}),
      });
      if (subject.kind === 'anonymous') return undefined;
      const system = { kind: 'system' } as const;
      if (deps.auth.can(subject, 'cluster.admin', system)) return { name: subject.name, admin: true };
      if (deps.auth.can(subject, 'cluster.view', system)) return { name: subject.name, admin: false };
      throw new KubeError(
        403,
        'Forbidden',
        `forbidden: User "${subject.name}" cannot access the local cluster`,
        {},
      );
    } catch (err) {
      if (err instanceof KubeError) throw err;
      return undefined;
    }
  };

  const routes = restRoutes({ cluster: api, authenticate, version: VERSION, logs }) as FastifyPluginAsync;

  const bootstrap = () => {
    const nsInfo = api.info('v1', 'namespaces');
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      if (!api.find(nsInfo, '', name))
        api.create(nsInfo, '', { metadata: { name } }, { fieldManager: 'kube-apiserver' });
    }
    const nodeInfo = api.info('v1', 'nodes');
    const node = nodeObject(api.now());
    const existing = api.find(nodeInfo, '', node.metadata.name ?? '');
    if (!existing) {
      const created = api.create(nodeInfo, '', { ...node, status: undefined }, { fieldManager: 'kubelet' });
      api.write(nodeInfo, { ...created, status: node.status }, 'kubelet', 'status');
    }
    ensureIngressClass(api);
    const svcInfo = api.info('v1', 'services');
    if (!api.find(svcInfo, 'default', 'kubernetes')) {
      api.create(
        svcInfo,
        'default',
        {
          metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
          spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, targetPort: 6443 }] },
        },
        { fieldManager: 'kube-apiserver' },
      );
    }
  };

  const kubeconfig = (server?: string) =>
    renderKubeconfig(server ?? `${deps.publicUrl.replace(/\/$/, '')}${mountPath}`, adminToken);

  let written = '';
  const writeKubeconfigFile = () => {
    const text = kubeconfig();
    if (text === written || !persistence) return;
    writeFileAtomicSync(join(deps.dataDir, 'kubeconfig'), text, 0o600);
    written = text;
  };

  const apiRoutes: FastifyPluginAsync = async (app) => {
    app.get('/kubeconfig', async (request) => {
      if (!deps.auth)
        throw new NotAllowedError('The local cluster kubeconfig is only served with Slipway authentication');
      const subject = await deps.auth.authenticate(
        request.headers as { authorization?: string; cookie?: string },
      );
      deps.auth.require(subject, 'cluster.admin', { kind: 'system' });
      writeKubeconfigFile();
      return { kubeconfig: kubeconfig() };
    });
  };

  return {
    routes,
    apiRoutes,
    api,
    kubeconfig,
    async start() {
      if (!persistence) throw new Error('the local cluster was stopped');
      persistence.attach(store);
      bootstrap();
      store.compact();
      controllers = startControllers(
        api,
        {
          startDelayMs: deps.kubelet?.startDelayMs ?? DEFAULT_CONTAINER_START_MS,
          readyDelayMs: deps.kubelet?.readyDelayMs ?? 0,
          runDurationMs: deps.kubelet?.runDurationMs ?? 1000,
          backoffMs: deps.kubelet?.backoffMs ?? 1000,
          resolveImage: deps.resolveImage ?? cachingResolver(registryResolver()),
          logs,
        },
        logger,
      );
      controllers.resyncAll();
      writeKubeconfigFile();
      // The server learns its real port (port 0) only after every module started: write again then.
      setImmediate(writeKubeconfigFile);
      logger.info({ objects: loaded }, 'local cluster started (simulated: no container really runs)');
      deps.events?.emit('cluster.started', { objects: loaded });
    },
    async stop() {
      controllers?.stop();
      controllers = undefined;
      persistence?.close();
      persistence = undefined;
    },
  };
}

export interface StandaloneOptions extends Omit<LocalClusterDeps, 'publicUrl' | 'mountPath'> {
  port?: number;
  host?: string;
}

export interface StandaloneCluster {
  url: string;
  kubeconfigPath: string;
  kubeconfig: string;
  api: Cluster;
  stop(): Promise<void>;
}

/** Runs the local cluster on its own HTTP server (tests, benchmarks); the API is at the root of `url`. */
export async function startLocalCluster(options: StandaloneOptions): Promise<StandaloneCluster> {
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024 * 1024,
    routerOptions: { maxParamLength: 2048 },
    forceCloseConnections: true,
  });
  const deps: LocalClusterDeps = { ...options, publicUrl: 'http://127.0.0.1', mountPath: '' };
  const lc = createLocalCluster(deps);
  await app.register(lc.routes);
  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  deps.publicUrl = url;
  await lc.start();
  const kubeconfigPath = join(options.dataDir, 'kubeconfig');
  writeFileAtomicSync(kubeconfigPath, lc.kubeconfig(url), 0o600);
  return {
    url,
    kubeconfigPath,
    kubeconfig: lc.kubeconfig(url),
    api: lc.api,
    async stop() {
      await app.close();
      await lc.stop();
    },
  };
}
