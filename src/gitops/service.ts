// The GitOps service: applications, the reconciler (refresh → render → compare → auto-sync), sync with
// waves, hooks and prune, rollout tracking, history, rollback, promotion. All I/O goes through the seams.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import type { Action, AuditInput, Resource, Subject } from '../auth/index.ts';
import {
  ConflictError,
  describeError,
  type EventBus,
  InputError,
  isSlipwayError,
  type Logger,
  NotAllowedError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from '../core/index.ts';
import type { AppSource, AppSpec } from './app-spec.ts';
import type {
  AppStatus,
  AppStore,
  Environment,
  HistoryEntry,
  OperationState,
  Promotion,
  ResourceStatus,
  SyncWindow,
  RollbackChange,
} from './app-store.ts';
import { EMPTY_STATUS } from './app-store.ts';
import { type ChartRepositories, isChartSource, NO_CHART_REPOSITORIES } from './chart-source.ts';
import { ClusterWatch } from './cluster-watch.ts';
import { describeChanges, diffObject, type FieldChange } from './diff.ts';
import { assessHealth, worstHealth } from './health.ts';
import { sourceKind } from './renderer.ts';
import type {
  ClusterClient,
  ClusterProvider,
  GitSource,
  HealthResult,
  HealthStatus,
  KubeObject,
  ObjectRef,
  RenderedManifest,
  Renderer,
  SyncStatus,
} from './seams.ts';
import {
  APP_ANNOTATION,
  groupByWave,
  keyOfRef,
  type PlannedObject,
  planSync,
  refOf,
  type SyncPlan,
} from './sync-plan.ts';
import { checkWindow, syncAllowed } from './sync-windows.ts';
import type { ValuesEditor } from './values-editor.ts';
import { mapLimit, WorkQueue } from './work-queue.ts';
import { getYamlValue } from './yaml-edit.ts';

/** The status events other modules and the UI see. */
export interface AppStatusEvent {
  name: string;
  environment: string;
  sync: SyncStatus | 'Syncing';
  health: HealthStatus;
  revision: string | null;
  message: string;
}

export interface AppSyncEvent {
  name: string;
  phase: OperationState['phase'];
  kind: HistoryEntry['kind'];
  revision: string | null;
  initiatedBy: string;
  message: string;
  historyId?: number;
}

declare module '../core/index.ts' {
  interface EventMap {
    'app.status': AppStatusEvent;
    'app.sync': AppSyncEvent;
    'app.promotion': {
      id: number;
      service: string;
      from: string;
      to: string;
      tag: string;
      state: Promotion['state'];
      by: string;
    };
  }
}

/** What the service needs from auth/ (AuthService satisfies it). */
export interface GitOpsAuth {
  require(subject: Subject, action: Action, resource: Resource): void;
  audit(input: AuditInput): void;
}

export interface GitOpsServiceOptions {
  store: AppStore;
  git: GitSource;
  values: ValuesEditor;
  renderer: Renderer;
  clusters: ClusterProvider;
  events: EventBus;
  auth: GitOpsAuth;
  logger?: Logger;
  now?: () => number;
  /** Apps reconciled at once (default 16). */
  concurrency?: number;
  /** Apps of one cluster reconciled at once (default 8). */
  perClusterConcurrency?: number;
  /** A cluster call slower than this fails as unreachable (default 15 s). */
  clusterTimeoutMs?: number;
  /** How long a sync follows a rollout before calling it failed (default 5 min). */
  rolloutTimeoutMs?: number;
  /**
   * Poll interval while following a rollout on a cluster that is not watched (default 200 ms). On a watched
   * cluster the rollout is followed by its watch events, with a poll every max(this, 2 s) as a safety net.
   */
  rolloutPollMs?: number;
  /** Watch the destination clusters for changes to managed objects (default true; needs `ClusterClient.watch`). */
  watch?: boolean;
  /** Changes seen by the watches within this window are folded into one re-evaluation (default 50 ms). */
  watchDebounceMs?: number;
  /** Pause between sync waves (Argo CD waits 2 s; default 0). */
  waveDelayMs?: number;
  /** Maps a repo URL to a canonical key (so `org/name` and its URL match); default: the URL itself. */
  repoKey?: (repoURL: string) => string;
  /** Packaged chart sources (OCI registries, Helm repositories); default: none configured. */
  charts?: ChartRepositories;
}

export interface SyncOptionsInput {
  prune?: boolean;
  dryRun?: boolean;
  /** Only these resources (`Kind/name`). */
  resources?: string[];
}

export interface ResourceDiff {
  kind: string;
  name: string;
  namespace?: string;
  sync: SyncStatus;
  requiresPruning?: boolean;
  changes: FieldChange[];
  summary: string[];
  /** The object as git declares it (YAML), for a side-by-side view. */
  desiredYaml?: string;
  /** The object as the cluster has it (YAML, without managedFields), when it exists. */
  liveYaml?: string;
}

/** YAML of an object for people: managedFields and other server bookkeeping left out. */
function objectYaml(obj: KubeObject): string {
  const {
    managedFields: _m,
    resourceVersion: _r,
    uid: _u,
    generation: _g,
    creationTimestamp: _c,
    ...meta
  } = obj.metadata as Record<string, unknown>;
  return stringifyYaml({ ...obj, metadata: meta });
}

export interface TreeNode {
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  health?: HealthStatus;
  message?: string;
  parents: string[];
  /** `Kind/namespace/name`. */
  id: string;
  info?: Record<string, string>;
}

export interface AppView {
  name: string;
  spec: AppSpec;
  status: AppStatus;
  environment: Environment;
}

interface Rendered {
  commits: string[];
  revision: string;
  plan: SyncPlan;
  digest: string;
  author: string;
  message: string;
}

const SYSTEM_ACTOR = 'system';

function envResource(env: Environment): Resource {
  return { kind: 'environment', name: env.name, protected: env.protected };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(
        () => reject(new UnavailableError(`${what} did not answer within ${Math.round(ms / 1000)} s`)),
        ms,
      );
    }),
  ]);
}

/** Wraps a cluster so that every call fails as unreachable after `ms`. */
function timedCluster(name: string, c: ClusterClient, ms: number): ClusterClient {
  const w = <T>(p: Promise<T>) => withTimeout(p, ms, `Cluster "${name}"`);
  return {
    apply: (o, opt) => w(c.apply(o, opt)),
    ...(c.replace ? { replace: (o: KubeObject) => w(c.replace!(o)) } : {}),
    get: (r) => w(c.get(r)),
    list: (k, opt) => w(c.list(k, opt)),
    delete: (r, opt) => w(c.delete(r, opt)),
    ...(c.isNamespaced ? { isNamespaced: c.isNamespaced.bind(c) } : {}),
  };
}

class Mutex {
  readonly #tails = new Map<string, Promise<unknown>>();
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }
}

