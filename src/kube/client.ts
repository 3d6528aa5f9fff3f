// The KubeClient seam: what Slipway needs from any Kubernetes API server. Implementations pass
// runKubeClientConformance (conformance.ts).
import type { KubeObject, ObjectRef } from './types.ts';

/** Slipway's server-side-apply field manager. */
export const FIELD_MANAGER = 'slipway';

export interface ApplyOptions {
  /** Server-side dry run (`dryRun=All`): validated and defaulted, not persisted. */
  dryRun?: boolean;
  /** Take over fields other managers own instead of failing with a 409 conflict. */
  force?: boolean;
  /** Default `slipway`. */
  fieldManager?: string;
}

export interface ListOptions {
  /** Omit for all namespaces (namespaced kinds) or for cluster-scoped kinds. */
  namespace?: string;
  /** `app=web,tier!=db` */
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ListResult {
  /** Each item has apiVersion and kind filled in. */
  items: KubeObject[];
  resourceVersion: string;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  dryRun?: boolean;
  gracePeriodSeconds?: number;
}

/** One API resource as discovery describes it. */
export interface ApiResource {
  /** `` for the core group. */
  group: string;
  version: string;
  apiVersion: string;
  kind: string;
  /** The plural resource name used in URLs (`deployments`). */
  resource: string;
  namespaced: boolean;
  verbs: string[];
}

export interface ServerVersion {
  major: string;
  minor: string;
  gitVersion: string;
  platform?: string;
}

/**
 * What a watch delivers. `SYNC` carries the complete current list: it comes first (unless the watch started from
 * a given resourceVersion) and again after the server expired our resourceVersion (410 Gone) and we re-listed;
 * consumers should replace their state with it.
 */
export type WatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject }
  | { type: 'SYNC'; objects: KubeObject[]; resourceVersion: string };

export interface WatchOptions extends ListOptions {
  /** Start after this resourceVersion instead of listing first. */
  resourceVersion?: string;
  /** Called for every failed attempt; the watch keeps retrying (with backoff) until stopped. */
  onError?: (err: Error) => void;
  /** Server-side timeout of one watch request before it is resumed (default 300 s). */
  timeoutSeconds?: number;
}

export interface WatchHandle {
  /** Stops the watch; no events are delivered after it resolves. */
  stop(): Promise<void>;
  /** The last resourceVersion seen. */
  readonly resourceVersion: string;
}

/**
 * A client for one Kubernetes cluster. Every call has a timeout; an unreachable or failing cluster raises
 * `UnavailableError` naming the cluster and the reason. API errors map to core errors: 404 NotFoundError,
 * 409 ConflictError (SSA conflicts: `details.causes`), 400 InputError, 422 ValidationError, 403 NotAllowedError.
 */
export interface KubeClient {
  /** The cluster's name in Slipway (for messages). */
  readonly name: string;
  /** Server-side apply with field manager `slipway`; returns the object as the server stored (or would store) it. */
  apply(obj: KubeObject, options?: ApplyOptions): Promise<KubeObject>;
  /** The object, or `null` when it does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | null>;
  list(apiVersion: string, kind: string, options?: ListOptions): Promise<ListResult>;
  /** True when deleted (or deletion started), false when it did not exist. */
  delete(ref: ObjectRef, options?: DeleteOptions): Promise<boolean>;
  /** Watches a kind; resumes from the last resourceVersion after a disconnect and re-lists after 410 Gone. */
  watch(
    apiVersion: string,
    kind: string,
    options: WatchOptions,
    onEvent: (event: WatchEvent) => void,
  ): WatchHandle;
  /** Discovery (cached): the resource serving `kind` in `apiVersion`. NotFoundError when the server has none. */
  resourceFor(apiVersion: string, kind: string): Promise<ApiResource>;
  serverVersion(): Promise<ServerVersion>;
  /** The namespace objects without one go to (the kubeconfig context's, else `default`). */
  readonly defaultNamespace: string;
  /** Releases connections. */
  close(): void;
}
