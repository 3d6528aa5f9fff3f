// The API resources the local cluster serves: built-in ones from recorded discovery documents, plus CRDs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from './types.ts';

export interface DiscoveryResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  group?: string;
  version?: string;
  storageVersionHash?: string;
}

export interface ResourceInfo {
  group: string;
  version: string;
  /** Plural resource name, e.g. `deployments`. */
  resource: string;
  kind: string;
  namespaced: boolean;
  subresources: Set<string>;
  verbs: string[];
  /** Store key: `group/resource` (core group is empty). */
  key: string;
  /** True for resources defined by a CustomResourceDefinition. */
  custom: boolean;
}

export interface GroupVersionDoc {
  groupVersion: string;
  resources: DiscoveryResource[];
}

const DATA_DIR = join(import.meta.dirname, 'data', 'discovery');

export function resourceKey(group: string, resource: string): string {
  return `${group}/${resource}`;
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** Groups (and their order) as the recorded server lists them in /apis. */
function loadBuiltIn(): { groupOrder: string[]; docs: Map<string, GroupVersionDoc> } {
  const docs = new Map<string, GroupVersionDoc>();
  for (const file of readdirSync(DATA_DIR)) {
    if (!file.endsWith('.json') || file === 'version.json' || file === 'apis.json') continue;
    const doc = JSON.parse(readFileSync(join(DATA_DIR, file), 'utf8')) as GroupVersionDoc;
    docs.set(doc.groupVersion, doc);
  }
  const apis = JSON.parse(readFileSync(join(DATA_DIR, 'apis.json'), 'utf8')) as {
    groups: { name: string }[];
  };
  return { groupOrder: apis.groups.map((g) => g.name), docs };
}

/** Resource lookup for URL routing, discovery documents and kinds. */
export class ResourceRegistry {
  readonly #docs = new Map<string, GroupVersionDoc>();
  readonly #groupOrder: string[] = [];
  /** groupVersion → resource → info */
  readonly #byGv = new Map<string, Map<string, ResourceInfo>>();
  /** `apiVersion/Kind` → info */
  readonly #byKind = new Map<string, ResourceInfo>();
  /** CRD name → group versions it added */
  readonly #crds = new Map<string, string[]>();

  constructor() {
    const { groupOrder, docs } = loadBuiltIn();
    this.#groupOrder.push(...groupOrder);
    for (const doc of docs.values()) this.#addDoc(doc, false);
  }

  #addDoc(doc: GroupVersionDoc, custom: boolean): void {
    this.#docs.set(doc.groupVersion, doc);
    const { group, version } = splitApiVersion(doc.groupVersion);
    const map = new Map<string, ResourceInfo>();
    for (const r of doc.resources) {
      if (r.name.includes('/')) continue;
      const info: ResourceInfo = {
        group,
        version,
        resource: r.name,
        kind: r.kind,
        namespaced: r.namespaced,
        subresources: new Set(),
        verbs: r.verbs,
        key: resourceKey(group, r.name),
        custom,
      };
      map.set(r.name, info);
      this.#byKind.set(`${doc.groupVersion}/${r.kind}`, info);
    }
    for (const r of doc.resources) {
      const [base, sub] = r.name.split('/');
      if (sub && base) map.get(base)?.subresources.add(sub);
    }
    this.#byGv.set(doc.groupVersion, map);
  }

  hasGroupVersion(groupVersion: string): boolean {
    return this.#byGv.has(groupVersion);
  }

  get(groupVersion: string, resource: string): ResourceInfo | undefined {
    return this.#byGv.get(groupVersion)?.get(resource);
  }

  byKind(apiVersion: string, kind: string): ResourceInfo | undefined {
    return this.#byKind.get(`${apiVersion}/${kind}`);
  }

  /** Every served resource (each group/resource once, preferred version). */
  all(): ResourceInfo[] {
    const seen = new Map<string, ResourceInfo>();
    for (const map of this.#byGv.values()) {
      for (const info of map.values()) if (!seen.has(info.key)) seen.set(info.key, info);
    }
    return [...seen.values()];
  }

  groupVersionDoc(groupVersion: string): Record<string, unknown> | undefined {
    const doc = this.#docs.get(groupVersion);
    if (!doc) return undefined;
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources: doc.resources };
  }

  /** Versions per group, preferred first. */
  #groups(): Map<string, string[]> {
    const groups = new Map<string, string[]>();
    for (const name of this.#groupOrder) groups.set(name, []);
    for (const gv of this.#docs.keys()) {
      const { group, version } = splitApiVersion(gv);
      if (!group) continue;
      const list = groups.get(group) ?? [];
      list.push(version);
      groups.set(group, list);
    }
    for (const [name, versions] of groups) {
      if (versions.length === 0) groups.delete(name);
      else versions.sort(compareVersions);
    }
    return groups;
  }

  apiGroup(name: string): Record<string, unknown> | undefined {
    const versions = this.#groups().get(name);
    if (!versions) return undefined;
    return groupEntry(name, versions, true);
  }

  apiGroupList(): Record<string, unknown> {
    const groups = [...this.#groups()].map(([name, versions]) => groupEntry(name, versions, false));
    return { kind: 'APIGroupList', apiVersion: 'v1', groups };
  }

  /** Adds (or replaces) the resources of a CustomResourceDefinition. */
  registerCrd(crd: KubeObject): void {
    this.unregisterCrd(crd.metadata.name ?? '');
    const spec = crd.spec as {
      group: string;
      names: {
        plural: string;
        singular?: string;
        kind: string;
        shortNames?: string[];
        categories?: string[];
      };
      scope: string;
      versions: { name: string; served?: boolean; subresources?: { status?: unknown; scale?: unknown } }[];
    };
    if (!spec?.group || !spec.names?.plural || !Array.isArray(spec.versions)) return;
    const added: string[] = [];
    for (const v of spec.versions) {
      if (v.served === false) continue;
      const gv = `${spec.group}/${v.name}`;
      const existing = this.#docs.get(gv);
      const resources = (existing?.resources ?? []).filter(
        (r) => r.name !== spec.names.plural && !r.name.startsWith(`${spec.names.plural}/`),
      );
      const entry: DiscoveryResource = {
        name: spec.names.plural,
        singularName: spec.names.singular ?? spec.names.kind.toLowerCase(),
        namespaced: spec.scope !== 'Cluster',
        kind: spec.names.kind,
        verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
        ...(spec.names.shortNames ? { shortNames: spec.names.shortNames } : {}),
        ...(spec.names.categories ? { categories: spec.names.categories } : {}),
      };
      resources.push(entry);
      if (v.subresources?.status !== undefined) {
        resources.push({ ...entry, name: `${spec.names.plural}/status`, verbs: ['get', 'patch', 'update'] });
      }
      if (v.subresources?.scale !== undefined) {
        resources.push({ ...entry, name: `${spec.names.plural}/scale`, verbs: ['get', 'patch', 'update'] });
      }
      this.#addDoc({ groupVersion: gv, resources }, true);
      if (!this.#groupOrder.includes(spec.group)) this.#groupOrder.push(spec.group);
      added.push(gv);
    }
    this.#crds.set(crd.metadata.name ?? '', added);
  }

  unregisterCrd(name: string): void {
    const gvs = this.#crds.get(name);
    if (!gvs) return;
    this.#crds.delete(name);
    const plural = name.split('.')[0] ?? '';
    for (const gv of gvs) {
      const doc = this.#docs.get(gv);
      if (!doc) continue;
      const resources = doc.resources.filter((r) => r.name !== plural && !r.name.startsWith(`${plural}/`));
      for (const [key, info] of this.#byKind)
        if (info.resource === plural && key.startsWith(`${gv}/`)) this.#byKind.delete(key);
      if (resources.length === 0) {
        this.#docs.delete(gv);
        this.#byGv.delete(gv);
      } else this.#addDoc({ groupVersion: gv, resources }, true);
    }
  }
}

function groupEntry(name: string, versions: string[], withKind: boolean): Record<string, unknown> {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return {
    ...(withKind ? { kind: 'APIGroup', apiVersion: 'v1' } : {}),
    name,
    versions: list,
    preferredVersion: list[0],
  };
}

/** Kubernetes version priority: GA > beta > alpha, higher numbers first. */
export function compareVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0];
    const level = m[2] === 'alpha' ? 1 : m[2] === 'beta' ? 2 : 3;
    return [level, Number(m[1]), Number(m[3] ?? 0)];
  };
  const [la, ma, na] = rank(a);
  const [lb, mb, nb] = rank(b);
  return lb - la || mb - ma || nb - na;
}
