import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { EventBus } from '../core/index.ts';
import { startTestServer, type TestServer } from '../server/testing.ts';
import { createGitOps, type GitOpsModule } from './index.ts';
import { createMemoryCluster, staticClusters } from './memory-cluster.ts';
import { toolPath } from './renderer.ts';
import { createTempRepos, seedChart, type TempRepos } from './testing.ts';
import { localRepoLocator } from './values-editor.ts';

const skip = existsSync(toolPath('helm')) ? false : 'helm is not installed (run npm ci)';
let server: TestServer;
let repos: TempRepos;
let gitops: GitOpsModule;
let events: EventBus;
const cluster = createMemoryCluster();

const APPS = `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: hello-dev}
spec:
  source: {repoURL: team/helm-values, targetRevision: main, path: dev/node-hello-world}
  destination: {name: in-cluster, namespace: dev}
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true]
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: hello-prod}
spec:
  source: {repoURL: team/helm-values, targetRevision: main, path: prod/node-hello-world}
  destination: {name: in-cluster, namespace: prod}
  syncPolicy:
    syncOptions: [CreateNamespace=true]
`;

before(async () => {
  repos = createTempRepos();
  await repos.create('team/helm-values', {
    ...seedChart('dev', 'node-hello-world', '1'),
    ...seedChart('prod', 'node-hello-world', '1'),
  });
  server = await startTestServer({
    extraModules: (ctx) => {
      events = ctx.events;
      gitops = createGitOps({
        ...ctx,
        clusters: staticClusters({ 'in-cluster': cluster }),
        locate: localRepoLocator(repos.root),
        rolloutPollMs: 10,
      });
      return [
        { name: 'gitops', prefix: '/api/v1', routes: gitops.routes, start: gitops.start, stop: gitops.stop },
      ];
    },
  });
});

after(async () => {
  await server?.stop();
  repos?.cleanup();
});

test('REST: create apps from YAML, list, sync with RBAC, history, promote', { skip }, async () => {
  const alice = await server.createUser('alice', 'developer', [
    { scope: 'environment', name: 'dev', role: 'deployer' },
  ]);
  const bob = await server.createUser('bob', 'developer', [
    { scope: 'environment', name: 'prod', role: 'deployer' },
  ]);
  const bad = await server.request('/api/v1/apps', {
    method: 'POST',
    json: { yaml: 'metadata: {name: x}\nspec:\n  source: {repoURL: "a b"}\n', file: 'x.yaml' },
  });
  assert.equal(bad.status, 422);
  const badBody = (await bad.json()) as { error: { location: { file: string; line: number } } };
  assert.equal(badBody.error.location.file, 'x.yaml');
  assert.equal(badBody.error.location.line, 3);

  const created = await server.request('/api/v1/apps', {
    method: 'POST',
    json: { yaml: APPS, file: 'apps.yaml' },
  });
  assert.equal(created.status, 201);
  const denied = await server.request('/api/v1/apps', { method: 'POST', token: alice, json: { yaml: APPS } });
  assert.equal(denied.status, 403);
  await gitops.service.idle();

  const list = (await (await server.request('/api/v1/apps', { token: alice })).json()) as {
    items: { name: string; status: { sync: string } }[];
  };
  assert.deepEqual(
    list.items.map((a) => [a.name, a.status.sync]),
    [
      ['hello-dev', 'Synced'],
      ['hello-prod', 'OutOfSync'],
    ],
  );

  const diff = (await (await server.request('/api/v1/apps/hello-prod/diff', { token: alice })).json()) as {
    resources: unknown[];
  };
  assert.equal(diff.resources.length, 4);
  const before = cluster.log.length;
  const forbidden = await server.request('/api/v1/apps/hello-prod/sync', {
    method: 'POST',
    token: alice,
    json: {},
  });
  assert.equal(forbidden.status, 403);
  assert.equal(cluster.log.length, before, 'a denied sync changes nothing');
  const synced = (await (
    await server.request('/api/v1/apps/hello-prod/sync', { method: 'POST', token: bob, json: {} })
  ).json()) as { phase: string };
  assert.equal(synced.phase, 'Succeeded');
  const history = (await (
    await server.request('/api/v1/apps/hello-prod/history', { token: bob })
  ).json()) as { items: { initiatedBy: string }[] };
  assert.equal(history.items[0]!.initiatedBy, 'bob');

  const audit = (await (await server.request('/api/v1/audit')).json().catch(() => ({ items: [] }))) as {
    items?: { action: string; outcome: string }[];
  };
  if (audit.items) assert.ok(audit.items.some((e) => e.action === 'app.sync' && e.outcome === 'denied'));

  const envs = (await (await server.request('/api/v1/envs', { token: alice })).json()) as {
    items: { name: string; protected: boolean }[];
  };
  assert.ok(envs.items.some((e) => e.name === 'prod' && e.protected));

  const tree = (await (await server.request('/api/v1/apps/hello-dev/tree', { token: alice })).json()) as {
    items: { kind: string }[];
  };
  assert.ok(tree.items.some((n) => n.kind === 'Ingress'));
});

test('a values commit written into the bare repository is announced as git.push and deployed', {
  skip,
}, async () => {
  const pushes: { repo: string; ref: string; after: string; source: string; commits: { sha: string }[] }[] =
    [];
  const off = events.onAny((e) => {
    if ((e.type as string) === 'git.push') pushes.push(e.data as unknown as (typeof pushes)[number]);
  });
  try {
    const r = await gitops.values.setImageTag({
      repo: 'team/helm-values',
      file: 'dev/node-hello-world/values.yaml',
      tag: '7',
      author: 'ci',
    });
    assert.equal(r.changed, true);
    assert.equal(pushes.length, 1);
    assert.deepEqual(
      { repo: pushes[0]!.repo, ref: pushes[0]!.ref, after: pushes[0]!.after, source: pushes[0]!.source },
      { repo: 'team/helm-values', ref: 'refs/heads/main', after: r.commit, source: 'commit' },
    );
    assert.equal(pushes[0]!.commits[0]!.sha, r.commit);
    await gitops.service.idle();
    const app = gitops.service.listApps().find((a) => a.name === 'hello-dev')!;
    assert.equal(app.status.revision, r.commit);
    assert.equal(app.status.sync, 'Synced');
  } finally {
    off();
  }
});
