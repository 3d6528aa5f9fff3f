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
import { GitOpsService } from './service.ts';
import { createTempRepos, type TempRepos } from './testing.ts';
import { createValuesEditor, localRepoLocator, type ValuesEditor } from './values-editor.ts';

const admin: Subject = { kind: 'user', name: 'admin', role: 'admin', bindings: [] };
let repos: TempRepos;
let work: string;
let store: Store;
let cluster: MemoryCluster;
let service: GitOpsService;
let values: ValuesEditor;

const CHART = {
  'charts/web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 0.1.0\n',
  'charts/web/values.yaml': 'greeting: hello\nreplicas: 1\n',
  'charts/web/templates/cm.yaml':
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n',
};

before(async () => {
  repos = createTempRepos();
  work = mkdtempSync(join(tmpdir(), 'slipway-gitops-rollback-'));
  await repos.create('team/charts', CHART);
  await repos.create('team/values', { 'dev/web.yaml': 'greeting: hi from dev\n', 'README.md': 'values\n' });
  store = openStore(':memory:');
  cluster = createMemoryCluster();
  const locate = localRepoLocator(repos.root);
  values = createValuesEditor({ workDir: join(work, 'values'), locate });
  service = new GitOpsService({
    store: new AppStore(store),
    git: createCliGitSource({ locate, mirrorDir: join(work, 'mirrors') }),
    values,
    renderer: createRenderer({ helm: chartEngine() }),
    clusters: staticClusters({ 'in-cluster': cluster }),
    events: new EventBus(),
    auth: new AuthService(store),
    rolloutPollMs: 10,
    rolloutTimeoutMs: 3000,
  });
});

after(() => {
  service?.stop();
  values?.close();
  store?.close();
  repos?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

async function configMap(): Promise<Record<string, string>> {
  const cm = await cluster.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'web', namespace: 'dev' });
  return (cm?.data ?? {}) as Record<string, string>;
}

test('rollback of an app whose chart and values come from two repos reverts both and renders the old manifests', async () => {
  const [app] = parseApplications(
    `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web}
spec:
  sources:
    - repoURL: team/charts
      targetRevision: main
      path: charts/web
      helm:
        valueFiles: [values.yaml, $values/dev/web.yaml]
    - repoURL: team/values
      targetRevision: main
      ref: values
  destination: {name: in-cluster, namespace: dev}
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true]
`,
    'web.yaml',
  );
  service.putApp(app!, admin, false);
  await service.idle();
  const first = service.history('web')[0]!;
  assert.equal(first.result, 'Succeeded');
  assert.deepEqual(await configMap(), { greeting: 'hi from dev' });

  // Two commits in two repositories: the chart gains a key, the values change.
  await repos.commit('team/charts', {
    'charts/web/templates/cm.yaml': `${CHART['charts/web/templates/cm.yaml']}  replicas: {{ .Values.replicas | quote }}\n`,
  });
  service.enqueueForRepo('team/charts');
  await service.idle();
  await values.setValue({ repo: 'team/values', file: 'dev/web.yaml', key: 'greeting', value: 'bonjour' });
  service.enqueueForRepo('team/values');
  await service.idle();
  assert.deepEqual(await configMap(), { greeting: 'bonjour', replicas: '1' });
  assert.notEqual(service.history('web')[0]!.digest, first.digest);

  const r = await service.rollback('web', first.id, admin);
  assert.equal(r.phase, 'Succeeded', r.message);
  assert.deepEqual(await configMap(), { greeting: 'hi from dev' });
  // One revert commit in each repository, recorded in the history entry.
  assert.deepEqual(
    r.changes?.map((c) => [c.kind, c.repoURL, c.paths]),
    [
      ['commit', 'team/charts', ['charts/web']],
      ['commit', 'team/values', ['dev/web.yaml']],
    ],
  );
  assert.match((await repos.log('team/charts'))[0]!, /^Rollback web to /);
  assert.match((await repos.log('team/values'))[0]!, /^Rollback web to /);
  const h = service.history('web')[0]!;
  assert.equal(h.kind, 'rollback');
  assert.equal(h.digest, first.digest, 'the rendered manifests are the old revision’s');
  assert.deepEqual(
    h.changes?.map((c) => c.commit),
    r.changes?.map((c) => c.commit),
  );
  await service.idle();
  assert.equal(service.getApp('web').status.sync, 'Synced');
});

test('rollback re-pins a source that follows a tag or a commit instead of committing', async () => {
  const tagged = await repos.commit('team/values', { 'qa/web.yaml': 'greeting: qa one\n' });
  const gitDir = join(repos.root, 'git/team/values.git');
  const { runGit } = await import('./git-cli.ts');
  await runGit(['--git-dir', gitDir, 'tag', 'v1', tagged]);
  const [app] = parseApplications(
    `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web-qa}
spec:
  sources:
    - repoURL: team/charts
      targetRevision: main
      path: charts/web
      helm:
        valueFiles: [$values/qa/web.yaml]
    - repoURL: team/values
      targetRevision: v1
      ref: values
  destination: {name: in-cluster, namespace: qa}
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true]
`,
    'web-qa.yaml',
  );
  service.putApp(app!, admin, false);
  await service.idle();
  const first = service.history('web-qa')[0]!;
  // The tag moves to a new commit (a release re-tagged), and the app follows it.
  const moved = await repos.commit('team/values', { 'qa/web.yaml': 'greeting: qa two\n' });
  await runGit(['--git-dir', gitDir, 'tag', '-f', 'v1', moved]);
  service.enqueueForRepo('team/values');
  await service.idle();
  assert.notEqual(service.history('web-qa')[0]!.digest, first.digest);

  const r = await service.rollback('web-qa', first.id, admin);
  assert.equal(r.phase, 'Succeeded', r.message);
  assert.deepEqual(
    r.changes?.map((c) => [c.kind, c.source, c.from, c.to]),
    [['pin', 1, 'v1', tagged]],
  );
  assert.equal(service.getApp('web-qa').spec.sources[1]!.targetRevision, tagged);
  assert.equal(service.history('web-qa')[0]!.digest, first.digest);
});
