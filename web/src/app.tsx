// The application shell: sign-in gate, navigation, live-connection indicator and page routing.
import { Suspense, useEffect, useState } from 'react';
import { post } from './api.ts';
import { onStatus } from './events.ts';
import { href, useHashRoute } from './hooks.ts';
import { isPage, loadPage, type PageName, pageComponent } from './pages.ts';
import { LoginPage } from './pages/login.tsx';
import { type Me, SessionContext } from './session.ts';

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

/** The shell; `initialMe` is the session main.tsx read before the first render (null: signed out). */
export function App({ initialMe }: { initialMe: Me | null }) {
  const [me, setMe] = useState<Me | null>(initialMe);
  const route = useHashRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [route.join('/')]);
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
            <a
              key={key}
              href={href(key)}
              className={page === key ? 'active' : ''}
              onPointerEnter={() => preload(key)}
              onFocus={() => preload(key)}
            >
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
  const Component = pageComponent(page);
  return <Component path={path} />;
}

function preload(name: string) {
  if (isPage(name)) loadPage(name).catch(() => {});
}
