// The local cluster with the real clients: kubectl 1.32 and helm 3.17 (skipped when the binaries are missing).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestCluster, type TestCluster } from './testing.ts';

const run = promisify(execFile);
const TOOLS = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'slipway-tools');
const KUBECTL = join(TOOLS, 'kubectl');
const HELM = join(TOOLS, 'helm');
const TESTDATA = join(import.meta.dirname, 'testdata');
const skip = !existsSync(KUBECTL) || !existsSync(HELM) ? 'kubectl/helm not installed (run npm ci)' : false;

let cluster: TestCluster;

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run(KUBECTL, ['--kubeconfig', cluster.kubeconfigPath, ...args], {
    env: { ...process.env, HOME: cluster.dataDir },
    timeout: 60_000,
  });
  return stdout;
}

async function helm(...args: string[]): Promise<string> {
  const { stdout } = await run(HELM, ['--kubeconfig', cluster.kubeconfigPath, ...args], {
    env: {
      ...process.env,
      HOME: cluster.dataDir,
      HELM_CACHE_HOME: join(cluster.dataDir, 'helm-cache'),
      HELM_CONFIG_HOME: join(cluster.dataDir, 'helm-config'),
      HELM_DATA_HOME: join(cluster.dataDir, 'helm-data'),
    },
    timeout: 60_000,
  });
  return stdout;
}

// biome-ignore lint/suspicious/noExplicitAny: test reads of arbitrary objects.
async function getJson(path: string): Promise<any> {
  const res = await cluster.request(path);
  return res.json();
}

const DEPLOY = '/apis/apps/v1/namespaces/default/deployments';

before(async () => {
  if (!skip) cluster = await startTestCluster();
});

after(async () => {
  if (!skip) await cluster.close();
});

test('kubectl apply (client-side), get -o yaml, scale, rollout status, rollout undo, delete', {
  skip,
}, async () => {
  assert.match(
    await kubectl('apply', '-f', join(TESTDATA, 'deploy-create.yaml')),
    /deployment.apps\/x created/,
  );
  assert.match(await kubectl('rollout', 'status', 'deploy/x', '--timeout=30s'), /successfully rolled out/);
  const yaml = await kubectl('get', 'deploy', 'x', '-o', 'yaml');
  assert.match(yaml, /kubectl.kubernetes.io\/last-applied-configuration/);
  assert.match(yaml, /deployment.kubernetes.io\/revision: "1"/);
  assert.match(await kubectl('apply', '-f', join(TESTDATA, 'deploy-update.yaml')), /configured/);
  assert.match(await kubectl('rollout', 'status', 'deploy/x', '--timeout=30s'), /successfully rolled out/);
  const image = await kubectl(
    'get',
    'deploy',
    'x',
    '-o',
    'jsonpath={.spec.template.spec.containers[0].image}',
  );
  assert.equal(image, 'nginx:1.26');
  assert.match(await kubectl('scale', 'deploy/x', '--replicas=3'), /scaled/);
  assert.match(await kubectl('rollout', 'status', 'deploy/x', '--timeout=30s'), /successfully rolled out/);
  assert.equal(await kubectl('get', 'deploy', 'x', '-o', 'jsonpath={.status.readyReplicas}'), '3');
  const rsBefore = (await kubectl('get', 'rs', '-l', 'app=x', '-o', 'name')).trim().split('\n').sort();
  assert.match(await kubectl('rollout', 'undo', 'deploy/x'), /rolled back/);
  assert.match(await kubectl('rollout', 'status', 'deploy/x', '--timeout=30s'), /successfully rolled out/);
  assert.equal(
    await kubectl('get', 'deploy', 'x', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'),
    'nginx:1.25',
  );
  // The rollback reuses the first ReplicaSet (same template) and gives it revision 3.
  const rsAfter = (await kubectl('get', 'rs', '-l', 'app=x', '-o', 'name')).trim().split('\n').sort();
  assert.deepEqual(rsAfter, rsBefore);
  assert.equal(
    await kubectl(
      'get',
      'deploy',
      'x',
      '-o',
      'jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}',
    ),
    '3',
  );
  const table = await kubectl('get', 'deploy', 'x');
  assert.match(table, /NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/);
  assert.match(table, /x\s+3\/3\s+3\s+3/);
  assert.match(await kubectl('delete', 'deploy/x'), /deleted/);
  // Garbage collection removes the ReplicaSets and pods.
  for (let i = 0; i < 50; i++) {
    if ((await kubectl('get', 'rs,pods', '-l', 'app=x', '-o', 'name')).trim() === '') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await kubectl('get', 'rs,pods', '-l', 'app=x', '-o', 'name')).trim(), '');
});

