// The seed scenario's GitOps steps (3, 6-13) against the embedded local cluster, through kube/'s real client.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AuthService, type Subject } from '../auth/index.ts';
import { EventBus } from '../core/index.ts';
import { createKubeconfigClient, type KubeClient } from '../kube/index.ts';
import { type StandaloneCluster, startLocalCluster } from '../localcluster/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { parseApplications } from './app-spec.ts';
import { AppStore } from './app-store.ts';
import { chartEngine } from './chart-engine.ts';
import { createCliGitSource } from './git-source.ts';
import { ClusterSet, kubeClusterClient } from './kube-clusters.ts';
import { createRenderer } from './renderer.ts';
import type { ClusterClient, KubeObject } from './seams.ts';
import { GitOpsService } from './service.ts';
import { createTempRepos, seedChart, type TempRepos } from './testing.ts';
import { createValuesEditor, localRepoLocator, localRepoName } from './values-editor.ts';

const admin: Subject = { kind: 'user', name: 'admin', role: 'admin', bindings: [] };
const alice: Subject = {
  kind: 'user',
  name: 'alice',
  role: 'developer',
  bindings: [{ scope: 'environment', name: 'dev', role: 'deployer' }],
};
const bob: Subject = {
  kind: 'user',
  name: 'bob',
  role: 'developer',
  bindings: [{ scope: 'environment', name: 'prod', role: 'deployer' }],
};

let dataDir: string;
let lc: StandaloneCluster;
let kube: KubeClient;
let cluster: ClusterClient;
let repos: TempRepos;
let store: Store;
let service: GitOpsService;
let events: EventBus;

function makeService(): GitOpsService {
  const locate = localRepoLocator(repos.root, 'http://127.0.0.1:8080');
  const clusters = new ClusterSet();
  clusters.set('in-cluster', cluster);
  return new GitOpsService({
    store: new AppStore(store),
    git: createCliGitSource({ locate, mirrorDir: join(dataDir, 'mirrors') }),
    values: createValuesEditor({ workDir: join(dataDir, 'values'), locate }),
    renderer: createRenderer({ helm: chartEngine() }),
    clusters,
    events,
    auth: new AuthService(store),
    rolloutPollMs: 250,
    rolloutTimeoutMs: 20_000,
    repoKey: (u) => localRepoName(u, 'http://127.0.0.1:8080') ?? u,
  });
}

function app(name: string, env: string, automated: boolean): string {
  return `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ${name}}
spec:
  source: {repoURL: team/helm-values, targetRevision: main, path: ${env}/node-hello-world, helm: {valueFiles: [values.yaml]}}
  destination: {name: in-cluster, namespace: ${env}}
  syncPolicy:
${automated ? '    automated: {prune: true, selfHeal: true}\n' : ''}    syncOptions: [CreateNamespace=true]
`;
}

async function deployment(ns: string, name: string): Promise<KubeObject | undefined> {
  return cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: ns });
}

function imageOf(d: KubeObject | undefined): string {
  const spec = d?.spec as { template: { spec: { containers: { image: string }[] } } } | undefined;
  return spec?.template.spec.containers[0]?.image ?? '';
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'slipway-gitops-lc-'));
  lc = await startLocalCluster({
    dataDir: join(dataDir, 'cluster-data'),
    resolveImage: async (image) =>
      image.endsWith(':404') ? { ok: false, message: `manifest unknown: ${image}` } : { ok: true },
    kubelet: { startDelayMs: 20, readyDelayMs: 20, backoffMs: 100 },
  });
  kube = createKubeconfigClient({ name: 'in-cluster', kubeconfig: lc.kubeconfig, timeoutMs: 10_000 });
  cluster = kubeClusterClient(kube);
  repos = createTempRepos();
  await repos.create('team/helm-values', {
    ...seedChart('dev', 'node-hello-world', '1'),
    ...seedChart('prod', 'node-hello-world', '1'),
  });
  store = openStore(join(dataDir, 'slipway.db'));
  events = new EventBus();
  service = makeService();
});

