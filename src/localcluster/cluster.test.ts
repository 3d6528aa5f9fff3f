// Controllers, kubelet simulation, garbage collection, namespaces, CRDs and persistence over the HTTP API.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isPodReady } from './controllers/workloads.ts';
import { startTestCluster, type TestCluster, until } from './testing.ts';
import type { KubeObject } from './types.ts';

let cluster: TestCluster;

// biome-ignore lint/suspicious/noExplicitAny: test reads of arbitrary objects.
type Any = any;

async function call(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<Any> {
  const res = await cluster.request(path, {
    method,
    headers: { 'content-type': contentType },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

function deployment(name: string, image: string, replicas: number, extra: Record<string, unknown> = {}): Any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
      ...extra,
    },
  };
}

const D = '/apis/apps/v1/namespaces/default/deployments';

async function rolledOut(name: string): Promise<Any> {
  return until(`${name} rolled out`, async () => {
    const d = await call('GET', `${D}/${name}`);
    const s = d.status ?? {};
    return s.observedGeneration === d.metadata.generation &&
      (s.updatedReplicas ?? 0) === d.spec.replicas &&
      (s.availableReplicas ?? 0) === d.spec.replicas &&
      (s.replicas ?? 0) === d.spec.replicas
      ? d
      : undefined;
  });
}

before(async () => {
  cluster = await startTestCluster({ startDelayMs: 60, readyDelayMs: 80 });
});

after(async () => {
  await cluster.close();
});

test('a rolling update stays within maxSurge and maxUnavailable', async () => {
  await call(
    'POST',
    D,
    deployment('roll', 'registry.example/roll:1', 4, {
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
    }),
  );
  await rolledOut('roll');
  const violations: string[] = [];
  let maxTotal = 0;
  let minReady = Number.POSITIVE_INFINITY;
  const unsubscribe = cluster.api.store.subscribe((e) => {
    if (e.key !== '/pods') return;
    const pods = cluster.api.store
      .list('/pods', 'default')
      .filter((p: KubeObject) => p.metadata.labels?.app === 'roll' && !p.metadata.deletionTimestamp);
    const ready = pods.filter(isPodReady).length;
    maxTotal = Math.max(maxTotal, pods.length);
    minReady = Math.min(minReady, ready);
    if (pods.length > 5) violations.push(`${pods.length} pods`);
    if (ready < 3) violations.push(`${ready} ready`);
  });
  try {
    await call(
      'PATCH',
      `${D}/roll`,
      { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example/roll:2' }] } } } },
      'application/strategic-merge-patch+json',
    );
    await rolledOut('roll');
  } finally {
    unsubscribe();
  }
  assert.deepEqual(violations, []);
  assert.equal(maxTotal, 5, 'the surge pod was used');
  assert.equal(minReady, 3, 'one pod was unavailable at a time');
  const rs = await call('GET', '/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Droll');
  assert.equal(rs.items.length, 2);
  const revisions = rs.items
    .map((r: Any) => r.metadata.annotations['deployment.kubernetes.io/revision'])
    .sort();
  assert.deepEqual(revisions, ['1', '2']);
  for (const r of rs.items) assert.match(r.metadata.labels['pod-template-hash'], /^[a-z0-9]{10}$/);
});

test('Recreate scales the old ReplicaSet down before the new one up', async () => {
  await call('POST', D, deployment('rec', 'registry.example/rec:1', 2, { strategy: { type: 'Recreate' } }));
  await rolledOut('rec');
  let mixed = false;
  const unsubscribe = cluster.api.store.subscribe((e) => {
    if (e.key !== '/pods') return;
    const images = new Set(
      cluster.api.store
        .list('/pods', 'default')
        .filter((p) => p.metadata.labels?.app === 'rec')
        .map((p) => p.spec.containers[0].image),
    );
    if (images.size > 1) mixed = true;
  });
  await call(
    'PATCH',
    `${D}/rec`,
    [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'registry.example/rec:2' }],
    'application/json-patch+json',
  );
  await rolledOut('rec');
  unsubscribe();
  assert.equal(mixed, false);
});

test('scale subresource, Service endpoints and label/field selectors', async () => {
  await call('POST', D, deployment('web', 'registry.example/web:1', 1));
  await call('POST', '/api/v1/namespaces/default/services', {
    metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
  });
  await call('PATCH', `${D}/web/scale`, { spec: { replicas: 3 } }, 'application/merge-patch+json');
  const scale = await call('GET', `${D}/web/scale`);
  assert.equal(scale.kind, 'Scale');
  assert.equal(scale.spec.replicas, 3);
  await rolledOut('web');
  const ep = await until('endpoints', async () => {
    const e = await call('GET', '/api/v1/namespaces/default/endpoints/web');
    return e.subsets?.[0]?.addresses?.length === 3 ? e : undefined;
  });
  assert.equal(ep.subsets[0].ports[0].port, 8080);
  const svc = await call('GET', '/api/v1/namespaces/default/services/web');
  assert.match(svc.spec.clusterIP, /^10\.96\./);
  const byField = await call('GET', `${D}?fieldSelector=metadata.name%3Dweb`);
  assert.deepEqual(
    byField.items.map((d: Any) => d.metadata.name),
    ['web'],
  );
  const byLabel = await call(
    'GET',
    '/api/v1/namespaces/default/pods?labelSelector=app%20in%20(web),app!=roll',
  );
  assert.equal(byLabel.items.length, 3);
  const page = await call('GET', `${D}?limit=1`);
  assert.equal(page.items.length, 1);
  assert.ok(page.metadata.continue);
  const next = await call('GET', `${D}?limit=1&continue=${page.metadata.continue}`);
  assert.notEqual(next.items[0].metadata.name, page.items[0].metadata.name);
});

test('a crashing container goes CrashLoopBackOff with rising restartCount', async () => {
  await call('POST', '/api/v1/namespaces/default/pods', {
    metadata: { name: 'crasher', annotations: { 'slipway.dev/simulate': 'crash' } },
    spec: { containers: [{ name: 'app', image: 'registry.example/crash:1' }] },
  });
  const pod = await until('two restarts', async () => {
    const p = await call('GET', '/api/v1/namespaces/default/pods/crasher');
    return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2 ? p : undefined;
  });
  assert.equal(pod.status.containerStatuses[0].ready, false);
  assert.equal(pod.status.containerStatuses[0].lastState.terminated.reason, 'Error');
  const events = await call(
    'GET',
    '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dcrasher',
  );
  assert.ok(events.items.some((e: Any) => e.reason === 'BackOff' && e.type === 'Warning'));
  const table = (await (
    await cluster.request('/api/v1/namespaces/default/pods/crasher', {
      headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
    })
  ).json()) as Any;
  assert.equal(table.kind, 'Table');
  assert.match(String(table.rows[0].cells[2]), /CrashLoopBackOff|Running/);
});

test('a Job runs to completion', async () => {
  await call('POST', '/apis/batch/v1/namespaces/default/jobs', {
    metadata: { name: 'pi' },
    spec: {
      template: {
        spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'registry.example/perl:5' }] },
      },
    },
  });
  const job = await until('job complete', async () => {
    const j = await call('GET', '/apis/batch/v1/namespaces/default/jobs/pi');
    return j.status?.conditions?.some((c: Any) => c.type === 'Complete' && c.status === 'True')
      ? j
      : undefined;
  });
  assert.equal(job.status.succeeded, 1);
  assert.ok(job.status.completionTime);
  assert.equal(job.spec.selector.matchLabels['controller-uid'], job.metadata.uid);
});

