import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AuthService, type Subject } from '../auth/index.ts';
import { EventBus } from '../core/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { parseApplications } from './app-spec.ts';
import { AppStore } from './app-store.ts';
import { chartEngine } from './chart-engine.ts';
import { createCliGitSource } from './git-source.ts';
import { createMemoryCluster, type MemoryCluster, staticClusters } from './memory-cluster.ts';
import { createRenderer } from './renderer.ts';
import type { KubeObject } from './seams.ts';
import { GitOpsService } from './service.ts';
import { createTempRepos, seedChart, type TempRepos } from './testing.ts';
import { createValuesEditor, localRepoLocator, localRepoName } from './values-editor.ts';

const skip = false;

const admin: Subject = { kind: 'user', name: 'admin', role: 'admin', bindings: [] };
const alice: Subject = {
  kind: 'user',
  name: 'alice',
  role: 'developer',
  bindings: [
    { scope: 'environment', name: 'dev', role: 'deployer' },
    { scope: 'environment', name: 'qa', role: 'deployer' },
  ],
};
const bob: Subject = {
  kind: 'user',
  name: 'bob',
  role: 'developer',
  bindings: [{ scope: 'environment', name: 'prod', role: 'deployer' }],
};

let repos: TempRepos;
let work: string;
let store: Store;
let cluster: MemoryCluster;
let far: MemoryCluster;
let service: GitOpsService;
let events: EventBus;
let auth: AuthService;

function appYaml(name: string, env: string, path: string, automated: boolean, extra = ''): string {
  return `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: ${name}
spec:
  project: default
  environment: ${env}
  source:
    repoURL: http://127.0.0.1:8080/git/team/helm-values.git
    targetRevision: main
    path: ${path}
    helm:
      valueFiles: [values.yaml]
  destination:
    name: ${extra.includes('far') ? 'far' : 'in-cluster'}
    namespace: ${env}
  syncPolicy:
${automated ? '    automated: {prune: true, selfHeal: true}\n' : ''}    syncOptions: [CreateNamespace=true]
`;
}

function deployment(ns: string, name: string): Promise<KubeObject | undefined> {
  return cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: ns });
}

function imageOf(d: KubeObject | undefined): string {
  const spec = d?.spec as { template: { spec: { containers: { image: string }[] } } } | undefined;
  return spec?.template.spec.containers[0]?.image ?? '';
}

before(async () => {
  repos = createTempRepos();
  work = mkdtempSync(join(tmpdir(), 'slipway-gitops-svc-'));
  await repos.create('team/helm-values', {
    ...seedChart('dev', 'node-hello-world', '1'),
    ...seedChart('prod', 'node-hello-world', '1'),
  });
  store = openStore(':memory:');
  auth = new AuthService(store);
  events = new EventBus();
  cluster = createMemoryCluster({ imageExists: (image) => !image.endsWith(':404') });
  far = createMemoryCluster();
  const locate = localRepoLocator(repos.root, 'http://127.0.0.1:8080');
  const values = createValuesEditor({ workDir: join(work, 'values'), locate });
  service = new GitOpsService({
    store: new AppStore(store),
    git: createCliGitSource({ locate, mirrorDir: join(work, 'mirrors') }),
    values,
    renderer: createRenderer({ helm: chartEngine() }),
    clusters: staticClusters({ 'in-cluster': cluster, far }),
    events,
    auth,
    rolloutPollMs: 10,
    rolloutTimeoutMs: 3000,
    clusterTimeoutMs: 2000,
    repoKey: (u) => localRepoName(u, 'http://127.0.0.1:8080') ?? u,
  });
});

