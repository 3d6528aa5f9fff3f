// Inlined into index.html at build time (vite.config.ts), runs while the HTML is parsed: starts the route's
// API reads and asks for its code chunks (modulepreload), so both load in parallel with the shell script
// instead of after it. main.tsx/api.ts take the answers. Kept tiny: no React, no imports but routes.ts.
import { EARLY_READS_KEY, type EarlyReads, firstReads, parseRoute, SESSION_PATH } from './routes.ts';

/** Set by the build: each page's chunk files (its own and the chunks it imports, minus the shell). */
declare const __ROUTE_CHUNKS__: Record<string, string[]>;

const route = parseRoute(window.location.hash);
const responses: Record<string, Promise<Response>> = {};
for (const path of [SESSION_PATH, ...firstReads(route)]) {
  const response = fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  // A failed early read is retried by the app; do not report it as unhandled here.
  response.catch(() => {});
  responses[path] = response;
}
const early: EarlyReads = { at: Date.now(), responses };
(window as unknown as Record<string, EarlyReads>)[EARLY_READS_KEY] = early;

for (const href of __ROUTE_CHUNKS__[route[0] ?? 'apps'] ?? []) {
  const link = document.createElement('link');
  link.rel = 'modulepreload';
  link.crossOrigin = '';
  link.href = href;
  document.head.appendChild(link);
}
