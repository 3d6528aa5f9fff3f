// The conformance suite against the embedded Kubernetes API server (src/localcluster), through its kubeconfig.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type StandaloneCluster, startLocalCluster } from '../localcluster/index.ts';
import type { WatchEvent } from './client.ts';
import { runKubeClientConformance } from './conformance.ts';
import { diffAll } from './diff.ts';
import { assessHealth } from './health.ts';
import { createKubeconfigClient } from './kubeconfig-client.ts';
import { manifests } from './testdata.ts';
import { refOf } from './types.ts';

let cluster: StandaloneCluster;
let dataDir: string;
before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'slipway-kube-lc-'));
  // Images resolve unless their tag is `missing` (then the simulated kubelet reports ErrImagePull).
  cluster = await startLocalCluster({
    dataDir,
    resolveImage: async (image) =>
      image.endsWith(':missing') ? { ok: false, message: `manifest unknown: ${image}` } : { ok: true },
  });
});
after(async () => {
  await cluster.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

runKubeClientConformance(
  async () =>
    createKubeconfigClient({
      name: 'in-cluster',
      kubeconfig: readFileSync(cluster.kubeconfigPath, 'utf8'),
      timeoutMs: 10_000,
    }),
  { name: 'local cluster' },
);

test('every k8s-reference manifest applied to the local cluster diffs as Synced, and web becomes Healthy', async () => {
  const client = createKubeconfigClient({
    name: 'in-cluster',
    kubeconfig: readFileSync(cluster.kubeconfigPath, 'utf8'),
  });
  try {
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'capture' } });
    const files = [
      '01-config.yaml',
      '02-web-deploy.yaml',
      '03-web-svc-ing.yaml',
      '04-job.yaml',
      '05-statefulset.yaml',
    ];
    const desired = files
      .flatMap((f) => manifests(f))
      .map((m) => ({ ...m, metadata: { ...m.metadata, namespace: 'capture' } }));
    const live = [];
    for (const obj of desired) live.push(await client.apply(obj));
    const results = diffAll(desired, live);
    for (const r of results)
      assert.deepEqual([r.ref.kind, r.ref.name, r.changes], [r.ref.kind, r.ref.name, []]);
    // The same once more from fresh GETs, after the controllers have written status and defaults.
    const fetched = [];
    for (const obj of desired) fetched.push((await client.get(refOf(obj)))!);
    for (const r of diffAll(desired, fetched))
      assert.equal(r.status, 'Synced', `${r.ref.kind}/${r.ref.name}: ${r.diff}`);

    let health = assessHealth(fetched[2]);
    for (let i = 0; i < 200 && health?.status !== 'Healthy'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      health = assessHealth(
        (await client.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'capture' }))!,
      );
    }
    assert.equal(health?.status, 'Healthy', health?.message);
  } finally {
    client.close();
  }
});

test('diff() on the local cluster sees a field removed from the manifest through slipway managedFields', async () => {
  const client = createKubeconfigClient({
    name: 'in-cluster',
    kubeconfig: readFileSync(cluster.kubeconfigPath, 'utf8'),
  });
  try {
    const desired = manifests('02-web-deploy.yaml')[0]!;
    desired.metadata = { ...desired.metadata, name: 'web-removal', namespace: 'default' };
    const live = await client.apply(desired);
    assert.equal(diffAll([desired], [live])[0]?.status, 'Synced');
    const { annotations: _dropped, ...metadata } = desired.metadata;
    const result = diffAll([{ ...desired, metadata }], [live])[0]!;
    assert.equal(result.status, 'OutOfSync');
    assert.deepEqual(result.changes, [
      { path: 'metadata.annotations["example.com/owner"]', desired: undefined, live: 'team-a' },
    ]);
  } finally {
    client.close();
  }
});

test('a Pod whose image cannot be pulled is Degraded with the kubelet message', async () => {
  const client = createKubeconfigClient({
    name: 'in-cluster',
    kubeconfig: readFileSync(cluster.kubeconfigPath, 'utf8'),
  });
  try {
    await client.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'nopull', namespace: 'default' },
      spec: { containers: [{ name: 'app', image: 'example.com/app:missing' }] },
    });
    let health = assessHealth(undefined);
    for (let i = 0; i < 200 && health?.status !== 'Degraded'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      health = assessHealth(
        (await client.get({ apiVersion: 'v1', kind: 'Pod', name: 'nopull', namespace: 'default' })) ??
          undefined,
      );
    }
    assert.equal(health?.status, 'Degraded', JSON.stringify(health));
    assert.match(health?.message ?? '', /^app: (ErrImagePull|ImagePullBackOff): /);
  } finally {
    client.close();
  }
});

test('watch() from a compacted resourceVersion re-lists on the local cluster (410 Gone)', async () => {
  const client = createKubeconfigClient({
    name: 'in-cluster',
    kubeconfig: readFileSync(cluster.kubeconfigPath, 'utf8'),
  });
  const events: WatchEvent[] = [];
  const handle = client.watch('v1', 'Namespace', { resourceVersion: '1' }, (e) => events.push(e));
  try {
    for (let i = 0; i < 200 && !events.some((e) => e.type === 'SYNC'); i++)
      await new Promise((r) => setTimeout(r, 25));
    const sync = events.find((e) => e.type === 'SYNC');
    assert.ok(sync?.type === 'SYNC', `events: ${events.map((e) => e.type).join(',')}`);
    assert.ok(sync.objects.some((o) => o.metadata.name === 'default'));
    assert.ok(Number(handle.resourceVersion) > 1);
  } finally {
    await handle.stop();
    client.close();
  }
});

test('objects kubectl applies are read back by the client and diff as Synced', async (t) => {
  const kubectl = fileURLToPath(new URL('../../node_modules/.cache/slipway-tools/kubectl', import.meta.url));
  if (!existsSync(kubectl)) {
    t.skip('kubectl is not installed (npm ci extracts it)');
    return;
  }
  const file = fileURLToPath(new URL('./testdata/manifests/01-config.yaml', import.meta.url));
  // Asynchronously: the local cluster answers kubectl from this very process.
  await promisify(execFile)(
    kubectl,
    [
      '--kubeconfig',
      cluster.kubeconfigPath,
      'apply',
      '--server-side',
      '--validate=false',
      '-n',
      'default',
      '-f',
      file,
    ],
    { timeout: 60_000 },
  );
  const client = createKubeconfigClient({
    name: 'in-cluster',
    kubeconfig: readFileSync(cluster.kubeconfigPath, 'utf8'),
  });
  try {
    for (const desired of manifests('01-config.yaml')) {
      const live = await client.get({ ...refOf(desired), namespace: 'default' });
      assert.ok(live, `${desired.kind} missing`);
      assert.ok(live.metadata.managedFields?.some((m) => m.manager === 'kubectl'));
      assert.equal(diffAll([desired], [live])[0]?.status, 'Synced');
    }
  } finally {
    client.close();
  }
});
