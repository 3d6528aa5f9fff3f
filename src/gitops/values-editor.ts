// The values-edit service: structural edits of values files in a git repo, committed and pushed, with a
// fetch-rebase-retry loop on a rejected push so that concurrent edits are never lost.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { InputError, NotFoundError, UnavailableError } from '../core/index.ts';
import { readRef } from '../git/index.ts';
import { CatFileBatch, type GitObject } from './cat-file.ts';
import { runGit } from './git-cli.ts';
import {
  canWriteDirectly,
  encodeCommit,
  type ObjectType,
  parseTree,
  rewriteTree,
  type TreeChange,
  writeLooseObject,
} from './git-objects.ts';
import { IMAGE_TAG_RE, setYamlValue } from './yaml-edit.ts';

/** Where a repository named `org/name` (or given as a URL) is cloned from and pushed to. */
export interface RepoLocation {
  url: string;
  /**
   * Extra git settings (`key=value`), e.g. `http.extraHeader=Authorization: Basic ...`; given to git through
   * its environment (not the command line) and never logged.
   */
  config?: string[];
}

export type RepoLocator = (repo: string) => RepoLocation;

export interface SetImageTagInput {
  /** `org/name` of a Slipway repository, or a git URL. */
  repo: string;
  /** Path of the values file inside the repo, e.g. `dev/node-hello-world/values.yaml`. */
  file: string;
  tag: string;
  /** User name or `Name <email>`; the commit's author. */
  author?: string;
  /** Commit message; default "updated the image tag". */
  message?: string;
  /** Branch; default the repository's default branch. */
  branch?: string;
  /** Key path of the tag; default `image.tag`. */
  key?: string;
}

export interface SetValueInput extends Omit<SetImageTagInput, 'tag' | 'key'> {
  key: string;
  value: string;
}

export interface ValuesEditResult {
  /** The commit that holds the change (the current head when nothing changed). */
  commit: string;
  changed: boolean;
  previous: unknown;
  branch: string;
  /** How many push attempts it took. */
  attempts: number;
}

/** What pipelines and promotion use to change values files. */
export interface ValuesEditor {
  setImageTag(input: SetImageTagInput): Promise<ValuesEditResult>;
  setValue(input: SetValueInput): Promise<ValuesEditResult>;
  /**
   * Commits, on `branch`, the content `path` had at `toCommit` (how a rollback becomes a git revert).
   * Returns the new commit, or the head when nothing differs.
   */
  restorePath(input: RestorePathInput): Promise<ValuesEditResult>;
  /** Stops the object readers kept per repository. */
  close(): void;
}

/** A repository on this machine, read and written without git processes. */
interface BareRepo {
  gitDir: string;
  read(name: string): Promise<GitObject | undefined>;
  write(type: ObjectType, data: Buffer): Promise<string>;
}

/** An edit of a bare repository at commit `old`: the paths to change (blobs already written). */
type LocalEdit = (
  bare: BareRepo,
  old: string,
) => Promise<{ changed: boolean; previous: unknown; changes: Map<string, TreeChange> }>;

/** What `onCommitted` is told after a change landed. */
export interface CommittedEvent {
  repo: string;
  branch: string;
  before: string;
  after: string;
  author: string;
  email: string;
  message: string;
}

export interface RestorePathInput {
  repo: string;
  path: string;
  /** More paths restored in the same commit. */
  paths?: string[];
  toCommit: string;
  author?: string;
  message: string;
  branch?: string;
}

export interface ValuesEditorOptions {
  /** Directory for the editor's working clones (one per repository). */
  workDir: string;
  locate: RepoLocator;
  /** Called after a change has been pushed (the reconciler refreshes the apps that read this repo). */
  onCommitted?: (event: CommittedEvent) => void;
  maxAttempts?: number;
  /**
   * Take a lock file in the bare repository so writers in other processes queue instead of retrying
   * (default true). With false only the compare-and-swap orders writers (tests use it to race processes).
   */
  lock?: boolean;
  /** Committer identity. */
  committer?: { name: string; email: string };
}

