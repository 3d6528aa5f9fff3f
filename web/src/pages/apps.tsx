// Applications: a grid grouped by environment, and an app page with tree, diff, sync/rollback and history.
import { lazy, Suspense, startTransition, useEffect, useMemo, useState } from 'react';
import { post } from '../api.ts';
import { type AppSummary, appStatus, sortEnvs } from '../app-status.ts';
import { Ago, Badge, Duration, ErrorNote } from '../components/badge.tsx';
import { ResourceTree, type TreeNode } from '../components/resource-tree.tsx';
import { YamlDiff } from '../components/yaml-diff.tsx';
import { href, useApi } from '../hooks.ts';
import { useMe, whyCannotDeploy } from '../session.ts';

/** Turns the API's flat node list (each with its parents) into roots with children. */
export function toTree(
  items: {
    id: string;
    kind: string;
    name: string;
    namespace?: string;
    health?: string;
    message?: string;
    parents: string[];
  }[],
): TreeNode[] {
  const byId = new Map<string, TreeNode>();
  for (const i of items)
    byId.set(i.id, {
      id: i.id,
      kind: i.kind,
      name: i.name,
      ...(i.namespace ? { namespace: i.namespace } : {}),
      ...(i.health ? { health: i.health } : {}),
      ...(i.message ? { message: i.message } : {}),
      children: [],
    });
  const roots: TreeNode[] = [];
  for (const i of items) {
    const node = byId.get(i.id)!;
    const parents = i.parents.filter((p) => byId.has(p));
    if (parents.length === 0) roots.push(node);
    else byId.get(parents[0]!)!.children.push(node);
  }
  const order = ['Ingress', 'Service', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod'];
  const rank = (k: string) => (order.indexOf(k) < 0 ? 99 : order.indexOf(k));
  return roots.sort((a, b) => rank(a.kind) - rank(b.kind));
}

// On demand (a pod selected in the tree): loaded then, not with the page.
const PodLogPanel = lazy(() =>
  import('../components/pod-log-panel.tsx').then((m) => ({ default: m.PodLogPanel })),
);

export function AppsPage({ path }: { path: string[] }) {
  if (path[0]) return <AppDetail name={path[0]} />;
  return <AppGrid />;
}

/** Cards in the first render: more than a large screen shows; the rest follow right after it is painted. */
const FIRST_CARDS = 48;

function AppGrid() {
  const apps = useApi<{ items: AppSummary[] }>('/api/v1/apps?view=summary', ['app.']);
  const [filter, setFilter] = useState('');
  const [limit, setLimit] = useState(FIRST_CARDS);
  const total = apps.data?.items.length ?? 0;
  useEffect(() => {
    if (limit >= total) return;
    // After the browser has painted the first cards, render all of them as a low-priority update.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      timer = setTimeout(() => startTransition(() => setLimit(Number.POSITIVE_INFINITY)), 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, [limit, total]);
  const groups = useMemo(() => {
    const items = (apps.data?.items ?? []).filter((a) => !filter || a.name.includes(filter));
    const by = new Map<string, AppSummary[]>();
    for (const a of items) {
      const env = appStatus(a).env;
      const list = by.get(env);
      if (list) list.push(a);
      else by.set(env, [a]);
    }
    let offset = 0;
    return sortEnvs([...by.keys()]).map((env) => {
      const list = by.get(env)!;
      offset += list.length;
      // Index of the group's first card among all cards.
      return [env, list, offset - list.length] as const;
    });
  }, [apps.data, filter]);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Applications</h1>
        <input
          type="search"
          placeholder="Filter"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          aria-label="filter apps"
        />
      </div>
      <ErrorNote error={apps.error} />
      {!apps.loading && groups.length === 0 && (
        <p className="muted">
          No applications yet. Create one with <code>slipway app create -f app.yaml</code>.
        </p>
      )}
      {groups.map(([env, items, first]) => (
        <section key={env}>
          <h2>{env}</h2>
          <div className="card-grid">
            {items.slice(0, Math.max(0, limit - first)).map((a) => {
              const s = appStatus(a);
              return (
                <a className="card app-card" key={a.name} href={href('apps', a.name)} data-app={a.name}>
                  <div className="card-title">{a.name}</div>
                  <div className="badges">
                    <Badge status={s.sync} />
                    <Badge status={s.health} />
                  </div>
                  <div className="muted small">
                    {s.images[0] ?? ''} {s.revision ? `@ ${s.revision.slice(0, 7)}` : ''}
                  </div>
                </a>
              );
            })}
          </div>
        </section>
      ))}
    </div>
  );
}

interface AppDetailData extends AppSummary {
  environmentInfo?: { name: string; protected?: boolean };
  protected?: boolean;
}
interface HistoryEntry {
  id: number | string;
  revision?: string;
  commit?: string;
  author?: string;
  startedBy?: string;
  initiator?: string;
  result?: string;
  phase?: string;
  startedAt?: string;
  time?: string;
  durationMs?: number;
  message?: string;
}
interface DiffItem {
  ref?: { kind: string; name: string; namespace?: string };
  kind?: string;
  name?: string;
  status?: string;
  sync?: string;
  summary?: string[];
  desiredYaml?: string;
  liveYaml?: string;
  diff?: string;
}

function AppDetail({ name }: { name: string }) {
  const me = useMe();
  const enc = encodeURIComponent(name);
  const app = useApi<AppDetailData>(`/api/v1/apps/${enc}`, ['app.']);
  const tree = useApi<{ items?: Parameters<typeof toTree>[0] }>(
    `/api/v1/apps/${enc}/tree`,
    ['app.', 'kube.'],
    3000,
  );
  // The diff renders the app and reads every live object: the slowest read, and below the fold. It (and the
  // history) start once the status and tree have arrived, so they do not compete with the first paint.
  const firstPaintDone = (app.data !== undefined || app.error !== undefined) && !tree.loading;
  const diff = useApi<{ items?: DiffItem[]; resources?: DiffItem[] }>(
    firstPaintDone ? `/api/v1/apps/${enc}/diff` : null,
    ['app.'],
  );
  const history = useApi<{ items: HistoryEntry[] }>(firstPaintDone ? `/api/v1/apps/${enc}/history` : null, [
    'app.',
  ]);
  const [busy, setBusy] = useState<string>();
  const [actionError, setActionError] = useState<Error>();
  const [selected, setSelected] = useState<TreeNode>();
  const s = app.data ? appStatus(app.data) : undefined;
  // Until the app has arrived its environment is unknown, and so is whether this user may sync it.
  const why =
    s &&
    whyCannotDeploy(me, {
      name: s.env,
      protected: s.protected ?? app.data?.protected ?? /^prod/.test(s.env),
    });
  const act = async (label: string, path: string, body?: unknown) => {
    setBusy(label);
    setActionError(undefined);
    try {
      await post(path, body);
      app.reload();
      history.reload();
      diff.reload();
    } catch (e) {
      setActionError(e as Error);
    } finally {
      setBusy(undefined);
    }
  };
  const roots = useMemo(() => toTree(tree.data?.items ?? []), [tree.data]);
  const diffs = diff.data?.items ?? diff.data?.resources ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>
          <a href={href('apps')}>Applications</a> / {name}
        </h1>
        <div className="actions">
          {s && (
            <button
              type="button"
              className="primary"
              disabled={!!why || !!busy}
              title={why ?? 'Apply what git declares'}
              onClick={() => act('sync', `/api/v1/apps/${enc}/sync`, { prune: true })}
              data-testid="sync-button"
            >
              {busy === 'sync' ? 'Syncing…' : 'Sync'}
            </button>
          )}
          <button
            type="button"
            onClick={() => act('refresh', `/api/v1/apps/${enc}/refresh`)}
            disabled={!!busy}
          >
            Refresh
          </button>
        </div>
      </div>
      {why && (
        <p className="muted small" data-testid="sync-disabled-reason">
          {why}
        </p>
      )}
      <ErrorNote error={app.error ?? actionError} />
      {s && (
        <div className="status-row">
          <div>
            <span className="label">Sync</span> <Badge status={s.sync} />
          </div>
          <div>
            <span className="label">Health</span> <Badge status={s.health} />
          </div>
          <div>
            <span className="label">Environment</span> {s.env}
          </div>
          <div>
            <span className="label">Revision</span> <code>{s.revision?.slice(0, 10) ?? '—'}</code>
          </div>
          {s.images.length > 0 && (
            <div>
              <span className="label">Images</span> {s.images.join(', ')}
            </div>
          )}
        </div>
      )}
      {s?.message && (
        <div className={`note tone-${/error|fail|degraded/i.test(s.message) ? 'bad' : 'muted'}`}>
          {s.message}
        </div>
      )}
      <h2>Resources</h2>
      <ResourceTree roots={roots} onSelect={setSelected} />
      {selected && (
        <div className="card">
          <strong>
            {selected.kind}/{selected.name}
          </strong>{' '}
          <Badge status={selected.health} /> <span className="muted">{selected.message}</span>
          {selected.kind === 'Pod' && selected.namespace && (
            <Suspense fallback={<p className="muted">Loading the log…</p>}>
              <PodLogPanel
                key={selected.id}
                namespace={selected.namespace}
                pod={selected.name}
                containers={[]}
              />
            </Suspense>
          )}
          <LiveYaml node={selected} />
        </div>
      )}
      <h2>Diff</h2>
      {diff.data === undefined && !diff.error && <p className="muted">Comparing with git…</p>}
      <ErrorNote error={diff.error} />
      {diff.data !== undefined && diffs.filter((d) => d.status !== 'Synced').length === 0 && (
        <p className="muted">Live state matches git.</p>
      )}
      {diffs
        .filter((d) => d.status !== 'Synced')
        .map((d, i) => {
          const kind = d.ref?.kind ?? d.kind ?? '';
          const nm = d.ref?.name ?? d.name ?? '';
          return d.desiredYaml !== undefined || d.liveYaml !== undefined ? (
            <YamlDiff
              key={i}
              title={`${kind}/${nm} (${d.status})`}
              live={d.liveYaml ?? ''}
              desired={d.desiredYaml ?? ''}
            />
          ) : (
            <pre key={i} className="code">
              {`${kind}/${nm}: ${(d.summary ?? [d.status ?? '']).join('; ')}\n${d.diff ?? ''}`}
            </pre>
          );
        })}
      <h2>History</h2>
      <table className="grid-table">
        <thead>
          <tr>
            <th>#</th>
            <th>When</th>
            <th>Revision</th>
            <th>Who</th>
            <th>Result</th>
            <th>Took</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(history.data?.items ?? []).map((h) => (
            <tr key={h.id}>
              <td>{h.id}</td>
              <td>
                <Ago time={h.startedAt ?? h.time} />
              </td>
              <td>
                <code>{(h.revision ?? h.commit ?? '').slice(0, 7)}</code>{' '}
                <span className="muted">{h.message}</span>
              </td>
              <td>{h.startedBy ?? h.initiator ?? h.author}</td>
              <td>
                <Badge status={h.result ?? h.phase} />
              </td>
              <td>
                <Duration ms={h.durationMs} />
              </td>
              <td>
                <button
                  type="button"
                  disabled={!s || !!why || !!busy}
                  title={why ?? `Roll back to ${h.id}`}
                  onClick={() =>
                    act('rollback', `/api/v1/apps/${enc}/rollback`, { id: h.id, revision: h.id })
                  }
                >
                  Rollback
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function LiveYaml({ node }: { node: TreeNode }) {
  const path = node.namespace
    ? `/api/v1/apps/resource?kind=${encodeURIComponent(node.kind)}&namespace=${encodeURIComponent(node.namespace)}&name=${encodeURIComponent(node.name)}`
    : null;
  const res = useApi<{ yaml?: string }>(path);
  if (!res.data?.yaml) return null;
  return <pre className="code">{res.data.yaml}</pre>;
}
