// The hash route and the API reads each route needs first. Pure and dependency-free: the boot script
// inlined into index.html (boot.ts) uses it before any other code has loaded, and so does the app.

/** `#/apps/web-dev` → ['apps', 'web-dev']; an empty hash is the app list. */
export function parseRoute(hash: string): string[] {
  return (hash.replace(/^#\/?/, '') || 'apps').split('/').map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
}

/** The API reads a route shows first, so they can start before the page's code has arrived. */
export function firstReads(route: string[]): string[] {
  const [page = 'apps', id] = route;
  const enc = encodeURIComponent;
  if (page === 'apps' && id) return [`/api/v1/apps/${enc(id)}`, `/api/v1/apps/${enc(id)}/tree`];
  if (page === 'apps') return ['/api/v1/apps?view=summary'];
  if (page === 'envs') return ['/api/v1/apps?view=summary', '/api/v1/envs'];
  return [];
}

/** Every route first reads the session. */
export const SESSION_PATH = '/api/v1/me';

/** What the boot script leaves for the app: responses it has started, by path, and when. */
export interface EarlyReads {
  at: number;
  responses: Record<string, Promise<Response>>;
}

export const EARLY_READS_KEY = '__slipwayEarlyReads';