test('StatefulSet and DaemonSet pods', async () => {
  await call('POST', '/apis/apps/v1/namespaces/default/statefulsets', {
    metadata: { name: 'db' },
    spec: {
      replicas: 2,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: {
        metadata: { labels: { app: 'db' } },
        spec: { containers: [{ name: 'pg', image: 'registry.example/pg:16' }] },
      },
    },
  });
  await call('POST', '/apis/apps/v1/namespaces/default/daemonsets', {
    metadata: { name: 'agent' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: {
        metadata: { labels: { app: 'agent' } },
        spec: { containers: [{ name: 'a', image: 'registry.example/agent:1' }] },
      },
    },
  });
  await until(
    'statefulset ready',
    async () =>
      (await call('GET', '/apis/apps/v1/namespaces/default/statefulsets/db')).status?.readyReplicas === 2,
  );
  await until(
    'daemonset ready',
    async () =>
      (await call('GET', '/apis/apps/v1/namespaces/default/daemonsets/agent')).status?.numberReady === 1,
  );
  const names = (await call('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Ddb')).items
    .map((p: Any) => p.metadata.name)
    .sort();
  assert.deepEqual(names, ['db-0', 'db-1']);
});

test('deletion: orphan keeps dependents, foreground deletes them first, namespaces delete their contents', async () => {
  await call('POST', '/api/v1/namespaces', { metadata: { name: 'gc' } });
  const dgc = '/apis/apps/v1/namespaces/gc/deployments';
  await call('POST', dgc, deployment('orphaned', 'registry.example/o:1', 1));
  await call('POST', dgc, deployment('fg', 'registry.example/f:1', 1));
  await until(
    'replicasets',
    async () => (await call('GET', '/apis/apps/v1/namespaces/gc/replicasets')).items.length === 2,
  );
  await call('DELETE', `${dgc}/orphaned`, { propagationPolicy: 'Orphan' });
  await until(
    'orphaned deployment gone',
    async () => (await cluster.request(`${dgc}/orphaned`)).status === 404,
  );
  const rs = await until('orphan replicaset without owner', async () => {
    const list = await call('GET', '/apis/apps/v1/namespaces/gc/replicasets?labelSelector=app%3Dorphaned');
    return list.items.length === 1 && !list.items[0].metadata.ownerReferences ? list.items[0] : undefined;
  });
  assert.equal(rs.spec.replicas, 1);
  const pending = await call('DELETE', `${dgc}/fg`, { propagationPolicy: 'Foreground' });
  assert.ok(pending.metadata.deletionTimestamp);
  assert.ok(pending.metadata.finalizers.includes('foregroundDeletion'));
  await until('foreground deletion done', async () => (await cluster.request(`${dgc}/fg`)).status === 404);
  assert.equal(
    (await call('GET', '/apis/apps/v1/namespaces/gc/replicasets?labelSelector=app%3Dfg')).items.length,
    0,
  );
  const ns = await call('DELETE', '/api/v1/namespaces/gc');
  assert.equal(ns.status.phase, 'Terminating');
  const refused = await cluster.request('/api/v1/namespaces/gc/configmaps', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ metadata: { name: 'late' } }),
  });
  assert.ok(refused.status === 403 || refused.status === 404, `status ${refused.status}`);
  await until('namespace gone', async () => (await cluster.request('/api/v1/namespaces/gc')).status === 404);
  assert.equal(cluster.api.store.keysInNamespace('gc').length, 0);
});

