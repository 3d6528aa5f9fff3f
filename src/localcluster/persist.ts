// Crash-safe persistence of the object store: one SQLite database under `<data>/cluster/`.
// Writes are batched and committed in one transaction every few milliseconds; a crash loses at most
// the last batch, never leaves a half-written object.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectStore, StoreEvent } from './store.ts';
import type { KubeObject } from './types.ts';

export interface Persistence {
  /** Loads every object into `store`; returns how many. */
  load(store: ObjectStore): number;
  /** Starts persisting store events. */
  attach(store: ObjectStore): void;
  flush(): void;
  close(): void;
}

const FLUSH_MS = 50;

export function openPersistence(dir: string): Persistence {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const db = new Database(join(dir, 'objects.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS objects (
    res TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, json TEXT NOT NULL,
    PRIMARY KEY (res, namespace, name)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);`);
  const upsert = db.prepare(
    'INSERT OR REPLACE INTO objects (res, namespace, name, json) VALUES (?, ?, ?, ?)',
  );
  const del = db.prepare('DELETE FROM objects WHERE res = ? AND namespace = ? AND name = ?');
  const setMeta = db.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)');
  const pending = new Map<string, { key: string; ns: string; name: string; obj: KubeObject | null }>();
  let lastRv = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let unsubscribe: (() => void) | undefined;

  const commit = db.transaction(() => {
    for (const p of pending.values()) {
      if (p.obj) upsert.run(p.key, p.ns, p.name, JSON.stringify(p.obj));
      else del.run(p.key, p.ns, p.name);
    }
    setMeta.run('resourceVersion', String(lastRv));
  });

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.size === 0 || closed) return;
    commit();
    pending.clear();
  };

  const onEvent = (e: StoreEvent) => {
    const ns = e.object.metadata.namespace ?? '';
    const name = e.object.metadata.name ?? '';
    pending.set(`${e.key}|${ns}|${name}`, {
      key: e.key,
      ns,
      name,
      obj: e.type === 'DELETED' ? null : e.object,
    });
    if (e.rv > lastRv) lastRv = e.rv;
    if (!timer) timer = setTimeout(flush, FLUSH_MS);
  };

  return {
    load(store) {
      let n = 0;
      for (const row of db.prepare('SELECT res, json FROM objects').iterate() as Iterable<{
        res: string;
        json: string;
      }>) {
        store.load(row.res, JSON.parse(row.json) as KubeObject);
        n++;
      }
      const meta = db.prepare("SELECT v FROM meta WHERE k = 'resourceVersion'").get() as
        | { v: string }
        | undefined;
      store.setResourceVersion(Math.max(Number(meta?.v ?? 0), store.resourceVersion));
      lastRv = store.resourceVersion;
      return n;
    },
    attach(store) {
      unsubscribe = store.subscribe(onEvent);
    },
    flush,
    close() {
      flush();
      unsubscribe?.();
      closed = true;
      db.close();
    },
  };
}