export class GitOpsService {
  readonly #o: GitOpsServiceOptions;
  readonly #now: () => number;
  readonly #mutex = new Mutex();
  readonly #queue: WorkQueue;
  readonly #renderCache = new Map<string, { key: string; rendered: Rendered }>();
  get #charts(): ChartRepositories {
    return this.#o.charts ?? NO_CHART_REPOSITORIES;
  }
  readonly #syncing = new Set<string>();
  readonly #lastEvent = new Map<string, string>();
  readonly #failedAuto = new Map<string, string>();
  readonly #watch: ClusterWatch | undefined;
  /** Waiters for a change to an app's objects (rollouts followed by watch events). */
  readonly #wakers = new Map<string, Set<() => void>>();
  /** Count of watched changes per syncing app (a change seen while looking is not lost). */
  readonly #changes = new Map<string, number>();

  constructor(options: GitOpsServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    if (options.watch !== false) {
      this.#watch = new ClusterWatch({
        clusters: options.clusters,
        ...(options.watchDebounceMs !== undefined ? { debounceMs: options.watchDebounceMs } : {}),
        onChange: (app, force) => this.#onWatch(app, force),
        onError: (cluster, kind, err) =>
          this.#o.logger?.debug({ cluster, kind, err: err.message }, 'cluster watch failed; retrying'),
      });
    }
    this.#queue = new WorkQueue({
      concurrency: options.concurrency ?? 16,
      perGroup: options.perClusterConcurrency ?? 8,
      groupOf: (name) => this.#o.store.findApp(name)?.destination.name ?? '',
      run: async (name) => {
        if (this.#o.store.findApp(name)) await this.refresh(name, { cachedRevision: true });
      },
      onError: (name, err) =>
        this.#o.logger?.warn({ app: name, err: describeError(err) }, 'reconcile failed'),
    });
  }

  get store(): AppStore {
    return this.#o.store;
  }

  // ---------- environments ----------

  environment(name: string): Environment {
    return (
      this.#o.store.findEnv(name) ?? {
        name,
        protected: false,
        autoSync: true,
        requireApproval: false,
        syncWindows: [],
        description: '',
        createdAt: new Date(0).toISOString(),
      }
    );
  }

  putEnvironment(
    input: {
      name: string;
      protected?: boolean;
      autoSync?: boolean;
      requireApproval?: boolean;
      syncWindows?: SyncWindow[];
      description?: string;
    },
    actor: Subject,
  ): Environment {
    this.#o.auth.require(actor, 'env.create', { kind: 'system' });
    if (typeof input.name !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(input.name)) {
      throw new InputError(
        `Invalid environment name ${JSON.stringify(input.name)}: use a DNS label such as dev or prod`,
        { location: { field: 'name' } },
      );
    }
    const prev = this.#o.store.findEnv(input.name);
    const windows = (input.syncWindows ?? prev?.syncWindows ?? []).map((w, i) =>
      checkWindow(w, `syncWindows[${i}]`),
    );
    const env = this.#o.store.putEnv({
      name: input.name,
      protected: input.protected ?? prev?.protected ?? input.name === 'prod',
      autoSync: input.autoSync ?? prev?.autoSync ?? !(input.protected ?? input.name === 'prod'),
      requireApproval: input.requireApproval ?? prev?.requireApproval ?? false,
      syncWindows: windows,
      description: input.description ?? prev?.description ?? '',
    });
    this.#o.auth.audit({
      actor,
      action: prev ? 'env.update' : 'env.create',
      resource: `environment/${env.name}`,
      details: { ...env },
    });
    return env;
  }

  // ---------- applications ----------

  listApps(): AppView[] {
    return this.#o.store.listApps().map(({ spec }) => this.#view(spec));
  }

  getApp(name: string): AppView {
    return this.#view(this.#o.store.getApp(name));
  }

  #view(spec: AppSpec): AppView {
    const status = this.#o.store.getStatus(spec.name);
    const { inventory: _inv, ...rest } = status;
    return {
      name: spec.name,
      spec,
      status: { ...rest, inventory: status.inventory },
      environment: this.environment(spec.environment),
    };
  }

  /** Creates (or with `upsert` updates) an application and queues its first comparison. */
  putApp(spec: AppSpec, actor: Subject, upsert: boolean): AppView {
    this.#o.auth.require(actor, 'app.create', { kind: 'system' });
    try {
      this.#o.clusters.get(spec.destination.name);
    } catch (err) {
      throw new ValidationError(`Application "${spec.name}": destination ${describeError(err)}`, {
        location: { field: 'spec.destination.name' },
      });
    }
    const created = this.#o.store.putApp(spec, actor.name, upsert);
    this.#renderCache.delete(spec.name);
    this.#o.auth.audit({
      actor,
      action: created ? 'app.create' : 'app.update',
      resource: `app/${spec.name}`,
      details: { environment: spec.environment },
    });
    this.#queue.add(spec.name);
    return this.getApp(spec.name);
  }

  /** Deletes an application; with `cascade` also the resources it deployed. */
  async deleteApp(name: string, actor: Subject, cascade = true): Promise<void> {
    this.#o.auth.require(actor, 'app.delete', { kind: 'system' });
    const spec = this.#o.store.getApp(name);
    await this.#mutex.run(name, async () => {
      if (cascade) {
        const status = this.#o.store.getStatus(name);
        const cluster = this.#cluster(spec.destination.name);
        for (const ref of [...status.inventory].reverse()) {
          const live = await cluster.get(ref).catch(() => undefined);
          if (live && live.metadata.annotations?.[APP_ANNOTATION] === name)
            await cluster.delete(ref).catch(() => undefined);
        }
      }
      this.#o.store.deleteApp(name);
      this.#renderCache.delete(name);
      this.#watch?.untrack(name);
    });
    this.#o.auth.audit({ actor, action: 'app.delete', resource: `app/${name}`, details: { cascade } });
  }

  #cluster(name: string): ClusterClient {
    return timedCluster(name, this.#o.clusters.get(name), this.#o.clusterTimeoutMs ?? 15_000);
  }

  // ---------- render ----------

  async #render(spec: AppSpec, hard: boolean): Promise<Rendered> {
    const commits = await Promise.all(
      spec.sources.map((s) =>
        isChartSource(s) ? this.#charts.resolve(s) : this.#o.git.resolve(s.repoURL, s.targetRevision),
      ),
    );
    const key = JSON.stringify([spec.sources, spec.destination, commits]);
    const cached = this.#renderCache.get(spec.name);
    if (!hard && cached?.key === key) return cached.rendered;
    const refs = new Map<string, { source: AppSource; commit: string }>();
    spec.sources.forEach((s, i) => {
      if (s.ref) refs.set(s.ref, { source: s, commit: commits[i]! });
    });
    const manifests: RenderedManifest[] = [];
    for (const [i, source] of spec.sources.entries()) {
      if (source.path === undefined && !isChartSource(source)) continue;
      const chart = isChartSource(source);
      const path = chart ? '' : (source.path ?? '');
      const files = chart
        ? await this.#charts.files(source, commits[i]!)
        : await this.#o.git.readTree(source.repoURL, commits[i]!, path);
      const kind = source.helm ? 'helm' : sourceKind(files);
      const valueFiles: { name: string; text: string }[] = [];
      for (const vf of source.helm?.valueFiles ?? []) {
        const m = /^\$([^/]+)\/(.*)$/.exec(vf);
        const inChart = chart && !m ? files[posix.normalize(vf)] : undefined;
        if (inChart) {
          valueFiles.push({ name: vf, text: new TextDecoder().decode(inChart) });
          continue;
        }
        const repo = m ? refs.get(m[1]!) : { source, commit: commits[i]! };
        if (!repo)
          throw new InputError(`valueFiles: unknown source ref in ${vf}`, {
            location: { field: 'valueFiles' },
          });
        const full = posix.normalize(m ? m[2]! : posix.join(path, vf));
        if (full.startsWith('..'))
          throw new InputError(`valueFiles: ${vf} leaves the repository`, { location: { file: vf } });
        const dir = posix.dirname(full) === '.' ? '' : posix.dirname(full);
        const tree = await this.#o.git
          .readTree(repo.source.repoURL, repo.commit, dir)
          .catch(() => ({}) as Record<string, Uint8Array>);
        const data = tree[posix.basename(full)];
        if (!data)
          throw new InputError(
            `Values file ${vf} not found in ${repo.source.repoURL} at ${repo.commit.slice(0, 12)}`,
            { location: { file: vf } },
          );
        valueFiles.push({ name: vf, text: new TextDecoder().decode(data) });
      }
      const helm = source.helm;
      const values = helm?.values ?? (helm?.valuesObject ? JSON.stringify(helm.valuesObject) : undefined);
      manifests.push(
        ...(await this.#o.renderer.render({
          files,
          kind,
          releaseName: helm?.releaseName ?? spec.name,
          namespace: spec.destination.namespace,
          valueFiles,
          ...(values !== undefined ? { values } : {}),
          set: helm?.parameters ?? [],
          recurse: source.directory?.recurse ?? false,
        })),
      );
    }
    const plan = planSync(spec.name, spec.destination.namespace, manifests);
    const digest = `sha256:${createHash('sha256')
      .update(
        JSON.stringify([
          plan.resources.map((r) => r.object),
          Object.values(plan.hooks).map((h) => h.map((x) => x.object)),
        ]),
      )
      .digest('hex')}`;
    const first = spec.sources.findIndex((s) => s.path !== undefined);
    const info = await this.#o.git
      .commitInfo(spec.sources[Math.max(0, first)]!.repoURL, commits[Math.max(0, first)]!)
      .catch(() => ({ author: '', message: '' }));
    const rendered: Rendered = {
      commits,
      revision: commits[Math.max(0, first)]!,
      plan,
      digest,
      author: info.author,
      message: info.message,
    };
    this.#renderCache.set(spec.name, { key, rendered });
    return rendered;
  }

  // ---------- compare ----------

  async #compare(
    spec: AppSpec,
    plan: SyncPlan,
    inventory: ObjectRef[],
  ): Promise<{ resources: ResourceStatus[]; sync: SyncStatus; health: HealthStatus }> {
    const cluster = this.#cluster(spec.destination.name);
    const desiredKeys = new Set(plan.resources.map((r) => keyOfRef(refOf(r.object))));
    const resources = await mapLimit(plan.resources, 8, async (p): Promise<ResourceStatus> => {
      const live = await cluster.get(refOf(p.object));
      const d = diffObject(p.object, live, spec.ignoreDifferences);
      const h = await this.#health(cluster, live);
      return {
        ...this.#resourceId(p.object),
        sync: d.modified ? 'OutOfSync' : 'Synced',
        health: h.status,
        ...(h.message ? { message: h.message } : {}),
        source: p.source,
      };
    });
    const extra = inventory.filter((ref) => !desiredKeys.has(keyOfRef(ref)));
    for (const ref of extra) {
      const live = await cluster.get(ref);
      if (!live || live.metadata.annotations?.[APP_ANNOTATION] !== spec.name) continue;
      resources.push({
        ...this.#resourceId(live),
        sync: 'OutOfSync',
        requiresPruning: true,
        health: assessHealth(live).status,
      });
    }
    const sync: SyncStatus = resources.some((r) => r.sync === 'OutOfSync') ? 'OutOfSync' : 'Synced';
    const health = worstHealth(resources.filter((r) => !r.requiresPruning).map((r) => r.health ?? 'Healthy'));
    return { resources, sync, health };
  }

  #resourceId(obj: KubeObject): Pick<ResourceStatus, 'group' | 'version' | 'kind' | 'name' | 'namespace'> {
    const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
    return {
      group: group!,
      version: version!,
      kind: obj.kind,
      name: obj.metadata.name,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    };
  }

  /**
   * Health of a live object; a Deployment or StatefulSet that is still Progressing is Degraded when one of
   * its pods cannot pull its image or crash-loops (Argo CD would wait for the progress deadline).
   */
  async #health(cluster: ClusterClient, live: KubeObject | undefined): Promise<HealthResult> {
    const h = assessHealth(live);
    if (!live || h.status !== 'Progressing' || !['Deployment', 'StatefulSet'].includes(live.kind)) return h;
    const sel = (live.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector
      ?.matchLabels;
    if (!sel || Object.keys(sel).length === 0) return h;
    const pods = await cluster
      .list(
        { apiVersion: 'v1', kind: 'Pod' },
        {
          ...(live.metadata.namespace ? { namespace: live.metadata.namespace } : {}),
          labelSelector: Object.entries(sel)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
        },
      )
      .catch(() => [] as KubeObject[]);
    // Only the pods of the template being rolled out count, as for `kubectl rollout status`: pods of an
    // older ReplicaSet that never started (an image that did not exist then) do not fail a new rollout.
    const imagesOf = (spec: unknown): string =>
      JSON.stringify(
        ((spec as { containers?: { image?: string }[] } | undefined)?.containers ?? []).map((c) => c.image),
      );
    const wanted = imagesOf((live.spec as { template?: { spec?: unknown } } | undefined)?.template?.spec);
    for (const pod of pods) {
      if (imagesOf(pod.spec) !== wanted) continue;
      const ph = assessHealth(pod);
      if (ph.status === 'Degraded')
        return { status: 'Degraded', message: `pod ${pod.metadata.name}: ${ph.message ?? 'Degraded'}` };
    }
    return h;
  }

  #save(spec: AppSpec, status: AppStatus): void {
    this.#o.store.putStatus(spec.name, status);
    this.#emitStatus(spec, status);
  }

  #emitStatus(spec: AppSpec, status: AppStatus): void {
    const ev: AppStatusEvent = {
      name: spec.name,
      environment: spec.environment,
      sync: this.#syncing.has(spec.name) ? 'Syncing' : status.sync,
      health: status.health,
      revision: status.revision,
      message: status.message,
    };
    const sig = JSON.stringify(ev);
    if (this.#lastEvent.get(spec.name) === sig) return;
    this.#lastEvent.set(spec.name, sig);
    this.#o.events.emit('app.status', ev);
  }

  // ---------- refresh / reconcile ----------

  /** Queues a refresh (the reconciler calls this on git events and polls). */
  enqueue(name: string): void {
    this.#queue.add(name);
  }

  /** Queues every application. */
  enqueueAll(): void {
    for (const { spec } of this.#o.store.listApps()) this.#queue.add(spec.name);
  }

  /** Queues the apps whose sources read `repoURL` (any revision or the pushed branch). */
  enqueueForRepo(repoURL: string, branch?: string): string[] {
    const key = this.#o.repoKey ?? ((u: string) => u);
    const target = key(repoURL);
    const hit: string[] = [];
    for (const { spec } of this.#o.store.listApps()) {
      const match = spec.sources.some(
        (s) =>
          key(s.repoURL) === target &&
          (branch === undefined ||
            s.targetRevision === 'HEAD' ||
            s.targetRevision === branch ||
            /^[0-9a-f]{40}$/.test(s.targetRevision) === false),
      );
      if (match) {
        for (const s of spec.sources) if (key(s.repoURL) === target) this.#o.git.invalidate?.(s.repoURL);
        hit.push(spec.name);
        this.#queue.add(spec.name);
      }
    }
    return hit;
  }

  /** Resolves when the reconcile queue is empty. */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  stop(): void {
    this.#queue.stop();
    this.#watch?.stop();
    for (const set of this.#wakers.values()) for (const wake of set) wake();
    this.#wakers.clear();
  }

  /**
   * True when `cluster`'s managed kinds are all being watched, so that its apps need no periodic
   * re-check (only the slow full refresh); false for clusters without watch support or with failing watches.
   */
  isWatched(cluster: string): boolean {
    return this.#watch?.isLive(cluster) ?? false;
  }

  /** Watch bookkeeping (benchmarks, diagnostics). */
  watchStats(): { clusters: number; watches: number; objects: number; apps: number } {
    return this.#watch?.stats() ?? { clusters: 0, watches: 0, objects: 0, apps: 0 };
  }

  /** A watched object of `app` changed: wake its rollout waiters, and look at it again unless it is syncing. */
  #onWatch(app: string, force: boolean): void {
    if (this.#syncing.has(app)) this.#changes.set(app, (this.#changes.get(app) ?? 0) + 1);
    for (const wake of this.#wakers.get(app) ?? []) wake();
    if (this.#syncing.has(app)) return;
    if (!force) {
      const s = this.#o.store.findApp(app) ? this.#o.store.getStatus(app) : undefined;
      if (!s || s.comparisonError) return;
      if (s.sync === 'Synced' && (s.health === 'Healthy' || s.health === 'Missing')) return;
    }
    this.#queue.add(app);
  }

  /** Resolves at the next watched change of `app`'s objects, or after `ms`. */
  #changeOrTimeout(app: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#wakers.get(app);
      if (!set) this.#wakers.set(app, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        set!.delete(done);
        if (set!.size === 0 && this.#wakers.get(app) === set) this.#wakers.delete(app);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  #track(spec: AppSpec, plan: SyncPlan, inventory: ObjectRef[]): void {
    if (!this.#watch) return;
    const refs = plan.resources.map((p) => refOf(p.object));
    const keys = new Set(refs.map(keyOfRef));
    for (const r of inventory) if (!keys.has(keyOfRef(r))) refs.push(r);
    for (const h of Object.values(plan.hooks).flat()) refs.push(refOf(h.object));
    this.#watch.track(spec.name, spec.destination.name, refs);
  }

  /**
   * Compares the app with its cluster (rendering again when the commit changed, or always with `hard`),
   * stores and emits the status, and starts an automated sync when the app and its environment allow it.
   */
  async refresh(
    name: string,
    options: { hard?: boolean; autoSync?: boolean; cachedRevision?: boolean } = {},
  ): Promise<AppView> {
    return this.#mutex.run(name, async () => {
      const spec = this.#o.store.getApp(name);
      // An explicit refresh looks at git again; queued ones may share a just-made branch resolution.
      if (!options.cachedRevision) for (const s of spec.sources) this.#o.git.invalidate?.(s.repoURL);
      const status = await this.#refreshLocked(spec, options.hard ?? false);
      if (options.autoSync !== false) await this.#maybeAutoSync(spec, status);
      return this.getApp(name);
    });
  }

  async #refreshLocked(spec: AppSpec, hard: boolean): Promise<AppStatus & { rendered?: Rendered }> {
    const prev = this.#o.store.getStatus(spec.name);
    const base: AppStatus = {
      ...structuredClone(EMPTY_STATUS),
      ...prev,
      reconciledAt: new Date(this.#now()).toISOString(),
    };
    delete base.comparisonError;
    let rendered: Rendered;
    try {
      rendered = await this.#render(spec, hard);
    } catch (err) {
      const location = isSlipwayError(err) ? err.location : undefined;
      const status: AppStatus = {
        ...base,
        sync: 'Unknown',
        message: `ComparisonError: ${describeError(err)}`,
        comparisonError: { message: describeError(err), ...(location ? { location } : {}) },
      };
      this.#save(spec, status);
      return status;
    }
    this.#track(spec, rendered.plan, prev.inventory);
    try {
      const cmp = await this.#compare(spec, rendered.plan, prev.inventory);
      const outOf = cmp.resources.filter((r) => r.sync === 'OutOfSync').length;
      const status: AppStatus = {
        ...base,
        sync: cmp.sync,
        health: cmp.health,
        revision: rendered.revision,
        revisions: rendered.commits,
        resources: cmp.resources,
        message:
          cmp.sync === 'Synced'
            ? `Synced to ${rendered.revision.slice(0, 12)}`
            : `${outOf} of ${cmp.resources.length} resources out of sync at ${rendered.revision.slice(0, 12)}`,
      };
      const degraded = cmp.resources.find((r) => r.health === 'Degraded');
      if (degraded)
        status.message +=
          `; ${degraded.kind} ${degraded.name} is Degraded: ${degraded.message ?? ''}`.trimEnd();
      this.#save(spec, status);
      return { ...status, rendered };
    } catch (err) {
      const status: AppStatus = {
        ...base,
        sync: 'Unknown',
        health: 'Unknown',
        revision: rendered.revision,
        revisions: rendered.commits,
        message: `Cluster "${spec.destination.name}" unreachable: ${describeError(err)}`,
      };
      this.#save(spec, status);
      return status;
    }
  }

  async #maybeAutoSync(spec: AppSpec, status: AppStatus & { rendered?: Rendered }): Promise<void> {
    const auto = spec.syncPolicy.automated;
    const env = this.environment(spec.environment);
    if (!auto || !env.autoSync || !status.rendered || status.sync !== 'OutOfSync') return;
    if (!syncAllowed(env.syncWindows, this.#now(), false).allowed) return;
    const onlyPrune = status.resources.every((r) => r.sync === 'Synced' || r.requiresPruning);
    if (onlyPrune && !auto.prune) return;
    const isNew = status.syncedDigest !== status.rendered.digest;
    if (!isNew && !auto.selfHeal) return;
    // One automated attempt per rendered state: a sync that failed is not retried in a loop.
    if (this.#failedAuto.get(spec.name) === status.rendered.digest) return;
    const kind = isNew ? 'auto-sync' : 'self-heal';
    const result = await this.#syncLocked(spec, { prune: auto.prune }, SYSTEM_ACTOR, kind, status.rendered);
    if (result.phase !== 'Succeeded') this.#failedAuto.set(spec.name, status.rendered.digest);
    else this.#failedAuto.delete(spec.name);
  }

  // ---------- diff ----------

  /** Per-resource differences between git and the cluster (what `app diff` shows). */
  async diff(name: string): Promise<{ revision: string; resources: ResourceDiff[] }> {
    const spec = this.#o.store.getApp(name);
    const rendered = await this.#render(spec, false);
    const cluster = this.#cluster(spec.destination.name);
    const out: ResourceDiff[] = [];
    for (const p of rendered.plan.resources) {
      const live = await cluster.get(refOf(p.object));
      const d = diffObject(p.object, live, spec.ignoreDifferences);
      if (!d.modified) continue;
      out.push({
        kind: p.object.kind,
        name: p.object.metadata.name,
        ...(p.object.metadata.namespace ? { namespace: p.object.metadata.namespace } : {}),
        sync: 'OutOfSync',
        changes: live ? d.changes : [],
        summary: live ? describeChanges(d.changes) : ['missing from the cluster: will be created'],
        desiredYaml: objectYaml(p.object),
        ...(live ? { liveYaml: objectYaml(live) } : {}),
      });
    }
    const status = this.#o.store.getStatus(name);
    for (const r of status.resources.filter((x) => x.requiresPruning)) {
      out.push({
        kind: r.kind,
        name: r.name,
        ...(r.namespace ? { namespace: r.namespace } : {}),
        sync: 'OutOfSync',
        requiresPruning: true,
        changes: [],
        summary: ['not in git any more: will be pruned'],
      });
    }
    return { revision: rendered.revision, resources: out };
  }

  // ---------- sync ----------

  #checkRight(actor: Subject, action: Action, env: Environment, detail: Record<string, unknown>): void {
    try {
      this.#o.auth.require(actor, action, envResource(env));
    } catch (err) {
      this.#o.auth.audit({
        actor,
        action,
        resource: `environment/${env.name}`,
        outcome: 'denied',
        details: detail,
      });
      throw err;
    }
  }

  /** Syncs an app now (a user pressed Sync). Checks `app.sync` on its environment and its sync windows. */
  async sync(
    name: string,
    options: SyncOptionsInput,
    actor: Subject,
  ): Promise<{
    phase: OperationState['phase'];
    message: string;
    historyId?: number;
    revision: string | null;
    changes?: ResourceDiff[];
  }> {
    const spec = this.#o.store.getApp(name);
    const env = this.environment(spec.environment);
    this.#checkRight(actor, 'app.sync', env, { app: name });
    const window = syncAllowed(env.syncWindows, this.#now(), true);
    if (!window.allowed) throw new ConflictError(`Sync of "${name}" is blocked: ${window.reason}`);
    this.#o.auth.audit({
      actor,
      action: 'app.sync',
      resource: `app/${name}`,
      details: { environment: env.name, prune: options.prune === true, dryRun: options.dryRun === true },
    });
    if (options.dryRun) {
      const d = await this.diff(name);
      return {
        phase: 'Succeeded',
        message: `dry run: ${d.resources.length} resources would change`,
        revision: d.revision,
        changes: d.resources,
      };
    }
    return this.#mutex.run(name, async () => {
      const rendered = await this.#render(spec, true).catch((err) => {
        throw err instanceof InputError
          ? err
          : new UnavailableError(`Cannot render "${name}": ${describeError(err)}`, { cause: err });
      });
      const r = await this.#syncLocked(
        spec,
        { prune: options.prune ?? false, ...(options.resources ? { resources: options.resources } : {}) },
        actor.name,
        'sync',
        rendered,
      );
      return r;
    });
  }

  async #syncLocked(
    spec: AppSpec,
    options: { prune: boolean; resources?: string[]; changes?: RollbackChange[] },
    initiatedBy: string,
    kind: HistoryEntry['kind'],
    rendered: Rendered,
  ): Promise<{
    phase: OperationState['phase'];
    message: string;
    historyId: number;
    revision: string | null;
  }> {
    const started = this.#now();
    const startedAt = new Date(started).toISOString();
    const cluster = this.#cluster(spec.destination.name);
    const plan = rendered.plan;
    this.#track(spec, plan, this.#o.store.getStatus(spec.name).inventory);
    const historyId = this.#o.store.startHistory({
      app: spec.name,
      revision: rendered.revision,
      commits: rendered.commits,
      author: rendered.author || null,
      message: rendered.message || null,
      initiatedBy,
      kind,
      startedAt,
      digest: rendered.digest,
      manifests: [...plan.resources, ...Object.values(plan.hooks).flat()].map((p) => p.object),
      sources: spec.sources,
      ...(options.changes ? { changes: options.changes } : {}),
    });
    const op: OperationState = {
      phase: 'Running',
      kind: kind === 'rollback' ? 'rollback' : 'sync',
      startedAt,
      message: 'sync started',
      revision: rendered.revision,
      initiatedBy,
    };
    this.#syncing.add(spec.name);
    const setOp = (patch: Partial<OperationState>) => {
      Object.assign(op, patch);
      const s = this.#o.store.getStatus(spec.name);
      s.operation = { ...op };
      this.#save(spec, s);
    };
    setOp({});
    this.#o.events.emit('app.sync', {
      name: spec.name,
      phase: 'Running',
      kind,
      revision: rendered.revision,
      initiatedBy,
      message: 'sync started',
      historyId,
    });
    let phase: OperationState['phase'] = 'Succeeded';
    let message = '';
    const selected = options.resources ? new Set(options.resources) : undefined;
    const only = (p: PlannedObject) =>
      !selected || selected.has(`${p.object.kind}/${p.object.metadata.name}`);
    try {
      if (spec.syncPolicy.syncOptions.createNamespace && spec.destination.namespace !== 'default') {
        const ns = { apiVersion: 'v1', kind: 'Namespace', name: spec.destination.namespace };
        if (!(await cluster.get(ns)))
          await cluster.apply(
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name } },
            { force: true },
          );
      }
      const pre = await this.#runHooks(cluster, plan.hooks.PreSync, spec);
      if (!pre.ok) throw new SyncFailure(`PreSync hook failed: ${pre.message}`);
      const waves = groupByWave(plan.resources.filter(only));
      for (const [i, wave] of waves.entries()) {
        setOp({ message: `applying wave ${wave.wave} (${wave.items.length} resources)` });
        await mapLimit(wave.items, 8, (p) => this.#applyWithRetry(cluster, p, spec));
        if (i < waves.length - 1) {
          const h = await this.#waitHealthy(cluster, wave.items, spec, false);
          if (h.status === 'Degraded') throw new SyncFailure(`wave ${wave.wave} is Degraded: ${h.message}`);
          if (this.#o.waveDelayMs) await sleep(this.#o.waveDelayMs);
        }
      }
      const syncHooks = await this.#runHooks(cluster, plan.hooks.Sync, spec);
      if (!syncHooks.ok) throw new SyncFailure(`Sync hook failed: ${syncHooks.message}`);
      const prev = this.#o.store.getStatus(spec.name);
      const desired = new Set(plan.resources.map((p) => keyOfRef(refOf(p.object))));
      const extra = prev.inventory.filter((r) => !desired.has(keyOfRef(r)));
      const pruned: string[] = [];
      const kept: ObjectRef[] = [];
      const prune = async () => {
        for (const ref of extra) {
          const live = await cluster.get(ref);
          if (!live || live.metadata.annotations?.[APP_ANNOTATION] !== spec.name) continue;
          if (options.prune) {
            await cluster.delete(ref, { propagationPolicy: 'Foreground' }).catch((err) => {
              if (!(err instanceof NotFoundError)) throw err;
            });
            pruned.push(`${ref.kind}/${ref.name}`);
          } else kept.push(ref);
        }
      };
      if (!spec.syncPolicy.syncOptions.pruneLast) await prune();
      setOp({ message: 'waiting for the rollout to finish' });
      const health = await this.#waitHealthy(cluster, plan.resources.filter(only), spec, true);
      if (health.status === 'Degraded') throw new SyncFailure(`rollout Degraded: ${health.message}`);
      if (health.status !== 'Healthy' && health.status !== 'Suspended')
        throw new SyncFailure(`rollout did not finish: ${health.message}`);
      if (spec.syncPolicy.syncOptions.pruneLast) await prune();
      const post = await this.#runHooks(cluster, plan.hooks.PostSync, spec);
      if (!post.ok) throw new SyncFailure(`PostSync hook failed: ${post.message}`);
      message = `successfully synced ${plan.resources.filter(only).length} resources to ${rendered.revision.slice(0, 12)}${pruned.length ? `; pruned ${pruned.join(', ')}` : ''}${kept.length ? `; ${kept.length} resources need pruning (prune is off)` : ''}`;
      const s = this.#o.store.getStatus(spec.name);
      s.inventory = [...plan.resources.map((p) => refOf(p.object)), ...kept];
      s.syncedRevision = rendered.revision;
      s.syncedDigest = rendered.digest;
      this.#o.store.putStatus(spec.name, s);
    } catch (err) {
      phase = err instanceof SyncFailure ? 'Failed' : 'Error';
      message = describeError(err);
      // Objects applied so far stay tracked, so a later sync can prune them.
      const s = this.#o.store.getStatus(spec.name);
      const keys = new Set(s.inventory.map(keyOfRef));
      for (const p of plan.resources)
        if (!keys.has(keyOfRef(refOf(p.object)))) s.inventory.push(refOf(p.object));
      this.#o.store.putStatus(spec.name, s);
      await this.#runHooks(cluster, plan.hooks.SyncFail, spec).catch(() => undefined);
    } finally {
      this.#syncing.delete(spec.name);
      this.#changes.delete(spec.name);
    }
    const duration = this.#now() - started;
    this.#o.store.finishHistory(historyId, phase, message, duration);
    setOp({ phase, message, finishedAt: new Date(this.#now()).toISOString() });
    this.#o.events.emit('app.sync', {
      name: spec.name,
      phase,
      kind,
      revision: rendered.revision,
      initiatedBy,
      message,
      historyId,
    });
    await this.#refreshLocked(spec, false);
    return { phase, message, historyId, revision: rendered.revision };
  }

  async #applyWithRetry(cluster: ClusterClient, p: PlannedObject, spec: AppSpec): Promise<void> {
    const retry = spec.syncPolicy.retry;
    for (let attempt = 0; ; attempt++) {
      try {
        const written =
          spec.syncPolicy.syncOptions.replace && cluster.replace
            ? await cluster.replace(p.object)
            : await cluster.apply(p.object, { force: true });
        this.#watch?.ownWrite(spec.destination.name, written);
        return;
      } catch (err) {
        const retryable = err instanceof UnavailableError || !isSlipwayError(err);
        if (!retryable || attempt >= retry.limit) {
          throw new SyncFailure(
            `${p.object.kind} ${p.object.metadata.name} (${p.source}): ${describeError(err)}`,
          );
        }
        const wait = Math.min(retry.maxBackoffSeconds, retry.backoffSeconds * retry.factor ** attempt) * 1000;
        await sleep(Math.min(wait, 10_000));
      }
    }
  }

  /**
   * Follows the objects until none is Progressing/Missing (or one is Degraded, or time runs out): looks again
   * at each watched change of the app's objects, and polls as a safety net.
   */
  async #waitHealthy(
    cluster: ClusterClient,
    items: PlannedObject[],
    spec: AppSpec,
    updateStatus: boolean,
  ): Promise<{ status: HealthStatus; message: string }> {
    const deadline = this.#now() + (this.#o.rolloutTimeoutMs ?? 300_000);
    for (;;) {
      const seen = this.#changes.get(spec.name) ?? 0;
      const results = await mapLimit(items, 8, async (p) => ({
        p,
        h: await this.#health(cluster, await cluster.get(refOf(p.object))),
      }));
      const worst = worstHealth(results.map((r) => r.h.status));
      const culprit = results.find((r) => r.h.status === worst);
      const message = culprit
        ? `${culprit.p.object.kind} ${culprit.p.object.metadata.name}: ${culprit.h.message ?? worst}`
        : '';
      if (updateStatus) {
        const s = this.#o.store.getStatus(spec.name);
        s.health = worst;
        this.#save(spec, s);
      }
      if (worst === 'Healthy' || worst === 'Suspended' || worst === 'Degraded' || worst === 'Unknown')
        return { status: worst, message };
      if (this.#now() > deadline) return { status: worst, message: `timed out: ${message}` };
      if ((this.#changes.get(spec.name) ?? 0) !== seen) continue;
      const poll = this.#o.rolloutPollMs ?? 200;
      const watched = this.#watch?.isLive(spec.destination.name) ?? false;
      await this.#changeOrTimeout(
        spec.name,
        Math.min(watched ? Math.max(poll, 2_000) : poll, Math.max(1, deadline - this.#now() + 1)),
      );
    }
  }

  async #runHooks(
    cluster: ClusterClient,
    hooks: PlannedObject[],
    spec: AppSpec,
  ): Promise<{ ok: boolean; message: string }> {
    for (const wave of groupByWave(hooks)) {
      for (const h of wave.items) {
        const ref = refOf(h.object);
        if (h.deletePolicies.includes('BeforeHookCreation')) {
          await cluster.delete(ref).catch(() => undefined);
        }
        await this.#applyWithRetry(cluster, h, spec);
      }
      const results = await Promise.all(
        wave.items.map(async (h) => {
          const w = await this.#waitHealthy(cluster, [h], spec, false);
          const ok = w.status === 'Healthy';
          if (
            (ok && h.deletePolicies.includes('HookSucceeded')) ||
            (!ok && h.deletePolicies.includes('HookFailed'))
          ) {
            await cluster.delete(refOf(h.object), { propagationPolicy: 'Background' }).catch(() => undefined);
          }
          return { ok, message: `${h.object.kind} ${h.object.metadata.name}: ${w.message}` };
        }),
      );
      const bad = results.find((r) => !r.ok);
      if (bad) return bad;
    }
    return { ok: true, message: '' };
  }

  // ---------- history / rollback ----------

  history(name: string): HistoryEntry[] {
    this.#o.store.getApp(name);
    return this.#o.store.listHistory(name);
  }

  /**
   * Rolls back to history entry `id`. An automated app gets a commit that restores its source path to that
   * entry's commit (a git revert, so git stays the truth) and is synced to it; a manual app is synced to
   * the manifests that entry applied and then shows OutOfSync against git until the next sync.
   */
  async rollback(
    name: string,
    id: number,
    actor: Subject,
  ): Promise<{
    phase: OperationState['phase'];
    message: string;
    historyId?: number;
    /** The first revert commit made (automated apps). */
    commit?: string;
    /** Every revert commit and re-pinned source (automated apps); also recorded in the history entry. */
    changes?: RollbackChange[];
  }> {
    const spec = this.#o.store.getApp(name);
    const env = this.environment(spec.environment);
    this.#checkRight(actor, 'app.rollback', env, { app: name, to: id });
    const entry = this.#o.store.getHistory(name, id);
    this.#o.auth.audit({
      actor,
      action: 'app.rollback',
      resource: `app/${name}`,
      details: { to: id, revision: entry.revision },
    });
    if (spec.syncPolicy.automated && env.autoSync) {
      const { spec: target, changes } = await this.#restoreSources(spec, entry, id, actor.name);
      const commit = changes.find((c) => c.kind === 'commit')?.commit;
      for (const s of target.sources) this.#o.git.invalidate?.(s.repoURL);
      const result = await this.#mutex.run(name, async () => {
        const rendered = await this.#render(target, true);
        const r = await this.#syncLocked(
          target,
          { prune: target.syncPolicy.automated?.prune ?? false, changes },
          actor.name,
          'rollback',
          rendered,
        );
        return { ...r, digest: rendered.digest };
      });
      const same = entry.digest === null || entry.digest === result.digest;
      return {
        phase: result.phase,
        message: same
          ? result.message
          : `${result.message} (the manifests differ from history #${id}'s: a source cannot be restored exactly)`,
        historyId: result.historyId,
        changes,
        ...(commit ? { commit } : {}),
      };
    }
    return this.#mutex.run(name, async () => {
      const plan = planSync(
        spec.name,
        spec.destination.namespace,
        entry.manifests.map((object) => ({ object, source: `history #${id}` })),
      );
      const rendered: Rendered = {
        commits: entry.commits,
        revision: entry.revision ?? '',
        plan,
        digest: entry.digest ?? '',
        author: entry.author ?? '',
        message: entry.message ?? '',
      };
      return this.#syncLocked(spec, { prune: false }, actor.name, 'rollback', rendered);
    });
  }

  /**
   * Makes git (and the app's spec) say again what history entry `id` rendered: the sources as they were then
   * (inline values, parameters, chart constraints), and for each source at the commit it rendered: a revert
   * commit restoring every path the app reads from that repository (the source's path, its value files and
   * the `$ref` value files other sources take from it) when the source follows a branch; a re-pin to the
   * exact commit when it follows a tag or a commit; and for a packaged chart whose constraint now resolves to
   * another chart, a re-pin to the exact version that was rendered.
   */
  async #restoreSources(
    spec: AppSpec,
    entry: HistoryEntry & { sources: AppSource[] | undefined },
    id: number,
    actor: string,
  ): Promise<{ spec: AppSpec; changes: RollbackChange[] }> {
    const old = entry.sources && entry.sources.length === entry.commits.length ? entry.sources : spec.sources;
    const sources = structuredClone(old);
    const changes: RollbackChange[] = [];
    const pin = (i: number, to: string) => {
      const s = sources[i]!;
      if (s.targetRevision === to) return;
      changes.push({ kind: 'pin', source: i, repoURL: s.repoURL, from: s.targetRevision, to });
      s.targetRevision = to;
    };
    for (const [i, source] of sources.entries()) {
      const to = entry.commits[i];
      if (!to) continue;
      if (isChartSource(source)) {
        const now = await this.#charts.resolve(source).catch(() => undefined);
        if (now === to) continue;
        const files = await this.#charts.files(source, to);
        const chartYaml = files['Chart.yaml'];
        const version = chartYaml
          ? /^version:\s*["']?([^"'\s#]+)/m.exec(new TextDecoder().decode(chartYaml))?.[1]
          : undefined;
        if (!version)
          throw new UnavailableError(`Cannot roll back ${source.repoURL}: the chart's version is unknown`);
        pin(i, version);
        continue;
      }
      if (/^[0-9a-f]{40}$/i.test(source.targetRevision)) {
        pin(i, to);
        continue;
      }
      const paths = pathsRead(sources, i);
      if (paths.length === 0) continue;
      const branch =
        source.targetRevision === 'HEAD' || source.targetRevision === '' ? undefined : source.targetRevision;
      try {
        const r = await this.#o.values.restorePath({
          repo: source.repoURL,
          path: paths[0]!,
          paths: paths.slice(1),
          toCommit: to,
          author: actor,
          message: `Rollback ${spec.name} to ${to.slice(0, 12)} (history #${id})`,
          ...(branch ? { branch } : {}),
        });
        if (r.changed)
          changes.push({
            kind: 'commit',
            source: i,
            repoURL: source.repoURL,
            branch: r.branch,
            paths,
            commit: r.commit,
          });
      } catch (err) {
        // Not a branch (a tag, or another ref): nothing to commit to, so pin the source to the commit.
        if (!(err instanceof NotFoundError) || !branch || !/^Branch /.test(err.message)) throw err;
        pin(i, to);
      }
    }
    if (JSON.stringify(sources) === JSON.stringify(spec.sources)) return { spec, changes };
    const next: AppSpec = { ...spec, sources };
    this.#o.store.putApp(next, actor, true);
    return { spec: next, changes };
  }

  // ---------- resource tree ----------

  /** Live resources of the app with their children (ReplicaSets, Pods) and Ingress → Service → Pod edges. */
  async resourceTree(name: string): Promise<TreeNode[]> {
    const spec = this.#o.store.getApp(name);
    const status = this.#o.store.getStatus(name);
    const cluster = this.#cluster(spec.destination.name);
    const idOf = (o: { kind: string; metadata: { name: string; namespace?: string } }) =>
      `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const nodes = new Map<string, TreeNode>();
    const lives: KubeObject[] = [];
    for (const r of status.resources) {
      const live = await cluster.get({
        apiVersion: r.group ? `${r.group}/${r.version}` : r.version,
        kind: r.kind,
        name: r.name,
        ...(r.namespace ? { namespace: r.namespace } : {}),
      });
      if (!live) continue;
      lives.push(live);
      const h = assessHealth(live);
      nodes.set(idOf(live), {
        id: idOf(live),
        kind: live.kind,
        name: live.metadata.name,
        ...(live.metadata.namespace ? { namespace: live.metadata.namespace } : {}),
        ...(live.metadata.uid ? { uid: live.metadata.uid } : {}),
        health: h.status,
        ...(h.message ? { message: h.message } : {}),
        parents: [],
      });
    }
    const ns = spec.destination.namespace;
    const [rss, pods] = await Promise.all([
      cluster.list({ apiVersion: 'apps/v1', kind: 'ReplicaSet' }, { namespace: ns }).catch(() => []),
      cluster.list({ apiVersion: 'v1', kind: 'Pod' }, { namespace: ns }).catch(() => []),
    ]);
    const byUid = new Map<string, string>();
    for (const n of nodes.values()) if (n.uid) byUid.set(n.uid, n.id);
    const addChildren = (children: KubeObject[]) => {
      for (const c of children) {
        const owner = c.metadata.ownerReferences?.find((o) => byUid.has(o.uid));
        if (!owner) continue;
        const h = assessHealth(c);
        const image = ((c.spec as { containers?: { image?: string }[] } | undefined)?.containers ?? [])
          .map((x) => x.image)
          .join(',');
        const node: TreeNode = {
          id: idOf(c),
          kind: c.kind,
          name: c.metadata.name,
          namespace: c.metadata.namespace ?? ns,
          ...(c.metadata.uid ? { uid: c.metadata.uid } : {}),
          health: h.status,
          ...(h.message ? { message: h.message } : {}),
          parents: [byUid.get(owner.uid)!],
          ...(image ? { info: { images: image } } : {}),
        };
        nodes.set(node.id, node);
        if (c.metadata.uid) byUid.set(c.metadata.uid, node.id);
      }
    };
    addChildren(rss);
    addChildren(pods);
    // Network edges: Ingress → Service (by backend name), Service → Pod (by selector).
    for (const live of lives) {
      if (live.kind === 'Ingress') {
        const text = JSON.stringify(live.spec ?? {});
        for (const m of text.matchAll(/"service":\{"name":"([^"]+)"/g)) {
          const svc = nodes.get(`Service/${live.metadata.namespace ?? ''}/${m[1]}`);
          if (svc && !svc.parents.includes(idOf(live))) svc.parents.push(idOf(live));
        }
      }
      if (live.kind === 'Service') {
        const sel = (live.spec as { selector?: Record<string, string> } | undefined)?.selector;
        if (!sel || Object.keys(sel).length === 0) continue;
        for (const p of pods) {
          if (p.metadata.namespace !== live.metadata.namespace) continue;
          if (!Object.entries(sel).every(([k, v]) => p.metadata.labels?.[k] === v)) continue;
          const node = nodes.get(idOf(p));
          if (node && !node.parents.includes(idOf(live))) node.parents.push(idOf(live));
        }
      }
    }
    return [...nodes.values()];
  }

  // ---------- promotion ----------

  #appFor(service: string, env: string): AppSpec {
    const apps = this.#o.store
      .listApps()
      .map((a) => a.spec)
      .filter((a) => a.environment === env);
    const hit =
      apps.find((a) => a.labels['slipway.dev/service'] === service) ??
      apps.find((a) => a.name === `${service}-${env}`) ??
      apps.find((a) => a.name === service) ??
      apps.find((a) => a.sources.some((s) => s.path?.split('/').pop() === service));
    if (!hit) throw new NotFoundError(`No application for service "${service}" in environment "${env}"`);
    return hit;
  }

  /** Where an app's image tag lives: its first values file (or `<path>/values.yaml`) in its repository. */
  valuesFileOf(spec: AppSpec): { repo: string; file: string; branch?: string } {
    const main = spec.sources.find((s) => s.path !== undefined) ?? spec.sources[0]!;
    const branchOf = (s: AppSource) =>
      s.targetRevision !== 'HEAD' && !/^[0-9a-f]{40}$/.test(s.targetRevision)
        ? { branch: s.targetRevision }
        : {};
    for (const vf of main.helm?.valueFiles ?? []) {
      const m = /^\$([^/]+)\/(.*)$/.exec(vf);
      if (m) {
        const ref = spec.sources.find((s) => s.ref === m[1]);
        if (ref) return { repo: ref.repoURL, file: posix.normalize(m[2]!), ...branchOf(ref) };
      } else {
        return {
          repo: main.repoURL,
          file: posix.normalize(posix.join(main.path ?? '', vf)),
          ...branchOf(main),
        };
      }
    }
    return { repo: main.repoURL, file: posix.join(main.path ?? '', 'values.yaml'), ...branchOf(main) };
  }

  /** The image tag an app's values file holds at the revision it tracks. */
  async imageTagOf(spec: AppSpec): Promise<string> {
    const vf = this.valuesFileOf(spec);
    const commit = await this.#o.git.resolve(vf.repo, vf.branch ?? 'HEAD');
    const dir = posix.dirname(vf.file) === '.' ? '' : posix.dirname(vf.file);
    const tree = await this.#o.git.readTree(vf.repo, commit, dir);
    const data = tree[posix.basename(vf.file)];
    if (!data) throw new NotFoundError(`Values file ${vf.file} not found in ${vf.repo}`);
    const tag = getYamlValue(new TextDecoder().decode(data), ['image', 'tag'], vf.file);
    if (tag === undefined || tag === null) throw new NotFoundError(`${vf.file} has no image.tag`);
    return String(tag);
  }

  /**
   * Promotes a service's image tag from one environment to another as a commit to the target's values
   * file. Needs `env.promote` on the target; when the target requires approval, the promotion waits for a
   * second user's {@link approve}.
   */
  async promote(
    input: { service: string; from: string; to: string; tag?: string },
    actor: Subject,
  ): Promise<Promotion> {
    if (!input.service || !input.from || !input.to)
      throw new InputError('promote needs service, from and to', { location: { field: 'service' } });
    if (input.from === input.to)
      throw new InputError('from and to must be different environments', { location: { field: 'to' } });
    const target = this.environment(input.to);
    this.#checkRight(actor, 'env.promote', target, { service: input.service, from: input.from });
    const fromApp = this.#appFor(input.service, input.from);
    const toApp = this.#appFor(input.service, input.to);
    const tag = input.tag ?? (await this.imageTagOf(fromApp));
    const vf = this.valuesFileOf(toApp);
    const promotion = this.#o.store.addPromotion({
      service: input.service,
      from: input.from,
      to: input.to,
      tag,
      state: 'pending',
      requestedBy: actor.name,
      approvedBy: null,
      commit: null,
      repo: vf.repo,
      file: vf.file,
      message: target.requireApproval
        ? `waiting for approval by a second user with approve rights on ${target.name}`
        : null,
    });
    this.#o.auth.audit({
      actor,
      action: 'env.promote',
      resource: `environment/${target.name}`,
      details: { id: promotion.id, service: input.service, from: input.from, tag },
    });
    this.#o.events.emit('app.promotion', {
      id: promotion.id,
      service: input.service,
      from: input.from,
      to: input.to,
      tag,
      state: 'pending',
      by: actor.name,
    });
    if (target.requireApproval) return promotion;
    return this.#land(promotion, actor, toApp);
  }

  /** Approves a pending promotion (a different user than the requester, with `env.approve`); the commit lands. */
  async approve(id: number, actor: Subject, decision: 'approve' | 'reject' = 'approve'): Promise<Promotion> {
    const p = this.#o.store.getPromotion(id);
    const target = this.environment(p.to);
    this.#checkRight(actor, 'env.approve', target, { promotion: id });
    if (p.state !== 'pending') throw new ConflictError(`Promotion ${id} is ${p.state}, not pending`);
    if (actor.name === p.requestedBy && actor.kind === 'user') {
      throw new NotAllowedError(
        `Promotion ${id} was requested by ${actor.name}; a second user must approve it`,
      );
    }
    this.#o.auth.audit({
      actor,
      action: decision === 'approve' ? 'env.approve' : 'env.reject',
      resource: `environment/${target.name}`,
      details: { promotion: id },
    });
    if (decision === 'reject') {
      const r = this.#o.store.updatePromotion(id, {
        state: 'rejected',
        approvedBy: actor.name,
        message: `rejected by ${actor.name}`,
      });
      this.#o.events.emit('app.promotion', {
        id,
        service: p.service,
        from: p.from,
        to: p.to,
        tag: p.tag,
        state: 'rejected',
        by: actor.name,
      });
      return r;
    }
    this.#o.store.updatePromotion(id, { approvedBy: actor.name });
    return this.#land(this.#o.store.getPromotion(id), actor, this.#appFor(p.service, p.to));
  }

  async #land(p: Promotion, actor: Subject, toApp: AppSpec): Promise<Promotion> {
    const vf = this.valuesFileOf(toApp);
    try {
      const r = await this.#o.values.setImageTag({
        repo: p.repo,
        file: p.file,
        tag: p.tag,
        author: p.requestedBy,
        message: `promote ${p.service} ${p.tag} from ${p.from} to ${p.to}${p.approvedBy ? ` (approved by ${p.approvedBy})` : ''}`,
        ...(vf.branch ? { branch: vf.branch } : {}),
      });
      const done = this.#o.store.updatePromotion(p.id, {
        state: 'applied',
        commit: r.commit,
        message: r.changed ? `committed ${r.commit.slice(0, 12)}` : `already at ${p.tag}`,
      });
      this.#o.events.emit('app.promotion', {
        id: p.id,
        service: p.service,
        from: p.from,
        to: p.to,
        tag: p.tag,
        state: 'applied',
        by: actor.name,
      });
      this.enqueueForRepo(p.repo);
      return done;
    } catch (err) {
      this.#o.store.updatePromotion(p.id, { state: 'failed', message: describeError(err) });
      throw err;
    }
  }

  listPromotions(): Promotion[] {
    return this.#o.store.listPromotions();
  }
}

class SyncFailure extends Error {}

/** Paths source `i` is read at: its path and the value files taken from it (its own and other sources' `$ref/...`). */
function pathsRead(sources: AppSource[], i: number): string[] {
  const source = sources[i]!;
  const out = new Set<string>();
  const base = source.path?.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  if (base !== undefined) {
    out.add(base === '.' ? '' : base);
    for (const vf of source.helm?.valueFiles ?? []) {
      if (vf.startsWith('$')) continue;
      const full = posix.normalize(posix.join(base, vf));
      if (!full.startsWith('..')) out.add(full === '.' ? '' : full);
    }
  }
  if (source.ref) {
    for (const s of sources) {
      for (const vf of s.helm?.valueFiles ?? []) {
        const m = /^\$([^/]+)\/(.*)$/.exec(vf);
        if (m?.[1] === source.ref) out.add(posix.normalize(m[2]!));
      }
    }
  }
  // A path inside another one is restored with it.
  const all = [...out];
  return all.filter((p) => !all.some((q) => q !== p && (q === '' || p.startsWith(`${q}/`))));
}
