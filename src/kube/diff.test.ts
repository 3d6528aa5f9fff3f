import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diff, diffAll, removeJqPath } from './diff.ts';
import { fixture, manifest } from './testdata.ts';
import type { KubeObject } from './types.ts';

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
/** The recorded objects were applied by manager `kubectl`; pretend Slipway applied them. */
function asSlipway(obj: KubeObject): KubeObject {
  const out = clone(obj);
  for (const e of out.metadata.managedFields ?? []) if (e.manager === 'kubectl') e.manager = 'slipway';
  return out;
}

const synced: [string, () => KubeObject, () => KubeObject][] = [
  [
    'Deployment web (defaults, status, managedFields)',
    () => manifest('02-web-deploy.yaml', 'Deployment'),
    () => fixture('deployment-web.json'),
  ],
  [
    'Service web (clusterIP, ipFamilies, protocol)',
    () => manifest('03-web-svc-ing.yaml', 'Service'),
    () => fixture('service-web.json'),
  ],
  ['Ingress web', () => manifest('03-web-svc-ing.yaml', 'Ingress'), () => fixture('ingress-web.json')],
  [
    'ConfigMap web-config',
    () => manifest('01-config.yaml', 'ConfigMap'),
    () => fixture('configmap-web-config.json'),
  ],
  [
    'Secret web-secret (stringData vs data)',
    () => manifest('01-config.yaml', 'Secret'),
    () => fixture('secret-web-secret.json'),
  ],
  [
    'StatefulSet db',
    () => manifest('05-statefulset.yaml', 'StatefulSet'),
    () => fixture('statefulset-db.json'),
  ],
  [
    'headless Service db',
    () => manifest('05-statefulset.yaml', 'Service'),
    () => fixture('service-db-headless.json'),
  ],
  [
    'Job pi',
    () => manifest('04-job.yaml', 'Job'),
    () => fixture('job-pi-completed-after-manual-pod-status-patch.json'),
  ],
  [
    'Deployment stuck',
    () => manifest('stuck.yaml', 'Deployment'),
    () => fixture('deployment-stuck-progress-deadline-exceeded.json'),
  ],
];

for (const [name, desired, live] of synced) {
  test(`diff() reports ${name} just applied as Synced`, () => {
    const result = diff(desired(), live());
    assert.deepEqual(result.changes, []);
    assert.equal(result.status, 'Synced');
    assert.equal(result.diff, '');
  });
  test(`diff() reports ${name} as Synced with Slipway's managedFields`, () => {
    const result = diff(desired(), asSlipway(live()));
    assert.deepEqual(result.changes, []);
    assert.equal(result.status, 'Synced');
  });
}

