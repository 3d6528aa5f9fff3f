// The API machinery behind the REST layer and the controllers: create, update, patch, apply, delete with
// defaulting, validation, resourceVersions, generation, managedFields, finalizers and deletion.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/index.ts';
import { applyDefaults, validate } from './defaults.ts';
import { serverSideApply, trackUpdate } from './fields.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './patch.ts';
import { apiVersionOf, type ResourceInfo, type ResourceRegistry } from './resources.ts';
import type { ObjectStore } from './store.ts';
import { alreadyExists, conflict, invalid, KubeError, notFound } from './status.ts';
import { isObject, type KubeObject } from './types.ts';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export interface WriteOptions {
  fieldManager?: string | undefined;
  dryRun?: boolean | undefined;
  subresource?: string | undefined;
}

export interface PatchOptions extends WriteOptions {
  force?: boolean | undefined;
}

export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' | undefined;
  preconditions?: { uid?: string | undefined; resourceVersion?: string | undefined } | undefined;
  dryRun?: boolean | undefined;
}

/** Resources whose objects carry metadata.generation. */
function hasGeneration(info: ResourceInfo): boolean {
  return (
    info.custom ||
    info.group === 'apps' ||
    info.group === 'batch' ||
    info.group === 'networking.k8s.io' ||
    info.group === 'autoscaling' ||
    info.group === 'policy' ||
    info.group === 'apiextensions.k8s.io'
  );
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return s;
}

let lastSecond = -1;
let lastStamp = '';

export function timestamp(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastStamp = new Date(second * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  }
  return lastStamp;
}

function withoutMetaStatus(o: KubeObject): string {
  const { metadata: _m, status: _s, ...rest } = o;
  return JSON.stringify(rest);
}

export interface ClusterHooks {
  /** Called after a CustomResourceDefinition is written or removed. */
  onCrdChange?(crd: KubeObject, removed: boolean): void;
}

export class Cluster {
  readonly registry: ResourceRegistry;
  readonly store: ObjectStore;
  readonly clock: Clock;
  #nextIp = 10;
  readonly #usedIps = new Set<string>();

  constructor(registry: ResourceRegistry, store: ObjectStore, clock: Clock) {
    this.registry = registry;
    this.store = store;
    this.clock = clock;
    for (const svc of store.list('/services'))
      if (svc.spec?.clusterIP) this.#usedIps.add(String(svc.spec.clusterIP));
  }

  now(): string {
    return timestamp(this.clock.now());
  }

  /** Looks up a resource by its apiVersion and plural name; throws for programming errors. */
  info(apiVersion: string, resource: string): ResourceInfo {
    const info = this.registry.get(apiVersion, resource);
    if (!info) throw new Error(`unknown resource ${apiVersion} ${resource}`);
    return info;
  }

