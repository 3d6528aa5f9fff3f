// Persistence of applications, their last status, environments, sync history and promotions (SQLite).
import { ConflictError, NotFoundError } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import type { AppSource, AppSpec } from './app-spec.ts';
import type { HealthStatus, KubeObject, SyncStatus } from './seams.ts';

const MIGRATIONS = {
  module: 'gitops',
  steps: [
    `CREATE TABLE gitops_apps (
       name TEXT PRIMARY KEY, spec TEXT NOT NULL, created_by TEXT NOT NULL,
       created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
     CREATE TABLE gitops_status (name TEXT PRIMARY KEY, status TEXT NOT NULL);
     CREATE TABLE gitops_envs (
       name TEXT PRIMARY KEY, protected INTEGER NOT NULL, auto_sync INTEGER NOT NULL,
       require_approval INTEGER NOT NULL, sync_windows TEXT NOT NULL, description TEXT NOT NULL,
       created_at TEXT NOT NULL);
     CREATE TABLE gitops_history (
       id INTEGER PRIMARY KEY AUTOINCREMENT, app TEXT NOT NULL, revision TEXT, commits TEXT NOT NULL,
       author TEXT, message TEXT, initiated_by TEXT NOT NULL, kind TEXT NOT NULL, result TEXT NOT NULL,
       detail TEXT, started_at TEXT NOT NULL, finished_at TEXT, duration_ms INTEGER,
       digest TEXT, manifests TEXT);
     CREATE INDEX gitops_history_app ON gitops_history(app, id);
     CREATE TABLE gitops_promotions (
       id INTEGER PRIMARY KEY AUTOINCREMENT, service TEXT NOT NULL, from_env TEXT NOT NULL,
       to_env TEXT NOT NULL, tag TEXT NOT NULL, state TEXT NOT NULL, requested_by TEXT NOT NULL,
       approved_by TEXT, commit_sha TEXT, repo TEXT NOT NULL, file TEXT NOT NULL, message TEXT,
       created_at TEXT NOT NULL, updated_at TEXT NOT NULL);`,
    // The sources a sync rendered (rollback restores them) and what a rollback changed in git and in the spec.
    `ALTER TABLE gitops_history ADD COLUMN sources TEXT;
     ALTER TABLE gitops_history ADD COLUMN changes TEXT;`,
    // Repository credentials by URL prefix (secret sealed with the data directory's key).
    `CREATE TABLE gitops_repo_creds (
       id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
       username TEXT NOT NULL, secret TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL);`,
  ],
};

/** What a rollback of an automated app changed to restore what the target revision rendered. */
export interface RollbackChange {
  /** `commit`: a revert commit in a repository; `pin`: a source's targetRevision set to an exact revision. */
  kind: 'commit' | 'pin';
  /** Index of the source in the app's spec. */
  source: number;
  repoURL: string;
  /** For commits: the branch written and the paths restored. */
  branch?: string;
  paths?: string[];
  commit?: string;
  /** For pins: the revision before and after. */
  from?: string;
  to?: string;
}

export interface ResourceStatus {
  group: string;
  version: string;
  kind: string;
  namespace?: string;
  name: string;
  sync: SyncStatus;
  health?: HealthStatus;
  message?: string;
  /** True for a live object that left git and waits to be pruned. */
  requiresPruning?: boolean;
  /** Template file it was rendered from. */
  source?: string;
}

export interface OperationState {
  phase: 'Running' | 'Succeeded' | 'Failed' | 'Error';
  kind: 'sync' | 'rollback';
  startedAt: string;
  finishedAt?: string;
  message: string;
  revision: string | null;
  initiatedBy: string;
  dryRun?: boolean;
}

export interface AppStatus {
  sync: SyncStatus;
  health: HealthStatus;
  /** The commit (of the first source) last compared. */
  revision: string | null;
  /** Commits of every source, in source order. */
  revisions: string[];
  message: string;
  comparisonError?: { message: string; location?: { file?: string; line?: number; column?: number } };
  resources: ResourceStatus[];
  operation?: OperationState;
  /** The revision last synced (by a completed sync). */
  syncedRevision?: string | null;
  /** Digest of the manifests last synced. */
  syncedDigest?: string | null;
  /** Keys of the resources the last sync applied (for pruning). */
  inventory: { apiVersion: string; kind: string; name: string; namespace?: string }[];
  reconciledAt: string | null;
}

