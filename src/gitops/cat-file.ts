// A long-lived `git cat-file --batch` per repository: objects are read without spawning a process each time.
// Only immutable names should be asked for (shas, `<sha>^{commit}`, `<sha>:<path>`): the process caches
// packed-refs by file stat, so a branch name could resolve to a stale commit.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { UnavailableError } from '../core/index.ts';

/** One object as cat-file answers it. */
export interface GitObject {
  sha: string;
  type: 'blob' | 'tree' | 'commit' | 'tag';
  data: Buffer;
}

interface Pending {
  sha: string;
  resolve(data: GitObject | undefined): void;
  reject(err: Error): void;
}

export class CatFileBatch {
  readonly #gitDir: string;
  #child: ChildProcessWithoutNullStreams | undefined;
  #buf: Buffer = Buffer.alloc(0);
  readonly #queue: Pending[] = [];

  constructor(gitDir: string) {
    this.#gitDir = gitDir;
  }

  #start(): ChildProcessWithoutNullStreams {
    if (this.#child) return this.#child;
    const child = spawn('git', ['--git-dir', this.#gitDir, 'cat-file', '--batch'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        GIT_CONFIG_NOSYSTEM: '1',
        LC_ALL: 'C',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => {
      this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
      this.#drain();
    });
    const fail = (err: Error) => {
      this.#child = undefined;
      this.#buf = Buffer.alloc(0);
      for (const p of this.#queue.splice(0))
        p.reject(new UnavailableError(`git cat-file for ${this.#gitDir} stopped: ${err.message}`));
    };
    child.on('error', fail);
    child.on('exit', () => fail(new Error('exited')));
    child.stdin.on('error', () => undefined);
    child.unref();
    // The reader must never keep the process alive by itself.
    for (const stream of [child.stdin, child.stdout, child.stderr])
      (stream as unknown as { unref?: () => void }).unref?.();
    this.#child = child;
    return child;
  }

  #drain(): void {
    for (;;) {
      const head = this.#queue[0];
      if (!head) {
        // Idle: let the process exit even though the reader stays open.
        (this.#child?.stdout as unknown as { unref?: () => void } | undefined)?.unref?.();
        return;
      }
      const nl = this.#buf.indexOf(10);
      if (nl < 0) return;
      const header = this.#buf.subarray(0, nl).toString('utf8');
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        this.#buf = this.#buf.subarray(nl + 1);
        this.#queue.shift();
        head.resolve(undefined);
        continue;
      }
      const [sha, type, sizeText] = header.split(' ');
      const size = Number(sizeText);
      if (this.#buf.length < nl + 1 + size + 1) return;
      const data = Buffer.from(this.#buf.subarray(nl + 1, nl + 1 + size));
      this.#buf = this.#buf.subarray(nl + 1 + size + 1);
      this.#queue.shift();
      head.resolve({ sha: sha!, type: type as GitObject['type'], data });
    }
  }

  /** The object's content, or undefined when it does not exist. */
  async read(sha: string): Promise<Buffer | undefined> {
    return (await this.object(sha))?.data;
  }

  /** The object `name` names (a sha or an expression on one), or undefined when there is none. */
  object(name: string): Promise<GitObject | undefined> {
    if (/[\n\r]/.test(name) || name === '') return Promise.resolve(undefined);
    const sha = name;
    return new Promise((resolve, reject) => {
      const child = this.#start();
      (child.stdout as unknown as { ref?: () => void }).ref?.();
      this.#queue.push({ sha, resolve, reject });
      child.stdin.write(`${sha}\n`);
    });
  }

  close(): void {
    this.#child?.kill();
    this.#child = undefined;
  }
}
