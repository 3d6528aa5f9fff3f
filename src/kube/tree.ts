// The resource tree of an application: ownerReferences, Service → Pods by selector, Ingress → Services. Pure.
import { assessHealth, type Health } from './health.ts';
import { groupOf, isRecord, type KubeObject, type ObjectRef, refKey, refOf } from './types.ts';

export interface ResourceNode {
  ref: ObjectRef;
  uid?: string;
  /** `undefined` for kinds without a health check. */
  health?: Health;
  /** Why this node hangs under its parent: `owner`, `selector` (Service → Pod) or `backend` (Ingress → Service). */
  relation?: 'owner' | 'selector' | 'backend';
  children: ResourceNode[];
}

export interface ResourceTree {
  /** Objects with no parent among the given ones, each with its descendants. A Pod selected by a Service and
   * owned by a ReplicaSet appears under both. */
  roots: ResourceNode[];
  /** Every object once, with the keys of its parents (`refKey`), for flat views. */
  nodes: { ref: ObjectRef; key: string; uid?: string; health?: Health; parents: string[] }[];
}

function selects(selector: Record<string, unknown>, labels: Record<string, string> | undefined): boolean {
  const entries = Object.entries(selector);
  if (entries.length === 0) return false;
  return entries.every(([k, v]) => labels?.[k] === v);
}

function ingressBackends(ingress: KubeObject): string[] {
  const spec = isRecord(ingress.spec) ? ingress.spec : {};
  const names = new Set<string>();
  const add = (backend: unknown) => {
    if (!isRecord(backend)) return;
    const service = backend.service;
    if (isRecord(service) && typeof service.name === 'string') names.add(service.name);
    if (typeof backend.serviceName === 'string') names.add(backend.serviceName);
  };
  add(spec.defaultBackend);
  add(spec.backend);
  for (const rule of Array.isArray(spec.rules) ? spec.rules : []) {
    const http = isRecord(rule) && isRecord(rule.http) ? rule.http : {};
    for (const path of Array.isArray(http.paths) ? http.paths : []) if (isRecord(path)) add(path.backend);
  }
  return [...names];
}

/**
 * Builds the tree of `objects` (an application's live objects plus the Pods, ReplicaSets and other children the
 * caller listed): Deployment → ReplicaSet → Pod by ownerReferences, Service → Pod by selector, Ingress → Service
 * by backend name. Cycles in bad data are cut.
 */
export function buildResourceTree(objects: KubeObject[]): ResourceTree {
  const keyOf = new Map<KubeObject, string>();
  const byKey = new Map<string, KubeObject>();
  const byUid = new Map<string, string>();
  for (const obj of objects) {
    const key = refKey(refOf(obj));
    if (byKey.has(key)) continue;
    keyOf.set(obj, key);
    byKey.set(key, obj);
    if (obj.metadata.uid) byUid.set(obj.metadata.uid, key);
  }
  const parents = new Map<string, Map<string, ResourceNode['relation']>>();
  const link = (child: string, parent: string, relation: ResourceNode['relation']) => {
    if (child === parent) return;
    let set = parents.get(child);
    if (!set) parents.set(child, (set = new Map()));
    if (!set.has(parent)) set.set(parent, relation);
  };

  for (const [key, obj] of byKey) {
    for (const owner of obj.metadata.ownerReferences ?? []) {
      const parent = byUid.get(owner.uid);
      if (parent) link(key, parent, 'owner');
    }
  }
  for (const [key, obj] of byKey) {
    const ns = obj.metadata.namespace ?? '';
    if (obj.kind === 'Service' && groupOf(obj.apiVersion) === '') {
      const selector = isRecord(obj.spec) && isRecord(obj.spec.selector) ? obj.spec.selector : undefined;
      if (!selector) continue;
      for (const [podKey, pod] of byKey) {
        if (
          pod.kind === 'Pod' &&
          (pod.metadata.namespace ?? '') === ns &&
          selects(selector, pod.metadata.labels)
        ) {
          link(podKey, key, 'selector');
        }
      }
    }
    if (obj.kind === 'Ingress') {
      for (const name of ingressBackends(obj)) {
        const svcKey = refKey({ apiVersion: 'v1', kind: 'Service', name, namespace: ns || undefined });
        if (byKey.has(svcKey)) link(svcKey, key, 'backend');
      }
    }
  }

  const children = new Map<string, { key: string; relation: ResourceNode['relation'] }[]>();
  for (const [child, ps] of parents) {
    for (const [parent, relation] of ps) {
      const list = children.get(parent) ?? [];
      list.push({ key: child, relation });
      children.set(parent, list);
    }
  }
  const health = new Map<string, Health | undefined>();
  for (const [key, obj] of byKey) health.set(key, assessHealth(obj));

  const build = (key: string, relation: ResourceNode['relation'], path: Set<string>): ResourceNode => {
    const obj = byKey.get(key)!;
    const node: ResourceNode = { ref: refOf(obj), children: [] };
    if (obj.metadata.uid) node.uid = obj.metadata.uid;
    const hh = health.get(key);
    if (hh) node.health = hh;
    if (relation) node.relation = relation;
    const next = new Set(path).add(key);
    const kids = (children.get(key) ?? [])
      .filter((c) => !next.has(c.key))
      .sort((a, b) => a.key.localeCompare(b.key));
    node.children = kids.map((c) => build(c.key, c.relation, next));
    return node;
  };

  const sortedKeys = [...byKey.keys()].sort();
  const roots = sortedKeys.filter((k) => !parents.has(k)).map((k) => build(k, undefined, new Set()));
  const nodes = sortedKeys.map((key) => {
    const obj = byKey.get(key)!;
    const entry: ResourceTree['nodes'][number] = {
      ref: refOf(obj),
      key,
      parents: [...(parents.get(key)?.keys() ?? [])],
    };
    if (obj.metadata.uid) entry.uid = obj.metadata.uid;
    const hh = health.get(key);
    if (hh) entry.health = hh;
    return entry;
  });
  return { roots, nodes };
}