export interface Environment {
  name: string;
  protected: boolean;
  autoSync: boolean;
  /** Promotions into it wait for a second user's approval. */
  requireApproval: boolean;
  syncWindows: SyncWindow[];
  description: string;
  createdAt: string;
}

export interface SyncWindow {
  kind: 'allow' | 'deny';
  /** Cron expression (minute hour day-of-month month day-of-week), UTC. */
  schedule: string;
  /** e.g. `1h`, `30m`. */
  duration: string;
  /** Whether manual syncs are allowed while the window blocks. */
  manualSync: boolean;
}

export interface HistoryEntry {
  id: number;
  app: string;
  revision: string | null;
  commits: string[];
  author: string | null;
  message: string | null;
  initiatedBy: string;
  kind: 'sync' | 'rollback' | 'auto-sync' | 'self-heal';
  result: 'Running' | 'Succeeded' | 'Failed' | 'Error';
  detail: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  digest: string | null;
  /** What a rollback changed (revert commits and re-pinned sources); absent for syncs. */
  changes?: RollbackChange[];
}

export interface Promotion {
  id: number;
  service: string;
  from: string;
  to: string;
  tag: string;
  state: 'pending' | 'applied' | 'rejected' | 'failed';
  requestedBy: string;
  approvedBy: string | null;
  commit: string | null;
  repo: string;
  file: string;
  message: string | null;
  createdAt: string;
  updatedAt: string;
}

export const EMPTY_STATUS: AppStatus = {
  sync: 'Unknown',
  health: 'Unknown',
  revision: null,
  revisions: [],
  message: 'Not compared yet',
  resources: [],
  inventory: [],
  reconciledAt: null,
};

type Row = Record<string, unknown>;

/** The default environments of a fresh Slipway: dev and qa auto-sync; prod is protected and manual. */
export const DEFAULT_ENVIRONMENTS: Omit<Environment, 'createdAt'>[] = [
  {
    name: 'dev',
    protected: false,
    autoSync: true,
    requireApproval: false,
    syncWindows: [],
    description: 'Development',
  },
  {
    name: 'qa',
    protected: false,
    autoSync: true,
    requireApproval: false,
    syncWindows: [],
    description: 'Quality assurance',
  },
  {
    name: 'stage',
    protected: false,
    autoSync: false,
    requireApproval: false,
    syncWindows: [],
    description: 'Staging',
  },
  {
    name: 'prod',
    protected: true,
    autoSync: false,
    requireApproval: false,
    syncWindows: [],
    description: 'Production',
  },
];

export class AppStore {
  readonly #store: Store;
  readonly #now: () => string;

  constructor(store: Store, now: () => string = () => new Date().toISOString()) {
    this.#store = store;
    this.#now = now;
    store.migrate(MIGRATIONS);
    const has = store.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM gitops_envs').get()?.n ?? 0;
    if (has === 0) for (const e of DEFAULT_ENVIRONMENTS) this.putEnv(e);
  }

  // Applications
  listApps(): { spec: AppSpec; createdBy: string; createdAt: string; updatedAt: string }[] {
    return this.#store.db
      .prepare<[], Row>('SELECT * FROM gitops_apps ORDER BY name')
      .all()
      .map((r) => ({
        spec: JSON.parse(String(r.spec)) as AppSpec,
        createdBy: String(r.created_by),
        createdAt: String(r.created_at),
        updatedAt: String(r.updated_at),
      }));
  }

  findApp(name: string): AppSpec | undefined {
    const r = this.#store.db.prepare<[string], Row>('SELECT spec FROM gitops_apps WHERE name = ?').get(name);
    return r ? (JSON.parse(String(r.spec)) as AppSpec) : undefined;
  }

  getApp(name: string): AppSpec {
    const s = this.findApp(name);
    if (!s) throw new NotFoundError(`Application "${name}" not found`);
    return s;
  }