const REJECTED =
  /rejected|non-fast-forward|fetch first|failed to update ref|cannot lock ref|stale info|failed to push/i;

function parseAuthor(author: string | undefined): { name: string; email: string } {
  const a = (author ?? 'slipway').trim();
  const m = /^(.*?)\s*<([^>]+)>$/.exec(a);
  if (m) return { name: m[1] || m[2]!, email: m[2]! };
  const name = a.replace(/[<>\n]/g, '') || 'slipway';
  return { name, email: `${name.replace(/[^A-Za-z0-9._-]/g, '-')}@slipway.local` };
}

function checkFilePath(file: string): string {
  const clean = normalize(file).replace(/^\.\/+/, '');
  if (!clean || clean.startsWith('..') || clean.startsWith('/') || clean.includes('\0')) {
    throw new InputError(
      `Invalid values file path ${JSON.stringify(file)}: use a relative path inside the repository`,
      {
        location: { field: 'file' },
      },
    );
  }
  return clean;
}

function safeDirName(repo: string): string {
  return repo
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 120);
}

/** Serialises async work per key. */
class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }
}

/**
 * Creates the values editor. Each repository gets one working clone under `workDir`; edits to one
 * repository run one at a time in this process, and a push rejected because someone else pushed first
 * (another Slipway, a person, a CI job) is retried after fetching and re-applying the edit.
 */
