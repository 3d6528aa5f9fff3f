// The embedded store: one SQLite database in WAL mode, with versioned migrations per module.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = Database.Database;

/** One module's schema history: migration N is `steps[N-1]`; steps are only ever appended. */
export interface Migrations {
  module: string;
  steps: string[];
}

/**
 * The persistence seam. Modules define their own repository interfaces and implement them on
 * `Store.db` (SQLite); a PostgreSQL store fills the same repository interfaces (see docs/adr/0002-store.md).
 */
export interface Store {
  readonly db: SqliteDatabase;
  /** Applies the module's pending migrations, each in its own transaction. Idempotent. */
  migrate(migrations: Migrations): void;
  /** Runs `fn` in one transaction (rolled back if it throws). */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export function openStore(path: string): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    module TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,
    PRIMARY KEY (module, version))`);
  const current = db.prepare<[string], { v: number | null }>(
    'SELECT MAX(version) AS v FROM schema_migrations WHERE module = ?',
  );
  const record = db.prepare('INSERT INTO schema_migrations (module, version, applied_at) VALUES (?, ?, ?)');
  return {
    db,
    migrate({ module, steps }) {
      const have = current.get(module)?.v ?? 0;
      if (have > steps.length) {
        throw new Error(
          `The database has migration ${have} for module "${module}" but this Slipway knows only ${steps.length}: it was written by a newer version`,
        );
      }
      for (let i = have; i < steps.length; i++) {
        db.transaction(() => {
          db.exec(steps[i]!);
          record.run(module, i + 1, new Date().toISOString());
        })();
      }
    },
    transaction(fn) {
      return db.transaction(fn)();
    },
    close() {
      if (db.open) db.close();
    },
  };
}
