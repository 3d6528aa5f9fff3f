// The seams of the gitops module: what it needs from git, the chart renderer and the clusters. Each is a
// small interface so that the real modules (git/, chart/, kube/) plug in and tests use simple real pieces.

/** A Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** Identifies one object in a cluster. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  /** Absent for cluster-scoped kinds. */
  namespace?: string;
}

/** One cluster, as the reconciler uses it. Errors reaching the cluster are `UnavailableError`. */
export interface ClusterClient {
  /** Server-side apply with field manager `slipway`; `force` takes over conflicting fields. */
  apply(obj: KubeObject, options?: { dryRun?: boolean; force?: boolean }): Promise<KubeObject>;
  /** Replaces (or creates) the object instead of applying (sync option Replace=true). */
  replace?(obj: KubeObject): Promise<KubeObject>;
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  /** Objects of one kind, optionally in one namespace, optionally by label selector (`k=v,k2=v2`). */
  list(
    kind: { apiVersion: string; kind: string },
    options?: { namespace?: string; labelSelector?: string },
  ): Promise<KubeObject[]>;
  delete(
    ref: ObjectRef,
    options?: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' },
  ): Promise<void>;
  /** True when the kind is namespaced (defaults to a built-in table when absent). */
  isNamespaced?(kind: { apiVersion: string; kind: string }): boolean;
  /**
   * Watches one kind in all namespaces until `stop()`: first a `SYNC` with the current list, then every
   * change; after the client lost its place (410 Gone) another `SYNC`. Failed attempts go to `onError` and
   * are retried by the client. Optional: a cluster without it is polled.
   */
  watch?(
    kind: { apiVersion: string; kind: string },
    handlers: { onEvent(event: ClusterWatchEvent): void; onError?(err: Error): void },
  ): { stop(): void };
}

/** What a cluster watch delivers. */
export type ClusterWatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject }
  | { type: 'SYNC'; objects: KubeObject[] };

/** Looks up clusters by name; `in-cluster` is the local cluster. Throws NotFoundError for unknown names. */
export interface ClusterProvider {
  get(name: string): ClusterClient;
  names(): string[];
}

/** Files of one directory in a repository at one commit, keyed by path relative to that directory. */
export type FileTree = Record<string, Uint8Array>;

export interface CommitInfo {
  sha: string;
  author: string;
  message: string;
  time: string;
}

/** Reads repositories: Slipway's own bare repos on disk, or external ones through a mirror. */
export interface GitSource {
  /** Resolves a branch, tag, `HEAD` or sha to a full commit sha. */
  resolve(repoURL: string, revision: string): Promise<string>;
  /** The files under `path` ('' for the root) at `commit`. */
  readTree(repoURL: string, commit: string, path: string): Promise<FileTree>;
  commitInfo(repoURL: string, commit: string): Promise<CommitInfo>;
  /** Forgets cached branch resolutions of `repoURL` (called when a push to it is heard of). */
  invalidate?(repoURL: string): void;
  /**
   * Creates a commit on `branch` that makes `path`'s content equal to what it was at `toCommit` (a
   * revert for rollback); returns the new sha, or the current head when nothing differs.
   */
  restorePath?(input: {
    repoURL: string;
    branch: string;
    path: string;
    toCommit: string;
    author: string;
    message: string;
  }): Promise<string>;
}

/** A manifest rendered from a source, with the template file it came from (for errors and the UI). */
export interface RenderedManifest {
  object: KubeObject;
  /** e.g. `templates/deployment.yaml`. */
  source: string;
}

export interface RenderInput {
  /** The chart or manifest directory's files. */
  files: FileTree;
  /** What kind of source: decided by the files (Chart.yaml → helm, kustomization.yaml → kustomize). */
  kind: 'helm' | 'kustomize' | 'directory';
  releaseName: string;
  namespace: string;
  /** Values files, in order, with their display names. */
  valueFiles: { name: string; text: string }[];
  /** Inline values (YAML text), applied after the files. */
  values?: string;
  /** `--set` style parameters. */
  set: { name: string; value: string; forceString?: boolean }[];
  recurse?: boolean;
}

/**
 * Renders a source to manifests. A template error is an `InputError` whose `location` names the file and
 * line; nothing is applied when rendering fails.
 */
export interface Renderer {
  render(input: RenderInput): Promise<RenderedManifest[]>;
}

export type HealthStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';
export type SyncStatus = 'Synced' | 'OutOfSync' | 'Unknown';

export interface HealthResult {
  status: HealthStatus;
  message?: string;
}