after(async () => {
  service?.stop();
  kube?.close();
  await lc?.stop();
  store?.close();
  repos?.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('seed steps 3, 6-13 on the local cluster', async (t) => {
  const seen: string[] = [];
  events.on('app.status', (e) => {
    if (e.name === 'node-hello-world-dev') seen.push(`${e.sync}/${e.health}`);
  });

  await t.test('step 3 + 7: dev syncs by itself to Synced and Healthy with ready replicas', async () => {
    service.putApp(parseApplications(app('node-hello-world-dev', 'dev', true))[0]!, admin, false);
    service.putApp(parseApplications(app('node-hello-world-prod', 'prod', false))[0]!, admin, false);
    await service.idle();
    const dev = service.getApp('node-hello-world-dev');
    assert.equal(dev.status.sync, 'Synced', dev.status.message);
    assert.equal(dev.status.health, 'Healthy', dev.status.message);
    assert.ok(seen.some((s) => s.startsWith('OutOfSync') || s.startsWith('Syncing')));
    const d = await deployment('dev', 'node-hello-world-dev');
    assert.match(imageOf(d), /:1$/);
    assert.equal((d?.status as { readyReplicas?: number } | undefined)?.readyReplicas, 2);
    const tree = await service.resourceTree('node-hello-world-dev');
    const pods = tree.filter((n) => n.kind === 'Pod');
    assert.equal(pods.length, 2);
    assert.ok(
      pods.every((p) => p.parents.some((x) => x.startsWith('Service/'))),
      'Service → Pod',
    );
    assert.ok(
      tree.find((n) => n.kind === 'Service')?.parents.some((x) => x.startsWith('Ingress/')),
      'Ingress → Service',
    );
    assert.equal(service.getApp('node-hello-world-prod').status.sync, 'OutOfSync');
  });

  await t.test('step 8: a tag bump rolls dev to tag 2', async () => {
    const editor = createValuesEditor({
      workDir: join(dataDir, 'pipeline'),
      locate: localRepoLocator(repos.root),
    });
    await editor.setImageTag({
      repo: 'team/helm-values',
      file: 'dev/node-hello-world/values.yaml',
      tag: '2',
      author: 'pipeline',
    });
    service.enqueueForRepo('team/helm-values', 'main');
    await service.idle();
    const dev = service.getApp('node-hello-world-dev');
    assert.equal(dev.status.health, 'Healthy', dev.status.message);
    const d = await deployment('dev', 'node-hello-world-dev');
    assert.match(imageOf(d), /:2$/);
    assert.equal((d?.status as { updatedReplicas?: number } | undefined)?.updatedReplicas, 2);
  });

  await t.test(
    'step 9: promotion to prod; alice 403; bob syncs prod to Synced + Healthy on tag 2',
    async () => {
      await service.promote({ service: 'node-hello-world', from: 'dev', to: 'prod' }, bob);
      await service.refresh('node-hello-world-prod');
      assert.equal(service.getApp('node-hello-world-prod').status.sync, 'OutOfSync');
      await assert.rejects(
        service.sync('node-hello-world-prod', {}, alice),
        (e: Error & { status?: number }) => e.status === 403,
      );
      assert.equal(await deployment('prod', 'node-hello-world-prod'), undefined, 'nothing applied');
      const r = await service.sync('node-hello-world-prod', {}, bob);
      assert.equal(r.phase, 'Succeeded', r.message);
      const prod = service.getApp('node-hello-world-prod');
      assert.equal(prod.status.sync, 'Synced', prod.status.message);
      assert.equal(prod.status.health, 'Healthy');
      assert.match(imageOf(await deployment('prod', 'node-hello-world-prod')), /:2$/);
    },
  );

  await t.test(
    'step 10: a broken template is a ComparisonError with file:line; tag 2 keeps running',
    async () => {
      await repos.commit('team/helm-values', {
        'dev/node-hello-world/templates/service.yaml':
          'apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name | nosuchfunc }}\n',
      });
      const dev = await service.refresh('node-hello-world-dev');
      assert.equal(dev.status.comparisonError?.location?.file, 'templates/service.yaml');
      assert.equal(dev.status.comparisonError?.location?.line, 4);
      assert.match(imageOf(await deployment('dev', 'node-hello-world-dev')), /:2$/);
      await repos.commit('team/helm-values', {
        'dev/node-hello-world/templates/service.yaml':
          seedChart('dev')['dev/node-hello-world/templates/service.yaml']!,
      });
      await service.refresh('node-hello-world-dev');
    },
  );

  await t.test(
    'step 11: rollback to the first sync runs tag 1 again; history shows who did what',
    async () => {
      const first = service.history('node-hello-world-dev').at(-1)!;
      const r = await service.rollback('node-hello-world-dev', first.id, alice);
      assert.equal(r.phase, 'Succeeded', r.message);
      assert.match(imageOf(await deployment('dev', 'node-hello-world-dev')), /:1$/);
      const h = service.history('node-hello-world-dev');
      assert.ok(h.length >= 3);
      assert.deepEqual(
        h.slice(0, 1).map((e) => [e.kind, e.initiatedBy]),
        [['rollback', 'alice']],
      );
      await service.idle();
    },
  );

  await t.test(
    'step 12: a tag that does not exist is Degraded with the image error; old pods keep serving',
    async () => {
      await repos.commit('team/helm-values', {
        'dev/node-hello-world/values.yaml': seedChart('dev', 'node-hello-world', '404')[
          'dev/node-hello-world/values.yaml'
        ]!,
      });
      await service.refresh('node-hello-world-dev');
      const dev = service.getApp('node-hello-world-dev');
      assert.equal(dev.status.health, 'Degraded', dev.status.message);
      assert.match(dev.status.message, /ErrImagePull|ImagePullBackOff/);
      const last = service.history('node-hello-world-dev')[0]!;
      assert.equal(last.result, 'Failed');
      assert.match(last.detail ?? '', /rollout Degraded: .*(ErrImagePull|ImagePullBackOff)/);
      const d = await deployment('dev', 'node-hello-world-dev');
      assert.ok(
        ((d?.status as { availableReplicas?: number } | undefined)?.availableReplicas ?? 0) >= 2,
        'the old ReplicaSet keeps serving',
      );
    },
  );

  await t.test('step 13: after a restart, history and app states are still there', async () => {
    const before = service.getApp('node-hello-world-dev');
    const historyBefore = service.history('node-hello-world-dev').length;
    service.stop();
    service = makeService();
    const after = service.getApp('node-hello-world-dev');
    assert.equal(after.status.health, before.status.health);
    assert.equal(after.status.revision, before.status.revision);
    assert.equal(service.history('node-hello-world-dev').length, historyBefore);
    assert.equal(service.getApp('node-hello-world-prod').status.sync, 'Synced');
  });
});
