// Reading repositories for rendering: Slipway's own bare repositories straight from disk, external ones
// through a bare mirror that is fetched on demand. Trees at a commit are immutable, so they are cached.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError, UnavailableError } from '../core/index.ts';
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
): GitSource & { invalidate(repoURL: string): void } {
  const cache = new Map<string, FileTree>();
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

  return {
    invalidate(repoURL) {
      const loc = options.locate(repoURL);
      lastFetch.delete(join(options.mirrorDir, `${safeName(loc.url)}.git`));
    },
    async resolve(repoURL, revision) {
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
    },
    async readTree(repoURL, commit, path) {
      const clean = path.replace(/^\.?\/+/, '').replace(/\/+$/, '');
      const key = `${repoURL}\0${commit}\0${clean}`;
      const hit = cache.get(key);
      if (hit) return hit;
      const dir = await gitDir(repoURL, false);
      const ls = await runGit(
        ['--git-dir', dir, 'ls-tree', '-r', '-z', '--full-tree', commit, '--', clean === '' ? '.' : clean],
        {
          allowFailure: true,
        },
      );
      if (ls.code !== 0)
        throw new UnavailableError(`Cannot read ${repoURL} at ${commit}: ${ls.stderr.trim()}`);
      const entries: { sha: string; path: string }[] = [];
      for (const rec of ls.stdout.toString('utf8').split('\0')) {
        const m = /^(\d+) (\w+) ([0-9a-f]+)\t(.*)$/s.exec(rec);
        if (m?.[2] !== 'blob') continue;
        const rel = clean === '' ? m[4]! : m[4]!.slice(clean.length + 1);
        entries.push({ sha: m[3]!, path: rel });
      }
      if (entries.length === 0)
        throw new NotFoundError(`Path "${clean}" not found in ${repoURL} at ${commit.slice(0, 12)}`);
      const batch = await runGit(['--git-dir', dir, 'cat-file', '--batch'], {
        input: entries.map((e) => `${e.sha}\n`).join(''),
      });
      const out: FileTree = {};
      const buf = batch.stdout;
      let pos = 0;
      for (const e of entries) {
        const nl = buf.indexOf(10, pos);
        const header = buf.subarray(pos, nl).toString('utf8');
        const size = Number(header.split(' ')[2]);
        out[e.path] = new Uint8Array(buf.subarray(nl + 1, nl + 1 + size));
        pos = nl + 1 + size + 1;
      }
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      cache.set(key, out);
      return out;
    },
    async commitInfo(repoURL, commit): Promise<CommitInfo> {
      const dir = await gitDir(repoURL, false);
      const r = await runGit(['--git-dir', dir, 'log', '-1', '--format=%H%x00%an%x00%aI%x00%s', commit]);
      const [sha, author, time, message] = r.stdout.toString('utf8').trim().split('\0');
      return { sha: sha ?? commit, author: author ?? '', time: time ?? '', message: message ?? '' };
    },
  };
}
