// The modules mounted into one Slipway server, wired to each other. Each module gets the shared context
// plus the services of the modules it builds on (ARCHITECTURE.md's dependency arrows).
import { join } from 'node:path';
import { newSecret } from '../core/index.ts';
import {
  chartEngine,
  createGitOps,
  type ClusterClient,
  type ClusterProvider,
  lazyKubeClusterClient,
} from '../gitops/index.ts';
import { createGit } from '../git/index.ts';
import { type ClusterRegistry, createKube } from '../kube/index.ts';
import {
  createLocalCluster,
  type ImageResolver,
  parseImageRef,
  registryResolver,
} from '../localcluster/index.ts';
import { createImageBuilder, RegistryClient } from '../oci/index.ts';
import { createPipelines } from '../pipeline/index.ts';
import { createRegistry, type RegistryService } from '../registry/index.ts';
import { createScan } from '../scan/index.ts';
import type { MountedModule, ServerContext } from './context.ts';

/** The internal account Slipway's own components (pipelines, scanner) use against its registry. */
export const SYSTEM_USER = 'slipway-system';

async function systemCredentials(ctx: ServerContext): Promise<{ username: string; password: string }> {
  const { auth } = ctx;
  if (!auth.hasUser(SYSTEM_USER)) {
    await auth.createUser({ name: SYSTEM_USER, password: newSecret('pw'), role: 'maintainer' }, 'system');
  }
  for (const t of auth.listTokens(SYSTEM_USER)) auth.revokeToken(SYSTEM_USER, t.id, 'system');
  const { token } = auth.createToken(SYSTEM_USER, { name: 'internal' }, 'system');
  return { username: SYSTEM_USER, password: token };
}

/** Resolves images of Slipway's own registry in process (as a node configured with its credentials would). */
function inProcessResolver(
  registry: RegistryService,
  host: () => string,
  fallback: ImageResolver,
): ImageResolver {
  return async (image, pullSecrets) => {
    const ref = parseImageRef(image);
    if (ref.host !== host()) return fallback(image, pullSecrets);
    const info = registry.statManifest(ref.repository, ref.reference);
    if (info) return { ok: true, digest: info.digest };
    return {
      ok: false,
      message: `failed to resolve reference "${image}": ${ref.host}/${ref.repository}:${ref.reference}: not found`,
    };
  };
}

/** The reconciler's view of kube/'s cluster registry: a client per name, resolved lazily. */
function clusterProvider(clusters: ClusterRegistry): ClusterProvider {
  return {
    names: () => clusters.list().map((c) => c.name),
    get(name: string): ClusterClient {
      clusters.info(name);
      return lazyKubeClusterClient(() => clusters.get(name));
    },
  };
}

/** Creates every module with its dependencies, in dependency order. */
export async function createModules(ctx: ServerContext): Promise<MountedModule[]> {
  const registryHost = () => new URL(ctx.publicUrl).host;
  const creds = await systemCredentials(ctx);
  const registryClient = new RegistryClient({
    credentials: (host) => (host === registryHost() ? creds : undefined),
  });

  const registry = createRegistry(ctx);
  const scan = createScan({
    store: ctx.store,
    dataDir: ctx.dataDir,
    logger: ctx.logger,
    auth: ctx.auth,
    events: ctx.events,
    registry: {
      get host() {
        return registryHost();
      },
      client: registryClient,
    },
  });
  const cluster = createLocalCluster({
    logger: ctx.logger,
    events: ctx.events,
    dataDir: ctx.dataDir,
    publicUrl: ctx.publicUrl,
    auth: ctx.auth,
    resolveImage: inProcessResolver(registry.service, registryHost, registryResolver()),
  });
  const kube = createKube({ store: ctx.store, auth: ctx.auth, dataDir: ctx.dataDir, events: ctx.events });
  const git = createGit(ctx);
  const gitops = createGitOps({
    ...ctx,
    clusters: clusterProvider(kube.clusters),
    chart: chartEngine(),
    registryClient,
  });
  const pipelines = createPipelines({
    ...ctx,
    git: git.service,
    imageBuilder: createImageBuilder({ cacheDir: join(ctx.dataDir, 'builds', '.layer-cache') }),
    values: gitops.values,
    registryCredentials: async () => creds,
  });

  return [
    {
      name: 'registry',
      prefix: '',
      routes: registry.routes,
      start: () => registry.start(),
      stop: () => registry.stop(),
    },
    { name: 'registry-v2', prefix: '/v2', routes: registry.v2Routes },
    {
      name: 'scan',
      prefix: '/api/v1/scan',
      routes: scan.routes,
      start: () => scan.start(),
      stop: () => scan.stop(),
    },
    {
      name: 'localcluster',
      prefix: '/kube',
      routes: cluster.routes,
      start: () => cluster.start(),
      stop: () => cluster.stop(),
    },
    { name: 'localcluster-api', prefix: '/api/v1/cluster', routes: cluster.apiRoutes },
    { name: 'clusters', prefix: '/api/v1/clusters', routes: kube.routes, stop: () => kube.stop() },
    { name: 'git', prefix: '/git', routes: git.routes, start: () => git.start(), stop: () => git.stop() },
    { name: 'git-api', prefix: '/api/v1', routes: git.apiRoutes },
    {
      name: 'gitops',
      prefix: '/api/v1',
      routes: gitops.routes,
      start: () => gitops.start(),
      stop: () => gitops.stop(),
    },
    {
      name: 'pipelines',
      prefix: '/api/v1',
      routes: pipelines.routes,
      start: () => pipelines.start(),
      stop: () => pipelines.stop(),
    },
  ];
}

/** Mount points the server always has; a prefix no module claims answers 501 Not Implemented. */
export const PROTOCOL_MOUNTS = ['/v2', '/git', '/kube'] as const;
