import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError, UnavailableError } from '../core/index.ts';
import type { WatchEvent } from './client.ts';
import { startFakeKubeApi } from './fake-api-server.ts';
import { createKubeconfigClient } from './kubeconfig-client.ts';
import type { KubeObject } from './types.ts';

const cm = (name: string, v: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default' },
  data: { v },
});

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('watch() resumes from the last resourceVersion after the connection drops', async () => {
  const api = await startFakeKubeApi();
  const client = createKubeconfigClient({ name: 'fake', kubeconfig: api.kubeconfig() });
  const events: WatchEvent[] = [];
  const handle = client.watch('v1', 'ConfigMap', { namespace: 'default', onError: () => {} }, (e) =>
    events.push(e),
  );
  try {
    await waitFor(() => events.some((e) => e.type === 'SYNC'), 'SYNC');
    await client.apply(cm('a', '1'));
    await waitFor(() => events.length === 2, 'ADDED a');
    const rv = handle.resourceVersion;
    api.dropWatches();
    await client.apply(cm('b', '1'));
    await waitFor(() => events.length === 3, 'ADDED b after reconnect');
    assert.deepEqual(
      events.map((e) => (e.type === 'SYNC' ? 'SYNC' : `${e.type} ${e.object.metadata.name}`)),
      ['SYNC', 'ADDED a', 'ADDED b'],
    );
    assert.ok(api.requests.some((r) => r.includes('watch=1') && r.includes(`resourceVersion=${rv}`)));
  } finally {
    await handle.stop();
    client.close();
    await api.close();
  }
});

test('watch() re-lists after 410 Gone and delivers a SYNC with the current state', async () => {
  const api = await startFakeKubeApi();
  const client = createKubeconfigClient({ name: 'fake', kubeconfig: api.kubeconfig() });
  const events: WatchEvent[] = [];
  const handle = client.watch('v1', 'ConfigMap', { namespace: 'default', onError: () => {} }, (e) =>
    events.push(e),
  );
  try {
    await waitFor(() => events.some((e) => e.type === 'SYNC'), 'first SYNC');
    // The watch is cut while an object changes, and the server has compacted its history meanwhile.
    api.dropWatches();
    await client.apply(cm('c', '1'));
    api.compact();
    await waitFor(
      () => events.filter((e) => e.type === 'SYNC').length === 2 || events.some((e) => e.type === 'ADDED'),
      'resync',
    );
    const last = events[events.length - 1]!;
    if (last.type === 'SYNC')
      assert.deepEqual(
        last.objects.map((o) => o.metadata.name),
        ['c'],
      );
    else assert.equal(last.object.metadata.name, 'c');
    await client.apply(cm('d', '1'));
    await waitFor(() => events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'd'), 'ADDED d');
  } finally {
    await handle.stop();
    client.close();
    await api.close();
  }
});

test('watch() from an expired resourceVersion re-lists (410 as a watch ERROR event)', async () => {
  const api = await startFakeKubeApi();
  const client = createKubeconfigClient({ name: 'fake', kubeconfig: api.kubeconfig() });
  await client.apply(cm('e', '1'));
  api.compact();
  const events: WatchEvent[] = [];
  const handle = client.watch('v1', 'ConfigMap', { namespace: 'default', resourceVersion: '50' }, (e) =>
    events.push(e),
  );
  try {
    await waitFor(() => events.some((e) => e.type === 'SYNC'), 'SYNC after 410');
    const sync = events.find((e) => e.type === 'SYNC');
    assert.ok(sync?.type === 'SYNC');
    assert.deepEqual(
      sync.objects.map((o) => o.metadata.name),
      ['e'],
    );
  } finally {
    await handle.stop();
    client.close();
    await api.close();
  }
});

test('a bearer token is sent; a wrong one is refused', async () => {
  const api = await startFakeKubeApi({ token: 'right' });
  const good = createKubeconfigClient({ name: 'good', kubeconfig: api.kubeconfig() });
  const bad = createKubeconfigClient({
    name: 'bad',
    kubeconfig: api.kubeconfig().replace('token: right', 'token: wrong'),
  });
  try {
    assert.match((await good.serverVersion()).gitVersion, /^v1\./);
    await assert.rejects(
      bad.serverVersion(),
      (err: unknown) => err instanceof UnavailableError && /Unauthorized/.test(err.message),
    );
  } finally {
    good.close();
    bad.close();
    await api.close();
  }
});

test('an https server with insecure-skip-tls-verify works', async (t) => {
  let dir = '';
  try {
    dir = mkdtempSync(join(tmpdir(), 'slipway-kube-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
      ],
      { stdio: 'ignore' },
    );
  } catch {
    if (dir) rmSync(dir, { recursive: true, force: true });
    t.skip('openssl is not installed');
    return;
  }
  const api = await startFakeKubeApi({
    token: 'tls-token',
    tls: {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    },
  });
  const client = createKubeconfigClient({ name: 'tls', kubeconfig: api.kubeconfig() });
  const strict = createKubeconfigClient({
    name: 'strict',
    kubeconfig: api.kubeconfig().replace('    insecure-skip-tls-verify: true\n', ''),
  });
  try {
    assert.ok(api.url.startsWith('https://'));
    const live = await client.apply(cm('tls', '1'));
    assert.equal(live.metadata.name, 'tls');
    await assert.rejects(strict.serverVersion(), UnavailableError);
  } finally {
    client.close();
    strict.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreachable or silent cluster fails with UnavailableError naming it', async () => {
  const silent = http.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as AddressInfo).port;
  const kubeconfig = (server: string) =>
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${server}"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n`;
  const slow = createKubeconfigClient({
    name: 'slow',
    kubeconfig: kubeconfig(`http://127.0.0.1:${port}`),
    timeoutMs: 200,
  });
  const closedPort = await new Promise<number>((resolve) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const down = createKubeconfigClient({
    name: 'down',
    kubeconfig: kubeconfig(`http://127.0.0.1:${closedPort}`),
  });
  try {
    await assert.rejects(
      slow.serverVersion(),
      (err: unknown) => err instanceof UnavailableError && /"slow".*no answer/.test(err.message),
    );
    await assert.rejects(
      down.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'x' }),
      (err: unknown) => err instanceof UnavailableError && /"down".*ECONNREFUSED/.test(err.message),
    );
  } finally {
    slow.close();
    down.close();
    silent.closeAllConnections();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});

test('kubeconfig problems are InputErrors; the context namespace is the default', async () => {
  assert.throws(() => createKubeconfigClient({ name: 'x', kubeconfig: 'clusters: [' }), InputError);
  const api = await startFakeKubeApi();
  try {
    assert.throws(
      () => createKubeconfigClient({ name: 'x', kubeconfig: api.kubeconfig(), context: 'nope' }),
      /Context "nope"/,
    );
    const client = createKubeconfigClient({
      name: 'ns',
      kubeconfig: api.kubeconfig({ namespace: 'team-a' }),
    });
    assert.equal(client.defaultNamespace, 'team-a');
    const live = await client.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'n' },
      data: {},
    });
    assert.equal(live.metadata.namespace, 'team-a');
    const ns = await client.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-a', namespace: 'ignored' },
    });
    assert.equal(ns.metadata.namespace, undefined);
    client.close();
  } finally {
    await api.close();
  }
});
