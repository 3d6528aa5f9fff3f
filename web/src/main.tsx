import { createRoot } from 'react-dom/client';
import { prefetch } from './api.ts';
import { App } from './app.tsx';
import { firstReads, isPage, PAGE_LOADERS } from './pages.ts';
import './styles.css';

// Start what the first screen needs at once: the session, the page's chunk and its first reads.
const route = (window.location.hash.replace(/^#\/?/, '') || 'apps').split('/').map(decodeURIComponent);
prefetch('/api/v1/me');
for (const path of firstReads(route)) prefetch(path);
const page = route[0] ?? 'apps';
if (isPage(page)) PAGE_LOADERS[page]().catch(() => {});

createRoot(document.getElementById('root')!).render(<App />);
