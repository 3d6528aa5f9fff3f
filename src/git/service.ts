// GitService: bare repositories under `<data>/git/<org>/<name>.git`, read helpers, commits without a
// working tree, external mirrors (webhooks and polling) and the `git.push` event.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subject } from '../auth/index.ts';
import {
  ConflictError,
  type EventBus,
  InputError,
  type Logger,
  NotFoundError,
  UnavailableError,
} from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { readRef } from './refs.ts';
import { runGit, runGitBuffer } from './git-cli.ts';
import { isSafeRef, parseRepoName } from './names.ts';
import type { SecretBox } from './secret-box.ts';

export const ZERO_SHA = '0000000000000000000000000000000000000000';

export interface PushCommit {
  sha: string;
  message: string;
  author: string;
}

/** One updated ref. `before`/`after` are ZERO_SHA for created/deleted refs. */
export interface GitPushEvent {
  /** `org/name` */
  repo: string;
  /** Full ref, e.g. `refs/heads/pre-release/1.0.0`. */
  ref: string;
  before: string;
  after: string;
  pusher: string;
  /** Newest first, at most 20. */
  commits: PushCommit[];
  /** How Slipway learned about it. */
  source: 'push' | 'commit' | 'webhook' | 'poll' | 'local';
}

declare module '../core/index.ts' {
  interface EventMap {
    'git.push': GitPushEvent;
    'git.repo': { repo: string; action: 'created' | 'deleted'; actor: string };
  }
}

export type GitProvider = 'github' | 'gitea' | 'gitlab' | 'git';

/** Settings of a repository mirrored from elsewhere (GitHub, Gitea, GitLab, any git URL). */
export interface ExternalRepoInput {
  url: string;
  provider?: GitProvider;
  /** Shared secret for push webhooks (GitHub/Gitea HMAC key, GitLab token). */
  webhookSecret?: string;
  /** HTTPS token for fetching (and for commit statuses unless statusToken is given). */
  token?: string;
  /** User name that goes with `token` (default `x-access-token`). */
  username?: string;
  /** SSH private key (deploy key) for ssh:// or scp-style URLs. */
  sshKey?: string;
  /** API base for commit statuses, e.g. `https://api.github.com` or `https://gitea.example/api/v1`. */
  statusApiUrl?: string;
  statusToken?: string;
  /** The repository's name on the provider (`owner/name`); derived from the URL when omitted. */
  remoteName?: string;
  /** Poll on the configured interval (default true). */
  poll?: boolean;
}

export interface RepoInfo {
  repo: string;
  org: string;
  name: string;
  createdAt: string;
  createdBy: string;
  /** Present for mirrors of external repositories (secrets never included). */
  external?: {
    url: string;
    provider: GitProvider;
    remoteName: string;
    poll: boolean;
    hasWebhookSecret: boolean;
  };
}

interface ExternalSecrets {
  webhookSecret?: string;
  token?: string;
  username?: string;
  sshKey?: string;
  statusToken?: string;
}

interface RepoRow {
  repo: string;
  org: string;
  name: string;
  created_at: string;
  created_by: string;
  external_url: string | null;
  provider: string | null;
  remote_name: string | null;
  status_api_url: string | null;
  poll: number;
  secrets: string | null;
}

const MIGRATIONS = [
  `CREATE TABLE git_repos (
    repo TEXT PRIMARY KEY, org TEXT NOT NULL, name TEXT NOT NULL,
    created_at TEXT NOT NULL, created_by TEXT NOT NULL,
    external_url TEXT, provider TEXT, remote_name TEXT, status_api_url TEXT,
    poll INTEGER NOT NULL DEFAULT 0, secrets TEXT)`,
];

const HOOK = `#!/bin/sh
# Installed by Slipway: reports updated refs to the server process that ran this push.
if [ -n "$SLIPWAY_PUSH_LOG" ]; then cat >> "$SLIPWAY_PUSH_LOG"; else cat >/dev/null; fi
exit 0
`;

export interface GitServiceOptions {
  store: Store;
  events: EventBus;
  dataDir: string;
  logger: Logger;
  box: SecretBox;
}