  #allocateIp(): string {
    for (;;) {
      const n = this.#nextIp++;
      const ip = `10.96.${(n >> 8) & 255}.${n & 255}`;
      if ((n & 255) === 0 || (n & 255) === 255) continue;
      if (!this.#usedIps.has(ip)) {
        this.#usedIps.add(ip);
        return ip;
      }
    }
  }

  get(info: ResourceInfo, namespace: string, name: string): KubeObject {
    const obj = this.store.get(info.key, info.namespaced ? namespace : '', name);
    if (!obj) throw notFound(info.resource, name, info.group);
    return obj;
  }

  find(info: ResourceInfo, namespace: string, name: string): KubeObject | undefined {
    return this.store.get(info.key, info.namespaced ? namespace : '', name);
  }

  #decorate(info: ResourceInfo, o: KubeObject): void {
    o.apiVersion = apiVersionOf(info.group, info.version);
    o.kind = info.kind;
  }

  #checkNamespace(info: ResourceInfo, namespace: string): void {
    if (!info.namespaced) return;
    const ns = this.store.get('/namespaces', '', namespace);
    if (!ns) throw notFound('namespaces', namespace);
    if (ns.metadata.deletionTimestamp)
      throw new KubeError(
        403,
        'Forbidden',
        `${info.resource} "${''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        { kind: info.resource },
      );
  }

  /** Creates `body` (any input; copied). */
  create(info: ResourceInfo, namespace: string, body: unknown, opts: WriteOptions = {}): KubeObject {
    if (!isObject(body))
      throw new KubeError(400, 'BadRequest', 'the body of the request was in an unknown format');
    const o = structuredClone(body) as KubeObject;
    o.metadata = isObject(o.metadata) ? o.metadata : {};
    if (info.namespaced) {
      if (o.metadata.namespace && namespace && o.metadata.namespace !== namespace)
        throw new KubeError(
          400,
          'BadRequest',
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      o.metadata.namespace = namespace || o.metadata.namespace;
    } else delete o.metadata.namespace;
    if (!o.metadata.name && o.metadata.generateName)
      o.metadata.name = `${o.metadata.generateName}${randomSuffix()}`;
    const ns = o.metadata.namespace ?? '';
    this.#checkNamespace(info, ns);
    if (o.metadata.name && this.store.get(info.key, ns, o.metadata.name))
      throw alreadyExists(info.resource, o.metadata.name, info.group);
    const now = this.now();
    const uid = randomUUID();
    this.#decorate(info, o);
    o.metadata.uid = uid;
    o.metadata.creationTimestamp = now;
    delete o.metadata.resourceVersion;
    delete o.metadata.deletionTimestamp;
    if (hasGeneration(info)) o.metadata.generation = 1;
    else delete o.metadata.generation;
    applyDefaults(info.key, o, true, { uid, allocateClusterIP: () => this.#allocateIp() });
    const causes = validate(info.key, o, info.namespaced);
    if (causes.length > 0) throw invalid(info.kind, info.group, o.metadata.name ?? '', causes);
    const manager = opts.fieldManager ?? 'unknown';
    const clientManaged = Array.isArray(o.metadata.managedFields) && o.metadata.managedFields.length > 0;
    if (!clientManaged) {
      const mf = trackUpdate(undefined, o, manager, o.apiVersion ?? '', now);
      if (mf.length > 0) o.metadata.managedFields = mf;
    }
    return this.#commit(info, 'ADDED', o, opts.dryRun);
  }

  /** Replaces an object (PUT), or its status when `opts.subresource` is `status`. */
  update(
    info: ResourceInfo,
    namespace: string,
    name: string,
    body: unknown,
    opts: WriteOptions = {},
  ): KubeObject {
    if (!isObject(body))
      throw new KubeError(400, 'BadRequest', 'the body of the request was in an unknown format');
    const o = structuredClone(body) as KubeObject;
    o.metadata = isObject(o.metadata) ? o.metadata : {};
    if (o.metadata.name && o.metadata.name !== name)
      throw new KubeError(400, 'BadRequest', 'the name of the object does not match the name on the URL');
    const old = this.find(info, namespace, name);
    if (!old) {
      if (opts.subresource) throw notFound(info.resource, name, info.group);
      o.metadata.name = name;
      return this.create(info, namespace, o, opts);
    }
    return this.#update(info, old, o, opts);
  }

  #update(
    info: ResourceInfo,
    old: KubeObject,
    o: KubeObject,
    opts: WriteOptions,
    applied?: KubeObject['metadata']['managedFields'],
  ): KubeObject {
    const name = old.metadata.name ?? '';
    if (o.metadata.resourceVersion && o.metadata.resourceVersion !== old.metadata.resourceVersion)
      throw conflict(info.resource, name, info.group);
    let next: KubeObject;
    const sub = opts.subresource;
    if (sub === 'status') {
      next = { ...old, status: o.status, metadata: { ...old.metadata } };
    } else {
      next = o;
      next.metadata = { ...o.metadata };
      next.metadata.name = name;
      if (info.namespaced) next.metadata.namespace = old.metadata.namespace;
      else delete next.metadata.namespace;
      next.metadata.uid = old.metadata.uid;
      next.metadata.creationTimestamp = old.metadata.creationTimestamp;
      if (old.metadata.deletionTimestamp) next.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
      else delete next.metadata.deletionTimestamp;
      if (info.subresources.has('status')) {
        if (old.status !== undefined) next.status = old.status;
        else delete next.status;
      }
    }
    this.#decorate(info, next);
    const now = this.now();
    applyDefaults(info.key, next, false, {
      uid: old.metadata.uid ?? '',
      allocateClusterIP: () => this.#allocateIp(),
    });
    if (info.key === '/services' && old.spec?.clusterIP && !next.spec?.clusterIP) {
      next.spec = { ...next.spec, clusterIP: old.spec.clusterIP, clusterIPs: old.spec.clusterIPs };
    }
    const causes = validate(info.key, next, info.namespaced);
    if (causes.length > 0) throw invalid(info.kind, info.group, name, causes);
    if (hasGeneration(info)) {
      const gen = old.metadata.generation ?? 1;
      next.metadata.generation =
        sub !== 'status' && withoutMetaStatus(next) !== withoutMetaStatus(old) ? gen + 1 : gen;
    }
    if (applied) next.metadata.managedFields = applied;
    else {
      const given = next.metadata.managedFields;
      const clientManaged =
        sub !== 'status' &&
        given !== undefined &&
        JSON.stringify(given) !== JSON.stringify(old.metadata.managedFields);
      if (!clientManaged) {
        const mf = trackUpdate(old, next, opts.fieldManager ?? 'unknown', next.apiVersion ?? '', now, sub);
        if (mf.length > 0) next.metadata.managedFields = mf;
        else delete next.metadata.managedFields;
      } else if (Array.isArray(given) && given.length === 0) {
        delete next.metadata.managedFields;
      }
    }
    if (
      sub === 'status'
        ? JSON.stringify(next.status) === JSON.stringify(old.status)
        : JSON.stringify({
            ...next,
            metadata: { ...next.metadata, managedFields: undefined, resourceVersion: undefined },
          }) ===
          JSON.stringify({
            ...old,
            metadata: { ...old.metadata, managedFields: undefined, resourceVersion: undefined },
          })
    ) {
      // No-op writes keep the resourceVersion (as the real API server does).
      return old;
    }
    if (
      next.metadata.deletionTimestamp &&
      (next.metadata.finalizers ?? []).length === 0 &&
      !this.#specFinalizers(info, next)
    ) {
      return this.#remove(info, next, opts.dryRun);
    }
    return this.#commit(info, 'MODIFIED', next, opts.dryRun);
  }

  #specFinalizers(info: ResourceInfo, o: KubeObject): boolean {
    return info.key === '/namespaces' && Array.isArray(o.spec?.finalizers) && o.spec.finalizers.length > 0;
  }

  #commit(info: ResourceInfo, type: 'ADDED' | 'MODIFIED', o: KubeObject, dryRun?: boolean): KubeObject {
    if (dryRun) {
      o.metadata.resourceVersion = o.metadata.resourceVersion ?? String(this.store.resourceVersion);
      return o;
    }
    o.metadata.resourceVersion = String(this.store.nextRv());
    orderMetadata(o);
    this.store.write(type, info.key, o);
    return o;
  }

  #remove(info: ResourceInfo, o: KubeObject, dryRun?: boolean): KubeObject {
    if (dryRun) return o;
    const gone = { ...o, metadata: { ...o.metadata, resourceVersion: String(this.store.nextRv()) } };
    if (info.key === '/services' && o.spec?.clusterIP) this.#usedIps.delete(String(o.spec.clusterIP));
    this.store.write('DELETED', info.key, gone);
    return gone;
  }

  /** PATCH in any of the four patch types; apply patches create missing objects. */
  patch(
    info: ResourceInfo,
    namespace: string,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: PatchOptions = {},
  ): KubeObject {
    const old = this.find(info, namespace, name);
    const sub = opts.subresource;
    if (type === 'apply') {
      if (!isObject(patch))
        throw new KubeError(400, 'BadRequest', 'error decoding YAML: the body is not an object');
      const cfg = patch as KubeObject;
      const manager = opts.fieldManager ?? '';
      const now = this.now();
      if (!old) {
        if (sub) throw notFound(info.resource, name, info.group);
        const { object, managedFields } = serverSideApply(
          undefined,
          cfg,
          manager,
          !!opts.force,
          apiVersionOf(info.group, info.version),
          now,
        );
        object.metadata = { ...object.metadata, name, managedFields };
        return this.create(info, namespace, object, { ...opts, fieldManager: manager });
      }
      const { object, managedFields } = serverSideApply(
        old,
        cfg,
        manager,
        !!opts.force,
        apiVersionOf(info.group, info.version),
        now,
        sub,
      );
      object.metadata = { ...object.metadata, resourceVersion: old.metadata.resourceVersion };
      return this.#update(info, old, object, opts, managedFields);
    }
    if (!old) throw notFound(info.resource, name, info.group);
    let base: unknown = old;
    if (sub === 'scale') base = toScale(old);
    let result: unknown;
    if (type === 'json') result = applyJsonPatch(base, patch);
    else if (type === 'merge') result = applyMergePatch(base, patch);
    else result = applyStrategicMergePatch(base, patch);
    if (!isObject(result)) throw new KubeError(422, 'Invalid', 'the patch produced an invalid object');
    if (sub === 'scale') return this.updateScale(info, old, result as KubeObject, opts);
    const next = result as KubeObject;
    const patchedRv =
      isObject(patch) && isObject(patch.metadata) ? patch.metadata.resourceVersion : undefined;
    if (typeof patchedRv !== 'string' || patchedRv === '')
      next.metadata = { ...next.metadata, resourceVersion: old.metadata.resourceVersion };
    return this.#update(info, old, next, opts);
  }

  getScale(info: ResourceInfo, namespace: string, name: string): KubeObject {
    return toScale(this.get(info, namespace, name));
  }

  updateScale(info: ResourceInfo, old: KubeObject, scale: KubeObject, opts: WriteOptions): KubeObject {
    if (scale.metadata?.resourceVersion && scale.metadata.resourceVersion !== old.metadata.resourceVersion)
      throw conflict(info.resource, old.metadata.name ?? '', info.group);
    const replicas = Number(scale.spec?.replicas ?? 0);
    if (!Number.isInteger(replicas) || replicas < 0)
      throw invalid('Scale', 'autoscaling', old.metadata.name ?? '', [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${replicas}: must be greater than or equal to 0`,
          field: 'spec.replicas',
        },
      ]);
    const next = { ...old, spec: { ...old.spec, replicas }, metadata: { ...old.metadata } };
    const updated = this.#update(info, old, next, { ...opts, subresource: 'scale' });
    return toScale(updated);
  }

  /** DELETE: finalizers and propagation policies honoured. Returns the object (pending) or undefined (gone). */
  delete(
    info: ResourceInfo,
    namespace: string,
    name: string,
    opts: DeleteOptions = {},
  ): { object: KubeObject; gone: boolean } {
    const old = this.get(info, namespace, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid)
      throw new KubeError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${info.kind} "${name}": the UID in the precondition (${pre.uid}) does not match the UID in record (${old.metadata.uid}). The object might have been deleted and then recreated`,
        { name, ...(info.group ? { group: info.group } : {}), kind: info.kind },
      );
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion)
      throw new KubeError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${info.kind} "${name}": the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${old.metadata.resourceVersion}). The object might have been modified`,
        { name, ...(info.group ? { group: info.group } : {}), kind: info.kind },
      );
    const finalizers = [...(old.metadata.finalizers ?? [])];
    const policy = opts.propagationPolicy;
    const hasDependents = this.store.dependents(old.metadata.uid ?? '').length > 0;
    if (policy === 'Foreground' && hasDependents && !finalizers.includes('foregroundDeletion'))
      finalizers.push('foregroundDeletion');
    if (policy === 'Orphan' && hasDependents && !finalizers.includes('orphan')) finalizers.push('orphan');
    const nsPending = info.key === '/namespaces';
    if (finalizers.length > 0 || nsPending) {
      if (old.metadata.deletionTimestamp && finalizers.length === (old.metadata.finalizers ?? []).length)
        return { object: old, gone: false };
      const next: KubeObject = {
        ...old,
        metadata: {
          ...old.metadata,
          deletionTimestamp: old.metadata.deletionTimestamp ?? this.now(),
          deletionGracePeriodSeconds: 0,
          finalizers,
        },
      };
      if (finalizers.length === 0) delete next.metadata.finalizers;
      if (nsPending) next.status = { ...(old.status ?? {}), phase: 'Terminating' };
      return { object: this.#commit(info, 'MODIFIED', next, opts.dryRun), gone: false };
    }
    return { object: this.#remove(info, old, opts.dryRun), gone: true };
  }

  // ---- Shortcuts for controllers (manager names as kube-controller-manager / kubelet would use) ----

  /** Writes `next` (a changed copy of a stored object) as an update by `manager`; ignores vanished objects. */
  write(info: ResourceInfo, next: KubeObject, manager: string, subresource?: string): KubeObject | undefined {
    const old = this.find(info, next.metadata.namespace ?? '', next.metadata.name ?? '');
    if (!old) return undefined;
    try {
      return this.#update(
        info,
        old,
        { ...next, metadata: { ...next.metadata, resourceVersion: old.metadata.resourceVersion } },
        { fieldManager: manager, subresource },
      );
    } catch (err) {
      if (err instanceof KubeError && err.code === 404) return undefined;
      throw err;
    }
  }

  /** Removes one finalizer (no-op when absent). */
  removeFinalizer(info: ResourceInfo, obj: KubeObject, finalizer: string, manager: string): void {
    const cur = this.find(info, obj.metadata.namespace ?? '', obj.metadata.name ?? '');
    if (!cur || !(cur.metadata.finalizers ?? []).includes(finalizer)) return;
    const finalizers = (cur.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    const next: KubeObject = { ...cur, metadata: { ...cur.metadata, finalizers } };
    if (finalizers.length === 0) delete next.metadata.finalizers;
    this.write(info, next, manager);
  }
}

/** autoscaling/v1 Scale of a workload. */
export function toScale(o: KubeObject): KubeObject {
  const selector = o.status?.selector ?? formatSelector(o.spec?.selector);
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: o.metadata.name ?? '',
      namespace: o.metadata.namespace ?? '',
      uid: o.metadata.uid ?? '',
      resourceVersion: o.metadata.resourceVersion ?? '',
      creationTimestamp: o.metadata.creationTimestamp ?? '',
    },
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, ...(selector ? { selector } : {}) },
  };
}

function formatSelector(sel: unknown): string {
  if (!isObject(sel) || !isObject(sel.matchLabels)) return '';
  return Object.entries(sel.matchLabels)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
}

const META_ORDER = [
  'name',
  'generateName',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];

/** Puts kind/apiVersion/metadata first and metadata fields in the API server's order. */
function orderMetadata(o: KubeObject): void {
  const meta = o.metadata as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  for (const k of META_ORDER) if (meta[k] !== undefined) ordered[k] = meta[k];
  for (const [k, v] of Object.entries(meta)) if (!(k in ordered) && v !== undefined) ordered[k] = v;
  o.metadata = ordered as KubeObject['metadata'];
}
