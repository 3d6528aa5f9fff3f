// Reading repositories for rendering: Slipway's own bare repositories straight from disk, external ones
// through a bare mirror that is fetched on demand. Trees at a commit are immutable, so they are cached.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError, UnavailableError } from '../core/index.ts';
import { CatFileBatch } from './cat-file.ts';
import { runGit } from './git-cli.ts';
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
  const resolved = new Map<string, { sha: Promise<string>; at: number }>();
  const listings = new Map<string, Promise<Map<string, string>>>();
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
  /** Every blob of a commit: path → sha (one ls-tree per commit, shared by all apps of a monorepo). */
  const listing = (dir: string, commit: string): Promise<Map<string, string>> => {
    const key = `${dir}\0${commit}`;
    let p = listings.get(key);
    if (!p) {
      p = runGit(['--git-dir', dir, 'ls-tree', '-r', '-z', '--full-tree', commit]).then((r) => {
        const m = new Map<string, string>();
        for (const rec of r.stdout.toString('utf8').split('\0')) {
          const x = /^(\d+) blob ([0-9a-f]+)\t(.*)$/s.exec(rec);
          if (x) m.set(x[3]!, x[2]!);
        }
        return m;
      });
      p.catch(() => listings.delete(key));
      if (listings.size > 64) listings.delete(listings.keys().next().value as string);
      listings.set(key, p);
    }
    return p;
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
    const cfg = (loc.config ?? []).flatMap((c) => ['-c', c]);
    const key = dir;
    const existing = inflight.get(key);
    if (existing) return existing;
    const fresh = Date.now() - (lastFetch.get(key) ?? 0) < (options.fetchIntervalMs ?? 0);
    if (existsSync(dir) && (!refresh || fresh)) return dir;
    const p = (async () => {
      try {
        if (!existsSync(dir)) {
          mkdirSync(options.mirrorDir, { recursive: true });
          await runGit([...cfg, 'clone', '-q', '--mirror', loc.url, dir]);
        } else {
          await runGit([
            ...cfg,
            '--git-dir',
            dir,
            'fetch',
            '-q',
            '--prune',
            'origin',
            '+refs/heads/*:refs/heads/*',
            '+refs/tags/*:refs/tags/*',
          ]);
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

  async function resolveNow(repoURL: string, revision: string): Promise<string> {
    const dir = await gitDir(repoURL, true);
    const rev = revision === '' || revision === 'HEAD' ? 'HEAD' : revision;
    const candidates = /^[0-9a-f]{40}$/i.test(rev) ? [rev] : [`refs/heads/${rev}`, `refs/tags/${rev}`, rev];
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
      const all = await listing(dir, commit).catch((err) => {
        throw new UnavailableError(`Cannot read ${repoURL} at ${commit}: ${(err as Error).message}`);
      });
      const prefix = clean === '' ? '' : `${clean}/`;
      const entries = [...all]
        .filter(([p]) => p.startsWith(prefix))
        .map(([p, sha]) => ({ path: p.slice(prefix.length), sha }));
      if (entries.length === 0)
        throw new NotFoundError(`Path "${clean}" not found in ${repoURL} at ${commit.slice(0, 12)}`);
      const batch = batchFor(dir);
      const out: FileTree = {};
      const blobs = await Promise.all(entries.map((e) => batch.read(e.sha)));
      entries.forEach((e, i) => {
        out[e.path] = new Uint8Array(blobs[i] ?? Buffer.alloc(0));
      });
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      cache.set(key, out);
      return out;
    },
    async commitInfo(repoURL, commit): Promise<CommitInfo> {
      const known = commits.get(`${repoURL}\0${commit}`);
      if (known) return known;
      const dir = await gitDir(repoURL, false);
      const r = await runGit(['--git-dir', dir, 'log', '-1', '--format=%H%x00%an%x00%aI%x00%s', commit]);
      const [sha, author, time, message] = r.stdout.toString('utf8').trim().split('\0');
      const info = { sha: sha ?? commit, author: author ?? '', time: time ?? '', message: message ?? '' };
      if (commits.size > 5000) commits.clear();
      commits.set(`${repoURL}\0${commit}`, info);
      return info;
    },
  };
}
