// gitops: applications and environments, the reconciler (git → render → diff → sync), history, rollback,
// promotion and the values-edit service that pipelines use to write image tags.
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { AuthService } from '../auth/index.ts';
import type { EventBus, Logger, SlipwayConfig } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { openSecretBox } from '../git/index.ts';
import { AppStore } from './app-store.ts';
import { RepoCredentials, repoCredsRoutes, type Sealer } from './repo-creds.ts';
import { RegistryClient } from '../oci/index.ts';
import { chartEngine } from './chart-engine.ts';
import { type ChartRepositories, createChartRepositories } from './chart-source.ts';
import { createCliGitSource } from './git-source.ts';
import { createRenderer, type ChartEngine } from './renderer.ts';
import { gitopsRoutes } from './routes.ts';
import type { ClusterProvider, GitSource, Renderer } from './seams.ts';
import { type AppView, GitOpsService } from './service.ts';
import {
  createValuesEditor,
  localRepoLocator,
  localRepoName,
  type RepoLocator,
  type ValuesEditor,
} from './values-editor.ts';

export { parseApplications, parseApplicationObject, toManifest } from './app-spec.ts';
export type {
  AppSpec,
  AppSource,
  HelmSource,
  SyncPolicy,
  SyncOptions,
  IgnoreDifference,
} from './app-spec.ts';
export { AppStore, DEFAULT_ENVIRONMENTS } from './app-store.ts';
export type {
  AppStatus,
  Environment,
  HistoryEntry,
  Promotion,
  ResourceStatus,
  OperationState,
  SyncWindow,
  RollbackChange,
} from './app-store.ts';
export { GitOpsService } from './service.ts';
export type {
  AppStatusEvent,
  AppSyncEvent,
  AppView,
  GitOpsAuth,
  GitOpsServiceOptions,
  ResourceDiff,
  TreeNode,
  SyncOptionsInput,
} from './service.ts';
export { createValuesEditor, localRepoLocator, localRepoName } from './values-editor.ts';
export type {
  ValuesEditor,
  ValuesEditResult,
  SetImageTagInput,
  SetValueInput,
  RestorePathInput,
  RepoLocator,
  RepoLocation,
  CommittedEvent,
} from './values-editor.ts';
export { setYamlValue, getYamlValue, IMAGE_TAG_RE } from './yaml-edit.ts';
export { createRenderer, sourceKind, parseHelmOutput } from './renderer.ts';
export type { ChartEngine, RendererOptions } from './renderer.ts';
export { createCliGitSource } from './git-source.ts';
export { createMemoryCluster, staticClusters } from './memory-cluster.ts';
export type { MemoryCluster } from './memory-cluster.ts';
export { planSync, groupByWave } from './sync-plan.ts';
export { syncAllowed, checkWindow } from './sync-windows.ts';
export type {
  ClusterClient,
  ClusterProvider,
  ClusterWatchEvent,
  GitSource,
  Renderer,
  RenderInput,
  RenderedManifest,
  KubeObject,
  ObjectRef,
  FileTree,
} from './seams.ts';
export { gitopsRoutes } from './routes.ts';
export { RepoCredentials, repoCredsRoutes, normalizeCredentialUrl } from './repo-creds.ts';
export type { RepoCredential, RepoCredentialInput, MatchedCredential, Sealer } from './repo-creds.ts';
export { chartEngine } from './chart-engine.ts';
export {
  chartReference,
  createChartRepositories,
  isChartSource,
  pickVersion,
} from './chart-source.ts';
export type { ChartReference, ChartRepositories, ChartRepositoriesOptions } from './chart-source.ts';
export { ClusterSet, kubeClusterClient, lazyKubeClusterClient } from './kube-clusters.ts';

