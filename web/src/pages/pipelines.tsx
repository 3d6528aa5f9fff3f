// Pipelines: services with their latest builds, and a build page with the stage graph and live logs.
import { useEffect, useMemo, useState } from 'react';
import { post } from '../api.ts';
import { Ago, Badge, Duration, ErrorNote } from '../components/badge.tsx';
import { LogView } from '../components/log-view.tsx';
import { type StageNode, StageGraph } from '../components/stage-graph.tsx';
import { subscribe } from '../events.ts';
import { href, useApi } from '../hooks.ts';
import { atLeast, useMe } from '../session.ts';

interface BuildSummary {
  number: number;
  status: string;
  branch?: string;
  ref?: string;
  commit?: string;
  sha?: string;
  trigger?: string;
  startedBy?: string;
  who?: string;
  createdAt?: string;
  queuedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
}
interface Pipeline {
  repo: string;
  valid?: boolean;
  error?: string;
  lastBuild?: number;
  lastStatus?: string;
}
interface Step {
  name?: string;
  status: string;
  durationMs?: number | null;
}
interface Stage extends StageNode {
  steps?: Step[];
  parallel?: Stage[];
}
interface Build extends BuildSummary {
  repo?: string;
  stages: Stage[];
  error?: string;
}

export function PipelinesPage({ path }: { path: string[] }) {
  if (path.length >= 3) return <BuildPage repo={`${path[0]}/${path[1]}`} number={Number(path[2])} />;
  if (path.length === 2) return <BuildList repo={`${path[0]}/${path[1]}`} />;
  return <PipelineList />;
}