/** What the webhook and status code need to know about an external repository (with secrets). */
export interface ExternalRepoSecrets {
  repo: string;
  url: string;
  provider: GitProvider;
  remoteName: string;
  statusApiUrl: string | undefined;
  webhookSecret: string | undefined;
  statusToken: string | undefined;
}

function actorName(actor: Subject | string): string {
  return typeof actor === 'string' ? actor : actor.name;
}

/** `owner/name` from a clone URL (https, ssh, scp-style or file). */
export function remoteNameFromUrl(url: string): string {
  const cleaned = url.replace(/\.git\/?$/, '').replace(/\/+$/, '');
  const parts = cleaned.split(/[/:]/).filter(Boolean);
  return parts.slice(-2).join('/');
}

export class GitService {
  readonly root: string;
  readonly #o: GitServiceOptions;
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(options: GitServiceOptions) {
    this.#o = options;
    this.root = join(options.dataDir, 'git');
    mkdirSync(this.root, { recursive: true });
    options.store.migrate({ module: 'git', steps: MIGRATIONS });
  }

  /** The bare repository directory of `org/name` (it may not exist). */
  repoPath(org: string, name?: string): string {
    const r = parseRepoName(name === undefined ? org : `${org}/${name}`);
    return join(this.root, r.org, `${r.name}.git`);
  }

