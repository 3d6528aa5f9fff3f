// A de-duplicating work queue: keys added many times before processing are processed once.
export class WorkQueue {
  readonly #pending = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #scheduled = false;
  #stopped = false;
  readonly #fn: (key: string) => void;
  readonly #onError: (err: unknown, key: string) => void;

  constructor(fn: (key: string) => void, onError: (err: unknown, key: string) => void) {
    this.#fn = fn;
    this.#onError = onError;
  }

  add(key: string): void {
    if (this.#stopped) return;
    this.#pending.add(key);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  /** Adds `key` after `ms` (an earlier pending timer for the key wins if sooner). */
  addAfter(key: string, ms: number): void {
    if (this.#stopped) return;
    if (this.#timers.has(key)) return;
    const t = setTimeout(
      () => {
        this.#timers.delete(key);
        this.add(key);
      },
      Math.max(0, ms),
    );
    t.unref?.();
    this.#timers.set(key, t);
  }

  #drain(): void {
    this.#scheduled = false;
    const keys = [...this.#pending];
    this.#pending.clear();
    for (const key of keys) {
      if (this.#stopped) return;
      try {
        this.#fn(key);
      } catch (err) {
        this.#onError(err, key);
      }
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#pending.clear();
  }
}

export function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return slash < 0 ? ['', key] : [key.slice(0, slash), key.slice(slash + 1)];
}
