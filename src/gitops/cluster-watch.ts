// Watches of the destination clusters, so that the reconciler hears of changes instead of polling: each
// (cluster, kind) that some application manages is watched once, in all namespaces. A change to a managed
// object re-evaluates the applications that manage it (debounced); a Pod change re-evaluates the apps with
// workloads in its namespace that are not yet settled (pods decide Degraded before the Deployment does).
// A cluster whose client cannot watch, or whose watch is failing, is reported as not live so that callers
// fall back to polling it; one unreachable cluster never delays the others (every watch runs on its own).
import type { ClusterProvider, ClusterWatchEvent, KubeObject, ObjectRef } from './seams.ts';
import { keyOfRef, refOf } from './sync-plan.ts';

export interface ClusterWatchOptions {
  clusters: ClusterProvider;
  /** Changes to one app within this window are folded into one re-evaluation (default 50 ms). */
  debounceMs?: number;
  /**
   * Called (after the debounce) with an app to look at again. `force` is false when the app need only be
   * looked at if it is not settled yet (a Pod changed, or a watch just started).
   */
  onChange(app: string, force: boolean): void;
  onError?(cluster: string, kind: string, err: Error): void;
}

interface KindState {
  apiVersion: string;
  kind: string;
  stop?: () => void;
  /** True once the watch delivered its list or an event, and no error since. */
  live: boolean;
  /** The watch delivered its first list. */
  synced: boolean;
  /** Apps tracking objects of this kind. */
  apps: Set<string>;
}

interface ClusterState {
  kinds: Map<string, KindState>;
  /** Object key → apps managing it. */
  objects: Map<string, Set<string>>;
  /** Namespace → apps with workloads in it (for Pod events). */
  podNamespaces: Map<string, Set<string>>;
  /** Object key → resourceVersion of our own last write (its echo need not re-evaluate anything). */
  ownWrites: Map<string, string>;
  /** The cluster's client has no watch: it must be polled. */
  unsupported: boolean;
}

interface Tracked {
  cluster: string;
  keys: string[];
  kinds: string[];
  podNamespaces: string[];
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob']);
const kindKey = (apiVersion: string, kind: string) => `${apiVersion}/${kind}`;

export class ClusterWatch {
  readonly #o: ClusterWatchOptions;
  readonly #clusters = new Map<string, ClusterState>();
  readonly #apps = new Map<string, Tracked>();
  readonly #pending = new Map<string, boolean>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: ClusterWatchOptions) {
    this.#o = options;
  }

