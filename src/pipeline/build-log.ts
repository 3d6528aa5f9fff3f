// A build's log on disk (`<build dir>/log.txt`, plus one file per step under `steps/`), streamed as
// `build.log` events that carry the byte offset reached, so followers can join without gaps or repeats.
// Writes within one turn of the event loop are batched into one write per file (steps print in many
// small chunks); each event is emitted after its text is in the file.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { EventBus } from '../core/index.ts';

interface Where {
  stage?: string;
  step?: string;
  stepFile?: string;
}

export class BuildLog {
  readonly #fd: number;
  readonly #dir: string;
  readonly #stepFds = new Map<string, number>();
  #pending: { buf: Buffer; text: string; where: Where }[] = [];
  #scheduled = false;
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
  write(text: string, where: Where = {}): void {
    if (!text || this.#closed) return;
    this.#pending.push({ buf: Buffer.from(text, 'utf8'), text, where });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is pending and emits its events. */
  flush(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    writeSync(this.#fd, Buffer.concat(batch.map((p) => p.buf)));
    const perStep = new Map<string, Buffer[]>();
    for (const p of batch) {
      if (!p.where.stepFile) continue;
      const list = perStep.get(p.where.stepFile) ?? [];
      list.push(p.buf);
      perStep.set(p.where.stepFile, list);
    }
    for (const [file, bufs] of perStep) writeSync(this.#stepFd(file), Buffer.concat(bufs));
    for (const { buf, text, where } of batch) {
      this.#offset += buf.length;
      this.events.emit('build.log', {
        repo: this.repo,
        number: this.number,
        ...(where.stage ? { stage: where.stage } : {}),
        ...(where.step ? { step: where.step } : {}),
        text,
        offset: this.#offset,
      });
    }
  }

  #stepFd(file: string): number {
    let fd = this.#stepFds.get(file);
    if (fd === undefined) {
      fd = openSync(join(this.#dir, file), 'a');
      this.#stepFds.set(file, fd);
    }
    return fd;
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    closeSync(this.#fd);
    for (const fd of this.#stepFds.values()) closeSync(fd);
    this.#stepFds.clear();
  }
}
