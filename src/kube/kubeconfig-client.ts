// KubeClient for any cluster in a kubeconfig: server-side apply, get/list/delete, discovery and resilient watches.
import { NotFoundError, UnavailableError, ValidationError } from '../core/index.ts';
import {
  type ApiResource,
  type ApplyOptions,
  type DeleteOptions,
  FIELD_MANAGER,
  type KubeClient,
  type ListOptions,
  type ListResult,
  type ServerVersion,
  type WatchEvent,
  type WatchHandle,
  type WatchOptions,
} from './client.ts';
import { isExpired, KubeTransport, type TransportOptions } from './transport.ts';
import { groupOf, isRecord, type KubeObject, type ObjectRef } from './types.ts';

export interface KubeconfigClientOptions extends TransportOptions {
  /** How long discovery answers are trusted before a refresh (default 5 min). */
  discoveryTtlMs?: number;
  /** Clock for the discovery cache (tests). */
  now?: () => number;
}

interface RawResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs?: string[];
}

const PAGE = 500;

/** Creates a client for the kubeconfig's current (or given) context. Throws InputError for a bad kubeconfig. */
export function createKubeconfigClient(options: KubeconfigClientOptions): KubeClient {
  return new KubeconfigClient(options);
}

class KubeconfigClient implements KubeClient {
  readonly name: string;
  readonly defaultNamespace: string;
  private readonly transport: KubeTransport;
  private readonly discovery = new Map<string, { at: number; resources: RawResource[] }>();
  private readonly ttl: number;
  private readonly now: () => number;
  private readonly watches = new Set<WatchHandle>();