export function createValuesEditor(options: ValuesEditorOptions): ValuesEditor {
  const mutex = new KeyedMutex();
  const maxAttempts = options.maxAttempts ?? 40;
  const committer = options.committer ?? { name: 'Slipway', email: 'slipway@localhost' };

  async function git(loc: RepoLocation, cwd: string | undefined, args: string[], allowFailure = false) {
    return runGit(['-c', `user.name=${committer.name}`, '-c', `user.email=${committer.email}`, ...args], {
      ...(cwd ? { cwd } : {}),
      allowFailure,
      config: loc.config ?? [],
    });
  }

  async function ensureClone(repo: string, loc: RepoLocation): Promise<string> {
    const dir = join(options.workDir, safeDirName(repo));
    if (existsSync(join(dir, '.git'))) return dir;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    const r = await git(loc, undefined, ['clone', '-q', '--no-checkout', loc.url, dir], true);
    if (r.code !== 0) {
      rmSync(dir, { recursive: true, force: true });
      if (/not found|does not exist|not appear to be a git repository/i.test(r.stderr)) {
        throw new NotFoundError(`Repository "${repo}" not found`);
      }
      throw new UnavailableError(`Cannot clone repository "${repo}": ${r.stderr.trim().split('\n').pop()}`);
    }
    return dir;
  }

  const branches = new Map<string, string>();
  async function defaultBranch(loc: RepoLocation, dir: string): Promise<string> {
    const known = branches.get(dir);
    if (known) return known;
    const r = await git(loc, dir, ['ls-remote', '--symref', 'origin', 'HEAD'], true);
    const m = /ref: refs\/heads\/(\S+)\s+HEAD/.exec(r.stdout.toString('utf8'));
    const branch = m?.[1] ?? 'main';
    branches.set(dir, branch);
    return branch;
  }

  function editFile(
    repo: string,
    fileIn: string,
    apply: (text: string, file: string) => { text: string; changed: boolean; previous: unknown },
    meta: { author?: string; message: string; branch?: string },
  ): Promise<ValuesEditResult> {
    const file = checkFilePath(fileIn);
    return edit(
      repo,
      meta,
      async (dir) => {
        const path = join(dir, file);
        if (!existsSync(path)) throw new NotFoundError(`File "${file}" not found in ${repo}`);
        const result = apply(readFileSync(path, 'utf8'), file);
        if (result.changed) writeFileSync(path, result.text);
        return { changed: result.changed, previous: result.previous, add: [file] };
      },
      localFileEdit(file, apply, repo),
    );
  }

  async function edit(
    repo: string,
    meta: { author?: string; message: string; branch?: string },
    apply: (
      dir: string,
      loc: RepoLocation,
    ) => Promise<{ changed: boolean; previous: unknown; add: string[] }>,
    local?: LocalEdit,
  ): Promise<ValuesEditResult> {
    const loc = options.locate(repo);
    const author = parseAuthor(meta.author);
    return mutex.run(repo, async () => {
      if (local && isLocalBare(loc.url) && (!existsSync(loc.url) || canWriteDirectly(loc.url)))
        return editBare(repo, loc.url, meta, author, local);
      const dir = await ensureClone(repo, loc);
      const branch = meta.branch ?? (await defaultBranch(loc, dir));
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        const f = await git(
          loc,
          dir,
          ['fetch', '-q', '--no-tags', 'origin', `+refs/heads/${branch}:refs/remotes/origin/${branch}`],
          true,
        );
        if (f.code !== 0) {
          if (/couldn't find remote ref/i.test(f.stderr))
            throw new NotFoundError(`Branch "${branch}" not found in repository "${repo}"`);
          throw new UnavailableError(`Cannot fetch ${repo}: ${f.stderr.trim().split('\n').pop()}`);
        }
        await git(loc, dir, ['checkout', '-q', '-f', '-B', branch, `refs/remotes/origin/${branch}`]);
        const before =
          readCloneRef(dir, `refs/heads/${branch}`) ??
          (await git(loc, dir, ['rev-parse', 'HEAD'])).stdout.toString('utf8').trim();
        const result = await apply(dir, loc);
        if (!result.changed) {
          return { commit: before, changed: false, previous: result.previous, branch, attempts: attempt };
        }
        if (result.add.length > 0) await git(loc, dir, ['add', '-A', '--', ...result.add]);
        await git(loc, dir, [
          'commit',
          '-q',
          '--no-verify',
          '-m',
          meta.message,
          `--author=${author.name} <${author.email}>`,
        ]);
        const after =
          readCloneRef(dir, `refs/heads/${branch}`) ??
          (await git(loc, dir, ['rev-parse', 'HEAD'])).stdout.toString('utf8').trim();
        const push = await git(
          loc,
          dir,
          ['push', '-q', '--porcelain', 'origin', `HEAD:refs/heads/${branch}`],
          true,
        );
        if (push.code === 0) {
          options.onCommitted?.({
            repo,
            branch,
            before,
            after,
            author: author.name,
            email: author.email,
            message: meta.message,
          });
          return { commit: after, changed: true, previous: result.previous, branch, attempts: attempt };
        }
        const why = `${push.stderr}\n${push.stdout.toString('utf8')}`;
        if (!REJECTED.test(why)) {
          throw new UnavailableError(`Cannot push to ${repo}: ${why.trim().split('\n').pop()}`);
        }
        await backoff(attempt);
      }
      throw new UnavailableError(`Cannot push to ${repo}: still rejected after ${maxAttempts} attempts`);
    });
  }

  const batches = new Map<string, CatFileBatch>();
  function bareRepo(gitDir: string): BareRepo {
    let batch = batches.get(gitDir);
    if (!batch) {
      batch = new CatFileBatch(gitDir);
      batches.set(gitDir, batch);
    }
    const b = batch;
    return {
      gitDir,
      read: (name) => b.object(name),
      write: (type, data) => writeLooseObject(gitDir, type, data),
    };
  }

  /**
   * Slipway's own repositories: the commit is built in the bare repository itself, with no working tree and
   * no git process but one: the file is read through the repository's long-lived `cat-file --batch`, the
   * blob, trees and commit are written as loose objects, and the branch is moved with a compare-and-swap
   * `git update-ref <ref> <new> <old>`, which fails (and is retried on the new tip) exactly when someone
   * else moved it first.
   */
  async function editBare(
    repo: string,
    gitDir: string,
    meta: { message: string; branch?: string },
    author: { name: string; email: string },
    local: LocalEdit,
  ): Promise<ValuesEditResult> {
    if (!existsSync(gitDir)) throw new NotFoundError(`Repository "${repo}" not found`);
    const bare = bareRepo(gitDir);
    const branch = meta.branch ?? (await headBranch(gitDir));
    const ref = `refs/heads/${branch}`;
    const run = async (): Promise<ValuesEditResult> => {
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        const old = await readRef(gitDir, ref);
        if (!old) throw new NotFoundError(`Branch "${branch}" not found in repository "${repo}"`);
        const result = await local(bare, old);
        if (!result.changed)
          return { commit: old, changed: false, previous: result.previous, branch, attempts: attempt };
        const parent = await bare.read(old);
        const oldTree =
          parent?.type === 'commit'
            ? /^tree ([0-9a-f]{40})/.exec(parent.data.toString('utf8'))?.[1]
            : undefined;
        if (!oldTree) throw new UnavailableError(`Commit ${old} cannot be read from ${repo}`);
        const tree = await rewriteTree(bare.read, bare.write, oldTree, result.changes);
        if (tree === oldTree)
          return { commit: old, changed: false, previous: result.previous, branch, attempts: attempt };
        const now = Math.floor(Date.now() / 1000);
        const commit = await bare.write(
          'commit',
          encodeCommit({
            tree,
            parents: [old],
            author: { ...author, time: now },
            committer: { ...committer, time: now },
            message: meta.message,
          }),
        );
        const upd = await runGit(
          [
            '--git-dir',
            gitDir,
            'update-ref',
            '-m',
            `slipway: ${meta.message.split('\n')[0]}`,
            ref,
            commit,
            old,
          ],
          { allowFailure: true },
        );
        if (upd.code === 0) {
          options.onCommitted?.({
            repo,
            branch,
            before: old,
            after: commit,
            author: author.name,
            email: author.email,
            message: meta.message,
          });
          return { commit, changed: true, previous: result.previous, branch, attempts: attempt };
        }
        if (
          !/cannot lock ref|is at .* but expected|unable to resolve reference|reference already exists/i.test(
            upd.stderr,
          )
        )
          throw new UnavailableError(
            `Cannot update ${ref} of ${repo}: ${upd.stderr.trim().split('\n').pop()}`,
          );
        await backoff(attempt);
      }
      throw new UnavailableError(`Cannot update ${repo}: the branch kept moving for ${maxAttempts} attempts`);
    };
    // Writers in other processes queue on a lock file instead of burning attempts; the compare-and-swap
    // stays the guarantee (a push through the git server does not take this lock).
    return options.lock === false ? run() : withFileLock(join(gitDir, 'slipway-values.lock'), run);
  }

  function localFileEdit(
    file: string,
    apply: (text: string, file: string) => { text: string; changed: boolean; previous: unknown },
    repo: string,
  ): LocalEdit {
    return async (bare, old) => {
      const obj = await bare.read(`${old}:${file}`);
      if (obj?.type !== 'blob') throw new NotFoundError(`File "${file}" not found in ${repo}`);
      const r = apply(obj.data.toString('utf8'), file);
      const changes = new Map<string, TreeChange>();
      if (r.changed) {
        const mode = (await fileMode(bare, old, file)) ?? '100644';
        changes.set(file, { mode, sha: await bare.write('blob', Buffer.from(r.text, 'utf8')) });
      }
      return { changed: r.changed, previous: r.previous, changes };
    };
  }

  return {
    close() {
      for (const b of batches.values()) b.close();
      batches.clear();
    },
    async setImageTag(input) {
      if (typeof input.tag !== 'string' || !IMAGE_TAG_RE.test(input.tag)) {
        throw new InputError(
          `Invalid image tag ${JSON.stringify(input.tag)}: use letters, digits, "_", "." and "-" (max 128)`,
          {
            location: { field: 'tag' },
          },
        );
      }
      const key = (input.key ?? 'image.tag').split('.');
      return editFile(
        repoOf(input.repo),
        input.file,
        (text, file) => setYamlValue(text, key, input.tag, file),
        {
          ...(input.author !== undefined ? { author: input.author } : {}),
          message: input.message ?? 'updated the image tag',
          ...(input.branch !== undefined ? { branch: input.branch } : {}),
        },
      );
    },
    async setValue(input) {
      const key = input.key.split('.');
      if (key.some((k) => k === ''))
        throw new InputError(`Invalid key ${JSON.stringify(input.key)}`, { location: { field: 'key' } });
      return editFile(
        repoOf(input.repo),
        input.file,
        (text, file) => setYamlValue(text, key, input.value, file),
        {
          ...(input.author !== undefined ? { author: input.author } : {}),
          message: input.message ?? `updated ${input.key}`,
          ...(input.branch !== undefined ? { branch: input.branch } : {}),
        },
      );
    },
    async restorePath(input) {
      const paths = [...new Set([input.path, ...(input.paths ?? [])])].map((p) => {
        const clean = p.replace(/^\.?\/+/, '').replace(/\/+$/, '');
        if (clean.split('/').includes('..') || clean.includes('\0'))
          throw new InputError(`Invalid path ${JSON.stringify(p)}`, { location: { field: 'path' } });
        return clean;
      });
      if (!/^[0-9a-f]{7,64}$/i.test(input.toCommit))
        throw new InputError(`Invalid commit ${JSON.stringify(input.toCommit)}`);
      return edit(
        repoOf(input.repo),
        {
          ...(input.author !== undefined ? { author: input.author } : {}),
          message: input.message,
          ...(input.branch !== undefined ? { branch: input.branch } : {}),
        },
        async (dir, loc) => {
          const specs = paths.map((p) => (p === '' ? '.' : p));
          for (const spec of specs) {
            await git(loc, dir, ['rm', '-r', '-q', '--ignore-unmatch', '--', spec]);
            const co = await git(loc, dir, ['checkout', input.toCommit, '--', spec], true);
            if (co.code !== 0 && !/did not match any file/.test(co.stderr)) {
              throw new NotFoundError(`Cannot restore ${spec} from ${input.toCommit}: ${co.stderr.trim()}`);
            }
          }
          const st = await git(loc, dir, ['status', '--porcelain', '--', ...specs]);
          return { changed: st.stdout.length > 0, previous: undefined, add: specs };
        },
        async (bare, old) => {
          const changes = new Map<string, TreeChange>();
          for (const path of paths) {
            const [now, then] = await Promise.all([
              listFiles(bare, old, path),
              listFiles(bare, input.toCommit, path),
            ]);
            for (const [p, v] of then) {
              const cur = now.get(p);
              if (!cur || cur.mode !== v.mode || cur.sha !== v.sha) changes.set(p, v);
            }
            for (const p of now.keys()) if (!then.has(p)) changes.set(p, null);
          }
          return { changed: changes.size > 0, previous: undefined, changes };
        },
      );
    },
  };
}

