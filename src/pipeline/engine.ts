// The pipeline engine: reacts to `git.push`, queues builds with per-pipeline and global limits, numbers
// them per pipeline (transactionally, only ever up), runs stages and steps, stores logs and state, and
// marks builds that were running when the process died as interrupted.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative, resolve as resolvePath } from 'node:path';
import { type AuthService, type Action, can, type Resource, SYSTEM, type Subject } from '../auth/index.ts';
import {
  ConflictError,
  describeError,
  type EventBus,
  InputError,
  isSlipwayError,
  type Logger,
  NotAllowedError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from '../core/index.ts';
import { type GitPushEvent, type GitService, parseRepoName, runGit, ZERO_SHA } from '../git/index.ts';
import { parseImageReference, RegistryClient, type RegistryCredentials, referenceOf } from '../oci/index.ts';
import type { Store } from '../store/index.ts';
import { BuildLog } from './build-log.ts';
import {
  type BuildFacts,
  cronMatches,
  evaluateWhen,
  expandTag,
  matchesTrigger,
  refFacts,
} from './conditions.ts';
import { type CredentialStore, secretStrings } from './credentials.ts';
import type { Executor } from './executor.ts';
import { LogMasker } from './mask.ts';
import type { ImageCache, PreparedImage } from './rootfs.ts';
import { shellQuote } from './shell-pool.ts';
import { mergePipelines, PIPELINE_FILE, parsePipeline } from './spec.ts';
import type { PipelineSpec, StageSpec, StepSpec } from './spec-types.ts';
import {
  type BuildRecord,
  type BuildStatus,
  type BuildTrigger,
  FINISHED,
  type ImageBuilder,
  type PipelineInfo,
  type StageRecord,
  type StepRecord,
  type StepStatus,
  type ValuesEditor,
} from './types.ts';

const MIGRATIONS = [
  `CREATE TABLE pipeline_counters (repo TEXT PRIMARY KEY, last INTEGER NOT NULL);
   CREATE TABLE pipeline_builds (
     repo TEXT NOT NULL, number INTEGER NOT NULL, status TEXT NOT NULL, trigger TEXT NOT NULL,
     ref TEXT NOT NULL, sha TEXT NOT NULL, who TEXT NOT NULL, created_at TEXT NOT NULL,
     started_at TEXT, finished_at TEXT, error TEXT, spec TEXT, stages TEXT NOT NULL DEFAULT '[]',
     images TEXT NOT NULL DEFAULT '[]', seq INTEGER NOT NULL,
     PRIMARY KEY (repo, number));
   CREATE INDEX pipeline_builds_status ON pipeline_builds (status, seq);
   CREATE TABLE pipeline_defs (
     repo TEXT PRIMARY KEY, valid INTEGER NOT NULL, error TEXT, triggers TEXT, updated_at TEXT NOT NULL);
   CREATE TABLE pipeline_credentials (
     name TEXT PRIMARY KEY, kind TEXT NOT NULL, value TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
     created_at TEXT NOT NULL, created_by TEXT NOT NULL);`,
];

/** Builds at once by default: one per core (at least 2); steps mostly wait on their processes. */
const DEFAULT_GLOBAL_CONCURRENCY = Math.max(2, availableParallelism());

interface BuildRow {
  repo: string;
  number: number;
  status: BuildStatus;
  trigger: BuildTrigger;
  ref: string;
  sha: string;
  who: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
  spec: string | null;
  stages: string;
  images: string;
}

function toRecord(row: BuildRow): BuildRecord {
  const r: BuildRecord = {
    repo: row.repo,
    number: row.number,
    status: row.status,
    trigger: row.trigger,
    ref: row.ref,
    sha: row.sha,
    who: row.who,
    createdAt: row.created_at,
    images: JSON.parse(row.images) as string[],
    stages: JSON.parse(row.stages) as StageRecord[],
  };
  if (row.started_at) r.startedAt = row.started_at;
  if (row.finished_at) r.finishedAt = row.finished_at;
  if (row.error) r.error = row.error;
  return r;
}

export interface EngineOptions {
  store: Store;
  events: EventBus;
  logger: Logger;
  auth: AuthService;
  git: GitService;
  dataDir: string;
  publicUrl: () => string;
  executor: Executor;
  /** Runs Slipway's own commands on this machine (checkouts); default: `executor`. */
  host?: Executor;
  credentials: CredentialStore;
  images: ImageCache;
  values: ValuesEditor;
  imageBuilder?: ImageBuilder;
  /** Credentials for Slipway's own registry (image builds and tags) when a step names none. */
  registryCredentials?: () => Promise<RegistryCredentials | undefined>;
  /** Builds that may run at once over all pipelines (default: the number of cores, at least 2). */
  globalConcurrency?: number;
  /** HTTP client for commit statuses (tests pass their own). */
  fetch?: typeof fetch;
}

interface Approval {
  right: Action;
  resource: Resource;
  resolve(who: string): void;
  reject(err: Error): void;
}

interface Running {
  controller: AbortController;
  approvals: Set<Approval>;
  cancelledBy?: string;
}

class StepFailure extends Error {}

export class PipelineEngine {
  readonly #o: EngineOptions;
  readonly #running = new Map<string, Running>();
  readonly #unsubscribe: (() => void)[] = [];
  #stopping = false;
  #seq = 0;
  #cronTimer: NodeJS.Timeout | undefined;
  #lastCronMinute = '';
  readonly #pending = new Set<Promise<unknown>>();
  readonly #pushChains = new Map<string, Promise<unknown>>();
  readonly #fileCache = new Map<string, string | undefined>();

  constructor(options: EngineOptions) {
    this.#o = options;
    options.store.migrate({ module: 'pipeline', steps: MIGRATIONS });
    const max = options.store.db
      .prepare<[], { s: number | null }>('SELECT MAX(seq) AS s FROM pipeline_builds')
      .get();
    this.#seq = max?.s ?? 0;
  }

  get buildsDir(): string {
    return join(this.#o.dataDir, 'builds');
  }

  buildDir(repo: string, number: number): string {
    const r = parseRepoName(repo);
    return join(this.buildsDir, r.org, r.name, String(number));
  }

  /** Marks builds left running by a dead process as interrupted, subscribes to pushes, starts queued builds. */
  async start(): Promise<void> {
    this.#stopping = false;
    const now = new Date().toISOString();
    const stale = this.#o.store.db
      .prepare<[], BuildRow>("SELECT * FROM pipeline_builds WHERE status IN ('running', 'waiting')")
      .all();
    for (const row of stale) {
      const stages = JSON.parse(row.stages) as StageRecord[];
      markUnfinished(stages, 'interrupted');
      this.#o.store.db
        .prepare(
          "UPDATE pipeline_builds SET status = 'interrupted', finished_at = ?, error = ?, stages = ? WHERE repo = ? AND number = ?",
        )
        .run(
          now,
          'Slipway stopped while the build was running',
          JSON.stringify(stages),
          row.repo,
          row.number,
        );
      this.#emitStatus({ ...toRecord(row), status: 'interrupted' });
    }
    this.#unsubscribe.push(
      this.#o.events.on('git.push', (event) => {
        // Pushes to one repository are handled in the order they arrived, so build numbers follow pushes.
        const previous = this.#pushChains.get(event.repo) ?? Promise.resolve();
        const next = previous
          .then(() => this.onPush(event))
          .catch((err) => this.#o.logger.error({ err, repo: event.repo }, 'cannot handle a push'))
          .finally(() => {
            if (this.#pushChains.get(event.repo) === next) this.#pushChains.delete(event.repo);
          });
        this.#pushChains.set(event.repo, next);
        this.#track(next);
      }),
    );
    this.#cronTimer = setInterval(() => this.#cron(new Date()), 15_000);
    this.#cronTimer.unref();
    this.#pump();
  }

  /** Stops taking work and kills running steps; their builds stay `running` and become interrupted on the next start. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#cronTimer) clearInterval(this.#cronTimer);
    for (const off of this.#unsubscribe.splice(0)) off();
    for (const r of this.#running.values()) {
      r.controller.abort(new Error('shutdown'));
      for (const a of r.approvals) a.reject(new Error('shutdown'));
    }
    await Promise.allSettled([...this.#pending]);
    this.#o.executor.close?.();
    this.#o.host?.close?.();
  }

  #track<T>(p: Promise<T>): void {
    this.#pending.add(p);
    p.finally(() => this.#pending.delete(p));
  }

  /** Files at a commit never change: cache them (bounded) so queueing many builds of one commit stays cheap. */
  async #readAtCommit(repo: string, sha: string, file: string): Promise<string | undefined> {
    if (!/^[0-9a-f]{40}$/.test(sha)) return this.#o.git.readFile(repo, sha, file);
    const key = `${repo}\0${sha}\0${file}`;
    if (this.#fileCache.has(key)) return this.#fileCache.get(key);
    const text = await this.#o.git.readFile(repo, sha, file);
    if (this.#fileCache.size >= 256) this.#fileCache.delete(this.#fileCache.keys().next().value as string);
    this.#fileCache.set(key, text);
    return text;
  }

  async #loadSpec(repo: string, sha: string): Promise<PipelineSpec | undefined> {
    const text = await this.#readAtCommit(repo, sha, PIPELINE_FILE);
    if (text === undefined) return undefined;
    let spec = parsePipeline(text, PIPELINE_FILE);
    const seen = new Set<string>([`${repo}:${PIPELINE_FILE}`]);
    while (spec.extends) {
      const ext = spec.extends;
      const key = `${ext.repo}:${ext.file}`;
      if (seen.has(key) || seen.size > 5) {
        throw new ValidationError(
          `${PIPELINE_FILE}: extends chain loops or is too deep at ${ext.repo}//${ext.file}`,
          {
            location: { file: PIPELINE_FILE, field: 'extends' },
          },
        );
      }
      seen.add(key);
      if (!this.#o.git.hasRepo(ext.repo)) {
        throw new ValidationError(
          `${PIPELINE_FILE}: extends names repository "${ext.repo}", which does not exist`,
          {
            location: { file: PIPELINE_FILE, field: 'extends.repo' },
          },
        );
      }
      const baseText = await this.#o.git.readFile(ext.repo, ext.ref, ext.file);
      if (baseText === undefined) {
        throw new ValidationError(
          `${PIPELINE_FILE}: extends file ${ext.repo}//${ext.file}@${ext.ref} not found`,
          {
            location: { file: PIPELINE_FILE, field: 'extends' },
          },
        );
      }
      const base = parsePipeline(baseText, `${ext.repo}//${ext.file}`);
      const next = mergePipelines(base, { ...spec, present: spec.present.filter((k) => k !== 'extends') });
      if (base.extends) next.extends = base.extends;
      spec = next;
    }
    if (spec.stages.length === 0) {
      throw new ValidationError(`${PIPELINE_FILE}: the pipeline has no stages`, {
        location: { file: PIPELINE_FILE, field: 'stages' },
      });
    }
    return spec;
  }

  #saveDef(repo: string, spec: PipelineSpec | undefined, error: string | undefined): void {
    this.#o.store.db
      .prepare(
        `INSERT INTO pipeline_defs (repo, valid, error, triggers, updated_at) VALUES (?,?,?,?,?)
         ON CONFLICT(repo) DO UPDATE SET valid = excluded.valid, error = excluded.error, triggers = excluded.triggers, updated_at = excluded.updated_at`,
      )
      .run(
        repo,
        spec ? 1 : 0,
        error ?? null,
        spec ? JSON.stringify(spec.triggers) : null,
        new Date().toISOString(),
      );
  }

  /** Handles one updated ref: reads the pipeline at the new commit and queues a build when a trigger matches. */
  async onPush(event: GitPushEvent): Promise<BuildRecord | undefined> {
    if (event.after === ZERO_SHA) return undefined;
    if (!event.ref.startsWith('refs/heads/') && !event.ref.startsWith('refs/tags/')) return undefined;
    const build = {
      repo: event.repo,
      ref: event.ref,
      sha: event.after,
      trigger: 'push' as const,
      who: event.pusher,
    };
    // An invalid pipeline file cannot say which refs it wants, so every push gets a failed build that says why.
    const loaded = await this.#loadSpecOrFail(build);
    if (!loaded || 'failed' in loaded) return loaded?.failed;
    const { spec } = loaded;
    this.#saveDef(event.repo, spec, undefined);
    if (!matchesTrigger(spec, event.ref)) return undefined;
    return this.#createBuild({ ...build, spec });
  }

  /**
   * The pipeline at a build's commit; when the file is invalid (a 4xx error), a failed build that
   * says why instead. Undefined when there is no pipeline file.
   */
  async #loadSpecOrFail(build: {
    repo: string;
    ref: string;
    sha: string;
    trigger: BuildTrigger;
    who: string;
  }): Promise<{ spec: PipelineSpec } | { failed: BuildRecord } | undefined> {
    try {
      const spec = await this.#loadSpec(build.repo, build.sha);
      return spec && { spec };
    } catch (err) {
      if (!isSlipwayError(err) || err.status >= 500) throw err;
      if (build.trigger === 'push') this.#saveDef(build.repo, undefined, err.message);
      return { failed: this.#createBuild({ ...build, error: err.message }) };
    }
  }

  #createBuild(input: {
    repo: string;
    ref: string;
    sha: string;
    trigger: BuildTrigger;
    who: string;
    spec?: PipelineSpec;
    error?: string;
  }): BuildRecord {
    const now = new Date().toISOString();
    const failed = input.error !== undefined;
    const number = this.#o.store.transaction(() => {
      const row = this.#o.store.db
        .prepare<[string], { last: number }>(
          'INSERT INTO pipeline_counters (repo, last) VALUES (?, 1) ON CONFLICT(repo) DO UPDATE SET last = last + 1 RETURNING last',
        )
        .get(input.repo)!;
      this.#o.store.db
        .prepare(
          `INSERT INTO pipeline_builds (repo, number, status, trigger, ref, sha, who, created_at, finished_at, error, spec, seq)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
        )
        .run(
          input.repo,
          row.last,
          failed ? 'failed' : 'queued',
          input.trigger,
          input.ref,
          input.sha,
          input.who,
          now,
          failed ? now : null,
          input.error ?? null,
          input.spec ? JSON.stringify(input.spec) : null,
          ++this.#seq,
        );
      return row.last;
    });
    const build = this.getBuild(input.repo, number);
    if (failed) {
      const log = new BuildLog(this.buildDir(input.repo, number), this.#o.events, input.repo, number);
      log.write(`Invalid pipeline: ${input.error}\n`);
      log.close();
    }
    this.#emitStatus(build);
    if (failed) this.#reportCommitStatus(build);
    this.#pump();
    return build;
  }

  /** Queues a build of `branch` (or a tag with `ref`) by hand. */
  async runManual(
    repo: string,
    options: { branch?: string; ref?: string; who: string },
  ): Promise<BuildRecord> {
    const name = parseRepoName(repo).full;
    this.#o.git.getRepo(name);
    const ref = options.ref ?? (options.branch ? `refs/heads/${options.branch}` : undefined);
    const target = ref ?? 'HEAD';
    const sha = await this.#o.git.resolveRef(name, target);
    if (!sha)
      throw new NotFoundError(
        `${name} has no ${options.branch ? `branch "${options.branch}"` : `ref "${target}"`}`,
      );
    const fullRef = ref ?? (await this.#headRef(name));
    const build = { repo: name, ref: fullRef, sha, trigger: 'manual' as const, who: options.who };
    const loaded = await this.#loadSpecOrFail(build);
    if (loaded && 'failed' in loaded) return loaded.failed;
    if (!loaded) throw new NotFoundError(`${name} has no ${PIPELINE_FILE} at ${target}`);
    const { spec } = loaded;
    if (!spec.triggers.manual)
      throw new NotAllowedError(
        `The pipeline of ${name} does not allow manual runs (triggers.manual: false)`,
      );
    this.#saveDef(name, spec, undefined);
    return this.#createBuild({ ...build, spec });
  }

  async #headRef(repo: string): Promise<string> {
    const res = await runGit(['-C', this.#o.git.repoPath(repo), 'symbolic-ref', 'HEAD'], {
      allowFailure: true,
    });
    return res.stdout.trim() || 'refs/heads/main';
  }

  /** Queues a new build of the same commit and ref. */
  async rerun(repo: string, number: number, who: string): Promise<BuildRecord> {
    const old = this.getBuild(repo, number);
    const build = { repo: old.repo, ref: old.ref, sha: old.sha, trigger: 'rerun' as const, who };
    const loaded = await this.#loadSpecOrFail(build);
    if (loaded && 'failed' in loaded) return loaded.failed;
    if (!loaded) throw new NotFoundError(`${old.repo} has no ${PIPELINE_FILE} at ${old.sha}`);
    return this.#createBuild({ ...build, spec: loaded.spec });
  }

  /** Cancels a queued or running build; running steps are killed with their whole process tree. */
  cancel(repo: string, number: number, who: string): BuildRecord {
    const build = this.getBuild(repo, number);
    if (FINISHED.includes(build.status))
      throw new ConflictError(`Build ${build.repo} #${number} has already finished (${build.status})`);
    const running = this.#running.get(`${build.repo}#${number}`);
    if (running) {
      running.cancelledBy = who;
      running.controller.abort(new Error(`cancelled by ${who}`));
      for (const a of running.approvals) a.reject(new Error(`cancelled by ${who}`));
      return build;
    }
    this.#update(build.repo, number, {
      status: 'cancelled',
      finished_at: new Date().toISOString(),
      error: `Cancelled by ${who}`,
    });
    const after = this.getBuild(build.repo, number);
    this.#emitStatus(after);
    return after;
  }

  /** Approves the build's waiting approval step, when `subject` holds the right it asks for. */
  approve(repo: string, number: number, subject: Subject): BuildRecord {
    const build = this.getBuild(repo, number);
    const running = this.#running.get(`${build.repo}#${number}`);
    const pending = running ? [...running.approvals] : [];
    if (pending.length === 0)
      throw new ConflictError(`Build ${build.repo} #${number} is not waiting for an approval`);
    const ok = pending.filter((a) => can(subject, a.right, a.resource));
    if (ok.length === 0) {
      throw new NotAllowedError(
        `User "${subject.name}" may not approve build ${build.repo} #${number} (needs ${pending[0]!.right})`,
      );
    }
    for (const a of ok) a.resolve(subject.name);
    return this.getBuild(build.repo, number);
  }

  getBuild(repo: string, number: number): BuildRecord {
    const row = this.#o.store.db
      .prepare<[string, number], BuildRow>('SELECT * FROM pipeline_builds WHERE repo = ? AND number = ?')
      .get(parseRepoName(repo).full, number);
    if (!row) throw new NotFoundError(`Build ${repo} #${number} not found`);
    return toRecord(row);
  }

  listBuilds(repo?: string, options: { limit?: number } = {}): BuildRecord[] {
    const limit = Math.min(options.limit ?? 100, 1000);
    const rows = repo
      ? this.#o.store.db
          .prepare<[string, number], BuildRow>(
            'SELECT * FROM pipeline_builds WHERE repo = ? ORDER BY number DESC LIMIT ?',
          )
          .all(parseRepoName(repo).full, limit)
      : this.#o.store.db
          .prepare<[number], BuildRow>('SELECT * FROM pipeline_builds ORDER BY seq DESC LIMIT ?')
          .all(limit);
    return rows.map(toRecord);
  }

  listPipelines(): PipelineInfo[] {
    const rows = this.#o.store.db
      .prepare<
        [],
        { repo: string; valid: number; error: string | null; triggers: string | null; updated_at: string }
      >('SELECT * FROM pipeline_defs ORDER BY repo')
      .all();
    return rows.map((r) => {
      const last = this.#o.store.db
        .prepare<[string], { number: number; status: BuildStatus }>(
          'SELECT number, status FROM pipeline_builds WHERE repo = ? ORDER BY number DESC LIMIT 1',
        )
        .get(r.repo);
      const info: PipelineInfo = { repo: r.repo, valid: r.valid === 1, updatedAt: r.updated_at };
      if (r.error) info.error = r.error;
      if (r.triggers) info.triggers = JSON.parse(r.triggers) as PipelineInfo['triggers'];
      if (last) {
        info.lastBuild = last.number;
        info.lastStatus = last.status;
      }
      return info;
    });
  }

  logFile(repo: string, number: number): string {
    return join(this.buildDir(repo, number), 'log.txt');
  }

  #update(
    repo: string,
    number: number,
    fields: Partial<
      Record<'status' | 'started_at' | 'finished_at' | 'error' | 'stages' | 'images', string | null>
    >,
  ): void {
    const keys = Object.keys(fields);
    if (keys.length === 0) return;
    this.#o.store.db
      .prepare(
        `UPDATE pipeline_builds SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE repo = ? AND number = ?`,
      )
      .run(...keys.map((k) => fields[k as keyof typeof fields] ?? null), repo, number);
  }

  #emitStatus(build: BuildRecord): void {
    this.#o.events.emit('build.status', {
      repo: build.repo,
      number: build.number,
      status: build.status,
      ref: build.ref,
      sha: build.sha,
      who: build.who,
      ...(build.error ? { error: build.error } : {}),
    });
  }

  #pump(): void {
    if (this.#stopping) return;
    const limit = this.#o.globalConcurrency ?? DEFAULT_GLOBAL_CONCURRENCY;
    if (this.#running.size >= limit) return;
    const queued = this.#o.store.db
      .prepare<[], BuildRow>("SELECT * FROM pipeline_builds WHERE status = 'queued' ORDER BY seq")
      .all();
    const blocked = new Set<string>();
    for (const row of queued) {
      if (this.#running.size >= limit) break;
      if (blocked.has(row.repo)) continue;
      const spec = JSON.parse(row.spec ?? '{}') as PipelineSpec;
      const runningHere = [...this.#running.keys()].filter((k) => k.startsWith(`${row.repo}#`)).length;
      if (runningHere >= (spec.concurrency ?? 1)) {
        blocked.add(row.repo);
        continue;
      }
      const running: Running = { controller: new AbortController(), approvals: new Set() };
      this.#running.set(`${row.repo}#${row.number}`, running);
      this.#update(row.repo, row.number, { status: 'running', started_at: new Date().toISOString() });
      const p = this.#run(row, spec, running)
        .catch((err) => this.#o.logger.error({ err, repo: row.repo, number: row.number }, 'build crashed'))
        .finally(() => {
          this.#running.delete(`${row.repo}#${row.number}`);
          this.#pump();
        });
      this.#track(p);
    }
  }

  async #run(row: BuildRow, spec: PipelineSpec, running: Running): Promise<void> {
    const { repo, number } = row;
    const dir = this.buildDir(repo, number);
    const ws = join(dir, 'workspace');
    mkdirSync(ws, { recursive: true });
    const log = new BuildLog(dir, this.#o.events, repo, number);
    const stages: StageRecord[] = spec.stages.map(initStage);
    const images: string[] = [];
    // Stage and step changes within one turn of the event loop make one write of the build's row.
    let saveQueued = false;
    const saveNow = () => {
      saveQueued = false;
      this.#update(repo, number, { stages: JSON.stringify(stages), images: JSON.stringify(images) });
    };
    const save = () => {
      if (saveQueued) return;
      saveQueued = true;
      setImmediate(() => {
        if (saveQueued) saveNow();
      });
    };
    saveNow();
    const startedBuild = this.getBuild(repo, number);
    this.#emitStatus(startedBuild);
    this.#reportCommitStatus(startedBuild);
    const signal = spec.timeoutMs
      ? AbortSignal.any([running.controller.signal, AbortSignal.timeout(spec.timeoutMs)])
      : running.controller.signal;
    const facts: BuildFacts = {
      event: row.trigger === 'cron' ? 'cron' : row.trigger === 'push' ? 'push' : 'manual',
      ...refFacts(row.ref),
      env: spec.env,
      build: number,
      sha: row.sha,
    };
    const secretsDir = join(dir, 'secrets');
    let status: BuildStatus = 'success';
    let error: string | undefined;
    const state: RunState = {
      repo,
      number,
      ws,
      log,
      signal,
      running,
      spec,
      facts,
      images,
      secretEnv: {},
      secretValues: [],
      save,
      last: {},
    };
    try {
      log.write(
        `Build ${repo} #${number} of ${row.ref} at ${row.sha.slice(0, 12)} (${row.trigger} by ${row.who})\n`,
      );
      for (const use of spec.credentials) {
        const value = this.#o.credentials.get(use.name);
        state.secretValues.push(...secretStrings(value));
        const plain =
          value.kind === 'usernamePassword' ? `${value.username}:${value.password}` : (value.value ?? '');
        const envName = use.env ?? use.file ?? use.name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
        if (use.file) {
          mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
          const file = join(secretsDir, use.name);
          writeFileSync(file, plain, { mode: 0o600 });
          state.secretEnv[envName] = file;
        } else {
          state.secretEnv[envName] = plain;
          if (value.kind === 'usernamePassword') {
            state.secretEnv[`${envName}_USR`] = value.username ?? '';
            state.secretEnv[`${envName}_PSW`] = value.password ?? '';
          }
        }
      }
      let failed = false;
      for (let i = 0; i < spec.stages.length; i++) {
        const stage = spec.stages[i]!;
        const rec = stages[i]!;
        if (failed || signal.aborted) {
          skipStage(rec);
          continue;
        }
        const ok = await this.#runStage(stage, rec, state, `${i}`);
        if (!ok) failed = true;
      }
      if (signal.aborted) {
        const reason = running.cancelledBy
          ? `Cancelled by ${running.cancelledBy}`
          : describeError(signal.reason);
        if (this.#stopping && !running.cancelledBy) {
          // Shutdown: leave the build running in the database; the next start marks it interrupted.
          saveNow();
          return;
        }
        status = running.cancelledBy ? 'cancelled' : 'failed';
        error = running.cancelledBy
          ? reason
          : spec.timeoutMs
            ? `Build timed out after ${spec.timeoutMs / 1000}s`
            : reason;
      } else if (failed) {
        status = 'failed';
        error = firstError(stages) ?? 'A stage failed';
      }
    } catch (err) {
      status = 'failed';
      error = describeError(err);
      log.write(`ERROR: ${error}\n`);
    } finally {
      rmSync(secretsDir, { recursive: true, force: true });
      // The workspace (a clone, build outputs) can be large: removed without blocking the event loop.
      await rm(ws, { recursive: true, force: true }).catch((err) =>
        this.#o.logger.warn({ err: describeError(err), repo, number }, 'cannot remove a build workspace'),
      );
    }
    log.write(`Finished: ${status.toUpperCase()}${error ? ` (${error})` : ''}\n`);
    log.close();
    saveQueued = false;
    this.#update(repo, number, {
      status,
      finished_at: new Date().toISOString(),
      error: error ?? null,
      stages: JSON.stringify(stages),
      images: JSON.stringify(images),
    });
    const done = this.getBuild(repo, number);
    this.#emitStatus(done);
    this.#reportCommitStatus(done);
  }

  async #runStage(stage: StageSpec, rec: StageRecord, state: RunState, path: string): Promise<boolean> {
    if (!safeWhen(stage, state.facts)) {
      rec.status = 'skipped';
      for (const s of rec.steps) s.status = 'skipped';
      for (const p of rec.parallel) skipStage(p);
      this.#stageEvent(state, rec.name, 'skipped');
      state.save();
      return true;
    }
    rec.status = 'running';
    rec.startedAt = new Date().toISOString();
    this.#stageEvent(state, rec.name, 'running');
    state.log.write(`\n── Stage ${rec.name}${stage.image ? ` (image ${stage.image})` : ''}\n`, {
      stage: rec.name,
    });
    state.save();
    let ok = true;
    const controller = new AbortController();
    const signals = [state.signal, controller.signal];
    if (stage.timeoutMs) signals.push(AbortSignal.timeout(stage.timeoutMs));
    const signal = AbortSignal.any(signals);
    try {
      if (stage.parallel.length > 0) {
        const results = await Promise.all(
          stage.parallel.map((p, i) => this.#runStage(p, rec.parallel[i]!, state, `${path}.${i}`)),
        );
        ok = results.every(Boolean);
      } else {
        let image: PreparedImage | undefined;
        if (stage.image) {
          const why = this.#o.executor.imageSupport();
          if (why)
            throw new UnavailableError(
              `Stage "${stage.name}" asks for image "${stage.image}", which cannot be honoured here: ${why}. Run Slipway as root on Linux with util-linux unshare, or remove image:`,
            );
          state.log.write(`Pulling ${stage.image}\n`, { stage: rec.name });
          image = await this.#o.images.prepare(stage.image, await this.#registryAuth(undefined));
          rec.image = `${stage.image}@${image.digest}`;
        }
        for (let j = 0; j < stage.steps.length; j++) {
          const step = stage.steps[j]!;
          const srec = rec.steps[j]!;
          if (!ok || signal.aborted) {
            srec.status = 'skipped';
            continue;
          }
          const stepOk = await this.#runStep(
            step,
            srec,
            { ...state, signal },
            { stage, stageName: rec.name, image, file: `steps/${path}.${j}.log` },
          );
          if (!stepOk && !step.continueOnError) ok = false;
        }
      }
    } catch (err) {
      ok = false;
      rec.error = describeError(err);
      state.log.write(`ERROR: ${rec.error}\n`, { stage: rec.name });
      for (const s of rec.steps) if (s.status === 'pending') s.status = 'skipped';
    }
    if (stage.timeoutMs && signal.aborted && !state.signal.aborted) {
      rec.error = `Stage timed out after ${stage.timeoutMs / 1000}s`;
      ok = false;
    }
    if (this.#isShutdown(state)) return false;
    rec.status = ok ? 'success' : state.running.cancelledBy ? 'cancelled' : 'failed';
    rec.finishedAt = new Date().toISOString();
    this.#stageEvent(state, rec.name, rec.status);
    state.save();
    return ok;
  }

  #isShutdown(state: RunState): boolean {
    return this.#stopping && state.signal.aborted && !state.running.cancelledBy;
  }

  #stageEvent(state: RunState, stage: string, status: StepStatus, step?: string): void {
    this.#o.events.emit('build.stage', {
      repo: state.repo,
      number: state.number,
      stage,
      status,
      ...(step ? { step } : {}),
    });
  }

  async #runStep(
    step: StepSpec,
    rec: StepRecord,
    state: RunState,
    where: { stage: StageSpec; stageName: string; image: PreparedImage | undefined; file: string },
  ): Promise<boolean> {
    rec.status = 'running';
    rec.startedAt = new Date().toISOString();
    rec.log = where.file;
    this.#stageEvent(state, where.stageName, 'running', rec.name);
    state.save();
    const masker = new LogMasker(state.secretValues);
    const write = (text: string) =>
      state.log.write(masker.push(text), { stage: where.stageName, step: rec.name, stepFile: where.file });
    state.log.write(`── ${rec.name}\n`, { stage: where.stageName, step: rec.name, stepFile: where.file });
    let ok = false;
    for (let attempt = 0; attempt <= step.retry && !state.signal.aborted; attempt++) {
      rec.attempts = attempt + 1;
      if (attempt > 0) write(`Retrying (attempt ${attempt + 1} of ${step.retry + 1})\n`);
      const signal = step.timeoutMs
        ? AbortSignal.any([state.signal, AbortSignal.timeout(step.timeoutMs)])
        : state.signal;
      try {
        await this.#execute(step, rec, { ...state, signal }, where, write);
        ok = true;
        delete rec.error;
      } catch (err) {
        rec.error =
          signal.aborted && !state.signal.aborted && step.timeoutMs
            ? `Timed out after ${step.timeoutMs / 1000}s`
            : describeError(err);
        const rest = masker.flush();
        if (rest)
          state.log.write(rest.endsWith('\n') ? rest : `${rest}\n`, {
            stage: where.stageName,
            step: rec.name,
            stepFile: where.file,
          });
        write(`${masker.mask(rec.error)}\n`);
      }
      if (ok) break;
    }
    const rest = masker.flush();
    if (rest)
      state.log.write(rest.endsWith('\n') ? rest : `${rest}\n`, {
        stage: where.stageName,
        step: rec.name,
        stepFile: where.file,
      });
    // Shutdown: the step stays "running" in the record; the next start marks it interrupted.
    if (this.#isShutdown(state)) return false;
    rec.status = ok ? 'success' : state.running.cancelledBy ? 'cancelled' : 'failed';
    if (!ok && step.continueOnError) write('(continue-on-error: the stage goes on)\n');
    rec.finishedAt = new Date().toISOString();
    this.#stageEvent(state, where.stageName, rec.status, rec.name);
    state.save();
    return ok;
  }

  #env(
    state: RunState,
    where: { stage: StageSpec; image: PreparedImage | undefined },
    step: StepSpec,
  ): Record<string, string> {
    const { branch, tag } = state.facts;
    const base: Record<string, string> = where.image
      ? {}
      : {
          PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
          HOME: state.ws,
          TMPDIR: process.env.TMPDIR ?? '/tmp',
          WORKSPACE: state.ws,
        };
    return {
      ...base,
      LANG: 'C.UTF-8',
      CI: 'true',
      SLIPWAY: 'true',
      BUILD_NUMBER: String(state.number),
      SLIPWAY_REPO: state.repo,
      GIT_COMMIT: state.facts.sha,
      GIT_BRANCH: branch ?? '',
      GIT_TAG: tag ?? '',
      ...state.spec.env,
      ...where.stage.env,
      ...step.env,
      ...state.secretEnv,
    };
  }

  async #registryAuth(name: string | undefined): Promise<RegistryCredentials | undefined> {
    if (name) {
      const v = this.#o.credentials.get(name);
      if (v.kind !== 'usernamePassword')
        throw new InputError(`Credential "${name}" must be a usernamePassword credential for a registry`);
      return { username: v.username ?? '', password: v.password ?? '' };
    }
    return this.#o.registryCredentials?.();
  }

  #registryHost(): string {
    return new URL(this.#o.publicUrl()).host;
  }

  async #execute(
    step: StepSpec,
    rec: StepRecord,
    state: RunState,
    where: { stage: StageSpec; stageName: string; image: PreparedImage | undefined; file: string },
    write: (text: string) => void,
  ): Promise<void> {
    const facts = { ...state.facts, now: new Date() };
    switch (step.kind) {
      case 'run': {
        const res = await this.#o.executor.run({
          command: step.run,
          cwd: state.ws,
          env: this.#env(state, where, step),
          ...(where.image
            ? { image: where.image, scratch: join(state.ws, '..', `rootfs-${Date.now()}`) }
            : {}),
          signal: state.signal,
          onOutput: write,
        });
        rec.exitCode = res.exitCode;
        if (res.killed)
          throw new StepFailure(
            state.running.cancelledBy ? `Killed: cancelled by ${state.running.cancelledBy}` : 'Killed',
          );
        if (res.exitCode !== 0) throw new StepFailure(`Command failed with exit code ${res.exitCode}`);
        return;
      }
      case 'checkout': {
        // One shell command on a reused shell: a local clone that borrows the repository's objects
        // (--shared: nothing copied; all branches as origin/*, tags) and a detached checkout of the commit.
        const src = this.#o.git.repoPath(state.repo);
        let out = '';
        const res = await (this.#o.host ?? this.#o.executor).run({
          command: `git clone -q --shared --no-checkout -- ${shellQuote(src)} . && git -c advice.detachedHead=false checkout -q -f --detach ${shellQuote(state.facts.sha)}`,
          cwd: state.ws,
          env: {
            PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
            HOME: state.ws,
            GIT_TERMINAL_PROMPT: '0',
            LANG: 'C.UTF-8',
          },
          signal: state.signal,
          onOutput: (s) => {
            out += s;
          },
        });
        if (res.killed) throw new StepFailure('Checkout killed');
        if (res.exitCode !== 0) throw new StepFailure(`git checkout failed: ${out.trim().slice(-2000)}`);
        write(
          `Checked out ${state.facts.sha.slice(0, 12)} (${state.facts.branch ?? state.facts.tag ?? ''})\n`,
        );
        return;
      }
      case 'image-build': {
        if (!this.#o.imageBuilder)
          throw new UnavailableError(
            'No image builder is configured in this Slipway (image-build needs one)',
          );
        const contextDir = inside(state.ws, step.context, 'context');
        const dockerfile = inside(contextDir, step.dockerfile, 'dockerfile');
        const host = this.#registryHost();
        const ref = parseImageReference(step.image, { defaultRegistry: host });
        const refs = step.tags.map((t) => `${ref.registry}/${ref.repository}:${expandTag(t, facts)}`);
        write(`Building ${refs.join(', ')}\n`);
        const creds = await this.#registryAuth(step.credentials);
        const { digest } = await this.#o.imageBuilder.build({
          contextDir,
          dockerfile,
          tags: refs,
          push: true,
          ...(creds ? { credentials: creds } : {}),
          onLog: (line) => write(line.endsWith('\n') ? line : `${line}\n`),
          signal: state.signal,
        });
        state.images.push(...refs.map((r) => `${r}@${digest}`));
        state.last.image = { registry: ref.registry, repository: ref.repository, digest };
        write(`Pushed ${digest}\n`);
        return;
      }
      case 'image-push': {
        const named = step.image
          ? parseImageReference(step.image, { defaultRegistry: this.#registryHost() })
          : undefined;
        const source = named
          ? { registry: named.registry, repository: named.repository, reference: referenceOf(named) }
          : state.last.image && { ...state.last.image, reference: state.last.image.digest };
        if (!source)
          throw new StepFailure(
            'image-push needs an image: build one first with image-build, or name one with image:',
          );
        const tags = step.tags.map((t) => expandTag(t, facts));
        const creds = await this.#registryAuth(step.credentials);
        const client = new RegistryClient(creds ? { credentials: creds } : {});
        const digest = await client.addTags(source.registry, source.repository, source.reference, tags);
        for (const t of tags) state.images.push(`${source.registry}/${source.repository}:${t}@${digest}`);
        write(`Tagged ${source.repository}@${digest} as ${tags.join(', ')}\n`);
        return;
      }
      case 'deploy': {
        const tag = expandTag(step.tag, facts);
        const file = step.file ?? `${step.environment}/${step.service}/values.yaml`;
        const { commit } = await this.#o.values.setImageTag({
          repo: step.repo,
          file,
          tag,
          author: `slipway-build-${state.number}`,
          message: step.message,
        });
        write(`Set image.tag=${tag} in ${step.repo}:${file} (commit ${commit.slice(0, 12)})\n`);
        return;
      }
      case 'approval': {
        const right = step.right as Action;
        const resource: Resource = step.environment
          ? { kind: 'environment', name: step.environment, protected: true }
          : SYSTEM;
        rec.status = 'waiting';
        this.#update(state.repo, state.number, { status: 'waiting' });
        this.#emitStatus(this.getBuild(state.repo, state.number));
        state.save();
        write(
          `Waiting for approval by a user with ${right}${step.environment ? ` on ${step.environment}` : ''}${step.message ? `: ${step.message}` : ''}\n`,
        );
        const who = await new Promise<string>((resolve, reject) => {
          const approval: Approval = {
            right,
            resource,
            resolve: (w) => {
              state.running.approvals.delete(approval);
              resolve(w);
            },
            reject: (e) => {
              state.running.approvals.delete(approval);
              reject(e);
            },
          };
          state.running.approvals.add(approval);
          state.signal.addEventListener('abort', () => approval.reject(new StepFailure('Approval aborted')), {
            once: true,
          });
        });
        rec.status = 'running';
        this.#update(state.repo, state.number, { status: 'running' });
        this.#emitStatus(this.getBuild(state.repo, state.number));
        write(`Approved by ${who}\n`);
        return;
      }
    }
  }

  #reportCommitStatus(build: BuildRecord): void {
    const ext = this.#o.git.externalSecrets(build.repo);
    if (!ext?.statusApiUrl || !ext.statusToken || (ext.provider !== 'github' && ext.provider !== 'gitea'))
      return;
    const state =
      build.status === 'success'
        ? 'success'
        : build.status === 'failed'
          ? 'failure'
          : build.status === 'queued' || build.status === 'running' || build.status === 'waiting'
            ? 'pending'
            : 'error';
    const url = `${ext.statusApiUrl.replace(/\/+$/, '')}/repos/${ext.remoteName}/statuses/${build.sha}`;
    const doFetch = this.#o.fetch ?? fetch;
    const p = doFetch(url, {
      method: 'POST',
      headers: {
        authorization: `token ${ext.statusToken}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify({
        state,
        target_url: `${this.#o.publicUrl()}/builds/${build.repo}/${build.number}`,
        description: `Build #${build.number} ${build.status}`.slice(0, 140),
        context: 'slipway/pipeline',
      }),
    })
      .then(async (res) => {
        if (!res.ok)
          this.#o.logger.warn({ repo: build.repo, status: res.status }, 'commit status was refused');
        await res.arrayBuffer().catch(() => undefined);
      })
      .catch((err) =>
        this.#o.logger.warn({ repo: build.repo, err: describeError(err) }, 'cannot report a commit status'),
      );
    this.#track(p);
  }

  #cron(now: Date): void {
    const minute = now.toISOString().slice(0, 16);
    if (minute === this.#lastCronMinute || this.#stopping) return;
    this.#lastCronMinute = minute;
    for (const def of this.listPipelines()) {
      const crons = def.triggers?.cron ?? [];
      if (!crons.some((c) => safeCron(c, now))) continue;
      this.#track(
        (async () => {
          const ref = await this.#headRef(def.repo);
          const sha = await this.#o.git.resolveRef(def.repo, ref);
          if (!sha) return;
          const spec = await this.#loadSpec(def.repo, sha);
          if (spec) this.#createBuild({ repo: def.repo, ref, sha, trigger: 'cron', who: 'cron', spec });
        })().catch((err) =>
          this.#o.logger.warn({ repo: def.repo, err: describeError(err) }, 'cron build failed to start'),
        ),
      );
    }
  }
}

