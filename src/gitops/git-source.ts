// Reading repositories for rendering: Slipway's own bare repositories straight from disk, external ones
// through a bare mirror that is fetched on demand. Branches are resolved by reading the ref files (no
// process), objects come from one long-lived `git cat-file --batch` per repository, and trees (content-
// addressed) are cached by their sha, so an unchanged directory is never read twice.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError, UnavailableError } from '../core/index.ts';
import { readRef } from '../git/index.ts';
import { CatFileBatch, type GitObject } from './cat-file.ts';
import { runGit } from './git-cli.ts';
import { parseTree } from './git-objects.ts';
import type { CommitInfo, FileTree, GitSource } from './seams.ts';
import type { RepoLocator } from './values-editor.ts';

export interface CliGitSourceOptions {
  locate: RepoLocator;
  /** Where mirrors of external repositories live. */
  mirrorDir: string;
  /** How many trees to keep cached. */
  cacheSize?: number;
  /** Minimum milliseconds between fetches of one external repository (0 = fetch every time). */
  fetchIntervalMs?: number;
  /** How long a resolved branch stays trusted without a push event (default 0: resolve every time). */
  resolveTtlMs?: number;
}

/** Author, time and subject of a raw commit object. */
export function parseCommit(sha: string, data: Buffer): CommitInfo {
  const text = data.toString('utf8');
  const split = text.indexOf('\n\n');
  const headers = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split + 2);
  let author = '';
  let time = '';
  for (const line of headers.split('\n')) {
    if (!line.startsWith('author ')) continue;
    const m = /^author (.*?) <[^>]*> (\d+) ([+-])(\d\d)(\d\d)$/.exec(line);
    if (!m) break;
    author = m[1]!;
    const offsetMin = (m[3] === '-' ? -1 : 1) * (Number(m[4]) * 60 + Number(m[5]));
    const local = new Date((Number(m[2]) + offsetMin * 60) * 1000).toISOString().slice(0, 19);
    time = `${local}${m[3]}${m[4]}:${m[5]}`;
    break;
  }
  const subject = (body.split(/\n\s*\n/)[0] ?? '').trim().split('\n').join(' ');
  return { sha, author, time, message: subject };
}

function safeName(url: string): string {
  return url
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 150);
}

