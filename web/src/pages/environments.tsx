// The environments board: a column per environment, a row per service, the running tag in each cell.
import { useMemo, useState } from 'react';
import { post } from '../api.ts';
import { type AppSummary, appStatus, sortEnvs } from '../app-status.ts';
import { Badge, ErrorNote } from '../components/badge.tsx';
import { href, useApi } from '../hooks.ts';
import { useMe, whyCannotDeploy } from '../session.ts';

interface Env {
  name: string;
  protected?: boolean;
  autoSync?: boolean;
}

/** The service an app deploys: `node-hello-world-dev` in env `dev` is `node-hello-world`. */
export function serviceOf(app: AppSummary & { service?: string }, env: string): string {
  if (app.service) return app.service;
  return app.name.endsWith(`-${env}`) ? app.name.slice(0, -env.length - 1) : app.name;
}

function tagOf(images: string[]): string {
  const img = images[0] ?? '';
  const at = img.lastIndexOf(':');
  return at > img.lastIndexOf('/') ? img.slice(at + 1) : img || '—';
}

export function EnvironmentsPage() {
  const me = useMe();
  const apps = useApi<{ items: (AppSummary & { service?: string })[] }>('/api/v1/apps?view=summary', [
    'app.',
  ]);
  const envs = useApi<{ items: Env[] }>('/api/v1/envs', ['env.']);
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<Error>();
  const board = useMemo(() => {
    const cells = new Map<string, Map<string, AppSummary>>();
    const envNames = new Set((envs.data?.items ?? []).map((e) => e.name));
    for (const a of apps.data?.items ?? []) {
      const s = appStatus(a);
      envNames.add(s.env);
      const svc = serviceOf(a, s.env);
      if (!cells.has(svc)) cells.set(svc, new Map());
      cells.get(svc)!.set(s.env, a);
    }
    return { envs: sortEnvs([...envNames]), services: [...cells.keys()].sort(), cells };
  }, [apps.data, envs.data]);
  const envInfo = (n: string) =>
    envs.data?.items.find((e) => e.name === n) ?? { name: n, protected: /^prod/.test(n) };
  const promote = async (service: string, from: string, to: string) => {
    setError(undefined);
    try {
      const res = await post<{ status?: string; commit?: string }>('/api/v1/promotions', {
        service,
        from,
        to,
      });
      setMessage(`Promoted ${service} from ${from} to ${to}${res.status ? ` (${res.status})` : ''}`);
      apps.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <div className="page">
      <h1>Environments</h1>
      <ErrorNote error={apps.error ?? envs.error ?? error} />
      {message && <div className="note tone-ok">{message}</div>}
      <div className="board-scroll">
        <table className="board">
          <thead>
            <tr>
              <th>Service</th>
              {board.envs.map((e) => (
                <th key={e}>
                  {e} {envInfo(e).protected && <span title="protected">🔒</span>}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {board.services.map((svc) => (
              <tr key={svc}>
                <th>{svc}</th>
                {board.envs.map((env, i) => {
                  const app = board.cells.get(svc)?.get(env);
                  const next = board.envs[i + 1];
                  const why = next ? whyCannotDeploy(me, envInfo(next)) : undefined;
                  if (!app)
                    return (
                      <td key={env} className="muted">
                        —
                      </td>
                    );
                  const s = appStatus(app);
                  return (
                    <td key={env}>
                      <a href={href('apps', app.name)} className="cell-tag">
                        {tagOf(s.images)}
                      </a>
                      <div className="badges">
                        <Badge status={s.sync} />
                        <Badge status={s.health} />
                      </div>
                      {next && board.cells.get(svc)?.get(next) && (
                        <button
                          type="button"
                          className="small"
                          disabled={!!why}
                          title={why ?? `Promote to ${next}`}
                          onClick={() => promote(svc, env, next)}
                        >
                          Promote → {next}
                        </button>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