after(() => {
  service?.stop();
  store?.close();
  repos?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

test('seed steps 3, 6-12 against the in-memory cluster', { skip }, async (t) => {
  const statuses: string[] = [];
  events.on('app.status', (e) => {
    if (e.name === 'node-hello-world-dev') statuses.push(e.sync);
  });

  await t.test('step 3: register dev (auto) and prod (manual) apps; dev syncs by itself', async () => {
    const [dev] = parseApplications(
      appYaml('node-hello-world-dev', 'dev', 'dev/node-hello-world', true),
      'dev.yaml',
    );
    const [prod] = parseApplications(
      appYaml('node-hello-world-prod', 'prod', 'prod/node-hello-world', true),
      'prod.yaml',
    );
    service.putApp(dev!, admin, false);
    service.putApp(prod!, admin, false);
    await service.idle();
    const d = service.getApp('node-hello-world-dev');
    assert.equal(d.status.sync, 'Synced');
    assert.equal(d.status.health, 'Healthy');
    assert.match(imageOf(await deployment('dev', 'node-hello-world-dev')), /:1$/);
    assert.ok(statuses.includes('OutOfSync') || statuses.includes('Syncing'));
    assert.equal(statuses.at(-1), 'Synced');
    // prod is automated in its manifest, but the prod environment does not auto-sync.
    const p = service.getApp('node-hello-world-prod');
    assert.equal(p.status.sync, 'OutOfSync');
    assert.equal(await deployment('prod', 'node-hello-world-prod'), undefined);
  });

  await t.test('steps 6-8: a tag bump commit rolls dev to the new tag', async () => {
    const editor = createValuesEditor({
      workDir: join(work, 'pipeline'),
      locate: localRepoLocator(repos.root),
    });
    const r = await editor.setImageTag({
      repo: 'team/helm-values',
      file: 'dev/node-hello-world/values.yaml',
      tag: '2',
      author: 'pipeline',
    });
    assert.equal((await repos.log('team/helm-values'))[0], 'updated the image tag');
    assert.deepEqual(service.enqueueForRepo('team/helm-values', 'main').sort(), [
      'node-hello-world-dev',
      'node-hello-world-prod',
    ]);
    await service.idle();
    const d = service.getApp('node-hello-world-dev');
    assert.equal(d.status.revision, r.commit);
    assert.equal(d.status.sync, 'Synced');
    assert.match(imageOf(await deployment('dev', 'node-hello-world-dev')), /:2$/);
    const tree = await service.resourceTree('node-hello-world-dev');
    const svc = tree.find((n) => n.kind === 'Service');
    assert.ok(
      svc?.parents.some((p) => p.startsWith('Ingress/')),
      'Ingress → Service edge',
    );
  });

  await t.test(
    'step 9: promote to prod shows a diff naming the image; alice gets 403; bob syncs',
    async () => {
      const p = await service.promote({ service: 'node-hello-world', from: 'dev', to: 'prod' }, bob);
      assert.equal(p.state, 'applied');
      assert.equal(p.tag, '2');
      await service.refresh('node-hello-world-prod');
      const diff = await service.diff('node-hello-world-prod');
      assert.ok(diff.resources.length >= 4);
      const before = cluster.log.length;
      await assert.rejects(
        service.sync('node-hello-world-prod', {}, alice),
        (e: Error & { status?: number }) => e.status === 403,
      );
      assert.equal(cluster.log.length, before, 'nothing applied');
      const r = await service.sync('node-hello-world-prod', {}, bob);
      assert.equal(r.phase, 'Succeeded', r.message);
      const prod = service.getApp('node-hello-world-prod');
      assert.equal(prod.status.sync, 'Synced');
      assert.equal(prod.status.health, 'Healthy');
      assert.match(imageOf(await deployment('prod', 'node-hello-world-prod')), /:2$/);
      // a later change to prod shows in the diff as the image change
      await repos.commit('team/helm-values', {
        'prod/node-hello-world/values.yaml': seedChart('prod', 'node-hello-world', '3')[
          'prod/node-hello-world/values.yaml'
        ]!,
      });
      await service.refresh('node-hello-world-prod');
      const d2 = await service.diff('node-hello-world-prod');
      assert.deepEqual(
        d2.resources.flatMap((x) => x.summary),
        [
          'spec.template.spec.containers[0].image: 127.0.0.1:5000/base/node-hello-world:2 → 127.0.0.1:5000/base/node-hello-world:3',
        ],
      );
    },
  );

  await t.test(
    'step 10: an invalid template is a ComparisonError with file:line and nothing is applied',
    async () => {
      const before = cluster.log.length;
      await repos.commit('team/helm-values', {
        'dev/node-hello-world/templates/configmap.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }\n',
      });
      const d = await service.refresh('node-hello-world-dev');
      assert.equal(d.status.sync, 'Unknown');
      assert.equal(d.status.comparisonError?.location?.file, 'templates/configmap.yaml');
      assert.equal(d.status.comparisonError?.location?.line, 4);
      assert.match(d.status.message, /ComparisonError/);
      assert.equal(cluster.log.length, before);
      assert.match(
        imageOf(await deployment('dev', 'node-hello-world-dev')),
        /:2$/,
        'the previous version keeps running',
      );
      await repos.commit('team/helm-values', {
        'dev/node-hello-world/templates/configmap.yaml':
          seedChart('dev')['dev/node-hello-world/templates/configmap.yaml']!,
      });
      await service.refresh('node-hello-world-dev');
      assert.equal(service.getApp('node-hello-world-dev').status.sync, 'Synced');
    },
  );

  await t.test('step 11: rollback to the first sync is a git revert and runs tag 1 again', async () => {
    const history = service.history('node-hello-world-dev');
    const first = history.at(-1)!;
    assert.equal(first.result, 'Succeeded');
    const r = await service.rollback('node-hello-world-dev', first.id, alice);
    assert.equal(r.phase, 'Succeeded', r.message);
    assert.match((await repos.log('team/helm-values'))[0]!, /^Rollback node-hello-world-dev/);
    assert.match(imageOf(await deployment('dev', 'node-hello-world-dev')), /:1$/);
    const h = service.history('node-hello-world-dev');
    assert.ok(h.length >= 3);
    assert.equal(h[0]!.kind, 'rollback');
    assert.equal(h[0]!.initiatedBy, 'alice');
    assert.ok(h.every((e) => e.digest?.startsWith('sha256:') && e.revision));
    await service.idle();
    assert.equal(service.getApp('node-hello-world-dev').status.sync, 'Synced');
  });

  await t.test(
    'step 12: an image tag that does not exist makes the rollout Degraded with a clear message',
    async () => {
      await repos.commit('team/helm-values', {
        'dev/node-hello-world/values.yaml': seedChart('dev', 'node-hello-world', '404')[
          'dev/node-hello-world/values.yaml'
        ]!,
      });
      await service.refresh('node-hello-world-dev');
      const d = service.getApp('node-hello-world-dev');
      assert.equal(d.status.health, 'Degraded');
      assert.match(d.status.message, /cannot be pulled/);
      assert.equal(service.history('node-hello-world-dev')[0]!.result, 'Failed');
      // the failed revision is not retried in a loop
      const n = service.history('node-hello-world-dev').length;
      await service.refresh('node-hello-world-dev');
      assert.equal(service.history('node-hello-world-dev').length, n);
      await repos.commit('team/helm-values', {
        'dev/node-hello-world/values.yaml': seedChart('dev', 'node-hello-world', '2')[
          'dev/node-hello-world/values.yaml'
        ]!,
      });
      await service.refresh('node-hello-world-dev');
      assert.equal(service.getApp('node-hello-world-dev').status.health, 'Healthy');
    },
  );
});

test('self-heal reverts drift on automated apps; manual apps only report it', { skip }, async () => {
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'node-hello-world-dev', namespace: 'dev' };
  cluster.mutate(ref, (o) => {
    (o.spec as { replicas: number }).replicas = 5;
  });
  await service.refresh('node-hello-world-dev');
  assert.equal(((await cluster.get(ref))!.spec as { replicas: number }).replicas, 2);
  assert.equal(service.getApp('node-hello-world-dev').status.sync, 'Synced');
  assert.equal(service.history('node-hello-world-dev')[0]!.kind, 'self-heal');

  await service.refresh('node-hello-world-prod');
  await service.sync('node-hello-world-prod', {}, bob);
  const pref = { ...ref, name: 'node-hello-world-prod', namespace: 'prod' };
  cluster.mutate(pref, (o) => {
    (o.spec as { replicas: number }).replicas = 7;
  });
  await service.refresh('node-hello-world-prod');
  assert.equal(((await cluster.get(pref))!.spec as { replicas: number }).replicas, 7);
  const prod = service.getApp('node-hello-world-prod');
  assert.equal(prod.status.sync, 'OutOfSync');
  assert.ok(prod.status.resources.some((r) => r.kind === 'Deployment' && r.sync === 'OutOfSync'));
});

test('prune removes a resource deleted from git, and keeps it when prune is off', { skip }, async () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', name: 'node-hello-world-dev', namespace: 'dev' };
  await repos.commit('team/helm-values', {
    'dev/node-hello-world/templates/configmap.yaml': null,
    'dev/node-hello-world/templates/deployment.yaml': seedChart('dev')[
      'dev/node-hello-world/templates/deployment.yaml'
    ]!.replace(/ {10}envFrom:\n.*\n.*\n/, ''),
    'prod/node-hello-world/templates/configmap.yaml': null,
  });
  await service.refresh('node-hello-world-dev');
  assert.equal(await cluster.get(cm), undefined, 'pruned on the automated app with prune');
  assert.equal(service.getApp('node-hello-world-dev').status.sync, 'Synced');

  const pcm = { ...cm, name: 'node-hello-world-prod', namespace: 'prod' };
  await service.refresh('node-hello-world-prod');
  assert.ok(
    service
      .getApp('node-hello-world-prod')
      .status.resources.some((r) => r.requiresPruning && r.kind === 'ConfigMap'),
  );
  const r = await service.sync('node-hello-world-prod', { prune: false }, bob);
  assert.match(r.message, /need pruning/);
  assert.ok(await cluster.get(pcm), 'kept when prune is off');
  assert.equal(service.getApp('node-hello-world-prod').status.sync, 'OutOfSync');
  await service.sync('node-hello-world-prod', { prune: true }, bob);
  assert.equal(await cluster.get(pcm), undefined);
  assert.equal(service.getApp('node-hello-world-prod').status.sync, 'Synced');
});

