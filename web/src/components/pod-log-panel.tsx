// A pod's container log, followed live: streams `pods/log?follow=true` from the local cluster's API.
import { useEffect, useState } from 'react';
import { LogView } from './log-view.tsx';

const MAX_LINES = 2000;

export function PodLogPanel({
  namespace,
  pod,
  containers,
}: {
  namespace: string;
  pod: string;
  containers: string[];
}) {
  const [container, setContainer] = useState(containers[0] ?? '');
  const [lines, setLines] = useState<string[]>([]);
  const [live, setLive] = useState(false);
  const [note, setNote] = useState<string>();
  useEffect(() => {
    setLines([]);
    setNote(undefined);
    const abort = new AbortController();
    const q = new URLSearchParams({ follow: 'true', tailLines: '500', timestamps: 'true' });
    if (container) q.set('container', container);
    const url = `/kube/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?${q}`;
    (async () => {
      const res = await fetch(url, { credentials: 'same-origin', signal: abort.signal });
      if (!res.ok || !res.body) {
        const body = (await res.text().catch(() => '')) || `HTTP ${res.status}`;
        let message = body;
        try {
          message = (JSON.parse(body) as { message?: string }).message ?? body;
        } catch {}
        setNote(message);
        return;
      }
      setLive(true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let rest = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const parts = (rest + value).split('\n');
        rest = parts.pop() ?? '';
        if (parts.length) setLines((old) => [...old, ...parts].slice(-MAX_LINES));
      }
      setLive(false);
      setNote('The container stopped or the pod is gone: the stream ended.');
    })().catch((e: unknown) => {
      if (!abort.signal.aborted) setNote(String((e as Error).message ?? e));
      setLive(false);
    });
    return () => abort.abort();
  }, [namespace, pod, container]);
  return (
    <div className="log-panel" data-testid="pod-log-panel">
      {containers.length > 1 && (
        <label>
          Container{' '}
          <select value={container} onChange={(e) => setContainer(e.target.value)} aria-label="container">
            {containers.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
      )}
      <LogView lines={lines} title={`${pod}${container ? `/${container}` : ''}`} live={live} />
      {note && <p className="muted small">{note}</p>}
    </div>
  );
}
