// The in-memory object store: objects indexed by resource and namespace, a resourceVersion counter,
// a bounded event history for watches, an owner index for garbage collection.
import type { KubeObject } from './types.ts';

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: StoreEventType;
  /** Resource key `group/resource`. */
  key: string;
  rv: number;
  object: KubeObject;
  old?: KubeObject | undefined;
}

export type StoreListener = (event: StoreEvent) => void;

const HISTORY_LIMIT = 50_000;

function nsKey(obj: KubeObject): string {
  return obj.metadata.namespace ?? '';
}

/** Objects are immutable once stored: writers pass new objects, readers never mutate. */
export class ObjectStore {
  #rv = 1;
  readonly #data = new Map<string, Map<string, Map<string, KubeObject>>>();
  readonly #history: StoreEvent[] = [];
  #historyStart = 0;
  /** The oldest resourceVersion a watch may start from. */
  #compactedRv = 1;
  readonly #listeners = new Set<StoreListener>();
  /** owner uid → set of `key|namespace|name` of dependents */
  readonly #owners = new Map<string, Set<string>>();

  get resourceVersion(): number {
    return this.#rv;
  }

  get compactedRv(): number {
    return this.#compactedRv;
  }

  /** Loads persisted objects (no events). */
  load(key: string, obj: KubeObject): void {
    this.#put(key, obj);
    const rv = Number(obj.metadata.resourceVersion ?? 0);
    if (rv > this.#rv) this.#rv = rv;
  }

  setResourceVersion(rv: number): void {
    if (rv > this.#rv) this.#rv = rv;
    this.#compactedRv = this.#rv;
  }

  /** Forgets the event history: watches must start from now on (like etcd compaction). */
  compact(): void {
    this.#history.length = 0;
    this.#historyStart = 0;
    this.#compactedRv = this.#rv;
  }

  nextRv(): number {
    return ++this.#rv;
  }

  get(key: string, namespace: string, name: string): KubeObject | undefined {
    return this.#data.get(key)?.get(namespace)?.get(name);
  }

  /** Objects of a resource, optionally in one namespace, sorted by namespace then name. */
  list(key: string, namespace?: string): KubeObject[] {
    const byNs = this.#data.get(key);
    if (!byNs) return [];
    if (namespace !== undefined) {
      const m = byNs.get(namespace);
      return m ? [...m.values()].sort(byName) : [];
    }
    const out: KubeObject[] = [];
    for (const ns of [...byNs.keys()].sort()) out.push(...[...(byNs.get(ns)?.values() ?? [])].sort(byName));
    return out;
  }

  count(key: string, namespace?: string): number {
    const byNs = this.#data.get(key);
    if (!byNs) return 0;
    if (namespace !== undefined) return byNs.get(namespace)?.size ?? 0;
    let n = 0;
    for (const m of byNs.values()) n += m.size;
    return n;
  }

  /** Namespaces holding at least one object of any resource. */
  keysInNamespace(namespace: string): string[] {
    const out: string[] = [];
    for (const [key, byNs] of this.#data) if ((byNs.get(namespace)?.size ?? 0) > 0) out.push(key);
    return out;
  }

  /** Dependents of an owner uid as `{key, namespace, name}`. */
  dependents(ownerUid: string): { key: string; namespace: string; name: string }[] {
    const set = this.#owners.get(ownerUid);
    if (!set) return [];
    return [...set].map((s) => {
      const [key = '', namespace = '', name = ''] = s.split('|');
      return { key, namespace, name };
    });
  }

  /** Stores `obj` (already carrying its new resourceVersion) and notifies listeners. */
  write(type: StoreEventType, key: string, obj: KubeObject): void {
    const old = this.get(key, nsKey(obj), obj.metadata.name ?? '');
    if (type === 'DELETED') this.#remove(key, obj);
    else this.#put(key, obj);
    const rv = Number(obj.metadata.resourceVersion);
    const event: StoreEvent = { type, key, rv, object: obj, old };
    this.#history.push(event);
    if (this.#history.length - this.#historyStart > HISTORY_LIMIT) {
      const dropped = this.#history[this.#historyStart];
      this.#historyStart++;
      if (dropped) this.#compactedRv = dropped.rv;
      if (this.#historyStart > HISTORY_LIMIT) {
        this.#history.splice(0, this.#historyStart);
        this.#historyStart = 0;
      }
    }
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch {
        // a listener's failure must not break writes
      }
    }
  }

  /** Events with rv > `rv`, or undefined when `rv` is older than the kept history. */
  eventsSince(rv: number): StoreEvent[] | undefined {
    if (rv < this.#compactedRv) return undefined;
    const out: StoreEvent[] = [];
    // binary search for the first event with rv > given
    let lo = this.#historyStart;
    let hi = this.#history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.#history[mid]?.rv ?? 0) <= rv) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.#history.length; i++) out.push(this.#history[i] as StoreEvent);
    return out;
  }

  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #put(key: string, obj: KubeObject): void {
    let byNs = this.#data.get(key);
    if (!byNs) this.#data.set(key, (byNs = new Map()));
    const ns = nsKey(obj);
    let m = byNs.get(ns);
    if (!m) byNs.set(ns, (m = new Map()));
    const name = obj.metadata.name ?? '';
    const prev = m.get(name);
    if (prev) this.#unindex(key, prev);
    m.set(name, obj);
    this.#index(key, obj);
  }

  #remove(key: string, obj: KubeObject): void {
    const m = this.#data.get(key)?.get(nsKey(obj));
    const prev = m?.get(obj.metadata.name ?? '');
    if (prev) {
      this.#unindex(key, prev);
      m?.delete(obj.metadata.name ?? '');
    }
  }

  #index(key: string, obj: KubeObject): void {
    for (const ref of obj.metadata.ownerReferences ?? []) {
      let set = this.#owners.get(ref.uid);
      if (!set) this.#owners.set(ref.uid, (set = new Set()));
      set.add(`${key}|${nsKey(obj)}|${obj.metadata.name}`);
    }
  }

  #unindex(key: string, obj: KubeObject): void {
    for (const ref of obj.metadata.ownerReferences ?? []) {
      const set = this.#owners.get(ref.uid);
      set?.delete(`${key}|${nsKey(obj)}|${obj.metadata.name}`);
      if (set && set.size === 0) this.#owners.delete(ref.uid);
    }
  }
}

function byName(a: KubeObject, b: KubeObject): number {
  const x = a.metadata.name ?? '';
  const y = b.metadata.name ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}