/** The branch HEAD names in a bare repository (read from the file; `main` when it cannot be read). */
async function headBranch(gitDir: string): Promise<string> {
  try {
    const text = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    const m = /^ref: refs\/heads\/(.+)$/.exec(text);
    if (m) return m[1]!;
  } catch {
    // fall through
  }
  const head = await runGit(['--git-dir', gitDir, 'symbolic-ref', '--short', 'HEAD'], { allowFailure: true });
  return head.stdout.toString('utf8').trim() || 'main';
}

/** The mode of `file` at `commit` (e.g. 100755 for an executable), or undefined. */
async function fileMode(bare: BareRepo, commit: string, file: string): Promise<string | undefined> {
  const slash = file.lastIndexOf('/');
  const dir = slash < 0 ? '' : file.slice(0, slash);
  const tree = await bare.read(dir === '' ? `${commit}^{tree}` : `${commit}:${dir}`);
  if (tree?.type !== 'tree') return undefined;
  return parseTree(tree.data).find((e) => e.name === file.slice(slash + 1))?.mode;
}

/** Every file (blobs, links, submodules) under `path` at `commit`, by full path. */
async function listFiles(
  bare: BareRepo,
  commit: string,
  path: string,
): Promise<Map<string, { mode: string; sha: string }>> {
  const out = new Map<string, { mode: string; sha: string }>();
  const top = await bare.read(path === '' ? `${commit}^{tree}` : `${commit}:${path}`);
  if (!top) {
    if (!(await bare.read(`${commit}^{commit}`)))
      throw new NotFoundError(`Commit ${commit} not found in ${bare.gitDir}`);
    return out;
  }
  if (top.type === 'blob') {
    const mode = (await fileMode(bare, commit, path)) ?? '100644';
    out.set(path, { mode, sha: top.sha });
    return out;
  }
  const walk = async (data: Buffer, prefix: string): Promise<void> => {
    await Promise.all(
      parseTree(data).map(async (e) => {
        const full = prefix === '' ? e.name : `${prefix}/${e.name}`;
        if (e.mode !== '40000') {
          out.set(full, { mode: e.mode, sha: e.sha });
          return;
        }
        const sub = await bare.read(e.sha);
        if (sub?.type === 'tree') await walk(sub.data, full);
      }),
    );
  };
  await walk(top.data, path);
  return out;
}

