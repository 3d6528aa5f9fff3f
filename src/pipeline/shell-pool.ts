// A pool of long-lived `/bin/sh` processes that run host commands (build steps, checkouts). Node forks
// its whole (large) process for every spawn, on the event loop: measured 25-90 ms a spawn on a loaded
// 2-core machine, during which nothing else runs. A small shell forks in well under a millisecond, so
// each command is handed to an idle shell instead, which starts it as `setsid /bin/sh -e -c COMMAND`
// (its own process group, so cancel and timeouts still kill the whole tree) and reports its pid and
// exit code on its stdout between markers only that shell's reader knows.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { UnavailableError } from '../core/index.ts';

export interface ShellRequest {
  command: string;
  /** Directory the command starts in. */
  cwd: string;
  /** The command's complete environment (nothing of Slipway's own leaks in). */
  env: Record<string, string>;
  signal: AbortSignal;
  /** stdout and stderr, interleaved as written. */
  onOutput(chunk: string): void;
}

export interface ShellResult {
  exitCode: number;
  killed: boolean;
}

export interface ShellPoolOptions {
  /** Idle shells kept for reuse (default 4). */
  maxIdle?: number;
  /** An idle shell exits after this long (default 60 s). */
  idleMs?: number;
  /** SIGTERM, then SIGKILL after this long (default 2 s). */
  killGraceMs?: number;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function findSetsid(): string | undefined {
  return ['/usr/bin/setsid', '/bin/setsid'].find((p) => existsSync(p));
}

/** Kills a process group: SIGTERM, then SIGKILL after `graceMs`. */
export function killProcessGroup(pid: number, graceMs: number): void {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, graceMs).unref();
}

interface Job {
  request: ShellRequest;
  pid?: number;
  killed: boolean;
  resolve(result: ShellResult): void;
  reject(err: Error): void;
}

/** One shell reading commands from its stdin. */
class Shell {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #marker = `\u0001${randomBytes(8).toString('hex')} `;
  #pending = '';
  #job: Job | undefined;
  #dead = false;
  idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly setsid: string,
    readonly graceMs: number,
    readonly onDeath: (shell: Shell) => void,
  ) {
    this.#child = spawn('/bin/sh', ['-s'], { cwd: '/', env: {}, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stdout.setEncoding('utf8');
    this.#child.stdout.on('data', (s: string) => this.#read(s));
    this.#child.stderr.resume();
    this.#child.stdin.on('error', () => {});
    this.#child.on('error', (err) => this.#die(err));
    this.#child.on('exit', () => this.#die(new Error('the shell exited')));
  }

  get alive(): boolean {
    return !this.#dead;
  }

  run(request: ShellRequest): Promise<ShellResult> {
    return new Promise<ShellResult>((resolve, reject) => {
      const job: Job = { request, killed: false, resolve, reject };
      this.#job = job;
      this.#setRef(true);
      const exports = Object.entries(request.env)
        .map(([k, v]) => `export ${shellQuote(`${k}=${v}`)}`)
        .join('; ');
      const m = shellQuote(this.#marker);
      this.#child.stdin.write(
        `( cd ${shellQuote(request.cwd)} || exit 127; ${exports}${exports ? '; ' : ''}exec ${this.setsid} /bin/sh -e -c ${shellQuote(request.command)} ) </dev/null 2>&1 &\n` +
          `printf '%sP %d\\001' ${m} $!\nwait $!\nprintf '%sD %d\\001' ${m} $?\n`,
      );
      const onAbort = () => {
        job.killed = true;
        if (job.pid) killProcessGroup(job.pid, this.graceMs);
      };
      if (request.signal.aborted) onAbort();
      else request.signal.addEventListener('abort', onAbort, { once: true });
      const settle = () => request.signal.removeEventListener('abort', onAbort);
      job.resolve = (r) => {
        settle();
        resolve(r);
      };
      job.reject = (e) => {
        settle();
        reject(e);
      };
    });
  }

  /** Ends the shell (it exits at the end of its input). */
  end(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.#child.stdin.end();
    this.#setRef(false);
  }

  /** Idle shells must not keep the process alive. */
  #setRef(on: boolean): void {
    const handles = [this.#child, this.#child.stdin, this.#child.stdout, this.#child.stderr] as {
      ref?: () => void;
      unref?: () => void;
    }[];
    for (const h of handles) (on ? h.ref : h.unref)?.call(h);
  }

  #read(chunk: string): void {
    this.#pending += chunk;
    for (;;) {
      const at = this.#pending.indexOf(this.#marker);
      if (at < 0) {
        // Keep back what may be the start of a marker split across reads.
        let keep = this.#pending.length;
        for (let i = Math.max(0, this.#pending.length - this.#marker.length); i < this.#pending.length; i++) {
          if (this.#marker.startsWith(this.#pending.slice(i))) {
            keep = i;
            break;
          }
        }
        this.#emit(this.#pending.slice(0, keep));
        this.#pending = this.#pending.slice(keep);
        return;
      }
      const end = this.#pending.indexOf('\u0001', at + this.#marker.length);
      if (end < 0) {
        this.#emit(this.#pending.slice(0, at));
        this.#pending = this.#pending.slice(at);
        return;
      }
      this.#emit(this.#pending.slice(0, at));
      const [kind, value] = this.#pending.slice(at + this.#marker.length, end).split(' ');
      this.#pending = this.#pending.slice(end + 1);
      this.#marked(kind ?? '', Number(value));
    }
  }

  #emit(text: string): void {
    if (text && this.#job) this.#job.request.onOutput(text);
  }

  #marked(kind: string, value: number): void {
    const job = this.#job;
    if (!job) return;
    if (kind === 'P') {
      job.pid = value;
      if (job.killed) killProcessGroup(value, this.graceMs);
      return;
    }
    // Whatever the command left behind in its group goes too.
    if (job.pid) {
      try {
        process.kill(-job.pid, 'SIGKILL');
      } catch {
        // none left
      }
    }
    this.#job = undefined;
    this.#setRef(false);
    job.resolve({ exitCode: value, killed: job.killed });
  }

  #die(err: Error): void {
    if (this.#dead) return;
    this.#dead = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const job = this.#job;
    this.#job = undefined;
    if (job?.pid) killProcessGroup(job.pid, 0);
    job?.reject(new UnavailableError(`The step's shell died: ${err.message}`));
    this.onDeath(this);
  }
}

