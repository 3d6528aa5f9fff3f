// The UI's API client: same-origin fetch with the session cookie. 401/403 are never retried.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

// GETs started before React renders (see main.tsx), so the page's data loads in parallel with the
// script chunks and the session check instead of after them. Each is used once, by the first get() of
// the same path; any write drops them all (a sign-in changes what the server would answer).
const prefetched = new Map<string, { at: number; promise: Promise<unknown> }>();
const PREFETCH_TTL_MS = 5_000;

/** Starts GET `path` now; the next get(path) within a few seconds takes this answer. */
export function prefetch(path: string): void {
  if (prefetched.has(path)) return;
  const promise = request('GET', path);
  promise.catch(() => prefetched.delete(path));
  prefetched.set(path, { at: Date.now(), promise });
}

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  if (method !== 'GET') prefetched.clear();
  else {
    const early = prefetched.get(path);
    if (early) {
      prefetched.delete(path);
      if (Date.now() - early.at < PREFETCH_TTL_MS) return early.promise as Promise<T>;
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
