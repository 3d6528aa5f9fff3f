// Runs the git CLI as a child process, with a clean environment and without a shell.
import { spawn } from 'node:child_process';
import { UnavailableError } from '../core/index.ts';

export interface GitRunOptions {
  cwd?: string;
  /** Added to a clean environment (no GIT_DIR etc. leaking in from the parent). */
  env?: Record<string, string>;
  input?: string | Buffer;
  /** Resolve instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  timeoutMs?: number;
}

export interface GitRunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment git children get: the parent's, minus variables that would redirect git. */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GIT_')) continue;
    env[k] = v;
  }
  env.GIT_TERMINAL_PROMPT = '0';
  env.GIT_CONFIG_NOSYSTEM = '1';
  env.HOME = env.HOME ?? '/tmp';
  return { ...env, ...extra };
}

/** Runs `git ARGS`; throws {@link UnavailableError} with git's message when it fails (unless allowFailure). */
export function runGit(args: string[], options: GitRunOptions = {}): Promise<GitRunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: gitEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new UnavailableError(`Cannot run git: ${e.message}`));
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      const result = {
        code: code ?? 1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (result.code !== 0 && !options.allowFailure) {
        reject(
          new UnavailableError(
            `git ${args[0] ?? ''} failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-3).join(' ')}`,
            { details: { args: args.slice(0, 2) } },
          ),
        );
        return;
      }
      resolve(result);
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** Runs git and returns stdout as a Buffer (for file contents). */
export function runGitBuffer(args: string[], options: GitRunOptions = {}): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: options.cwd, env: gitEnv(options.env) });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.resume();
    child.on('error', (e) => reject(new UnavailableError(`Cannot run git: ${e.message}`)));
    child.on('close', (code) => resolve(code === 0 ? Buffer.concat(out) : undefined));
    child.stdin.end();
  });
}
