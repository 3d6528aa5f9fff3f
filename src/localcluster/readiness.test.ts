// Readiness as Kubernetes defines it (probes, startupProbe, minReadySeconds) and the built-in ingress controller.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { containerTiming, nextChange, podConditions } from './controllers/probes.ts';
import { startTestCluster, type TestCluster, until } from './testing.ts';
import type { KubeObject } from './types.ts';

// biome-ignore lint/suspicious/noExplicitAny: test reads of arbitrary objects.
type Any = any;

let cluster: TestCluster;
/** Every status a pod went through, by pod name (from the store's change feed). */
const history = new Map<string, Any[]>();
let unsubscribe: () => void = () => {};

before(async () => {
  // The cluster's defaults, except a short start: readiness is not delayed (readyDelayMs 0).
  cluster = await startTestCluster({ startDelayMs: 5, readyDelayMs: 0 });
  unsubscribe = cluster.api.store.subscribe((e) => {
    if (e.key !== '/pods' || e.type === 'DELETED') return;
    const name = e.object.metadata.name ?? '';
    const list = history.get(name) ?? [];
    list.push(structuredClone(e.object.status ?? {}));
    history.set(name, list);
  });
});

after(async () => {
  unsubscribe();
  await cluster?.close();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Any> {
  const res = await cluster.request(path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

const P = '/api/v1/namespaces/default/pods';
const cond = (pod: Any, type: string) => (pod.status?.conditions ?? []).find((c: Any) => c.type === type);
const isReady = (status: Any) =>
  (status.conditions ?? []).some((c: Any) => c.type === 'Ready' && c.status === 'True');

function pod(name: string, containers: Any[], annotations?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { containers },
  };
}

test('containerTiming follows Kubernetes probe rules', () => {
  assert.deepEqual(containerTiming({ name: 'a' }), { startedAfterMs: 0, readyAfterMs: 0 });
  assert.deepEqual(
    containerTiming({
      name: 'a',
      readinessProbe: { initialDelaySeconds: 5, periodSeconds: 2, successThreshold: 3 },
    }),
    { startedAfterMs: 0, readyAfterMs: 9000 },
  );
  // Defaults: periodSeconds 10, successThreshold 1: the first probe (at initialDelaySeconds) makes it ready.
  assert.deepEqual(containerTiming({ name: 'a', readinessProbe: {} }), {
    startedAfterMs: 0,
    readyAfterMs: 0,
  });
  // A startupProbe holds back started and readiness; readiness probing starts after both gates.
  assert.deepEqual(
    containerTiming({
      name: 'a',
      startupProbe: { initialDelaySeconds: 2 },
      readinessProbe: { initialDelaySeconds: 1 },
    }),
    { startedAfterMs: 2000, readyAfterMs: 2000 },
  );
  assert.deepEqual(containerTiming({ name: 'a', startupProbe: { initialDelaySeconds: 2 } }), {
    startedAfterMs: 2000,
    readyAfterMs: 2000,
  });
  assert.equal(
    containerTiming({ name: 'a', readinessProbe: {} }, { readinessFails: true }).readyAfterMs,
    Infinity,
  );
  // A failing readiness probe does not matter to a container without one (Kubernetes' default is Success).
  assert.equal(containerTiming({ name: 'a' }, { readinessFails: true }).readyAfterMs, 0);
  assert.equal(containerTiming({ name: 'a' }, { extraReadyMs: 30 }).readyAfterMs, 30);
  assert.equal(
    nextChange(
      [
        { startedAfterMs: 0, readyAfterMs: 500 },
        { startedAfterMs: 200, readyAfterMs: 200 },
      ],
      0,
    ),
    200,
  );
  assert.equal(nextChange([{ startedAfterMs: 0, readyAfterMs: Infinity }], 0), undefined);
});

test('podConditions keeps lastTransitionTime while a condition does not change', () => {
  const first = podConditions(undefined, 't1', { unready: ['a', 'b'] });
  assert.deepEqual(
    first.map((c) => c.type),
    ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'],
  );
  assert.equal(first[1]?.message, 'containers with unready status: [a b]');
  const second = podConditions(first, 't2', { unready: [] });
  assert.equal(second[0]?.lastTransitionTime, 't1');
  assert.equal(second[1]?.lastTransitionTime, 't2');
  assert.equal(second[1]?.status, 'True');
  assert.equal(second[1]?.reason, undefined);
  assert.equal(second[3]?.lastTransitionTime, 't1');
});

test('a container without a readinessProbe is Ready as soon as it runs', async () => {
  await call('POST', P, pod('plain', [{ name: 'app', image: 'example.test/app:1' }]));
  const p = await until('plain ready', async () => {
    const x = await call('GET', `${P}/plain`);
    return isReady(x.status) ? x : undefined;
  });
  // Never Running and not Ready in between: the start and readiness are one status write.
  const seen = history.get('plain') ?? [];
  assert.ok(
    !seen.some((s) => s.phase === 'Running' && !isReady(s)),
    'no Running-but-unready state without a probe',
  );
  const cs = p.status.containerStatuses[0];
  assert.equal(cs.ready, true);
  assert.equal(cs.started, true);
  assert.ok(cs.state.running.startedAt);
  assert.deepEqual(
    p.status.conditions.map((c: Any) => c.type),
    ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'],
  );
  // PodScheduled was set by the binding, before the kubelet's first status: it is never later than the others.
  const at = (t: string) => Date.parse(cond(p, t).lastTransitionTime);
  assert.ok(at('PodScheduled') <= at('Initialized'));
  assert.ok(at('Initialized') <= at('Ready'));
  assert.equal(cond(p, 'Ready').lastTransitionTime, cond(p, 'ContainersReady').lastTransitionTime);
  const pending = seen.find((s) => s.phase === 'Pending' && (s.containerStatuses ?? []).length > 0);
  assert.equal(pending?.containerStatuses[0].state.waiting.reason, 'ContainerCreating');
  assert.equal(pending?.containerStatuses[0].started, false);
});

test('a readinessProbe with initialDelaySeconds keeps the running container unready until the probe passes', async () => {
  await call(
    'POST',
    P,
    pod('probed', [
      {
        name: 'app',
        image: 'example.test/app:1',
        readinessProbe: { httpGet: { path: '/', port: 80 }, initialDelaySeconds: 1 },
      },
      { name: 'side', image: 'example.test/side:1' },
    ]),
  );
  const running = await until('probed running', async () => {
    const x = await call('GET', `${P}/probed`);
    return x.status?.phase === 'Running' ? x : undefined;
  });
  const byName = (p: Any, n: string) => p.status.containerStatuses.find((c: Any) => c.name === n);
  if (!isReady(running.status)) {
    assert.equal(byName(running, 'app').started, true);
    assert.equal(byName(running, 'app').ready, false);
    assert.equal(byName(running, 'side').ready, true);
    assert.equal(cond(running, 'Ready').message, 'containers with unready status: [app]');
  }
  const ready = await until('probed ready', async () => {
    const x = await call('GET', `${P}/probed`);
    return isReady(x.status) ? x : undefined;
  });
  const seen = history.get('probed') ?? [];
  assert.ok(
    seen.some((s) => s.phase === 'Running' && !isReady(s)),
    'was Running and not Ready first',
  );
  assert.equal(byName(ready, 'app').ready, true);
  const started = Date.parse(byName(ready, 'app').state.running.startedAt);
  assert.ok(
    Date.parse(cond(ready, 'Ready').lastTransitionTime) >= started + 1000,
    'Ready after initialDelaySeconds',
  );
  const log = await (await cluster.request(`${P}/probed/log?container=app`)).text();
  assert.match(log, /Readiness probe passed: container app is ready/);
});

test('a startupProbe holds started back; a failing readiness probe (annotation) keeps the pod unready', async () => {
  await call(
    'POST',
    P,
    pod('slow-start', [
      {
        name: 'app',
        image: 'example.test/app:1',
        startupProbe: { exec: { command: ['true'] }, initialDelaySeconds: 1 },
      },
    ]),
  );
  await call(
    'POST',
    P,
    pod(
      'never',
      [
        { name: 'app', image: 'example.test/app:1', readinessProbe: { tcpSocket: { port: 80 } } },
        { name: 'plain', image: 'example.test/app:1' },
      ],
      { 'slipway.dev/simulate': 'unready' },
    ),
  );
  const started = await until('slow-start ready', async () => {
    const x = await call('GET', `${P}/slow-start`);
    return isReady(x.status) ? x : undefined;
  });
  assert.equal(started.status.containerStatuses[0].started, true);
  const seen = history.get('slow-start') ?? [];
  assert.ok(
    seen.some((s) => s.phase === 'Running' && s.containerStatuses?.[0]?.started === false && !isReady(s)),
    'Running with started=false before the startup probe passed',
  );
  const never = await until('never running', async () => {
    const x = await call('GET', `${P}/never`);
    return x.status?.phase === 'Running' && x.status.containerStatuses.some((c: Any) => c.ready)
      ? x
      : undefined;
  });
  assert.equal(never.status.phase, 'Running');
  assert.equal(isReady(never.status), false);
  assert.equal(cond(never, 'Ready').message, 'containers with unready status: [app]');
  assert.equal(never.status.containerStatuses.find((c: Any) => c.name === 'plain').ready, true);
});

test('minReadySeconds: a ready pod counts as available only after it', async () => {
  const name = 'minready';
  await call('POST', '/apis/apps/v1/namespaces/default/deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 1,
      minReadySeconds: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'example.test/app:1' }] },
      },
    },
  });
  const seen: Any[] = [];
  const d = await until('minready available', async () => {
    const x = await call('GET', `/apis/apps/v1/namespaces/default/deployments/${name}`);
    seen.push(x.status ?? {});
    return (x.status?.availableReplicas ?? 0) === 1 ? x : undefined;
  });
  assert.equal(d.status.readyReplicas, 1);
  const rs = (await call('GET', `/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3D${name}`))
    .items[0];
  assert.equal(rs.spec.minReadySeconds, 1);
  assert.equal(rs.status.availableReplicas, 1);
  assert.ok(
    seen.some((s) => s.readyReplicas === 1 && !s.availableReplicas),
    'ready before available',
  );
});

