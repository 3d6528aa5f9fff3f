// Test support: temporary bare repositories seeded with files, through the real git CLI.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runGit } from './git-cli.ts';

export interface TempRepos {
  /** The data directory: bare repos live at `<root>/git/<org>/<name>.git`. */
  root: string;
  /** Creates `org/name` with `files` in one commit on `main`; returns the commit. */
  create(repo: string, files: Record<string, string>, message?: string): Promise<string>;
  /** Commits `files` (null deletes) to `main` of `org/name` as `author`; returns the commit. */
  commit(
    repo: string,
    files: Record<string, string | null>,
    message?: string,
    author?: string,
  ): Promise<string>;
  /** Reads a file at `main`. */
  read(repo: string, file: string, ref?: string): Promise<string>;
  /** Commit subjects on `main`, newest first. */
  log(repo: string): Promise<string[]>;
  cleanup(): void;
}

const ID = [
  '-c',
  'user.name=Test',
  '-c',
  'user.email=test@example.com',
  '-c',
  'init.defaultBranch=main',
  '-c',
  'commit.gpgsign=false',
];

export function createTempRepos(): TempRepos {
  const root = mkdtempSync(join(tmpdir(), 'slipway-gitops-'));
  const bare = (repo: string) => join(root, 'git', `${repo}.git`);
  const repos: TempRepos = {
    root,
    async create(repo, files, message = 'initial') {
      mkdirSync(dirname(bare(repo)), { recursive: true });
      await runGit([...ID, 'init', '-q', '--bare', '-b', 'main', bare(repo)]);
      return repos.commit(repo, files, message);
    },
    async commit(repo, files, message = 'change', author = 'Test <test@example.com>') {
      const work = mkdtempSync(join(tmpdir(), 'slipway-gitops-work-'));
      try {
        await runGit([...ID, 'clone', '-q', bare(repo), work]);
        await runGit([...ID, 'checkout', '-q', '-B', 'main'], { cwd: work });
        for (const [f, text] of Object.entries(files)) {
          if (text === null) {
            await runGit(['rm', '-q', '-r', '--', f], { cwd: work });
            continue;
          }
          mkdirSync(dirname(join(work, f)), { recursive: true });
          writeFileSync(join(work, f), text);
        }
        await runGit(['add', '-A'], { cwd: work });
        await runGit([...ID, 'commit', '-q', '-m', message, `--author=${author}`], { cwd: work });
        await runGit(['push', '-q', 'origin', 'HEAD:refs/heads/main'], { cwd: work });
        return (await runGit(['rev-parse', 'HEAD'], { cwd: work })).stdout.toString().trim();
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    async read(repo, file, ref = 'main') {
      return (await runGit(['--git-dir', bare(repo), 'show', `${ref}:${file}`])).stdout.toString('utf8');
    },
    async log(repo) {
      const out = (await runGit(['--git-dir', bare(repo), 'log', '--format=%s', 'main'])).stdout
        .toString('utf8')
        .trim();
      return out ? out.split('\n') : [];
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
  return repos;
}