interface RunState {
  repo: string;
  number: number;
  ws: string;
  log: BuildLog;
  signal: AbortSignal;
  running: Running;
  spec: PipelineSpec;
  facts: BuildFacts;
  images: string[];
  secretEnv: Record<string, string>;
  secretValues: string[];
  save: () => void;
  /** Shared by every stage of the build (the state object itself is copied per stage). */
  last: { image?: { registry: string; repository: string; digest: string } };
}

function inside(root: string, rel: string, field: string): string {
  const full = resolvePath(root, rel);
  const r = relative(root, full);
  if (r.startsWith('..') || resolvePath(root, r) !== full)
    throw new InputError(`${field} "${rel}" leaves the workspace`);
  return full;
}

function safeWhen(stage: StageSpec, facts: BuildFacts): boolean {
  return evaluateWhen(stage.when, facts);
}

function safeCron(expr: string, now: Date): boolean {
  try {
    return cronMatches(expr, now);
  } catch {
    return false;
  }
}

function initStage(stage: StageSpec): StageRecord {
  return {
    name: stage.name,
    status: 'pending',
    steps: stage.steps.map((s) => ({ name: s.name, kind: s.kind, status: 'pending', attempts: 0 })),
    parallel: stage.parallel.map(initStage),
  };
}

function skipStage(rec: StageRecord): void {
  rec.status = 'skipped';
  for (const s of rec.steps) if (s.status === 'pending') s.status = 'skipped';
  for (const p of rec.parallel) skipStage(p);
}

function markUnfinished(stages: StageRecord[], status: StepStatus): void {
  for (const st of stages) {
    if (st.status === 'running' || st.status === 'waiting') st.status = status;
    for (const s of st.steps) if (s.status === 'running' || s.status === 'waiting') s.status = status;
    markUnfinished(st.parallel, status);
  }
}

function firstError(stages: StageRecord[]): string | undefined {
  for (const st of stages) {
    if (st.status !== 'failed') continue;
    if (st.error) return `Stage "${st.name}": ${st.error}`;
    const step = st.steps.find((s) => s.status === 'failed' && s.error);
    if (step) return `Stage "${st.name}", step "${step.name}": ${step.error}`;
    const inner = firstError(st.parallel);
    if (inner) return inner;
  }
  return undefined;
}