test('the built-in ingress controller gives Ingresses of its class an address', async () => {
  const classes = await call('GET', '/apis/networking.k8s.io/v1/ingressclasses');
  const slipway = classes.items.find((c: Any) => c.metadata.name === 'slipway');
  assert.equal(slipway?.metadata.annotations['ingressclass.kubernetes.io/is-default-class'], 'true');
  const I = '/apis/networking.k8s.io/v1/namespaces/default/ingresses';
  const ingress = (name: string, cls?: string) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name },
    spec: {
      ...(cls ? { ingressClassName: cls } : {}),
      rules: [
        {
          host: `${name}.example.test`,
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
            ],
          },
        },
      ],
    },
  });
  await call('POST', I, ingress('default-class'));
  await call('POST', I, ingress('named', 'slipway'));
  await call('POST', I, ingress('other', 'nginx'));
  for (const name of ['default-class', 'named']) {
    const ing = await until(`${name} address`, async () => {
      const x = await call('GET', `${I}/${name}`);
      return x.status?.loadBalancer?.ingress ? x : undefined;
    });
    assert.deepEqual(ing.status.loadBalancer, { ingress: [{ ip: '127.0.0.1' }] });
    assert.ok(ing.metadata.managedFields.some((m: Any) => m.subresource === 'status'));
  }
  const table = await call('GET', I, undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  const row = table.rows.find((r: Any) => r.cells[0] === 'named');
  assert.equal(row.cells[3], '127.0.0.1');
  assert.deepEqual((await call('GET', `${I}/other`)).status, { loadBalancer: {} });
  // Moving an Ingress to another class withdraws the address.
  const named = await call('GET', `${I}/named`);
  await call('PUT', `${I}/named`, { ...named, spec: { ...named.spec, ingressClassName: 'nginx' } });
  await until('address withdrawn', async () => {
    const x = await call('GET', `${I}/named`);
    return !x.status?.loadBalancer?.ingress;
  });
});