function PipelineList() {
  const list = useApi<{ items: Pipeline[] }>('/api/v1/pipelines', ['build.', 'git.push']);
  return (
    <div className="page">
      <h1>Pipelines</h1>
      <ErrorNote error={list.error} />
      {!list.loading && (list.data?.items ?? []).length === 0 && (
        <p className="muted">
          No pipelines yet: push a repository with <code>.slipway/pipeline.yaml</code>.
        </p>
      )}
      <table className="grid-table">
        <thead>
          <tr>
            <th>Service</th>
            <th>Last build</th>
            <th>Status</th>
            <th>Pipeline file</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(list.data?.items ?? []).map((p) => {
            const [org, name] = p.repo.split('/');
            return (
              <tr key={p.repo}>
                <td>
                  <a href={href('pipelines', org!, name!)}>{p.repo}</a>
                </td>
                <td>
                  {p.lastBuild ? (
                    <a href={href('pipelines', org!, name!, p.lastBuild)}>#{p.lastBuild}</a>
                  ) : (
                    '—'
                  )}
                </td>
                <td>{p.lastStatus && <Badge status={p.lastStatus} />}</td>
                <td>{p.valid === false ? <span className="tone-bad">{p.error}</span> : 'valid'}</td>
                <td />
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function BuildList({ repo }: { repo: string }) {
  const me = useMe();
  const builds = useApi<{ items: BuildSummary[] }>(`/api/v1/builds/${repo}`, ['build.']);
  const [branch, setBranch] = useState('main');
  const [error, setError] = useState<Error>();
  const [org, name] = repo.split('/') as [string, string];
  const run = async () => {
    setError(undefined);
    try {
      const b = await post<BuildSummary>(`/api/v1/pipelines/${repo}/run`, { branch });
      window.location.hash = href('pipelines', org, name, b.number);
    } catch (e) {
      setError(e as Error);
    }
  };
  const canRun = atLeast(me, 'developer');
  return (
    <div className="page">
      <div className="page-head">
        <h1>
          <a href={href('pipelines')}>Pipelines</a> / {repo}
        </h1>
        <div className="actions">
          <input value={branch} onChange={(e) => setBranch(e.target.value)} aria-label="branch" />
          <button
            type="button"
            className="primary"
            onClick={run}
            disabled={!canRun}
            title={canRun ? 'Run the pipeline' : 'Developers and above may run pipelines'}
          >
            Run
          </button>
        </div>
      </div>
      <ErrorNote error={builds.error ?? error} />
      <table className="grid-table">
        <thead>
          <tr>
            <th>#</th>
            <th>Status</th>
            <th>Branch</th>
            <th>Commit</th>
            <th>Trigger</th>
            <th>When</th>
            <th>Took</th>
          </tr>
        </thead>
        <tbody>
          {(builds.data?.items ?? []).map((b) => (
            <tr key={b.number}>
              <td>
                <a href={href('pipelines', org, name, b.number)}>#{b.number}</a>
              </td>
              <td>
                <Badge status={b.status} />
              </td>
              <td>{b.branch ?? b.ref}</td>
              <td>
                <code>{(b.commit ?? b.sha ?? '').slice(0, 7)}</code>
              </td>
              <td>{b.trigger}</td>
              <td>
                <Ago time={b.startedAt ?? b.createdAt ?? b.queuedAt} />
              </td>
              <td>
                <Duration ms={b.durationMs} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function BuildPage({ repo, number }: { repo: string; number: number }) {
  const me = useMe();
  const build = useApi<Build>(`/api/v1/builds/${repo}/${number}`, ['build.']);
  const [lines, setLines] = useState<string[]>([]);
  const [selected, setSelected] = useState<string>();
  const [error, setError] = useState<Error>();
  const [org, name] = repo.split('/') as [string, string];
  const live = build.data ? ['queued', 'running', 'waiting'].includes(build.data.status) : true;
  useEffect(() => {
    setLines([]);
    const source = new EventSource(`/api/v1/builds/${repo}/${number}/logs?follow=1`);
    const onLine = (e: MessageEvent) => {
      let text = e.data as string;
      try {
        const parsed = JSON.parse(text) as { line?: string; text?: string };
        text = parsed.line ?? parsed.text ?? text;
      } catch {
        /* plain text line */
      }
      setLines((prev) => [...prev, ...String(text).replace(/\n$/, '').split('\n')]);
    };
    source.onmessage = onLine;
    source.addEventListener('log', onLine as EventListener);
    source.addEventListener('end', () => source.close());
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) return;
    };
    const off = subscribe(['build.status'], () => build.reload());
    return () => {
      source.close();
      off();
    };
  }, [repo, number]);
  const stages = useMemo(() => build.data?.stages ?? [], [build.data]);
  const act = async (what: string) => {
    setError(undefined);
    try {
      const res = await post<{ number?: number }>(`/api/v1/builds/${repo}/${number}/${what}`);
      if (what === 'rerun' && res.number) window.location.hash = href('pipelines', org, name, res.number);
      build.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const canRun = atLeast(me, 'developer');
  const b = build.data;
  return (
    <div className="page">
      <div className="page-head">
        <h1>
          <a href={href('pipelines')}>Pipelines</a> / <a href={href('pipelines', org, name)}>{repo}</a> / #
          {number}
        </h1>
        <div className="actions">
          {b && <Badge status={b.status} />}
          {live && (
            <button type="button" onClick={() => act('cancel')} disabled={!canRun}>
              Cancel
            </button>
          )}
          {b?.status === 'waiting' && (
            <button type="button" onClick={() => act('approve')}>
              Approve
            </button>
          )}
          {!live && (
            <button
              type="button"
              onClick={() => act('rerun')}
              disabled={!canRun}
              title={canRun ? 'Run again' : 'Developers and above may re-run'}
            >
              Re-run
            </button>
          )}
        </div>
      </div>
      <ErrorNote error={build.error ?? error} />
      {b && (
        <div className="status-row">
          <div>
            <span className="label">Branch</span> {b.branch ?? b.ref}
          </div>
          <div>
            <span className="label">Commit</span> <code>{(b.commit ?? b.sha ?? '').slice(0, 10)}</code>
          </div>
          <div>
            <span className="label">Trigger</span> {b.trigger} {b.startedBy ?? b.who}
          </div>
          <div>
            <span className="label">Duration</span> <Duration ms={b.durationMs} />
          </div>
        </div>
      )}
      {b?.error && <div className="note tone-bad">{b.error}</div>}
      <StageGraph stages={stages} {...(selected ? { selected } : {})} onSelect={setSelected} />
      <LogView lines={lines} title={`${repo}#${number}`} live={live} />
    </div>
  );
}