function isLocalBare(url: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && url.endsWith('.git');
}

function readCloneRef(dir: string, ref: string): string | undefined {
  try {
    const text = readFileSync(join(dir, '.git', ref), 'utf8').trim();
    return /^[0-9a-f]{40,64}$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/** Full jitter on an exponential ceiling keeps many concurrent writers from colliding again and again. */
function backoff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * Math.min(2000, 60 * 2 ** attempt)));
}

async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        // A lock older than a minute was left by a crashed process.
        if (Date.now() - statSync(path).mtimeMs > 60_000) rmSync(path, { force: true });
      } catch {
        // it went away meanwhile
      }
      if (Date.now() - started > 120_000) throw new UnavailableError(`Timed out waiting for ${path}`);
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 25));
    }
  }
  try {
    return await fn();
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}

function repoOf(repo: string): string {
  if (typeof repo !== 'string' || repo.trim() === '') {
    throw new InputError('A repository is required (org/name or a git URL)', { location: { field: 'repo' } });
  }
  return repo.trim();
}

/**
 * The default locator: `org/name` (or `<publicUrl>/git/org/name.git`) maps to the bare repository on disk
 * under `<dataDir>/git/`; any other URL is used as it is.
 */
export function localRepoLocator(dataDir: string, publicUrl?: string): RepoLocator {
  return (repo) => {
    const local = localRepoName(repo, publicUrl);
    if (local) return { url: join(dataDir, 'git', `${local}.git`) };
    return { url: repo };
  };
}

/** `org/name` when `repo` names one of Slipway's own repositories (short form or its URL), else undefined. */
export function localRepoName(repo: string, publicUrl?: string): string | undefined {
  const short = /^([a-z0-9][a-z0-9._-]*)\/([a-z0-9][a-z0-9._-]*?)(\.git)?$/i.exec(repo);
  if (short && !repo.includes(':')) return `${short[1]}/${short[2]}`;
  const m = /^https?:\/\/[^/]+(?:\/.*)?\/git\/([^/]+)\/([^/]+?)(\.git)?\/?$/.exec(repo);
  // A server on a loopback address whose port changed (started with port 0) still owns its old URLs.
  const loopback = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/i;
  if (
    m &&
    (!publicUrl ||
      repo.startsWith(publicUrl.replace(/\/+$/, '')) ||
      (loopback.test(repo) && loopback.test(publicUrl)))
  )
    return `${m[1]}/${m[2]}`;
  return undefined;
}