test('an unreachable cluster shows Unknown with the reason while other apps keep syncing', {
  skip,
}, async () => {
  await repos.commit('team/helm-values', seedChart('qa', 'node-hello-world', '1'));
  const [farApp] = parseApplications(appYaml('hello-far-qa', 'qa', 'qa/node-hello-world', true, 'far'));
  const [qaApp] = parseApplications(appYaml('hello-qa', 'qa', 'qa/node-hello-world', true));
  far.setUnreachable('connection refused');
  service.putApp(farApp!, admin, false);
  service.putApp(qaApp!, admin, false);
  await service.idle();
  const f = service.getApp('hello-far-qa');
  assert.equal(f.status.sync, 'Unknown');
  assert.equal(f.status.health, 'Unknown');
  assert.match(f.status.message, /unreachable: .*connection refused/);
  assert.equal(service.getApp('hello-qa').status.sync, 'Synced');
  far.setUnreachable(undefined);
  await service.refresh('hello-far-qa');
  assert.equal(service.getApp('hello-far-qa').status.sync, 'Synced');
});

test('promotion into an environment that requires approval waits for a second user', { skip }, async () => {
  service.putEnvironment({ name: 'prod', requireApproval: true }, admin);
  const p = await service.promote({ service: 'node-hello-world', from: 'dev', to: 'prod' }, bob);
  assert.equal(p.state, 'pending');
  await assert.rejects(service.approve(p.id, bob), /second user/);
  await assert.rejects(service.approve(p.id, alice), (e: Error & { status?: number }) => e.status === 403);
  const done = await service.approve(p.id, admin);
  assert.equal(done.state, 'applied');
  assert.match(
    (await repos.log('team/helm-values'))[0]!,
    /^promote node-hello-world 2 from dev to prod \(approved by admin\)/,
  );
  service.putEnvironment({ name: 'prod', requireApproval: false }, admin);
});
