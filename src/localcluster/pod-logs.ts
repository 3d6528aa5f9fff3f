// Container logs of the simulated kubelet. No process runs, so a container's log is what the kubelet did for
// it (pulled which digest, started, became ready, crashed, stopped): what `kubectl logs` and the UI show.
// Kept in memory per pod and container (bounded); a follower is told of each new line and of the end.

export interface LogLine {
  /** RFC 3339 time with nanoseconds, as the kubelet's `timestamps=true` prints it. */
  time: string;
  text: string;
}

export interface ReadOptions {
  /** Only the last N lines. */
  tailLines?: number;
  /** Only lines at or after this time (ms since the epoch). */
  sinceMs?: number;
}

type Follower = { onLine(line: LogLine): void; onEnd(): void };

interface ContainerLog {
  lines: LogLine[];
  ended: boolean;
  followers: Set<Follower>;
}

const MAX_LINES = 1000;

/** Formats ms since the epoch as `2026-01-02T03:04:05.123000000Z`. */
export function logTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export class PodLogs {
  readonly #logs = new Map<string, Map<string, ContainerLog>>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #log(uid: string, container: string): ContainerLog {
    let pod = this.#logs.get(uid);
    if (!pod) this.#logs.set(uid, (pod = new Map()));
    let log = pod.get(container);
    if (!log) pod.set(container, (log = { lines: [], ended: false, followers: new Set() }));
    return log;
  }

  /** Appends a line to a container's log (a new start after an end opens the log again). */
  append(uid: string, container: string, text: string): void {
    const log = this.#log(uid, container);
    log.ended = false;
    const line = { time: logTime(this.#now()), text };
    log.lines.push(line);
    if (log.lines.length > MAX_LINES) log.lines.splice(0, log.lines.length - MAX_LINES);
    for (const f of log.followers) f.onLine(line);
  }

  /** The container stopped: followers' streams end (as `kubectl logs -f` does when a container exits). */
  end(uid: string, container?: string): void {
    const pod = this.#logs.get(uid);
    for (const [name, log] of pod ?? []) {
      if (container !== undefined && name !== container) continue;
      log.ended = true;
      for (const f of log.followers) f.onEnd();
      log.followers.clear();
    }
  }

  /** The pod is gone: write `farewell` to each open log, end every stream and drop its logs. */
  remove(uid: string, farewell?: (container: string) => string): void {
    if (farewell)
      for (const [name, log] of this.#logs.get(uid) ?? [])
        if (!log.ended) this.append(uid, name, farewell(name));
    this.end(uid);
    this.#logs.delete(uid);
  }

  has(uid: string, container: string): boolean {
    return (this.#logs.get(uid)?.get(container)?.lines.length ?? 0) > 0;
  }

  read(uid: string, container: string, options: ReadOptions = {}): LogLine[] {
    let lines = this.#logs.get(uid)?.get(container)?.lines ?? [];
    if (options.sinceMs !== undefined) {
      const since = options.sinceMs;
      lines = lines.filter((l) => Date.parse(l.time) >= since);
    }
    if (options.tailLines !== undefined)
      lines = options.tailLines <= 0 ? [] : lines.slice(-options.tailLines);
    return [...lines];
  }

  /**
   * Calls `onLine` for each line appended from now on and `onEnd` once the container stops or the pod is
   * removed (at once when it already has). Returns the unsubscribe function.
   */
  follow(uid: string, container: string, follower: Follower): () => void {
    const log = this.#log(uid, container);
    if (log.ended) {
      follower.onEnd();
      return () => {};
    }
    log.followers.add(follower);
    return () => log.followers.delete(follower);
  }
}
