import { createRoot } from 'react-dom/client';
import { ApiError, get, prefetch, settled } from './api.ts';
import { App } from './app.tsx';
import { isPage, loadPage } from './pages.ts';
import { firstReads, parseRoute, SESSION_PATH } from './routes.ts';
import type { Me } from './session.ts';
import './styles.css';

// The boot script in index.html has usually started the session check and the page's first reads already
// (prefetch() then does nothing). Render once the session, the page's chunk and its first reads are here
// (the reads: at most 1.5 s), so the first screen is drawn in one go, with no Suspense fallback and no
// empty page in between (signed out: the sign-in form at once).
const route = parseRoute(window.location.hash);
const reads = firstReads(route);
prefetch(SESSION_PATH);
for (const path of reads) prefetch(path);
const page = route[0] ?? 'apps';
const pageReady = isPage(page) ? loadPage(page).catch(() => undefined) : undefined;
const me = get<Me>(SESSION_PATH).catch((e: unknown) => {
  if (!(e instanceof ApiError)) console.error(e);
  return null;
});

Promise.all([me, me.then((m) => m && pageReady), me.then((m) => m && settled(reads, 1500))]).then(
  ([signedIn]) => {
    createRoot(document.getElementById('root')!).render(<App initialMe={signedIn} />);
  },
);
