// The watch path on the embedded local cluster: every periodic re-check is configured to an hour (and the
// rollout poll too), so drift and rollout progress can only be noticed through the cluster watches.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AuthService, type Subject } from '../auth/index.ts';
import { EventBus, loadConfig, silentLogger } from '../core/index.ts';
import { createKubeconfigClient, type KubeClient } from '../kube/index.ts';
import { type StandaloneCluster, startLocalCluster } from '../localcluster/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { parseApplications } from './app-spec.ts';
import { hasGit } from './git-cli.ts';
import { createGitOps, type GitOpsModule } from './index.ts';
import { ClusterSet, kubeClusterClient } from './kube-clusters.ts';
import type { AppStatusEvent, AppSyncEvent } from './service.ts';
import { createTempRepos, seedChart, type TempRepos } from './testing.ts';
import { localRepoLocator } from './values-editor.ts';

const skip = (await hasGit()) ? false : 'git is not installed';
const HOUR = 3_600_000;
const admin: Subject = { kind: 'user', name: 'admin', role: 'admin', bindings: [] };

let dataDir: string;
let lc: StandaloneCluster;
let kube: KubeClient;
let repos: TempRepos;
let store: Store;
let events: EventBus;
let gitops: GitOpsModule;

before(async () => {
  if (skip) return;
  dataDir = mkdtempSync(join(tmpdir(), 'slipway-gitops-watch-'));
  lc = await startLocalCluster({
    dataDir: join(dataDir, 'cluster-data'),
    resolveImage: async () => ({ ok: true }),
    // Pods take a moment to become ready, so that a rollout is seen Progressing first.
    kubelet: { startDelayMs: 400, readyDelayMs: 200, backoffMs: 100 },
  });
  kube = createKubeconfigClient({ name: 'in-cluster', kubeconfig: lc.kubeconfig, timeoutMs: 10_000 });
  const clusters = new ClusterSet();
  clusters.set('in-cluster', kubeClusterClient(kube));
  repos = createTempRepos();
  await repos.create('team/helm-values', {
    ...seedChart('dev', 'node-hello-world', '1'),
    ...seedChart('prod', 'node-hello-world', '1'),
  });
  store = openStore(join(dataDir, 'slipway.db'));
  events = new EventBus();
  if (process.env.WATCH_DEBUG) {
    events.on('app.status', (e) => console.log(Date.now() % 100000, 'status', JSON.stringify(e)));
    events.on('app.sync', (e) => console.log(Date.now() % 100000, 'sync', JSON.stringify(e)));
  }
  gitops = createGitOps({
    config: loadConfig({ flags: { data: dataDir }, env: {} }),
    logger: silentLogger(),
    events,
    store,
    auth: new AuthService(store),
    dataDir,
    publicUrl: 'http://127.0.0.1:8080',
    clusters,
    locate: localRepoLocator(repos.root, 'http://127.0.0.1:8080'),
    healthRecheckMs: HOUR,
    fullRefreshMs: HOUR,
    rolloutPollMs: HOUR,
    rolloutTimeoutMs: 60_000,
  });
  await gitops.start();
});

after(async () => {
  await gitops?.stop();
  kube?.close();
  await lc?.stop();
  store?.close();
  repos?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function nextStatus(pred: (e: AppStatusEvent) => boolean): Promise<AppStatusEvent> {
  return new Promise((resolve) => {
    const off = events.on('app.status', (e) => {
      if (pred(e)) {
        off();
        resolve(e);
      }
    });
  });
}

function nextSync(pred: (e: AppSyncEvent) => boolean): Promise<AppSyncEvent> {
  return new Promise((resolve) => {
    const off = events.on('app.sync', (e) => {
      if (pred(e)) {
        off();
        resolve(e);
      }
    });
  });
}

function appYaml(name: string, env: string, automated: boolean): string {
  return `metadata: {name: ${name}}
spec:
  environment: ${env}
  source: {repoURL: team/helm-values, targetRevision: main, path: ${env}/node-hello-world}
  destination: {name: in-cluster, namespace: ${env}}
  syncPolicy:
${automated ? '    automated: {prune: true, selfHeal: true}\n' : ''}    syncOptions: [CreateNamespace=true]
`;
}

const deploymentRef = (ns: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  name: `hello-${ns}`,
  namespace: ns,
});

function imageOf(d: unknown): string {
  const spec = (d as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }).spec;
  return spec?.template?.spec?.containers?.[0]?.image ?? '';
}

