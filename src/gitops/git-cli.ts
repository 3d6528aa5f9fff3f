// A thin wrapper around the git command line: every git operation of the gitops module goes through here.
import { execFile } from 'node:child_process';
import { UnavailableError } from '../core/index.ts';

export interface GitRunOptions {
  cwd?: string;
  /** Extra environment (merged over a clean, non-interactive git environment). */
  env?: Record<string, string>;
  /** Bytes to feed on stdin. */
  input?: string | Uint8Array;
  /** When true, a non-zero exit resolves instead of throwing. */
  allowFailure?: boolean;
  timeoutMs?: number;
  /**
   * `key=value` settings passed through the environment (GIT_CONFIG_COUNT/KEY/VALUE) rather than `-c`, so
   * that secrets such as `http.extraHeader=Authorization: …` never show in the process list.
   */
  config?: string[];
}

/** The environment that gives git these `key=value` settings (git ≥ 2.31). */
export function configEnv(config: string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  const list = (config ?? []).filter((c) => c.includes('='));
  if (list.length === 0) return env;
  env.GIT_CONFIG_COUNT = String(list.length);
  list.forEach((c, i) => {
    const eq = c.indexOf('=');
    env[`GIT_CONFIG_KEY_${i}`] = c.slice(0, eq);
    env[`GIT_CONFIG_VALUE_${i}`] = c.slice(eq + 1);
  });
  return env;
}

export interface GitRunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

const BASE_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_ASKPASS: 'echo',
  LC_ALL: 'C',
};

/** Runs `git args...`; throws {@link UnavailableError} naming the command and git's message on failure. */
export function runGit(args: string[], options: GitRunOptions = {}): Promise<GitRunResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      ...BASE_ENV,
      ...options.env,
      ...configEnv(options.config),
    };
    const child = execFile(
      'git',
      args,
      {
        cwd: options.cwd,
        env,
        encoding: 'buffer',
        maxBuffer: 512 * 1024 * 1024,
        timeout: options.timeoutMs ?? 120_000,
      },
      (err, stdout, stderr) => {
        const code =
          err && typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number'
            ? ((err as unknown as { code: number }).code ?? 1)
            : err
              ? 1
              : 0;
        const result: GitRunResult = { code, stdout, stderr: stderr.toString('utf8') };
        if (err && !options.allowFailure) {
          // Credentials never reach an error message: URLs with user info and auth headers are left out.
          const what = args
            .filter((a) => !(a.includes('://') && a.includes('@')) && !/extraheader|authorization/i.test(a))
            .join(' ');
          reject(
            new UnavailableError(
              `git ${what} failed: ${result.stderr.trim().split('\n').slice(-3).join(' ') || err.message}`,
              { details: { exitCode: code } },
            ),
          );
          return;
        }
        resolve(result);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** Runs git and returns trimmed stdout as text. */
export async function gitText(args: string[], options: GitRunOptions = {}): Promise<string> {
  const r = await runGit(args, options);
  return r.stdout.toString('utf8').trim();
}

/** True when git is on the PATH. */
export async function hasGit(): Promise<boolean> {
  try {
    await runGit(['--version']);
    return true;
  } catch {
    return false;
  }
}