  #cluster(name: string): ClusterState {
    let c = this.#clusters.get(name);
    if (!c) {
      c = {
        kinds: new Map(),
        objects: new Map(),
        podNamespaces: new Map(),
        ownWrites: new Map(),
        unsupported: false,
      };
      this.#clusters.set(name, c);
    }
    return c;
  }

  /** Sets the objects `app` manages in `cluster` (replacing what was tracked before) and watches their kinds. */
  track(app: string, cluster: string, refs: ObjectRef[]): void {
    if (this.#stopped) return;
    const keys = [...new Set(refs.map(keyOfRef))];
    const kinds = [...new Set(refs.map((r) => kindKey(r.apiVersion, r.kind)))];
    const podNamespaces = [
      ...new Set(refs.filter((r) => WORKLOADS.has(r.kind) && r.namespace).map((r) => r.namespace!)),
    ];
    if (podNamespaces.length > 0) kinds.push(kindKey('v1', 'Pod'));
    const prev = this.#apps.get(app);
    if (
      prev &&
      prev.cluster === cluster &&
      prev.keys.length === keys.length &&
      prev.keys.every((k, i) => k === keys[i]) &&
      prev.kinds.length === kinds.length
    )
      return;
    this.untrack(app);
    const c = this.#cluster(cluster);
    for (const k of keys) {
      let s = c.objects.get(k);
      if (!s) c.objects.set(k, (s = new Set()));
      s.add(app);
    }
    for (const ns of podNamespaces) {
      let s = c.podNamespaces.get(ns);
      if (!s) c.podNamespaces.set(ns, (s = new Set()));
      s.add(app);
    }
    this.#apps.set(app, { cluster, keys, kinds, podNamespaces });
    const byKind = new Map<string, { apiVersion: string; kind: string }>();
    for (const r of refs) byKind.set(kindKey(r.apiVersion, r.kind), r);
    if (podNamespaces.length > 0) byKind.set(kindKey('v1', 'Pod'), { apiVersion: 'v1', kind: 'Pod' });
    for (const [k, kind] of byKind) this.#ensure(cluster, c, k, kind.apiVersion, kind.kind).apps.add(app);
  }

  /** Forgets `app` (deleted). */
  untrack(app: string): void {
    const t = this.#apps.get(app);
    if (!t) return;
    this.#apps.delete(app);
    const c = this.#clusters.get(t.cluster);
    if (!c) return;
    for (const k of t.keys) {
      const s = c.objects.get(k);
      s?.delete(app);
      if (s?.size === 0) {
        c.objects.delete(k);
        c.ownWrites.delete(k);
      }
    }
    for (const ns of t.podNamespaces) {
      const s = c.podNamespaces.get(ns);
      s?.delete(app);
      if (s?.size === 0) c.podNamespaces.delete(ns);
    }
    for (const k of t.kinds) c.kinds.get(k)?.apps.delete(app);
  }

  /** Records an object as we wrote it: the watch event echoing exactly this version is not a change. */
  ownWrite(cluster: string, obj: KubeObject): void {
    const rv = obj.metadata.resourceVersion;
    const c = this.#clusters.get(cluster);
    const key = keyOfRef(refOf(obj));
    if (!c || !rv || !c.objects.has(key)) return;
    c.ownWrites.set(key, rv);
  }

  /** True when every kind tracked in `cluster` is being watched successfully (else poll it). */
  isLive(cluster: string): boolean {
    const c = this.#clusters.get(cluster);
    if (!c || c.unsupported || c.kinds.size === 0) return false;
    for (const k of c.kinds.values()) if (!k.live) return false;
    return true;
  }

  /** Stops every watch. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
    for (const c of this.#clusters.values()) for (const k of c.kinds.values()) k.stop?.();
    this.#clusters.clear();
    this.#apps.clear();
  }

  /** Numbers for benchmarks and the UI: watched kinds and tracked objects. */
  stats(): { clusters: number; watches: number; objects: number; apps: number } {
    let watches = 0;
    let objects = 0;
    for (const c of this.#clusters.values()) {
      watches += c.kinds.size;
      objects += c.objects.size;
    }
    return { clusters: this.#clusters.size, watches, objects, apps: this.#apps.size };
  }

  #ensure(name: string, c: ClusterState, key: string, apiVersion: string, kind: string): KindState {
    const existing = c.kinds.get(key);
    if (existing) return existing;
    const state: KindState = { apiVersion, kind, live: false, synced: false, apps: new Set() };
    c.kinds.set(key, state);
    if (c.unsupported) return state;
    let client: ReturnType<ClusterProvider['get']>;
    try {
      client = this.#o.clusters.get(name);
    } catch {
      return state;
    }
    if (!client.watch) {
      c.unsupported = true;
      return state;
    }
    try {
      const handle = client.watch(
        { apiVersion, kind },
        {
          onEvent: (e) => this.#event(name, c, state, e),
          onError: (err) => {
            state.live = false;
            this.#o.onError?.(name, key, err);
          },
        },
      );
      state.stop = () => handle.stop();
    } catch (err) {
      this.#o.onError?.(name, key, err instanceof Error ? err : new Error(String(err)));
    }
    return state;
  }

  #event(name: string, c: ClusterState, state: KindState, e: ClusterWatchEvent): void {
    if (this.#stopped || this.#clusters.get(name) !== c) return;
    state.live = true;
    if (e.type === 'SYNC') {
      // The first list may show changes made between an app's last look and the watch's start; a later
      // one (after the watch lost its place) may hide any number of missed events.
      const force = state.synced;
      state.synced = true;
      for (const app of state.apps) this.#schedule(app, force);
      return;
    }
    const obj = e.object;
    const key = keyOfRef(refOf(obj));
    const apps = c.objects.get(key);
    if (apps) {
      const own = c.ownWrites.get(key);
      if (own !== undefined && own === obj.metadata.resourceVersion && e.type !== 'DELETED') {
        c.ownWrites.delete(key);
        for (const app of apps) this.#schedule(app, false);
      } else for (const app of apps) this.#schedule(app, true);
    }
    if (obj.kind === 'Pod' && obj.metadata.namespace) {
      for (const app of c.podNamespaces.get(obj.metadata.namespace) ?? []) this.#schedule(app, false);
    }
  }

  #schedule(app: string, force: boolean): void {
    this.#pending.set(app, force || (this.#pending.get(app) ?? false));
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const batch = [...this.#pending];
      this.#pending.clear();
      for (const [a, f] of batch) this.#o.onChange(a, f);
    }, this.#o.debounceMs ?? 50);
    this.#timer.unref?.();
  }
}