export interface GitOpsDeps {
  config: SlipwayConfig;
  logger: Logger;
  events: EventBus;
  store: Store;
  auth: AuthService;
  dataDir: string;
  publicUrl: string;
  /** Deploy targets by name; `in-cluster` is the local cluster. */
  clusters: ClusterProvider;
  /** Reads repositories (default: the git CLI on `<dataDir>/git` and mirrors of external repos). */
  gitSource?: GitSource;
  /** Renders sources (default: directories, Helm through `chart` or the helm binary, kustomize through kubectl). */
  renderer?: Renderer;
  /** Engine for Helm sources (default: chart/'s in-process renderer). */
  chart?: ChartEngine;
  /**
   * OCI client for `oci://` chart sources; give it Slipway's internal credentials for its own registry
   * (default: an anonymous client). Charts are cached under `<dataDir>/gitops/charts`.
   */
  registryClient?: RegistryClient;
  /** Packaged chart sources (default: OCI through `registryClient`, Helm repositories through fetch). */
  charts?: ChartRepositories;
  /** Maps repo names/URLs to clone URLs for the values editor (default: Slipway's bare repos on disk). */
  locate?: RepoLocator;
  /** Tuning (tests, benchmarks). */
  rolloutTimeoutMs?: number;
  /**
   * How often apps that are not Synced and Healthy are looked at again when their cluster is not watched
   * (its client cannot watch, or the watch is failing) (default 2 s). Watched clusters need no re-check.
   */
  healthRecheckMs?: number;
  /**
   * The slow fallback: every app is refreshed from git and compared with its cluster this often (default
   * `config.pollIntervalSeconds`, 60 s; 0 turns it off). Argo CD's `timeout.reconciliation` is 180 s.
   */
  fullRefreshMs?: number;
  /** Watch destination clusters for changes (default true). */
  watch?: boolean;
  rolloutPollMs?: number;
  concurrency?: number;
  /** Seals repository credentials at rest (default: the data directory's secret box, as git/ uses). */
  secretBox?: Sealer;
}

export interface GitOpsModule {
  /** Mount at `/api/v1`. */
  routes: FastifyPluginAsync;
  start(): Promise<void>;
  stop(): Promise<void>;
  values: ValuesEditor;
  service: GitOpsService;
  /** Repository credentials by URL prefix (git over HTTPS, Helm repositories, OCI registries). */
  repoCreds: RepoCredentials;
}

