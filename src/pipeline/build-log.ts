// A build's log on disk (`<build dir>/log.txt`, plus one file per step under `steps/`), streamed as
// `build.log` events that carry the byte offset reached, so followers can join without gaps or repeats.
import { appendFileSync, closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { EventBus } from '../core/index.ts';

export class BuildLog {
  readonly #fd: number;
  readonly #dir: string;
  #offset = 0;
  #closed = false;

  constructor(
    dir: string,
    readonly events: EventBus,
    readonly repo: string,
    readonly number: number,
  ) {
    this.#dir = dir;
    mkdirSync(join(dir, 'steps'), { recursive: true });
    this.#fd = openSync(join(dir, 'log.txt'), 'a');
  }

  /** Appends (already masked) text; `stepFile` also gets a copy. */
  write(text: string, where: { stage?: string; step?: string; stepFile?: string } = {}): void {
    if (!text || this.#closed) return;
    const buf = Buffer.from(text, 'utf8');
    writeSync(this.#fd, buf);
    this.#offset += buf.length;
    if (where.stepFile) appendFileSync(join(this.#dir, where.stepFile), buf);
    this.events.emit('build.log', {
      repo: this.repo,
      number: this.number,
      ...(where.stage ? { stage: where.stage } : {}),
      ...(where.step ? { step: where.step } : {}),
      text,
      offset: this.#offset,
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}
