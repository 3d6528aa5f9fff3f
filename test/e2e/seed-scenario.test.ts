// The seed scenario (../shared/SEED_SCENARIO.md) end to end against a freshly started Slipway: embedded
// registry, git server and local cluster; real git pushes; every numbered outcome asserted.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEV_APP, PROD_APP, SERVICE, SERVICE_REPO, SeedScenario, VALUES_REPO } from '../../src/demo/index.ts';
import { startTestServer, type TestServer } from '../../src/server/index.ts';

let server: TestServer;
let s: SeedScenario;
let work: string;
let dataDir: string;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'slipway-seed-data-'));
  work = mkdtempSync(join(tmpdir(), 'slipway-seed-work-'));
  server = await startTestServer({ dataDir });
  s = new SeedScenario({ url: server.url, adminToken: server.adminToken, workDir: work });
});

after(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

const imageTag = (d: { spec: { template: { spec: { containers: { image: string }[] } } } }) =>
  d.spec.template.spec.containers[0]!.image.split(':').pop();

test('1. a fresh start creates the admin and prints how to log in', () => {
  assert.ok(server.initialAdminPassword, 'the first start made an admin password');
});

test('2-3. project, users, the GitOps repo and two applications', async () => {
  await s.createProjectAndUsers();
  await s.createGitOpsRepo();
  const apps = await s.api<{ items: { name: string }[] }>('GET', '/api/v1/apps');
  assert.deepEqual(apps.items.map((a) => a.name).sort(), [DEV_APP, PROD_APP]);
});

test('4-5. a push to pre-release/1.0.0 runs build #1 with its stages, tests, image and scan', async () => {
  await s.pushService('node-hello-world 1.0.0');
  const build = await s.waitForBuild(1);
  assert.equal(build.status, 'success', JSON.stringify(build));
  assert.deepEqual(
    build.stages.map((st) => st.name),
    ['Checkout', 'Build', 'Test', 'Push', 'Dev-Deploy'],
  );
  assert.ok(build.stages.every((st) => st.status === 'success'));
  const log = await (await server.request(`/api/v1/builds/${SERVICE_REPO}/1/logs`)).text();
  assert.match(log, /GET \/ says hello/, 'the test stage output is in the log');
  const tags = await s.api<{ items: { name?: string; tag?: string; digest: string }[] }>(
    'GET',
    `/api/v1/registry/repositories/${SERVICE_REPO}/tags`,
  );
  const byName = new Map(tags.items.map((t) => [t.name ?? t.tag, t.digest]));
  assert.ok(byName.get('1'), `tag 1 exists: ${JSON.stringify(tags.items)}`);
  assert.equal(byName.get('latest'), byName.get('1'), ':1 and :latest share a digest');
  const report = await s.until('a vulnerability report', async () => {
    const r = await s.call<{ counts?: Record<string, number> }>(
      'GET',
      `/api/v1/scan/reports/${SERVICE_REPO}/${byName.get('1')}`,
    );
    return r.status === 200 ? r.body : undefined;
  });
  assert.ok(report.counts, 'the image has a vulnerability report');
  const detail = await s.api<{
    digest: string;
    manifest: { layers: unknown[] };
    config: { config?: { Cmd?: string[] } };
  }>('GET', `/api/v1/registry/repositories/${SERVICE_REPO}/manifests/1`);
  assert.equal(detail.digest, byName.get('1'));
  assert.ok(detail.manifest.layers.length > 0, 'the tag page can show layers');
  assert.deepEqual(detail.config.config?.Cmd, ['node', 'server.js'], 'and the image config');
});

test('6. helm-values has a commit "updated the image tag" that changes only image.tag in dev', async () => {
  const log = await s.gitLog(VALUES_REPO, 5);
  const bump = log.find((c) => c.message === 'updated the image tag');
  assert.ok(bump, `commits: ${JSON.stringify(log)}`);
  const diff = await s.gitShow(VALUES_REPO, bump.sha);
  const changed = diff.split('\n').filter((l) => /^[+-][^+-]/.test(l));
  assert.deepEqual(changed.length, 2, diff);
  assert.match(diff, /dev\/node-hello-world\/values\.yaml/);
  assert.match(
    changed.join('\n'),
    /^-\s+tag: "latest" # the build number, e\.g\. "1"\n\+\s+tag: "1" # the build number, e\.g\. "1"$/,
  );
});

test('7. dev converges to Synced and Healthy on tag 1 with the resource tree', async () => {
  const app = await s.waitForApp(DEV_APP, 'Synced and Healthy on 1', (a) => {
    return a.status.sync === 'Synced' && a.status.health === 'Healthy';
  });
  assert.equal(app.status.sync, 'Synced');
  const d = await s.deployment('dev');
  assert.equal(imageTag(d), '1');
  assert.equal(d.status.readyReplicas, d.spec.replicas);
  const tree = await s.api<{ items: { id: string; kind: string; health?: string; parents: string[] }[] }>(
    'GET',
    `/api/v1/apps/${DEV_APP}/tree`,
  );
  const nodes = tree.items;
  const ingress = nodes.find((n) => n.kind === 'Ingress');
  assert.ok(ingress, 'the tree has the Ingress');
  const service = nodes.find((n) => n.kind === 'Service' && n.parents.includes(ingress.id));
  assert.ok(service, 'Ingress → Service');
  const pods = nodes.filter((n) => n.kind === 'Pod' && n.parents.includes(service.id));
  assert.equal(pods.length, d.spec.replicas, 'Service → Pods');
  assert.ok(pods.every((p) => p.health === 'Healthy'));
  assert.ok(
    nodes.some((n) => n.kind === 'ReplicaSet'),
    'Deployment → ReplicaSet',
  );
});

test('8. a second push builds #2 and dev rolls to tag 2 without dropping below availability', async () => {
  let minReady = Number.POSITIVE_INFINITY;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const d = await s.deployment('dev').catch(() => undefined);
      if (d) minReady = Math.min(minReady, d.status.availableReplicas ?? 0);
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  await s.pushService('say hello louder', (dir) => {
    const { readFileSync, writeFileSync } = require_fs();
    const f = join(dir, 'server.js');
    writeFileSync(f, readFileSync(f, 'utf8').replace("'Hello, world!'", "'Hello, world!!'"));
    const t = join(dir, 'server.test.js');
    writeFileSync(t, readFileSync(t, 'utf8').replace("'Hello, world!'", "'Hello, world!!'"));
  });
  const build = await s.waitForBuild(2);
  assert.equal(build.status, 'success');
  await s.until('dev on tag 2', async () => {
    const d = await s.deployment('dev');
    return imageTag(d) === '2' &&
      d.status.readyReplicas === d.spec.replicas &&
      d.status.updatedReplicas === d.spec.replicas
      ? d
      : undefined;
  });
  await s.waitForApp(
    DEV_APP,
    'Synced and Healthy',
    (a) => a.status.sync === 'Synced' && a.status.health === 'Healthy',
  );
  watching = false;
  await watcher;
  const d = await s.deployment('dev');
  assert.ok(minReady >= d.spec.replicas, `available replicas dropped to ${minReady} (maxUnavailable 0)`);
});

test('9. promotion to prod waits for bob: OutOfSync with the image diff, 403 for alice, sync for bob', async () => {
  await s.api('POST', '/api/v1/promotions', { service: SERVICE, from: 'dev', to: 'prod' }, 'bob');
  const prod = await s.waitForApp(PROD_APP, 'OutOfSync', (a) => a.status.sync === 'OutOfSync');
  assert.equal(prod.status.sync, 'OutOfSync');
  const diff = JSON.stringify(await s.api('GET', `/api/v1/apps/${PROD_APP}/diff`));
  assert.match(diff, /node-hello-world:2/, 'the diff names the image change');
  const denied = await s.call('POST', `/api/v1/apps/${PROD_APP}/sync`, {}, 'alice');
  assert.equal(denied.status, 403);
  const synced = await s.call('POST', `/api/v1/apps/${PROD_APP}/sync`, {}, 'bob');
  assert.ok(synced.status < 300, JSON.stringify(synced.body));
  await s.waitForApp(
    PROD_APP,
    'Synced and Healthy',
    (a) => a.status.sync === 'Synced' && a.status.health === 'Healthy',
  );
  assert.equal(imageTag(await s.deployment('prod')), '2');
});

function require_fs() {
  return { readFileSync: readFileSyncFn, writeFileSync: writeFileSyncFn };
}
import { readFileSync as readFileSyncFn, writeFileSync as writeFileSyncFn } from 'node:fs';

test('10. an invalid template gives a comparison error with file:line; nothing is applied', async () => {
  const before = await s.deployment('dev');
  const broken = await s.editGitOpsFile(
    'dev/node-hello-world/templates/deployment.yaml',
    (t) =>
      t.replace(
        'replicas: {{ .Values.replicaCount }}',
        'replicas: {{ .Values.replicaCount | nosuchfunction }}',
      ),
    'break the template',
  );
  const app = await s.waitForApp(DEV_APP, 'showing a comparison error', (a) => !!a.status.comparisonError);
  const err = app.status.comparisonError!;
  assert.match(`${err.message} ${JSON.stringify(err.location ?? {})}`, /deployment\.yaml/);
  assert.match(`${err.message} ${JSON.stringify(err.location ?? {})}`, /:\d+|"line":\d+/);
  assert.match(err.message, /nosuchfunction/);
  const after = await s.deployment('dev');
  assert.equal(imageTag(after), imageTag(before), 'the running version is untouched');
  assert.equal(after.status.readyReplicas, before.status.readyReplicas);
  // Put the template back with a revert, as a person would.
  const dir = join(work, 'helm-values');
  await s.git(dir, ['revert', '--no-edit', broken]);
  await s.git(dir, ['push', '-q', s.remote(VALUES_REPO), 'HEAD:main']);
  await s.waitForApp(DEV_APP, 'Synced again', (a) => !a.status.comparisonError && a.status.sync === 'Synced');
});

test('11. rolling dev back to build 1 runs tag 1 again and history shows who did what', async () => {
  const history = await s.api<{
    items: { id: number; revision: string | null; initiatedBy: string; result: string }[];
  }>('GET', `/api/v1/apps/${DEV_APP}/history`);
  assert.ok(history.items.length >= 2, JSON.stringify(history.items));
  // The sync that deployed build 1 is the one at the first "updated the image tag" commit.
  const bumps = (await s.gitLog(VALUES_REPO, 50)).filter((c) => c.message === 'updated the image tag');
  const build1Commit = bumps[bumps.length - 1]!.sha;
  const first = history.items.find((h) => h.revision === build1Commit);
  assert.ok(first, `a sync of ${build1Commit} in ${JSON.stringify(history.items)}`);
  const res = await s.call('POST', `/api/v1/apps/${DEV_APP}/rollback`, { id: first.id }, 'alice');
  assert.ok(res.status < 300, JSON.stringify(res.body));
  await s.until('dev on tag 1 again', async () => {
    const d = await s.deployment('dev');
    return imageTag(d) === '1' && d.status.readyReplicas === d.spec.replicas ? d : undefined;
  });
  const after = await s.api<{ items: { initiatedBy: string; kind: string }[] }>(
    'GET',
    `/api/v1/apps/${DEV_APP}/history`,
  );
  assert.ok(after.items.length >= 3, 'three or more revisions in the history');
  assert.ok(
    after.items.some((h) => h.kind === 'rollback' && h.initiatedBy === 'alice'),
    'the rollback names alice',
  );
  assert.ok(after.items.every((h) => typeof h.initiatedBy === 'string' && h.initiatedBy.length > 0));
});

test('12. a tag that is not in the registry makes the rollout Degraded while the old pods keep serving', async () => {
  await s.editValues('dev', (t) => t.replace(/tag: "[^"]*"/, 'tag: "999"'), 'hand-edited tag');
  const app = await s.waitForApp(
    DEV_APP,
    'Degraded',
    (a) => a.status.health === 'Degraded' || /ImagePull|ErrImage/.test(a.status.message ?? ''),
    90_000,
  );
  assert.match(JSON.stringify(app.status), /ImagePullBackOff|ErrImagePull|not found/);
  const rs = await s.api<{
    items: {
      spec: { template: { spec: { containers: { image: string }[] } } };
      status: { readyReplicas?: number };
    }[];
  }>('GET', `/kube/apis/apps/v1/namespaces/dev/replicasets`);
  const serving = rs.items.filter((r) => (r.status.readyReplicas ?? 0) > 0);
  assert.ok(serving.length > 0, 'an old ReplicaSet still has ready pods');
  assert.ok(serving.every((r) => !r.spec.template.spec.containers[0]!.image.endsWith(':999')));
});

test('13. after a restart builds, logs, history, registry content and app states are all still there', async () => {
  const before = {
    builds: await s.api<{ items: unknown[] }>('GET', `/api/v1/builds/${SERVICE_REPO}`),
    history: await s.api<{ items: unknown[] }>('GET', `/api/v1/apps/${DEV_APP}/history`),
    prod: await s.app(PROD_APP),
  };
  await server.stop({ keepData: true });
  server = await startTestServer({ dataDir });
  s = new SeedScenario({ url: server.url, adminToken: server.adminToken, workDir: work });
  const builds = await s.api<{ items: { number: number; status: string }[] }>(
    'GET',
    `/api/v1/builds/${SERVICE_REPO}`,
  );
  assert.equal(builds.items.length, before.builds.items.length);
  const log = await (await server.request(`/api/v1/builds/${SERVICE_REPO}/1/logs`)).text();
  assert.match(log, /GET \/ says hello/);
  const history = await s.api<{ items: unknown[] }>('GET', `/api/v1/apps/${DEV_APP}/history`);
  assert.equal(history.items.length, before.history.items.length);
  const tags = await s.api<{ items: { name?: string; tag?: string }[] }>(
    'GET',
    `/api/v1/registry/repositories/${SERVICE_REPO}/tags`,
  );
  assert.deepEqual(tags.items.map((t) => t.name ?? t.tag).sort(), ['1', '2', 'latest']);
  const prod = await s.waitForApp(
    PROD_APP,
    'Synced and Healthy after restart',
    (a) => a.status.sync === 'Synced' && a.status.health === 'Healthy',
  );
  assert.equal(prod.status.revision, before.prod.status.revision);
  assert.equal(imageTag(await s.deployment('prod')), '2');
});