/** Runs commands on reused shells; see the file header for why. */
export class ShellPool {
  readonly #setsid: string | undefined;
  readonly #idle: Shell[] = [];
  readonly #maxIdle: number;
  readonly #idleMs: number;
  readonly #grace: number;

  constructor(options: ShellPoolOptions = {}) {
    this.#setsid = process.platform === 'win32' ? undefined : findSetsid();
    this.#maxIdle = options.maxIdle ?? 4;
    this.#idleMs = options.idleMs ?? 60_000;
    this.#grace = options.killGraceMs ?? 2000;
  }

  /** Whether `request` can run here (setsid exists and every environment name is a shell name). */
  accepts(request: Pick<ShellRequest, 'env'>): boolean {
    return this.#setsid !== undefined && Object.keys(request.env).every((k) => ENV_NAME.test(k));
  }

  async run(request: ShellRequest): Promise<ShellResult> {
    if (!this.#setsid || !this.accepts(request))
      throw new UnavailableError('This command cannot run on the shell pool (no setsid, or odd env names)');
    if (request.signal.aborted) return { exitCode: 130, killed: true };
    let shell = this.#idle.pop();
    while (shell && !shell.alive) shell = this.#idle.pop();
    if (shell?.idleTimer) clearTimeout(shell.idleTimer);
    shell ??= new Shell(this.#setsid, this.#grace, (s) => this.#forget(s));
    try {
      return await shell.run(request);
    } finally {
      this.#release(shell);
    }
  }

  /** Ends the idle shells (running commands finish on theirs, which then exit). */
  close(): void {
    for (const s of this.#idle.splice(0)) s.end();
  }

  #release(shell: Shell): void {
    if (!shell.alive) return;
    if (this.#idle.length >= this.#maxIdle) {
      shell.end();
      return;
    }
    shell.idleTimer = setTimeout(() => {
      this.#forget(shell);
      shell.end();
    }, this.#idleMs);
    shell.idleTimer.unref();
    this.#idle.push(shell);
  }

  #forget(shell: Shell): void {
    const i = this.#idle.indexOf(shell);
    if (i >= 0) this.#idle.splice(i, 1);
  }
}
