// The UI's API client: same-origin fetch with the session cookie. 401/403 are never retried.
import { EARLY_READS_KEY, type EarlyReads } from './routes.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

// GETs started before React renders (by the boot script in index.html, see boot.ts, or by prefetch()),
// so the page's data loads in parallel with the script chunks instead of after them. Each is used once,
// by the first get() or takeReady() of the same path; any write drops them all (a sign-in changes what the
// server would answer).
interface Early {
  at: number;
  promise: Promise<unknown>;
  /** Set once the answer is here, so the first render can use it without waiting a tick. */
  value?: { data: unknown };
}
const prefetched = new Map<string, Early>();
const PREFETCH_TTL_MS = 5_000;

function remember(path: string, at: number, promise: Promise<unknown>): void {
  const entry: Early = { at, promise };
  promise.then(
    (data) => {
      entry.value = { data };
    },
    () => {
      if (prefetched.get(path) === entry) prefetched.delete(path);
    },
  );
  prefetched.set(path, entry);
}

const early = (window as unknown as Partial<Record<string, EarlyReads>>)[EARLY_READS_KEY];
if (early) {
  for (const [path, response] of Object.entries(early.responses))
    remember(
      path,
      early.at,
      response.then((res) => readResponse<unknown>(res, 'GET', path)),
    );
}

/** Starts GET `path` now; the next get(path) within a few seconds takes this answer. */
export function prefetch(path: string): void {
  if (!prefetched.has(path)) remember(path, Date.now(), request('GET', path));
}

/** Resolves once the started reads of these paths have answered or failed (at most `maxMs`). */
export function settled(paths: string[], maxMs: number): Promise<void> {
  const waits = paths.flatMap((p) => {
    const entry = prefetched.get(p);
    return entry ? [entry.promise.then(noop, noop)] : [];
  });
  return Promise.race([Promise.all(waits).then(noop), new Promise<void>((r) => setTimeout(r, maxMs))]);
}

function noop() {}

/** A started read's answer if it is already here (and fresh), taking it; else undefined. */
export function takeReady<T>(path: string): { data: T } | undefined {
  const entry = prefetched.get(path);
  if (!entry?.value || Date.now() - entry.at >= PREFETCH_TTL_MS) return undefined;
  prefetched.delete(path);
  return entry.value as { data: T };
}

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  if (method !== 'GET') prefetched.clear();
  else {
    const entry = prefetched.get(path);
    if (entry) {
      prefetched.delete(path);
      if (Date.now() - entry.at < PREFETCH_TTL_MS) return entry.promise as Promise<T>;
    }
  }
  return request<T>(method, path, body);
}

async function request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers:
      body === undefined
        ? { accept: 'application/json' }
        : { 'content-type': 'application/json', accept: 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return readResponse<T>(res, method, path);
}

async function readResponse<T>(res: Response, method: string, path: string): Promise<T> {
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = text;
  }
  if (!res.ok) {
    const e = (data as { error?: { message?: string; code?: string }; message?: string }) ?? {};
    throw new ApiError(
      res.status,
      e.error?.message ?? e.message ?? `${method} ${path}: HTTP ${res.status}`,
      e.error?.code,
    );
  }
  return data as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