  #row(repo: string): RepoRow | undefined {
    return this.#o.store.db
      .prepare<[string], RepoRow>('SELECT * FROM git_repos WHERE repo = ?')
      .get(parseRepoName(repo).full);
  }

  #info(row: RepoRow): RepoInfo {
    const info: RepoInfo = {
      repo: row.repo,
      org: row.org,
      name: row.name,
      createdAt: row.created_at,
      createdBy: row.created_by,
    };
    if (row.external_url) {
      const secrets = this.#secrets(row);
      info.external = {
        url: row.external_url,
        provider: (row.provider ?? 'git') as GitProvider,
        remoteName: row.remote_name ?? remoteNameFromUrl(row.external_url),
        poll: row.poll === 1,
        hasWebhookSecret: Boolean(secrets.webhookSecret),
      };
    }
    return info;
  }

  #secrets(row: RepoRow): ExternalSecrets {
    if (!row.secrets) return {};
    return JSON.parse(this.#o.box.open(row.secrets)) as ExternalSecrets;
  }

  /** Creates an empty bare repository, or a mirror of an external one when `external` is given. */
  async createRepo(
    repo: string,
    options: { actor: Subject | string; defaultBranch?: string; external?: ExternalRepoInput },
  ): Promise<RepoInfo> {
    const r = parseRepoName(repo, 'name');
    const ext = options.external;
    if (ext) validateExternal(ext);
    if (this.#row(r.full)) throw new ConflictError(`Repository "${r.full}" already exists`);
    const path = this.repoPath(r.full);
    if (existsSync(path)) {
      throw new ConflictError(
        `A directory for "${r.full}" already exists at ${path} but is not registered; move it away first`,
      );
    }
    mkdirSync(join(this.root, r.org), { recursive: true });
    const branch = options.defaultBranch ?? 'main';
    if (!isSafeRef(`refs/heads/${branch}`)) {
      throw new InputError(`Invalid default branch "${branch}"`, { location: { field: 'defaultBranch' } });
    }
    await runGit(['init', '--bare', '--quiet', `--initial-branch=${branch}`, path]);
    await runGit(['-C', path, 'config', 'http.receivepack', ext ? 'false' : 'true']);
    await runGit(['-C', path, 'config', 'receive.fsckObjects', 'true']);
    this.#installHook(path);
    const secrets: ExternalSecrets = {};
    if (ext?.webhookSecret) secrets.webhookSecret = ext.webhookSecret;
    if (ext?.token) secrets.token = ext.token;
    if (ext?.username) secrets.username = ext.username;
    if (ext?.sshKey) secrets.sshKey = ext.sshKey;
    if (ext?.statusToken) secrets.statusToken = ext.statusToken;
    const actor = actorName(options.actor);
    this.#o.store.db
      .prepare(
        `INSERT INTO git_repos (repo, org, name, created_at, created_by, external_url, provider, remote_name,
           status_api_url, poll, secrets) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
      )
      .run(
        r.full,
        r.org,
        r.name,
        new Date().toISOString(),
        actor,
        ext?.url ?? null,
        ext ? (ext.provider ?? 'git') : null,
        ext ? (ext.remoteName ?? remoteNameFromUrl(ext.url)) : null,
        ext?.statusApiUrl ?? null,
        ext && ext.poll !== false ? 1 : 0,
        ext && Object.keys(secrets).length > 0 ? this.#o.box.seal(JSON.stringify(secrets)) : null,
      );
    this.#o.events.emit('git.repo', { repo: r.full, action: 'created', actor });
    return this.getRepo(r.full);
  }

  #installHook(path: string): void {
    const hook = join(path, 'hooks', 'post-receive');
    mkdirSync(join(path, 'hooks'), { recursive: true });
    writeFileSync(hook, HOOK, { mode: 0o755 });
  }

  getRepo(repo: string): RepoInfo {
    const row = this.#row(repo);
    if (!row) throw new NotFoundError(`Repository "${repo}" not found`);
    return this.#info(row);
  }

  hasRepo(repo: string): boolean {
    try {
      return this.#row(repo) !== undefined;
    } catch {
      return false;
    }
  }

  listRepos(): RepoInfo[] {
    return this.#o.store.db
      .prepare<[], RepoRow>('SELECT * FROM git_repos ORDER BY repo')
      .all()
      .map((row) => this.#info(row));
  }

  async deleteRepo(repo: string, actor: Subject | string): Promise<void> {
    const r = parseRepoName(repo);
    if (!this.#row(r.full)) throw new NotFoundError(`Repository "${r.full}" not found`);
    this.#o.store.db.prepare('DELETE FROM git_repos WHERE repo = ?').run(r.full);
    await rm(this.repoPath(r.full), { recursive: true, force: true });
    this.#o.events.emit('git.repo', { repo: r.full, action: 'deleted', actor: actorName(actor) });
  }

  /** Re-installs the push hook in every repository (repositories created by older versions). */
  ensureHooks(): void {
    for (const info of this.listRepos()) {
      const path = this.repoPath(info.repo);
      if (existsSync(path)) this.#installHook(path);
    }
  }

  /** The commit a ref, branch, tag or sha names, or undefined. */
  async resolveRef(repo: string, ref: string): Promise<string | undefined> {
    if (ref.startsWith('-')) return undefined;
    if (ref.startsWith('refs/heads/') && isSafeRef(ref)) {
      // Fast path without spawning git: a loose branch ref, else packed-refs.
      const path = this.repoPath(repo);
      const sha = await readRef(path, ref);
      if (sha !== undefined) return sha;
      if (!existsSync(path)) return undefined;
    }
    const res = await runGit(
      ['-C', this.repoPath(repo), 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`],
      {
        allowFailure: true,
      },
    );
    return res.code === 0 ? res.stdout.trim() : undefined;
  }

  /** A file's contents at `ref`, or undefined when the file (or ref) does not exist. */
  async readFile(repo: string, ref: string, path: string): Promise<string | undefined> {
    const buf = await this.readFileBuffer(repo, ref, path);
    return buf?.toString('utf8');
  }

  async readFileBuffer(repo: string, ref: string, path: string): Promise<Buffer | undefined> {
    if (ref.startsWith('-') || path.includes('..') || path.startsWith('/')) return undefined;
    return runGitBuffer(['-C', this.repoPath(repo), 'cat-file', 'blob', `${ref}:${path}`]);
  }

  /** Every branch and tag with its commit. */
  async listRefs(repo: string): Promise<Map<string, string>> {
    const res = await runGit(
      [
        '-C',
        this.repoPath(repo),
        'for-each-ref',
        '--format=%(refname) %(objectname)',
        'refs/heads',
        'refs/tags',
      ],
      { allowFailure: true },
    );
    const refs = new Map<string, string>();
    for (const line of res.stdout.split('\n')) {
      const [ref, sha] = line.split(' ');
      if (ref && sha) refs.set(ref, sha);
    }
    return refs;
  }

  /** Commits reachable from `ref`, newest first. */
  async log(
    repo: string,
    ref: string,
    options: { limit?: number; path?: string } = {},
  ): Promise<PushCommit[]> {
    if (ref.startsWith('-')) return [];
    const args = [
      '-C',
      this.repoPath(repo),
      'log',
      `-n${options.limit ?? 50}`,
      '--format=%H%x1f%an%x1f%s',
      ref,
    ];
    if (options.path) args.push('--', options.path);
    const res = await runGit(args, { allowFailure: true });
    return parseLog(res.stdout);
  }

  /**
   * Commits `files` (path → content, or null to delete) onto `branch` without a working tree.
   * `expectedParent` makes the update conditional (compare-and-swap); a concurrent change gives ConflictError.
   */
  async commitFiles(
    repo: string,
    input: {
      branch: string;
      files: Record<string, string | Buffer | null>;
      message: string;
      author: { name: string; email?: string };
      expectedParent?: string;
    },
  ): Promise<{ commit: string; parent: string | undefined }> {
    const path = this.repoPath(repo);
    const ref = `refs/heads/${input.branch}`;
    if (!isSafeRef(ref))
      throw new InputError(`Invalid branch "${input.branch}"`, { location: { field: 'branch' } });
    this.getRepo(repo);
    const parent = await this.resolveRef(repo, ref);
    if (input.expectedParent !== undefined && input.expectedParent !== (parent ?? ZERO_SHA)) {
      throw new ConflictError(`Branch "${input.branch}" of ${repo} moved; retry on the new head`);
    }
    const tmp = mkdtempSync(join(tmpdir(), 'slipway-index-'));
    const env = {
      GIT_INDEX_FILE: join(tmp, 'index'),
      GIT_AUTHOR_NAME: input.author.name,
      GIT_AUTHOR_EMAIL: input.author.email ?? `${input.author.name}@slipway.local`,
      GIT_COMMITTER_NAME: 'Slipway',
      GIT_COMMITTER_EMAIL: 'slipway@slipway.local',
    };
    try {
      if (parent) await runGit(['-C', path, 'read-tree', parent], { env });
      for (const [file, content] of Object.entries(input.files)) {
        if (file.startsWith('/') || file.split('/').includes('..') || file === '') {
          throw new InputError(`Invalid file path "${file}"`, { location: { field: 'files' } });
        }
        if (content === null) {
          await runGit(['-C', path, 'update-index', '--force-remove', '--', file], { env });
          continue;
        }
        const blob = (
          await runGit(['-C', path, 'hash-object', '-w', '--stdin'], { env, input: content })
        ).stdout.trim();
        await runGit(['-C', path, 'update-index', '--add', '--cacheinfo', `100644,${blob},${file}`], { env });
      }
      const tree = (await runGit(['-C', path, 'write-tree'], { env })).stdout.trim();
      const args = ['-C', path, 'commit-tree', tree, '-m', input.message];
      if (parent) args.push('-p', parent);
      const commit = (await runGit(args, { env })).stdout.trim();
      const upd = await runGit(['-C', path, 'update-ref', ref, commit, parent ?? ZERO_SHA], {
        allowFailure: true,
      });
      if (upd.code !== 0)
        throw new ConflictError(`Branch "${input.branch}" of ${repo} moved; retry on the new head`);
      await this.emitRefUpdates(repo, [{ ref, before: parent ?? ZERO_SHA, after: commit }], {
        pusher: input.author.name,
        source: 'commit',
      });
      return { commit, parent };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** Emits `git.push` for each changed ref (used after receive-pack, commits, fetches). */
  async emitRefUpdates(
    repo: string,
    updates: { ref: string; before: string; after: string }[],
    meta: { pusher: string; source: GitPushEvent['source'] },
  ): Promise<GitPushEvent[]> {
    const out: GitPushEvent[] = [];
    for (const u of updates) {
      if (u.before === u.after) continue;
      const commits = u.after === ZERO_SHA ? [] : await this.#newCommits(repo, u);
      const event: GitPushEvent = {
        repo: parseRepoName(repo).full,
        ...u,
        pusher: meta.pusher,
        commits,
        source: meta.source,
      };
      out.push(event);
      this.#o.events.emit('git.push', event);
    }
    return out;
  }

  async #newCommits(repo: string, u: { ref: string; before: string; after: string }): Promise<PushCommit[]> {
    const args = ['-C', this.repoPath(repo), 'log', '-n20', '--format=%H%x1f%an%x1f%s', u.after];
    if (u.before !== ZERO_SHA) args.push(`^${u.before}`);
    else {
      const refs = await this.listRefs(repo);
      for (const [ref, sha] of refs) if (ref !== u.ref && sha !== u.after) args.push(`^${sha}`);
    }
    const res = await runGit(args, { allowFailure: true });
    return parseLog(res.stdout);
  }

  /** Parses a post-receive log (`old new ref` per line) and emits the events. */
  async reportReceive(repo: string, log: string, pusher: string): Promise<GitPushEvent[]> {
    const updates: { ref: string; before: string; after: string }[] = [];
    for (const line of log.split('\n')) {
      const [before, after, ref] = line.trim().split(' ');
      if (before && after && ref) updates.push({ before, after, ref });
    }
    return this.emitRefUpdates(repo, updates, { pusher, source: 'push' });
  }

  /** Snapshot of refs, for writers that push to the bare repository directly: diff with {@link emitChangesSince}. */
  snapshotRefs(repo: string): Promise<Map<string, string>> {
    return this.listRefs(repo);
  }

  async emitChangesSince(
    repo: string,
    before: Map<string, string>,
    meta: { pusher: string; source?: GitPushEvent['source'] },
  ): Promise<GitPushEvent[]> {
    const after = await this.listRefs(repo);
    return this.emitRefUpdates(repo, diffRefs(before, after), {
      pusher: meta.pusher,
      source: meta.source ?? 'local',
    });
  }

  /** Secrets of an external repository (for webhook verification and commit statuses). */
  externalSecrets(repo: string): ExternalRepoSecrets | undefined {
    const row = this.#row(repo);
    if (!row?.external_url) return undefined;
    const s = this.#secrets(row);
    return {
      repo: row.repo,
      url: row.external_url,
      provider: (row.provider ?? 'git') as GitProvider,
      remoteName: row.remote_name ?? remoteNameFromUrl(row.external_url),
      statusApiUrl: row.status_api_url ?? undefined,
      webhookSecret: s.webhookSecret,
      statusToken: s.statusToken ?? s.token,
    };
  }

  /** Fetches an external repository into its mirror and emits `git.push` for changed refs. Serialized per repo. */
  async fetchExternal(
    repo: string,
    meta: { pusher?: string; source?: 'webhook' | 'poll' } = {},
  ): Promise<GitPushEvent[]> {
    const row = this.#row(repo);
    if (!row?.external_url) throw new NotFoundError(`Repository "${repo}" is not an external mirror`);
    const previous = this.#locks.get(row.repo) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(() => this.#fetch(row, meta));
    this.#locks.set(row.repo, run);
    try {
      return await run;
    } finally {
      if (this.#locks.get(row.repo) === run) this.#locks.delete(row.repo);
    }
  }

  async #fetch(
    row: RepoRow,
    meta: { pusher?: string; source?: 'webhook' | 'poll' },
  ): Promise<GitPushEvent[]> {
    const path = this.repoPath(row.repo);
    const secrets = this.#secrets(row);
    const env: Record<string, string> = {};
    let keyDir: string | undefined;
    if (secrets.token) {
      const basic = Buffer.from(`${secrets.username ?? 'x-access-token'}:${secrets.token}`).toString(
        'base64',
      );
      env.GIT_CONFIG_COUNT = '1';
      env.GIT_CONFIG_KEY_0 = 'http.extraHeader';
      env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${basic}`;
    }
    if (secrets.sshKey) {
      keyDir = mkdtempSync(join(tmpdir(), 'slipway-ssh-'));
      const keyFile = join(keyDir, 'key');
      await writeFile(keyFile, secrets.sshKey.endsWith('\n') ? secrets.sshKey : `${secrets.sshKey}\n`, {
        mode: 0o600,
      });
      await chmod(keyFile, 0o600);
      env.GIT_SSH_COMMAND = `ssh -i ${keyFile} -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o BatchMode=yes`;
    }
    try {
      const before = await this.listRefs(row.repo);
      const res = await runGit(
        [
          '-C',
          path,
          'fetch',
          '--quiet',
          '--prune',
          '--no-tags',
          row.external_url!,
          '+refs/heads/*:refs/heads/*',
          '+refs/tags/*:refs/tags/*',
        ],
        { env, allowFailure: true, timeoutMs: 120_000 },
      );
      if (res.code !== 0) {
        const msg = res.stderr.trim().split('\n').slice(-1)[0] ?? '';
        throw new UnavailableError(`Cannot fetch ${row.repo} from its remote: ${redact(msg, secrets)}`);
      }
      const after = await this.listRefs(row.repo);
      return this.emitRefUpdates(row.repo, diffRefs(before, after), {
        pusher: meta.pusher ?? 'poll',
        source: meta.source ?? 'poll',
      });
    } finally {
      if (keyDir) rmSync(keyDir, { recursive: true, force: true });
    }
  }

  /** Polls every external repository that asked for it; errors are logged, not thrown. */
  async pollAll(): Promise<void> {
    const rows = this.#o.store.db
      .prepare<[], RepoRow>('SELECT * FROM git_repos WHERE external_url IS NOT NULL AND poll = 1')
      .all();
    for (const row of rows) {
      try {
        await this.fetchExternal(row.repo, { source: 'poll' });
      } catch (err) {
        this.#o.logger.warn(
          { repo: row.repo, err: (err as Error).message },
          'polling an external repository failed',
        );
      }
    }
  }

  /** Names of directories under the git root that are not registered (for diagnostics). */
  strayDirectories(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root);
  }
}

function redact(text: string, secrets: ExternalSecrets): string {
  let out = text;
  for (const s of [secrets.token, secrets.statusToken]) if (s) out = out.split(s).join('***');
  return out;
}

export function diffRefs(
  before: Map<string, string>,
  after: Map<string, string>,
): { ref: string; before: string; after: string }[] {
  const out: { ref: string; before: string; after: string }[] = [];
  for (const [ref, sha] of after) {
    const old = before.get(ref) ?? ZERO_SHA;
    if (old !== sha) out.push({ ref, before: old, after: sha });
  }
  for (const [ref, sha] of before) if (!after.has(ref)) out.push({ ref, before: sha, after: ZERO_SHA });
  return out;
}

function parseLog(text: string): PushCommit[] {
  const out: PushCommit[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [sha, author, message] = line.split('\x1f');
    if (sha) out.push({ sha, author: author ?? '', message: message ?? '' });
  }
  return out;
}

function validateExternal(ext: ExternalRepoInput): void {
  if (
    typeof ext.url !== 'string' ||
    !/^(https?:\/\/|ssh:\/\/|git@[^:]+:|file:\/\/)/.test(ext.url) ||
    /\s/.test(ext.url)
  ) {
    throw new InputError(
      `Invalid external repository URL "${String(ext.url)}": use https://, ssh://, git@host:path or file://`,
      {
        location: { field: 'url' },
      },
    );
  }
  if (ext.provider !== undefined && !['github', 'gitea', 'gitlab', 'git'].includes(ext.provider)) {
    throw new InputError(`Unknown provider "${ext.provider}": use github, gitea, gitlab or git`, {
      location: { field: 'provider' },
    });
  }
  if (ext.statusApiUrl !== undefined && !/^https?:\/\//.test(ext.statusApiUrl)) {
    throw new InputError(`Invalid statusApiUrl "${ext.statusApiUrl}"`, {
      location: { field: 'statusApiUrl' },
    });
  }
}