/** A {@link GitSource} on the git command line. */
export function createCliGitSource(
  options: CliGitSourceOptions,
): GitSource & { invalidate(repoURL: string): void; close(): void } {
  const cache = new Map<string, FileTree>();
  /** Files under a tree, by the tree's sha: immutable, shared by every commit that kept the directory. */
  const trees = new Map<string, Promise<FileTree>>();
  const resolved = new Map<string, { sha: Promise<string>; at: number }>();
  const _listings = new Map<string, Promise<Map<string, string>>>();
  const commits = new Map<string, CommitInfo>();
  const batches = new Map<string, CatFileBatch>();
  const batchFor = (dir: string) => {
    let b = batches.get(dir);
    if (!b) {
      b = new CatFileBatch(dir);
      batches.set(dir, b);
    }
    return b;
  };
  const max = options.cacheSize ?? 2000;
  const lastFetch = new Map<string, number>();
  const inflight = new Map<string, Promise<string>>();

  /** The git dir to read from: the local bare repo, or an up-to-date mirror. */
  async function gitDir(repoURL: string, refresh: boolean): Promise<string> {
    const loc = options.locate(repoURL);
    if (!/^[a-z]+:\/\//i.test(loc.url)) {
      if (!existsSync(loc.url)) throw new NotFoundError(`Repository ${repoURL} not found`);
      return loc.url;
    }
    const dir = join(options.mirrorDir, `${safeName(loc.url)}.git`);
    const config = loc.config ?? [];
    const key = dir;
    const existing = inflight.get(key);
    if (existing) return existing;
    const fresh = Date.now() - (lastFetch.get(key) ?? 0) < (options.fetchIntervalMs ?? 0);
    if (existsSync(dir) && (!refresh || fresh)) return dir;
    const p = (async () => {
      try {
        if (!existsSync(dir)) {
          mkdirSync(options.mirrorDir, { recursive: true });
          await runGit(['clone', '-q', '--mirror', loc.url, dir], { config });
        } else {
          await runGit(
            [
              '--git-dir',
              dir,
              'fetch',
              '-q',
              '--prune',
              'origin',
              '+refs/heads/*:refs/heads/*',
              '+refs/tags/*:refs/tags/*',
            ],
            { config },
          );
        }
        lastFetch.set(key, Date.now());
        return dir;
      } finally {
        inflight.delete(key);
      }
    })();
    inflight.set(key, p);
    return p;
  }

  async function object(dir: string, name: string): Promise<GitObject | undefined> {
    return batchFor(dir).object(name);
  }

  function remember(repoURL: string, commit: GitObject): void {
    if (commits.size > 5000) commits.clear();
    commits.set(`${repoURL}\0${commit.sha}`, parseCommit(commit.sha, commit.data));
  }

  /** Every file under the tree `sha`, read through the batch process (sub-trees in parallel). */
  function readTreeSha(dir: string, sha: string): Promise<FileTree> {
    let p = trees.get(sha);
    if (p) return p;
    p = (async () => {
      const tree = await object(dir, sha);
      if (tree?.type !== 'tree') throw new UnavailableError(`Tree ${sha} cannot be read from ${dir}`);
      const out: FileTree = {};
      await Promise.all(
        parseTree(tree.data).map(async (e) => {
          if (e.mode === '40000') {
            const sub = await readTreeSha(dir, e.sha);
            for (const [k, v] of Object.entries(sub)) out[`${e.name}/${k}`] = v;
          } else if (e.mode !== '160000') {
            const blob = await object(dir, e.sha);
            out[e.name] = new Uint8Array(blob?.data ?? Buffer.alloc(0));
          }
        }),
      );
      return out;
    })();
    p.catch(() => trees.delete(sha));
    if (trees.size >= max) trees.delete(trees.keys().next().value as string);
    trees.set(sha, p);
    return p;
  }

  async function resolveNow(repoURL: string, revision: string): Promise<string> {
    const dir = await gitDir(repoURL, true);
    const rev = revision === '' || revision === 'HEAD' ? 'HEAD' : revision;
    const candidates = /^[0-9a-f]{40}$/i.test(rev) ? [rev] : [`refs/heads/${rev}`, `refs/tags/${rev}`, rev];
    // Fast path: refs read from their files, the commit (peeled from a tag) from the batch process.
    if (!existsSync(join(dir, 'reftable'))) {
      for (const c of candidates) {
        const sha = /^[0-9a-f]{40}$/i.test(c) ? c.toLowerCase() : await readRef(dir, c);
        if (!sha) continue;
        const commit = await object(dir, `${sha}^{commit}`).catch(() => undefined);
        if (commit?.type === 'commit') {
          remember(repoURL, commit);
          return commit.sha;
        }
      }
    }
    for (const c of candidates) {
      const r = await runGit(['--git-dir', dir, 'rev-parse', '-q', '--verify', `${c}^{commit}`], {
        allowFailure: true,
      });
      if (r.code === 0) return r.stdout.toString('utf8').trim();
    }
    throw new NotFoundError(`Revision "${revision}" not found in ${repoURL}`);
  }

  return {
    close() {
      for (const b of batches.values()) b.close();
      batches.clear();
    },
    invalidate(repoURL) {
      for (const k of resolved.keys()) if (k.startsWith(`${repoURL}\0`)) resolved.delete(k);
      const loc = options.locate(repoURL);
      lastFetch.delete(join(options.mirrorDir, `${safeName(loc.url)}.git`));
    },
    resolve(repoURL, revision) {
      // Many apps read one repository: one resolution serves them all for a moment (a push invalidates it).
      const key = `${repoURL}\0${revision}`;
      const hit = resolved.get(key);
      // A resolution still running is shared; a finished one is trusted for resolveTtlMs (default 0).
      if (hit && (hit.at === 0 || Date.now() - hit.at < (options.resolveTtlMs ?? 0))) return hit.sha;
      const entry = { sha: resolveNow(repoURL, revision), at: 0 };
      resolved.set(key, entry);
      entry.sha.then(
        () => {
          entry.at = Date.now();
        },
        () => {
          if (resolved.get(key) === entry) resolved.delete(key);
        },
      );
      return entry.sha;
    },
    async readTree(repoURL, commit, path) {
      const clean = path.replace(/^\.?\/+/, '').replace(/\/+$/, '');
      const key = `${repoURL}\0${commit}\0${clean}`;
      const hit = cache.get(key);
      if (hit) return hit;
      const dir = await gitDir(repoURL, false);
      const root = await object(dir, clean === '' ? `${commit}^{tree}` : `${commit}:${clean}`);
      if (root?.type !== 'tree') {
        const exists = await object(dir, `${commit}^{commit}`).catch(() => undefined);
        if (!exists) throw new UnavailableError(`Cannot read ${repoURL} at ${commit}: no such commit`);
        throw new NotFoundError(`Path "${clean}" not found in ${repoURL} at ${commit.slice(0, 12)}`);
      }
      const out = await readTreeSha(dir, root.sha);
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      cache.set(key, out);
      return out;
    },
    async commitInfo(repoURL, commit): Promise<CommitInfo> {
      const known = commits.get(`${repoURL}\0${commit}`);
      if (known) return known;
      const dir = await gitDir(repoURL, false);
      const obj = await object(dir, `${commit}^{commit}`);
      if (!obj) throw new NotFoundError(`Commit ${commit} not found in ${repoURL}`);
      remember(repoURL, obj);
      const info = commits.get(`${repoURL}\0${obj.sha}`)!;
      return info;
    },
  };
}
