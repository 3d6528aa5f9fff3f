// Masks secret values in streamed output, also when a secret is split across chunks: complete lines
// are masked and passed on; an unfinished line is held back (only its tail, when it grows long).

const MASK = '***';

export class LogMasker {
  readonly #secrets: string[];
  readonly #keep: number;
  #pending = '';

  constructor(secrets: string[]) {
    // Longest first so a secret that contains another is masked whole. Very short values are not masked.
    this.#secrets = [...new Set(secrets.filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
    this.#keep = Math.max(0, ...this.#secrets.map((s) => s.length)) - 1;
  }

  mask(text: string): string {
    let out = text;
    for (const s of this.#secrets) if (out.includes(s)) out = out.split(s).join(MASK);
    return out;
  }

  /** Feeds a chunk; returns what can be emitted now (masked). */
  push(chunk: string): string {
    this.#pending += chunk;
    const nl = this.#pending.lastIndexOf('\n');
    if (nl >= 0) {
      const ready = this.#pending.slice(0, nl + 1);
      this.#pending = this.#pending.slice(nl + 1);
      return this.mask(ready) + this.#drainLong();
    }
    return this.#drainLong();
  }

  /** A line longer than 8 KiB is emitted except for a tail that could hold the start of a secret. */
  #drainLong(): string {
    if (this.#pending.length <= 8192) return '';
    const masked = this.mask(this.#pending);
    if (masked !== this.#pending) {
      // Keep the tail after the last mask so a secret crossing the boundary is still caught.
      const cut = masked.length - this.#keep;
      this.#pending = masked.slice(cut);
      return masked.slice(0, cut);
    }
    const cut = this.#pending.length - this.#keep;
    const ready = this.#pending.slice(0, cut);
    this.#pending = this.#pending.slice(cut);
    return ready;
  }

  /** Emits whatever is held back. */
  flush(): string {
    const rest = this.mask(this.#pending);
    this.#pending = '';
    return rest;
  }
}