test('CustomResourceDefinitions serve their resources generically', async () => {
  await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          subresources: { status: {} },
        },
      ],
    },
  });
  await until('crd established', async () => (await cluster.request('/apis/example.com/v1')).status === 200);
  const doc = await call('GET', '/apis/example.com/v1');
  assert.deepEqual(doc.resources.map((r: Any) => r.name).sort(), ['widgets', 'widgets/status']);
  const groups = await call('GET', '/apis');
  assert.ok(groups.groups.some((g: Any) => g.name === 'example.com'));
  const created = await call('POST', '/apis/example.com/v1/namespaces/default/widgets', {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w1' },
    spec: { size: 3 },
  });
  assert.equal(created.metadata.generation, 1);
  const patched = await call(
    'PATCH',
    '/apis/example.com/v1/namespaces/default/widgets/w1',
    { spec: { size: 4 } },
    'application/merge-patch+json',
  );
  assert.equal(patched.spec.size, 4);
  assert.equal(patched.metadata.generation, 2);
  await call('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com');
  await until('crd gone', async () => (await cluster.request('/apis/example.com/v1')).status === 404);
});

test('a restart keeps every object', async () => {
  const dataDir = cluster.dataDir;
  await call('POST', '/api/v1/namespaces/default/configmaps', {
    metadata: { name: 'keep' },
    data: { a: '1' },
  });
  const before = await call('GET', D);
  const cm = await call('GET', '/api/v1/namespaces/default/configmaps/keep');
  await cluster.close({ keepData: true });
  const second = await startTestCluster({ dataDir });
  try {
    const res = await second.request('/api/v1/namespaces/default/configmaps/keep');
    const again: Any = await res.json();
    assert.equal(again.metadata.uid, cm.metadata.uid);
    assert.equal(again.metadata.resourceVersion, cm.metadata.resourceVersion);
    const after: Any = await (await second.request(D)).json();
    assert.deepEqual(
      after.items.map((d: Any) => d.metadata.uid),
      before.items.map((d: Any) => d.metadata.uid),
    );
    const created: Any = await (
      await second.request('/api/v1/namespaces/default/configmaps', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ metadata: { name: 'after' } }),
      })
    ).json();
    assert.ok(Number(created.metadata.resourceVersion) > Number(before.metadata.resourceVersion));
  } finally {
    await second.close();
    cluster = await startTestCluster();
  }
});
