// The application shell: sign-in gate, navigation, live-connection indicator and page routing.
import { type ComponentType, lazy, Suspense, useEffect, useState } from 'react';
import { ApiError, get, post } from './api.ts';
import { onStatus } from './events.ts';
import { href, useHashRoute } from './hooks.ts';
import { isPage, PAGE_LOADERS, type PageName } from './pages.ts';
import { LoginPage } from './pages/login.tsx';
import { type Me, SessionContext } from './session.ts';

const PAGES: Record<PageName, ComponentType<{ path: string[] }>> = {
  apps: lazy(PAGE_LOADERS.apps),
  envs: lazy(PAGE_LOADERS.envs),
  pipelines: lazy(PAGE_LOADERS.pipelines),
  registry: lazy(PAGE_LOADERS.registry),
  cluster: lazy(PAGE_LOADERS.cluster),
  users: lazy(PAGE_LOADERS.users),
};

const NAV: [string, string][] = [
  ['apps', 'Applications'],
  ['envs', 'Environments'],
  ['pipelines', 'Pipelines'],
  ['registry', 'Registry'],
  ['cluster', 'Cluster'],
  ['users', 'Users'],
];

function LiveDot() {
  const [s, setS] = useState('connecting');
  useEffect(() => onStatus(setS), []);
  return <span className={`live-dot ${s}`} title={`live updates: ${s}`} aria-label={`live updates ${s}`} />;
}

export function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const route = useHashRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => {
    get<Me>('/api/v1/me').then(setMe, (e: unknown) => {
      if (e instanceof ApiError && e.status === 401) setMe(null);
      else setMe(null);
    });
  }, []);
  useEffect(() => setMenuOpen(false), [route.join('/')]);
  if (me === undefined) return <div className="boot">Loading…</div>;
  if (me === null) return <LoginPage onSignedIn={setMe} />;
  const [page = 'apps', ...rest] = route;
  const signOut = async () => {
    await post('/api/v1/logout').catch(() => {});
    setMe(null);
  };
  return (
    <SessionContext.Provider value={me}>
      <header className="topbar">
        <a className="brand" href={href('apps')}>
          <svg viewBox="0 0 16 16" width="20" height="20" aria-hidden>
            <path d="M1 12h14L11 4H5z" fill="currentColor" />
          </svg>
          Slipway
        </a>
        <button
          type="button"
          className="menu-toggle"
          onClick={() => setMenuOpen(!menuOpen)}
          aria-label="menu"
        >
          ☰
        </button>
        <nav className={menuOpen ? 'open' : ''}>
          {NAV.filter(([k]) => k !== 'users' || me.role === 'admin').map(([key, label]) => (
            <a key={key} href={href(key)} className={page === key ? 'active' : ''}>
              {label}
            </a>
          ))}
        </nav>
        <div className="who">
          <LiveDot />
          <span title={me.bindings.map((b) => `${b.scope}:${b.name}=${b.role}`).join(', ')}>
            {me.name} <span className="muted">({me.role})</span>
          </span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main>
        <Suspense fallback={<div className="boot">Loading…</div>}>
          {isPage(page) && <Page page={page} path={rest} />}
        </Suspense>
      </main>
    </SessionContext.Provider>
  );
}

function Page({ page, path }: { page: PageName; path: string[] }) {
  const Component = PAGES[page];
  return <Component path={path} />;
}