  /** Inserts (or, with `upsert`, replaces) an application; returns whether it was new. */
  putApp(spec: AppSpec, actor: string, upsert: boolean): boolean {
    return this.#store.transaction(() => {
      const exists = this.findApp(spec.name) !== undefined;
      if (exists && !upsert)
        throw new ConflictError(`Application "${spec.name}" already exists (use apply to update it)`);
      const now = this.#now();
      if (exists) {
        this.#store.db
          .prepare('UPDATE gitops_apps SET spec = ?, updated_at = ? WHERE name = ?')
          .run(JSON.stringify(spec), now, spec.name);
      } else {
        this.#store.db
          .prepare(
            'INSERT INTO gitops_apps (name, spec, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(spec.name, JSON.stringify(spec), actor, now, now);
      }
      return !exists;
    });
  }

  deleteApp(name: string): void {
    this.#store.transaction(() => {
      const r = this.#store.db.prepare('DELETE FROM gitops_apps WHERE name = ?').run(name);
      if (r.changes === 0) throw new NotFoundError(`Application "${name}" not found`);
      this.#store.db.prepare('DELETE FROM gitops_status WHERE name = ?').run(name);
    });
  }

  getStatus(name: string): AppStatus {
    const r = this.#store.db
      .prepare<[string], Row>('SELECT status FROM gitops_status WHERE name = ?')
      .get(name);
    return r ? (JSON.parse(String(r.status)) as AppStatus) : structuredClone(EMPTY_STATUS);
  }

  putStatus(name: string, status: AppStatus): void {
    this.#store.db
      .prepare('INSERT OR REPLACE INTO gitops_status (name, status) VALUES (?, ?)')
      .run(name, JSON.stringify(status));
  }

  // Environments
  listEnvs(): Environment[] {
    return this.#store.db.prepare<[], Row>('SELECT * FROM gitops_envs ORDER BY name').all().map(envOf);
  }

  findEnv(name: string): Environment | undefined {
    const r = this.#store.db.prepare<[string], Row>('SELECT * FROM gitops_envs WHERE name = ?').get(name);
    return r ? envOf(r) : undefined;
  }

  putEnv(e: Omit<Environment, 'createdAt'>): Environment {
    const prev = this.findEnv(e.name);
    this.#store.db
      .prepare(
        'INSERT OR REPLACE INTO gitops_envs (name, protected, auto_sync, require_approval, sync_windows, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        e.name,
        e.protected ? 1 : 0,
        e.autoSync ? 1 : 0,
        e.requireApproval ? 1 : 0,
        JSON.stringify(e.syncWindows),
        e.description,
        prev?.createdAt ?? this.#now(),
      );
    return this.findEnv(e.name)!;
  }

  // History
  startHistory(
    e: Omit<HistoryEntry, 'id' | 'finishedAt' | 'durationMs' | 'result' | 'detail'> & {
      manifests: KubeObject[];
      sources?: AppSource[];
    },
  ): number {
    const r = this.#store.db
      .prepare(
        `INSERT INTO gitops_history (app, revision, commits, author, message, initiated_by, kind, result, started_at, digest, manifests, sources, changes)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'Running', ?, ?, ?, ?, ?)`,
      )
      .run(
        e.app,
        e.revision,
        JSON.stringify(e.commits),
        e.author,
        e.message,
        e.initiatedBy,
        e.kind,
        e.startedAt,
        e.digest,
        JSON.stringify(e.manifests),
        e.sources ? JSON.stringify(e.sources) : null,
        e.changes ? JSON.stringify(e.changes) : null,
      );
    return Number(r.lastInsertRowid);
  }

  finishHistory(id: number, result: HistoryEntry['result'], detail: string, durationMs: number): void {
    this.#store.db
      .prepare(
        'UPDATE gitops_history SET result = ?, detail = ?, finished_at = ?, duration_ms = ? WHERE id = ?',
      )
      .run(result, detail, this.#now(), Math.round(durationMs), id);
  }

  listHistory(app: string, limit = 100): HistoryEntry[] {
    return this.#store.db
      .prepare<[string, number], Row>('SELECT * FROM gitops_history WHERE app = ? ORDER BY id DESC LIMIT ?')
      .all(app, limit)
      .map(historyOf);
  }

  getHistory(
    app: string,
    id: number,
  ): HistoryEntry & { manifests: KubeObject[]; sources: AppSource[] | undefined } {
    const r = this.#store.db
      .prepare<[string, number], Row>('SELECT * FROM gitops_history WHERE app = ? AND id = ?')
      .get(app, id);
    if (!r) throw new NotFoundError(`Application "${app}" has no history entry ${id}`);
    return {
      ...historyOf(r),
      manifests: JSON.parse(String(r.manifests ?? '[]')) as KubeObject[],
      sources: r.sources ? (JSON.parse(String(r.sources)) as AppSource[]) : undefined,
    };
  }

  /** Marks history rows left Running by a crash as Error (called on start). */
  failInterrupted(): void {
    this.#store.db
      .prepare(
        `UPDATE gitops_history SET result = 'Error', detail = 'interrupted by a restart', finished_at = ? WHERE result = 'Running'`,
      )
      .run(this.#now());
  }

  // Promotions
  addPromotion(p: Omit<Promotion, 'id' | 'createdAt' | 'updatedAt'>): Promotion {
    const now = this.#now();
    const r = this.#store.db
      .prepare(
        `INSERT INTO gitops_promotions (service, from_env, to_env, tag, state, requested_by, approved_by, commit_sha, repo, file, message, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        p.service,
        p.from,
        p.to,
        p.tag,
        p.state,
        p.requestedBy,
        p.approvedBy,
        p.commit,
        p.repo,
        p.file,
        p.message,
        now,
        now,
      );
    return this.getPromotion(Number(r.lastInsertRowid));
  }

  updatePromotion(
    id: number,
    change: Partial<Pick<Promotion, 'state' | 'approvedBy' | 'commit' | 'message'>>,
  ): Promotion {
    const p = this.getPromotion(id);
    const next = { ...p, ...change };
    this.#store.db
      .prepare(
        'UPDATE gitops_promotions SET state = ?, approved_by = ?, commit_sha = ?, message = ?, updated_at = ? WHERE id = ?',
      )
      .run(next.state, next.approvedBy, next.commit, next.message, this.#now(), id);
    return this.getPromotion(id);
  }

  getPromotion(id: number): Promotion {
    const r = this.#store.db.prepare<[number], Row>('SELECT * FROM gitops_promotions WHERE id = ?').get(id);
    if (!r) throw new NotFoundError(`Promotion ${id} not found`);
    return promotionOf(r);
  }

  listPromotions(): Promotion[] {
    return this.#store.db
      .prepare<[], Row>('SELECT * FROM gitops_promotions ORDER BY id DESC LIMIT 200')
      .all()
      .map(promotionOf);
  }
}

function envOf(r: Row): Environment {
  return {
    name: String(r.name),
    protected: r.protected === 1,
    autoSync: r.auto_sync === 1,
    requireApproval: r.require_approval === 1,
    syncWindows: JSON.parse(String(r.sync_windows)) as SyncWindow[],
    description: String(r.description),
    createdAt: String(r.created_at),
  };
}

function historyOf(r: Row): HistoryEntry {
  return {
    id: Number(r.id),
    app: String(r.app),
    revision: (r.revision as string | null) ?? null,
    commits: JSON.parse(String(r.commits)) as string[],
    author: (r.author as string | null) ?? null,
    message: (r.message as string | null) ?? null,
    initiatedBy: String(r.initiated_by),
    kind: String(r.kind) as HistoryEntry['kind'],
    result: String(r.result) as HistoryEntry['result'],
    detail: (r.detail as string | null) ?? null,
    startedAt: String(r.started_at),
    finishedAt: (r.finished_at as string | null) ?? null,
    durationMs: (r.duration_ms as number | null) ?? null,
    digest: (r.digest as string | null) ?? null,
    ...(r.changes ? { changes: JSON.parse(String(r.changes)) as RollbackChange[] } : {}),
  };
}

function promotionOf(r: Row): Promotion {
  return {
    id: Number(r.id),
    service: String(r.service),
    from: String(r.from_env),
    to: String(r.to_env),
    tag: String(r.tag),
    state: String(r.state) as Promotion['state'],
    requestedBy: String(r.requested_by),
    approvedBy: (r.approved_by as string | null) ?? null,
    commit: (r.commit_sha as string | null) ?? null,
    repo: String(r.repo),
    file: String(r.file),
    message: (r.message as string | null) ?? null,
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
  };
}