  constructor(options: KubeconfigClientOptions) {
    this.transport = new KubeTransport(options);
    this.name = options.name;
    this.defaultNamespace = this.transport.defaultNamespace;
    this.ttl = options.discoveryTtlMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  private async groupVersion(apiVersion: string, refresh: boolean): Promise<RawResource[]> {
    const cached = this.discovery.get(apiVersion);
    if (cached && !refresh && this.now() - cached.at < this.ttl) return cached.resources;
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const res = await this.transport.send('GET', path);
    if (res.status === 404) {
      this.discovery.set(apiVersion, { at: this.now(), resources: [] });
      return [];
    }
    this.transport.check('GET', path, res);
    const list =
      isRecord(res.body) && Array.isArray(res.body.resources) ? (res.body.resources as RawResource[]) : [];
    const resources = list.filter((r) => typeof r.name === 'string' && !r.name.includes('/'));
    this.discovery.set(apiVersion, { at: this.now(), resources });
    return resources;
  }

  async resourceFor(apiVersion: string, kind: string): Promise<ApiResource> {
    if (!apiVersion || !kind)
      throw new ValidationError(`An object needs apiVersion and kind (got "${apiVersion}", "${kind}")`);
    let found = (await this.groupVersion(apiVersion, false)).find((r) => r.kind === kind);
    // A CRD installed since the last look: ask again once.
    if (!found) found = (await this.groupVersion(apiVersion, true)).find((r) => r.kind === kind);
    if (!found) {
      throw new NotFoundError(
        `Cluster "${this.name}" has no resource for kind "${kind}" in "${apiVersion}"`,
        {
          details: { cluster: this.name, apiVersion, kind },
        },
      );
    }
    return {
      group: groupOf(apiVersion),
      version: apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion,
      apiVersion,
      kind,
      resource: found.name,
      namespaced: found.namespaced === true,
      verbs: found.verbs ?? [],
    };
  }

  private collectionPath(res: ApiResource, namespace: string | undefined): string {
    const root = res.group ? `/apis/${res.apiVersion}` : `/api/${res.apiVersion}`;
    return res.namespaced && namespace
      ? `${root}/namespaces/${encodeURIComponent(namespace)}/${res.resource}`
      : `${root}/${res.resource}`;
  }

  private async objectPath(ref: ObjectRef): Promise<{ path: string; res: ApiResource; namespace?: string }> {
    if (!ref.name)
      throw new ValidationError(`${ref.kind} needs metadata.name`, { location: { field: 'metadata.name' } });
    const res = await this.resourceFor(ref.apiVersion, ref.kind);
    const namespace = res.namespaced ? ref.namespace || this.defaultNamespace : undefined;
    return { path: `${this.collectionPath(res, namespace)}/${encodeURIComponent(ref.name)}`, res, namespace };
  }

  async apply(obj: KubeObject, options: ApplyOptions = {}): Promise<KubeObject> {
    if (!isRecord(obj) || !isRecord(obj.metadata)) {
      throw new ValidationError('Cannot apply an object without metadata', {
        location: { field: 'metadata' },
      });
    }
    const { path, namespace } = await this.objectPath({
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: obj.metadata.name,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    });
    const body: KubeObject = { ...obj, metadata: { ...obj.metadata } };
    if (namespace) body.metadata.namespace = namespace;
    else delete body.metadata.namespace;
    const { body: live } = await this.transport.request('PATCH', path, {
      query: {
        fieldManager: options.fieldManager ?? FIELD_MANAGER,
        force: options.force ? true : undefined,
        dryRun: options.dryRun ? 'All' : undefined,
      },
      body,
      contentType: 'application/apply-patch+yaml',
    });
    return live as KubeObject;
  }

  async get(ref: ObjectRef): Promise<KubeObject | null> {
    const { path } = await this.objectPath(ref);
    const res = await this.transport.send('GET', path);
    if (res.status === 404) return null;
    this.transport.check('GET', path, res);
    return res.body as KubeObject;
  }

  async list(apiVersion: string, kind: string, options: ListOptions = {}): Promise<ListResult> {
    const res = await this.resourceFor(apiVersion, kind);
    const path = this.collectionPath(res, options.namespace);
    const items: KubeObject[] = [];
    let resourceVersion = '';
    let cont: string | undefined;
    do {
      const { body } = await this.transport.request('GET', path, {
        query: {
          labelSelector: options.labelSelector || undefined,
          fieldSelector: options.fieldSelector || undefined,
          limit: PAGE,
          continue: cont,
        },
      });
      const list = isRecord(body) ? body : {};
      const meta = isRecord(list.metadata) ? list.metadata : {};
      if (!resourceVersion) resourceVersion = String(meta.resourceVersion ?? '');
      for (const item of Array.isArray(list.items) ? list.items : []) {
        if (isRecord(item)) items.push({ ...(item as KubeObject), apiVersion, kind });
      }
      cont = typeof meta.continue === 'string' && meta.continue ? meta.continue : undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  async delete(ref: ObjectRef, options: DeleteOptions = {}): Promise<boolean> {
    const { path } = await this.objectPath(ref);
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
    if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
    const res = await this.transport.send('DELETE', path, {
      query: { dryRun: options.dryRun ? 'All' : undefined },
      body,
    });
    if (res.status === 404) return false;
    this.transport.check('DELETE', path, res);
    return true;
  }

  async serverVersion(): Promise<ServerVersion> {
    const { body } = await this.transport.request('GET', '/version');
    const v = isRecord(body) ? body : {};
    if (typeof v.gitVersion !== 'string') {
      throw new UnavailableError(`Cluster "${this.name}": /version did not answer a version`, {
        details: { cluster: this.name },
      });
    }
    const out: ServerVersion = {
      major: String(v.major ?? ''),
      minor: String(v.minor ?? ''),
      gitVersion: v.gitVersion,
    };
    if (typeof v.platform === 'string') out.platform = v.platform;
    return out;
  }

  watch(
    apiVersion: string,
    kind: string,
    options: WatchOptions,
    onEvent: (event: WatchEvent) => void,
  ): WatchHandle {
    const controller = new AbortController();
    let resourceVersion = options.resourceVersion ?? '';
    const report = (err: unknown) => {
      if (!controller.signal.aborted) options.onError?.(err instanceof Error ? err : new Error(String(err)));
    };
    const emit = (event: WatchEvent) => {
      if (!controller.signal.aborted) onEvent(event);
    };
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        controller.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      });

    const relist = async () => {
      const listed = await this.list(apiVersion, kind, options);
      resourceVersion = listed.resourceVersion;
      emit({ type: 'SYNC', objects: listed.items, resourceVersion });
    };

    const run = async () => {
      let failures = 0;
      let expiredInRow = 0;
      let needList = !resourceVersion;
      const timeoutSeconds = options.timeoutSeconds ?? 300;
      while (!controller.signal.aborted) {
        try {
          if (needList) {
            // Repeated 410s right after a list must not turn into a tight loop.
            if (expiredInRow > 1) await sleep(Math.min(5000, 100 * 2 ** Math.min(expiredInRow, 6)));
            await relist();
            needList = false;
          }
          const res = await this.resourceFor(apiVersion, kind);
          const path = this.collectionPath(res, options.namespace);
          let expired = false;
          let lines = 0;
          await this.transport.stream(
            path,
            {
              watch: 1,
              resourceVersion,
              allowWatchBookmarks: true,
              timeoutSeconds,
              labelSelector: options.labelSelector || undefined,
              fieldSelector: options.fieldSelector || undefined,
            },
            (line) => {
              lines++;
              const event = JSON.parse(line) as { type?: string; object?: Record<string, unknown> };
              const obj = event.object;
              if (!isRecord(obj)) return;
              if (event.type === 'ERROR') {
                if (obj.code === 410) expired = true;
                else
                  report(
                    new UnavailableError(`Cluster "${this.name}": watch error: ${String(obj.message ?? '')}`),
                  );
                return;
              }
              const meta = isRecord(obj.metadata) ? obj.metadata : {};
              if (typeof meta.resourceVersion === 'string' && meta.resourceVersion) {
                resourceVersion = meta.resourceVersion;
              }
              if (event.type === 'BOOKMARK') return;
              if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') {
                failures = 0;
                emit({ type: event.type, object: { ...(obj as KubeObject), apiVersion, kind } });
              }
            },
            controller.signal,
            (timeoutSeconds + 30) * 1000,
          );
          if (expired) {
            needList = true;
            expiredInRow++;
          } else expiredInRow = 0;
          // A server that closes watches at once must not make us spin.
          if (!expired && lines === 0) await sleep(1000);
        } catch (err) {
          if (controller.signal.aborted) return;
          if (isExpired(err)) {
            needList = true;
            expiredInRow++;
            continue;
          }
          report(err);
          failures++;
          await sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
        }
      }
    };
    void run().catch((err: unknown) => report(err));
    const handle: WatchHandle = {
      get resourceVersion() {
        return resourceVersion;
      },
      // Events and errors are muted once aborted, so stop() need not wait for a request in flight (a list
      // against an unreachable cluster could take the whole timeout).
      stop: async () => {
        controller.abort();
        this.watches.delete(handle);
      },
    };
    this.watches.add(handle);
    return handle;
  }

  close(): void {
    for (const w of [...this.watches]) void w.stop();
    this.transport.close();
  }
}