test('a rollout is followed to Healthy and drift is self-healed through the watches alone', {
  skip,
  timeout: 120_000,
}, async () => {
  // The first automated sync waits for the rollout: with the poll at an hour only watch events move it.
  const settled = () =>
    nextStatus((e) => e.name === 'hello-dev' && e.sync === 'Synced' && e.health === 'Healthy');
  const firstSync = nextSync((e) => e.name === 'hello-dev' && e.phase !== 'Running');
  let done = settled();
  gitops.service.putApp(parseApplications(appYaml('hello-dev', 'dev', true))[0]!, admin, false);
  assert.equal((await firstSync).phase, 'Succeeded');
  await done;
  assert.equal(gitops.service.isWatched('in-cluster'), true);
  let view = gitops.service.getApp('hello-dev');
  assert.equal(view.status.sync, 'Synced', JSON.stringify(view.status.resources));
  assert.equal(view.status.health, 'Healthy');

  // Drift made through the cluster's API (as `kubectl edit` would) is reverted by self-heal.
  const healed = nextSync((e) => e.name === 'hello-dev' && e.kind === 'self-heal' && e.phase !== 'Running');
  done = healed.then(settled);
  await kube.apply(
    {
      ...deploymentRef('dev'),
      metadata: { name: 'hello-dev', namespace: 'dev' },
      spec: { template: { spec: { containers: [{ name: 'app', image: 'example/drift:9' }] } } },
    },
    { fieldManager: 'kubectl-edit', force: true },
  );
  assert.equal((await healed).phase, 'Succeeded');
  await done;
  assert.match(imageOf(await kube.get(deploymentRef('dev'))), /:1$/);
  view = gitops.service.getApp('hello-dev');
  assert.equal(view.status.sync, 'Synced', JSON.stringify(view.status));
  assert.equal(view.status.health, 'Healthy');
});

test('a manual app reports drift and then its rollout finishing, without any re-check', {
  skip,
  timeout: 120_000,
}, async () => {
  gitops.service.putApp(parseApplications(appYaml('hello-prod', 'prod', false))[0]!, admin, false);
  await gitops.service.idle();
  const synced = await gitops.service.sync('hello-prod', {}, admin);
  assert.equal(synced.phase, 'Succeeded', synced.message);
  await gitops.service.idle();

  // Scaling out by hand: the manual app only reports it (OutOfSync), and sees the new pod become ready.
  const drift = nextStatus((e) => e.name === 'hello-prod' && e.sync === 'OutOfSync');
  const healthy = drift.then(() =>
    nextStatus((e) => e.name === 'hello-prod' && e.sync === 'OutOfSync' && e.health === 'Healthy'),
  );
  await kube.apply(
    { ...deploymentRef('prod'), metadata: { name: 'hello-prod', namespace: 'prod' }, spec: { replicas: 3 } },
    { fieldManager: 'kubectl-scale', force: true },
  );
  const first = await drift;
  if (first.health !== 'Healthy') await healthy;
  const live = (await kube.get(deploymentRef('prod'))) as { status?: { readyReplicas?: number } } | null;
  assert.equal(live?.status?.readyReplicas, 3);
  const view = gitops.service.getApp('hello-prod');
  assert.equal(view.status.sync, 'OutOfSync');
  assert.equal(view.status.health, 'Healthy');
  assert.equal(gitops.service.history('hello-prod').length, 1, 'a manual app is never synced by itself');
});
