// A de-duplicating work queue with a global concurrency limit and a per-group limit (per cluster), so
// that a slow or unreachable cluster can hold at most its own share of the workers.

export interface WorkQueueOptions {
  concurrency: number;
  perGroup: number;
  groupOf(item: string): string;
  run(item: string): Promise<void>;
  onError?(item: string, err: unknown): void;
}

export class WorkQueue {
  readonly #o: WorkQueueOptions;
  readonly #pending: string[] = [];
  readonly #queued = new Set<string>();
  readonly #running = new Set<string>();
  readonly #again = new Set<string>();
  readonly #perGroup = new Map<string, number>();
  readonly #idle: (() => void)[] = [];
  #stopped = false;

  constructor(options: WorkQueueOptions) {
    this.#o = options;
  }

  /** Queues `item` (once); an item that is running now runs once more after it finishes. */
  add(item: string): void {
    if (this.#stopped) return;
    if (this.#running.has(item)) {
      this.#again.add(item);
      return;
    }
    if (this.#queued.has(item)) return;
    this.#queued.add(item);
    this.#pending.push(item);
    this.#pump();
  }

  get size(): number {
    return this.#pending.length + this.#running.size;
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  stop(): void {
    this.#stopped = true;
    this.#pending.length = 0;
    this.#queued.clear();
  }

  #pump(): void {
    for (let i = 0; i < this.#pending.length && this.#running.size < this.#o.concurrency; ) {
      const item = this.#pending[i]!;
      const group = this.#o.groupOf(item);
      if ((this.#perGroup.get(group) ?? 0) >= this.#o.perGroup) {
        i++;
        continue;
      }
      this.#pending.splice(i, 1);
      this.#queued.delete(item);
      this.#running.add(item);
      this.#perGroup.set(group, (this.#perGroup.get(group) ?? 0) + 1);
      void this.#o
        .run(item)
        .catch((err) => this.#o.onError?.(item, err))
        .finally(() => {
          this.#running.delete(item);
          this.#perGroup.set(group, (this.#perGroup.get(group) ?? 1) - 1);
          if (this.#again.delete(item)) this.add(item);
          this.#pump();
          if (this.size === 0) for (const r of this.#idle.splice(0)) r();
        });
    }
  }
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return out;
}