test('diff() names the changed image path', () => {
  const desired = manifest('02-web-deploy.yaml', 'Deployment');
  (desired as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template
    .spec.containers[0]!.image = 'nginx:1.26';
  const result = diff(desired, fixture('deployment-web.json'));
  assert.equal(result.status, 'OutOfSync');
  assert.deepEqual(result.changes, [
    { path: 'spec.template.spec.containers[0].image', desired: 'nginx:1.26', live: 'nginx:1.25' },
  ]);
  assert.match(result.diff, /^--- live\n\+\+\+ desired\n@@ /);
  assert.match(result.diff, /\n- +image: nginx:1\.25\n\+ +image: nginx:1\.26\n/);
  assert.equal(result.ref.namespace, 'capture');
});

test('diff() treats equal quantities and int-or-string as equal', () => {
  const desired = manifest('02-web-deploy.yaml', 'Deployment');
  const text = JSON.stringify(desired)
    .replace('"cpu":"100m"', '"cpu":0.1')
    .replace('"memory":"128Mi"', '"memory":"134217728"');
  const result = diff(JSON.parse(text) as KubeObject, fixture('deployment-web.json'));
  assert.deepEqual(result.changes, []);
  const svc = manifest('03-web-svc-ing.yaml', 'Service');
  const port = (svc.spec as { ports: { targetPort: unknown }[] }).ports[1]!;
  port.targetPort = '9090';
  assert.equal(diff(svc, fixture('service-web.json')).status, 'Synced');
});

test('diff() detects a real quantity change', () => {
  const desired = manifest('02-web-deploy.yaml', 'Deployment');
  const text = JSON.stringify(desired).replace('"cpu":"100m"', '"cpu":"200m"');
  const result = diff(JSON.parse(text) as KubeObject, fixture('deployment-web.json'));
  assert.deepEqual(
    result.changes.map((c) => c.path),
    ['spec.template.spec.containers[0].resources.requests.cpu'],
  );
});

test('diff() compares Secret stringData with data and never shows secret values', () => {
  const desired = manifest('01-config.yaml', 'Secret');
  (desired.stringData as Record<string, string>).password = 'another-password';
  const result = diff(desired, fixture('secret-web-secret.json'));
  assert.equal(result.status, 'OutOfSync');
  assert.deepEqual(
    result.changes.map((c) => c.path),
    ['data.password'],
  );
  const text = JSON.stringify(result);
  assert.ok(!text.includes('another-password'));
  assert.ok(!text.includes('czNjcjN0LWZvci10ZXN0cw=='));
  assert.ok(!text.includes(Buffer.from('another-password').toString('base64')));
});

test('diff() honours ignoreDifferences by JSON pointer and jq path', () => {
  const desired = manifest('02-web-deploy.yaml', 'Deployment');
  (desired.spec as { replicas: number }).replicas = 5;
  const live = fixture('deployment-web.json');
  assert.equal(diff(desired, live).status, 'OutOfSync');
  const byPointer = diff(desired, live, {
    ignoreDifferences: [{ group: 'apps', kind: 'Deployment', jsonPointers: ['/spec/replicas'] }],
  });
  assert.equal(byPointer.status, 'Synced');
  const otherName = diff(desired, live, {
    ignoreDifferences: [
      { group: 'apps', kind: 'Deployment', name: 'other', jsonPointers: ['/spec/replicas'] },
    ],
  });
  assert.equal(otherName.status, 'OutOfSync');

  const d2 = manifest('02-web-deploy.yaml', 'Deployment');
  const c = (d2.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers;
  c[1]!.image = 'busybox:9';
  const byJq = diff(d2, live, {
    ignoreDifferences: [
      {
        kind: 'Deployment',
        jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "sidecar") | .image'],
      },
    ],
  });
  assert.equal(byJq.status, 'Synced');
});

test('removeJqPath() supports keys, indexes and iteration', () => {
  const obj = {
    a: {
      b: [
        { n: 'x', v: 1 },
        { n: 'y', v: 2 },
      ],
      'c-d': 1,
    },
  };
  removeJqPath(obj, '.a.b[].v');
  assert.deepEqual(obj, { a: { b: [{ n: 'x' }, { n: 'y' }], 'c-d': 1 } });
  removeJqPath(obj, '.a["c-d"]');
  removeJqPath(obj, '.a.b[0]');
  assert.deepEqual(obj, { a: { b: [{ n: 'y' }] } });
});

test('diff() detects a field Slipway applied before and the manifest dropped', () => {
  const desired = manifest('02-web-deploy.yaml', 'Deployment');
  delete desired.metadata.annotations;
  const live = asSlipway(fixture('deployment-web.json'));
  const result = diff(desired, live);
  assert.equal(result.status, 'OutOfSync');
  assert.deepEqual(result.changes, [
    { path: 'metadata.annotations["example.com/owner"]', desired: undefined, live: 'team-a' },
  ]);
  assert.match(result.diff, /- {4}example.com\/owner: team-a/);
  // Another manager's fields are not Slipway's to remove.
  assert.equal(diff(desired, fixture('deployment-web.json')).status, 'Synced');
});

test('diff() reports a removed container env entry (list length differs)', () => {
  const desired = manifest('02-web-deploy.yaml', 'Deployment');
  const env = (desired.spec as { template: { spec: { containers: { env: unknown[] }[] } } }).template.spec
    .containers[0]!.env;
  env.pop();
  const result = diff(desired, fixture('deployment-web.json'));
  assert.deepEqual(
    result.changes.map((c) => c.path),
    ['spec.template.spec.containers[0].env'],
  );
});

test('diff() marks Missing and Extra', () => {
  const missing = diff(manifest('01-config.yaml', 'ConfigMap'), undefined);
  assert.equal(missing.status, 'Missing');
  assert.match(missing.diff, /\+kind: ConfigMap/);
  const extra = diff(undefined, fixture('configmap-web-config.json'));
  assert.equal(extra.status, 'Extra');
  assert.ok(!extra.diff.includes('managedFields'));
});

test('diffAll() matches by group, kind, namespace and name', () => {
  const desired = [manifest('01-config.yaml', 'ConfigMap'), manifest('02-web-deploy.yaml', 'Deployment')];
  const live = [fixture('configmap-web-config.json'), fixture('service-web.json')];
  const results = diffAll(desired, live);
  assert.deepEqual(
    results.map((r) => [r.ref.kind, r.status]),
    [
      ['ConfigMap', 'Synced'],
      ['Deployment', 'Missing'],
      ['Service', 'Extra'],
    ],
  );
});

test('diff() on a Deployment changed by other managers sees the change', () => {
  const live = fixture('deployment-x-ssa-several-field-managers.json');
  const desired: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x-ssa', namespace: 'capture' },
    spec: { replicas: 2 },
  };
  const result = diff(desired, live);
  assert.equal(result.status, (live.spec as { replicas: number }).replicas === 2 ? 'Synced' : 'OutOfSync');
});

test('diffAll() matches a cluster-scoped object given a namespace anyway', () => {
  const desired: KubeObject = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'capture', namespace: 'apps' },
  };
  const live: KubeObject = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'capture', uid: 'u', labels: { 'kubernetes.io/metadata.name': 'capture' } },
    spec: { finalizers: ['kubernetes'] },
  };
  const results = diffAll([desired], [live]);
  assert.deepEqual(
    results.map((r) => [r.status, r.ref.namespace]),
    [['Synced', undefined]],
  );
});
