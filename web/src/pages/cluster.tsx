// Cluster (the Rancher part): clusters, namespaces, workloads, pods with status, logs and events.
import { useState } from 'react';
import { Ago, Badge, ErrorNote } from '../components/badge.tsx';
import { PodLogPanel } from '../components/pod-log-panel.tsx';
import { href, useApi } from '../hooks.ts';

interface Cluster {
  name: string;
  server?: string;
  reachable?: boolean;
  version?: string;
  error?: string;
}
interface KObj {
  metadata: { name: string; namespace?: string; creationTimestamp?: string; uid?: string };
  spec?: {
    replicas?: number;
    containers?: { name: string; image: string }[];
    template?: { spec?: { containers?: { image: string }[] } };
  };
  status?: {
    phase?: string;
    readyReplicas?: number;
    replicas?: number;
    containerStatuses?: {
      ready: boolean;
      restartCount: number;
      state?: { waiting?: { reason?: string; message?: string } };
    }[];
  };
  reason?: string;
  message?: string;
  type?: string;
  involvedObject?: { kind: string; name: string };
  lastTimestamp?: string;
  eventTime?: string;
}

function podStatus(p: KObj): string {
  const waiting = p.status?.containerStatuses?.find((c) => c.state?.waiting?.reason)?.state?.waiting?.reason;
  if (waiting) return waiting;
  const ready = p.status?.containerStatuses?.every((c) => c.ready);
  return p.status?.phase === 'Running' ? (ready ? 'Running' : 'Progressing') : (p.status?.phase ?? 'Unknown');
}

export function ClusterPage({ path }: { path: string[] }) {
  const cluster = path[0] ?? 'in-cluster';
  const clusters = useApi<{ items: Cluster[] }>('/api/v1/clusters');
  const [ns, setNs] = useState(path[1] ?? 'default');
  const [logPod, setLogPod] = useState<string>();
  const base = cluster === 'in-cluster' ? '/kube' : null;
  const namespaces = useApi<{ items: KObj[] }>(base ? `${base}/api/v1/namespaces` : null, [], 5000);
  const deployments = useApi<{ items: KObj[] }>(
    base ? `${base}/apis/apps/v1/namespaces/${ns}/deployments` : null,
    [],
    3000,
  );
  const pods = useApi<{ items: KObj[] }>(base ? `${base}/api/v1/namespaces/${ns}/pods` : null, [], 3000);
  const events = useApi<{ items: KObj[] }>(base ? `${base}/api/v1/namespaces/${ns}/events` : null, [], 5000);
  return (
    <div className="page">
      <h1>Cluster</h1>
      <ErrorNote error={clusters.error} />
      <div className="card-grid">
        {(clusters.data?.items ?? [{ name: 'in-cluster', reachable: true }]).map((c) => (
          <a
            key={c.name}
            className={`card${c.name === cluster ? ' selected' : ''}`}
            href={href('cluster', c.name)}
          >
            <div className="card-title">{c.name}</div>
            <Badge status={c.reachable === false ? 'Unknown' : 'Healthy'} title={c.error} />
            <div className="muted small">
              {c.version ?? ''} {c.server ?? ''}
            </div>
          </a>
        ))}
      </div>
      {!base && (
        <p className="muted">
          Browsing objects of external clusters is done through their own API; this view shows the local
          cluster.
        </p>
      )}
      {base && (
        <>
          <label>
            Namespace{' '}
            <select value={ns} onChange={(e) => setNs(e.target.value)} aria-label="namespace">
              {(namespaces.data?.items ?? [{ metadata: { name: 'default' } }]).map((n) => (
                <option key={n.metadata.name}>{n.metadata.name}</option>
              ))}
            </select>
          </label>
          <p className="muted small">
            Local cluster: simulated — no container really runs; pods follow a simulated kubelet.
          </p>
          <h2>Workloads</h2>
          <ErrorNote error={deployments.error} />
          <table className="grid-table">
            <thead>
              <tr>
                <th>Deployment</th>
                <th>Ready</th>
                <th>Image</th>
                <th>Age</th>
              </tr>
            </thead>
            <tbody>
              {(deployments.data?.items ?? []).map((d) => (
                <tr key={d.metadata.name}>
                  <td>{d.metadata.name}</td>
                  <td>
                    {d.status?.readyReplicas ?? 0}/{d.spec?.replicas ?? 0}
                  </td>
                  <td>{d.spec?.template?.spec?.containers?.map((c) => c.image).join(', ')}</td>
                  <td>
                    <Ago time={d.metadata.creationTimestamp} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Pods</h2>
          <table className="grid-table">
            <thead>
              <tr>
                <th>Pod</th>
                <th>Status</th>
                <th>Restarts</th>
                <th>Image</th>
                <th>Age</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {(pods.data?.items ?? []).map((p) => (
                <tr key={p.metadata.name}>
                  <td>{p.metadata.name}</td>
                  <td>
                    <Badge
                      status={podStatus(p)}
                      title={p.status?.containerStatuses?.[0]?.state?.waiting?.message}
                    />
                  </td>
                  <td>{p.status?.containerStatuses?.reduce((n, c) => n + c.restartCount, 0) ?? 0}</td>
                  <td>{p.spec?.containers?.map((c) => c.image).join(', ')}</td>
                  <td>
                    <Ago time={p.metadata.creationTimestamp} />
                  </td>
                  <td>
                    <button
                      type="button"
                      data-logs-for={p.metadata.name}
                      onClick={() => setLogPod(logPod === p.metadata.name ? undefined : p.metadata.name)}
                    >
                      {logPod === p.metadata.name ? 'Hide logs' : 'Logs'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {logPod && (
            <PodLogPanel
              key={`${ns}/${logPod}`}
              namespace={ns}
              pod={logPod}
              containers={
                pods.data?.items
                  .find((p) => p.metadata.name === logPod)
                  ?.spec?.containers?.map((c) => c.name) ?? []
              }
            />
          )}
          <h2>Events</h2>
          <table className="grid-table">
            <tbody>
              {(events.data?.items ?? [])
                .slice(-30)
                .reverse()
                .map((e) => (
                  <tr key={e.metadata.uid ?? e.metadata.name}>
                    <td>
                      <Ago time={e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp} />
                    </td>
                    <td>{e.type}</td>
                    <td>{e.reason}</td>
                    <td>
                      {e.involvedObject?.kind}/{e.involvedObject?.name}
                    </td>
                    <td>{e.message}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