/** Creates the gitops module: routes under `/api/v1`, the reconciler (events + polling) and the values editor. */
export function createGitOps(deps: GitOpsDeps): GitOpsModule {
  const repoCreds = new RepoCredentials(deps.store, deps.secretBox ?? openSecretBox(deps.dataDir));
  const baseLocate = deps.locate ?? localRepoLocator(deps.dataDir, deps.publicUrl);
  // Registered credentials reach git as an extra header (never in the URL, so never in a mirror's config).
  const locate: RepoLocator = (repo) => {
    const loc = baseLocate(repo);
    if (!/^https?:\/\//i.test(loc.url)) return loc;
    const c = repoCreds.match(loc.url);
    if (!c) return loc;
    const basic = Buffer.from(`${c.username}:${c.password}`).toString('base64');
    return { ...loc, config: [...(loc.config ?? []), `http.extraHeader=Authorization: Basic ${basic}`] };
  };
  const repoKey = (u: string) =>
    localRepoName(u, deps.publicUrl) ??
    u
      .replace(/\.git$/, '')
      .replace(/\/+$/, '')
      .toLowerCase();
  let service: GitOpsService | undefined;
  const values = createValuesEditor({
    workDir: join(deps.dataDir, 'gitops', 'work'),
    locate,
    // A commit written straight into a bare repository is announced as a push to the git server is (hooks,
    // pipelines and the reconciler listen for `git.push`); the reconciler also hears of it at once.
    onCommitted: (e) => {
      const repo = localRepoName(e.repo, deps.publicUrl);
      if (repo) {
        // git.push is declared by git/; emitted here without depending on its types.
        const emit = deps.events.emit.bind(deps.events) as unknown as (type: string, data: unknown) => void;
        emit('git.push', {
          repo,
          ref: `refs/heads/${e.branch}`,
          before: e.before,
          after: e.after,
          pusher: e.author,
          commits: [{ sha: e.after, message: e.message.split('\n')[0] ?? '', author: e.author }],
          source: 'commit',
        });
      }
      service?.enqueueForRepo(e.repo, e.branch);
    },
  });
  service = new GitOpsService({
    store: new AppStore(deps.store),
    git:
      deps.gitSource ??
      createCliGitSource({
        locate,
        mirrorDir: join(deps.dataDir, 'gitops', 'mirrors'),
        fetchIntervalMs: 5_000,
      }),
    values,
    renderer: deps.renderer ?? createRenderer({ helm: deps.chart ?? chartEngine() }),
    clusters: deps.clusters,
    events: deps.events,
    auth: deps.auth,
    logger: deps.logger,
    repoKey,
    charts:
      deps.charts ??
      createChartRepositories({
        cacheDir: join(deps.dataDir, 'gitops', 'charts'),
        registry: deps.registryClient ?? new RegistryClient(),
        credentials: (url) => repoCreds.match(url),
      }),
    ...(deps.rolloutTimeoutMs !== undefined ? { rolloutTimeoutMs: deps.rolloutTimeoutMs } : {}),
    ...(deps.rolloutPollMs !== undefined ? { rolloutPollMs: deps.rolloutPollMs } : {}),
    ...(deps.concurrency !== undefined ? { concurrency: deps.concurrency } : {}),
    ...(deps.watch !== undefined ? { watch: deps.watch } : {}),
  });
  const svc = service;
  let timer: NodeJS.Timeout | undefined;
  let healthTimer: NodeJS.Timeout | undefined;
  let healthBusy = false;
  const offs: (() => void)[] = [];
  return {
    routes: async (app) => {
      await app.register(gitopsRoutes({ service: svc, auth: deps.auth }));
      await app.register(repoCredsRoutes({ creds: repoCreds, auth: deps.auth }));
    },
    values,
    service: svc,
    repoCreds,
    async start() {
      svc.store.failInterrupted();
      // git.push is declared by git/; listen without depending on its types.
      offs.push(
        deps.events.onAny((event) => {
          if ((event.type as string) !== 'git.push') return;
          const data = event.data as unknown as { repo?: string; ref?: string; url?: string };
          if (typeof data.repo !== 'string') return;
          const branch = typeof data.ref === 'string' ? data.ref.replace(/^refs\/heads\//, '') : undefined;
          svc.enqueueForRepo(data.repo, branch);
          if (typeof data.url === 'string') svc.enqueueForRepo(data.url, branch);
        }),
      );
      svc.enqueueAll();
      const fullMs = deps.fullRefreshMs ?? deps.config.pollIntervalSeconds * 1000;
      if (fullMs > 0) {
        timer = setInterval(() => svc.enqueueAll(), fullMs);
        timer.unref();
      }
      // Health changes without any git change (pods become ready, a rollout stalls) arrive through the
      // cluster watches. Apps on clusters that are not watched are looked at again every few seconds.
      // On those, look again at
      // every app that is not yet Synced and Healthy, every few seconds, without re-reading git. An app out
      // of sync whose sync and health stay the same (a manual app waiting for Sync or a git change) is
      // looked at less and less often (doubling up to 30 s), so hundreds of waiting apps do not keep the
      // server busy; any change of its status brings it back to the short interval.
      const recheckMs = deps.healthRecheckMs ?? 2_000;
      const backoff = new Map<string, { key: string; delayMs: number; next: number }>();
      // Not the message: an image pull that keeps failing alternates ErrImagePull and ImagePullBackOff.
      const statusKey = (a: AppView) => `${a.status.sync}|${a.status.health}|${a.status.revision ?? ''}`;
      healthTimer = setInterval(() => {
        if (healthBusy) return;
        const now = Date.now();
        const unsettled = svc
          .listApps()
          .filter((a) => !svc.isWatched(a.spec.destination.name))
          .filter(
            (a) =>
              a.status.sync !== 'Synced' || (a.status.health !== 'Healthy' && a.status.health !== 'Missing'),
          )
          .filter((a) => !a.status.comparisonError)
          .filter((a) => {
            // Deployed apps (Synced, waiting for health) keep the short interval: rollouts move on their own.
            if (a.status.sync === 'Synced') return true;
            const b = backoff.get(a.name);
            return !b || b.key !== statusKey(a) || now >= b.next;
          });
        if (unsettled.length === 0) return;
        healthBusy = true;
        Promise.allSettled(
          unsettled.map(async (a) => {
            const after = await svc.refresh(a.name, { cachedRevision: true });
            const key = statusKey(after);
            const prev = backoff.get(a.name);
            const delayMs = prev && prev.key === key ? Math.min(prev.delayMs * 2, 30_000) : recheckMs;
            backoff.set(a.name, { key, delayMs, next: Date.now() + delayMs });
          }),
        ).finally(() => {
          healthBusy = false;
        });
      }, recheckMs);
      healthTimer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      if (healthTimer) clearInterval(healthTimer);
      for (const off of offs.splice(0)) off();
      svc.stop();
      values.close();
      await Promise.race([svc.idle(), new Promise((r) => setTimeout(r, 5_000))]);
    },
  };
}