test('kubectl apply --server-side: create, update, conflict with another manager, force', {
  skip,
}, async () => {
  assert.match(
    await kubectl('apply', '--server-side', '-f', join(TESTDATA, 'deploy-ssa-create.yaml')),
    /serverside-applied/,
  );
  assert.match(
    await kubectl('apply', '--server-side', '-f', join(TESTDATA, 'deploy-ssa-update.yaml')),
    /serverside-applied/,
  );
  const mf = JSON.parse(
    await kubectl(
      'get',
      'deploy',
      'x-ssa',
      '-o',
      'jsonpath={.metadata.managedFields}',
      '--show-managed-fields',
    ),
  ) as { manager: string; operation: string }[];
  assert.ok(mf.some((m) => m.manager === 'kubectl' && m.operation === 'Apply'));
  await kubectl('scale', 'deploy/x-ssa', '--replicas=5');
  const conflict = await kubectl(
    'apply',
    '--server-side',
    '-f',
    join(TESTDATA, 'deploy-ssa-update.yaml'),
  ).then(
    () => '',
    (err: { stderr?: string }) => err.stderr ?? '',
  );
  assert.match(conflict, /conflict/i);
  assert.match(conflict, /\.spec\.replicas/);
  assert.match(
    await kubectl(
      'apply',
      '--server-side',
      '--force-conflicts',
      '-f',
      join(TESTDATA, 'deploy-ssa-update.yaml'),
    ),
    /serverside-applied/,
  );
  assert.equal(await kubectl('get', 'deploy', 'x-ssa', '-o', 'jsonpath={.spec.replicas}'), '2');
  await kubectl('delete', 'deploy/x-ssa');
});

test('kubectl get -w streams table rows', { skip }, async () => {
  await kubectl('create', 'configmap', 'watched', '--from-literal=a=b');
  const child = spawn(KUBECTL, ['--kubeconfig', cluster.kubeconfigPath, 'get', 'configmaps', '-w'], {
    env: { ...process.env, HOME: cluster.dataDir },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  try {
    for (let i = 0; i < 100 && !out.includes('watched'); i++) await new Promise((r) => setTimeout(r, 50));
    await kubectl('create', 'configmap', 'watched-later', '--from-literal=c=d');
    for (let i = 0; i < 100 && !out.includes('watched-later'); i++)
      await new Promise((r) => setTimeout(r, 50));
  } finally {
    child.kill();
  }
  assert.match(out, /NAME\s+DATA\s+AGE/);
  assert.match(out, /watched\s+1/);
  assert.match(out, /watched-later\s+1/);
});

test('helm install, upgrade, rollback, uninstall', { skip }, async () => {
  const chart = join(TESTDATA, 'demo-0.1.0.tgz');
  assert.match(await helm('install', 'demo', chart, '--wait', '--timeout', '60s'), /STATUS: deployed/);
  assert.equal(await kubectl('get', 'deploy', 'demo', '-o', 'jsonpath={.status.readyReplicas}'), '1');
  assert.match(
    await helm(
      'upgrade',
      'demo',
      chart,
      '--set',
      'replicaCount=2',
      '--set',
      'image.tag=1.26',
      '--wait',
      '--timeout',
      '60s',
    ),
    /has been upgraded/,
  );
  assert.equal(await kubectl('get', 'deploy', 'demo', '-o', 'jsonpath={.status.readyReplicas}'), '2');
  assert.match(await helm('rollback', 'demo', '1', '--wait', '--timeout', '60s'), /Rollback was a success/);
  assert.match(
    await kubectl('get', 'deploy', 'demo', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'),
    /nginx:1.16.0/,
  );
  const history = await helm('history', 'demo');
  assert.match(history, /Rollback to 1/);
  assert.match(await helm('uninstall', 'demo'), /uninstalled/);
  assert.equal(
    (await kubectl('get', 'deploy,svc,sa', '-l', 'app.kubernetes.io/instance=demo', '-o', 'name')).trim(),
    '',
  );
  assert.equal((await kubectl('get', 'secrets', '-l', 'owner=helm', '-o', 'name')).trim(), '');
});

test('a Deployment with a missing image exceeds its progress deadline while the old ReplicaSet keeps serving', {
  skip,
}, async () => {
  const manifest = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: stuck}
spec:
  replicas: 2
  progressDeadlineSeconds: 2
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck}}
    spec: {containers: [{name: app, image: "${image}"}]}
`;
  const file = join(cluster.dataDir, 'stuck.yaml');
  writeFileSync(file, manifest('registry.example/app:1'));
  await kubectl('apply', '-f', file);
  await kubectl('rollout', 'status', 'deploy/stuck', '--timeout=30s');
  writeFileSync(file, manifest('registry.example/app:missing'));
  await kubectl('apply', '-f', file);
  const failure = await kubectl('rollout', 'status', 'deploy/stuck', '--timeout=30s').then(
    () => '',
    (err: { stderr?: string; code?: number }) => `${err.code} ${err.stderr}`,
  );
  assert.match(failure, /exceeded its progress deadline/);
  const d = JSON.parse(await kubectl('get', 'deploy', 'stuck', '-o', 'json'));
  const progressing = d.status.conditions.find((c: { type: string }) => c.type === 'Progressing');
  assert.equal(progressing.reason, 'ProgressDeadlineExceeded');
  assert.ok(d.status.availableReplicas >= 1, 'old pods keep serving');
  const pods = JSON.parse(await kubectl('get', 'pods', '-l', 'app=stuck', '-o', 'json')).items as {
    spec: { containers: { image: string }[] };
    status: { containerStatuses?: { ready: boolean; state: { waiting?: { reason: string } } }[] };
  }[];
  const broken = pods.filter((p) => p.spec.containers[0]?.image.endsWith(':missing'));
  assert.ok(broken.length >= 1);
  for (const p of broken) {
    const s = p.status.containerStatuses?.[0];
    assert.equal(s?.ready, false);
    assert.match(s?.state.waiting?.reason ?? '', /ErrImagePull|ImagePullBackOff/);
  }
  assert.ok(pods.filter((p) => !p.spec.containers[0]?.image.endsWith(':missing')).length >= 1);
  await kubectl('delete', 'deploy/stuck');
});
