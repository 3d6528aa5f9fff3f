import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Command } from 'commander';
import { registerClusterCommands } from '../cli/commands/cluster.ts';
import { createCliContext } from '../cli/context.ts';
import { createLocalCluster, type LocalCluster } from '../localcluster/index.ts';
import { startTestServer, type TestServer } from '../server/testing.ts';
import { type FakeKubeApi, startFakeKubeApi } from './fake-api-server.ts';
import { createKube, type KubeModule } from './routes.ts';

let server: TestServer;
let kube: KubeModule;
let local: LocalCluster;
let fake: FakeKubeApi;
let silent: http.Server;
let silentUrl: string;

before(async () => {
  fake = await startFakeKubeApi({ token: 'fake-cluster-secret-token' });
  silent = http.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  server = await startTestServer({
    extraModules: (ctx) => {
      kube = createKube({ ...ctx, probeTimeoutMs: 500, timeoutMs: 2000 });
      local = createLocalCluster({ ...ctx, resolveImage: async () => ({ ok: true }) });
      return [
        { name: 'kube', prefix: '/api/v1/clusters', routes: kube.routes, stop: () => kube.stop() },
        {
          name: 'localcluster',
          prefix: '/kube',
          routes: local.routes,
          start: () => local.start(),
          stop: () => local.stop(),
        },
      ];
    },
  });
  // Modules start before a port-0 test server knows its URL: rewrite the kubeconfig with the real one.
  writeFileSync(join(server.dataDir, 'kubeconfig'), local.kubeconfig(`${server.url}/kube`));
});

after(async () => {
  await server.stop();
  await fake.close();
  silent.closeAllConnections();
  await new Promise<void>((r) => silent.close(() => r()));
});

const kubeconfigFor = (url: string, token = 'fake-cluster-secret-token') =>
  `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${url}"}}]\nusers: [{name: u, user: {token: ${token}}}]\ncontexts: [{name: c, context: {cluster: c, user: u, namespace: team}}]\ncurrent-context: c\n`;

interface Status {
  name: string;
  reachable: boolean;
  version?: string;
  error?: string;
  server: string;
  namespace: string;
  builtin: boolean;
}

test('GET /api/v1/clusters lists in-cluster as reachable', async () => {
  const res = await server.request('/api/v1/clusters');
  assert.equal(res.status, 200);
  const { items } = (await res.json()) as { items: Status[] };
  assert.equal(items[0]?.name, 'in-cluster');
  assert.equal(items[0]?.builtin, true);
  assert.equal(items[0]?.reachable, true, items[0]?.error);
  assert.match(items[0]?.version ?? '', /^v1\./);
});

test('ClusterRegistry.get("in-cluster") talks to the local cluster', async () => {
  const client = await kube.clusters.get('in-cluster');
  const live = await client.apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'from-registry' },
    data: { a: '1' },
  });
  assert.equal(live.metadata.namespace, 'default');
});

test('adding, listing and removing a cluster; credentials are never returned nor stored in clear', async () => {
  const add = await server.request('/api/v1/clusters', {
    method: 'POST',
    json: { name: 'fake', kubeconfig: kubeconfigFor(fake.url) },
  });
  const added = (await add.json()) as Status;
  assert.equal(add.status, 201, JSON.stringify(added));
  assert.equal(added.reachable, true, added.error);
  assert.equal(added.namespace, 'team');
  assert.equal(added.server, fake.url);

  const list = await server.request('/api/v1/clusters');
  const text = await list.text();
  assert.ok(text.includes('"fake"'));
  assert.ok(!text.includes('fake-cluster-secret-token'));
  const rows = server.ctx.store.db.prepare('SELECT kubeconfig FROM kube_clusters').all() as {
    kubeconfig: string;
  }[];
  assert.ok(rows.length === 1 && !rows[0]!.kubeconfig.includes('fake-cluster-secret-token'));

  const client = await kube.clusters.get('fake');
  await client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'via-registry' }, data: {} });
  assert.ok(fake.requests.some((r) => r.startsWith('PATCH /api/v1/namespaces/team/configmaps/via-registry')));

  const dup = await server.request('/api/v1/clusters', {
    method: 'POST',
    json: { name: 'fake', kubeconfig: kubeconfigFor(fake.url) },
  });
  assert.equal(dup.status, 409);
  assert.equal((await server.request('/api/v1/clusters/fake', { method: 'DELETE' })).status, 204);
  assert.equal((await server.request('/api/v1/clusters/fake', { method: 'DELETE' })).status, 404);
  assert.equal((await server.request('/api/v1/clusters/in-cluster', { method: 'DELETE' })).status, 409);
});

test('a silent cluster is reported unreachable without holding up the others', async () => {
  const add = await server.request('/api/v1/clusters', {
    method: 'POST',
    json: { name: 'silent', kubeconfig: kubeconfigFor(silentUrl) },
  });
  assert.equal(add.status, 201);
  const { items } = (await (await server.request('/api/v1/clusters')).json()) as { items: Status[] };
  const byName = Object.fromEntries(items.map((i) => [i.name, i]));
  assert.equal(byName.silent?.reachable, false);
  assert.match(byName.silent?.error ?? '', /no answer/);
  assert.equal(byName['in-cluster']?.reachable, true);
  await server.request('/api/v1/clusters/silent', { method: 'DELETE' });
});

test('bad kubeconfigs are refused without echoing their content', async () => {
  const broken = await server.request('/api/v1/clusters', {
    method: 'POST',
    json: { name: 'broken', kubeconfig: 'users:\n- name: u\n  user: {token: "leak-me-not\n' },
  });
  assert.equal(broken.status, 400);
  assert.ok(!(await broken.text()).includes('leak-me-not'));
  const exec = await server.request('/api/v1/clusters', {
    method: 'POST',
    json: {
      name: 'exec',
      kubeconfig: `${kubeconfigFor(fake.url)}\n`
        .replace('user: {token: fake-cluster-secret-token}', 'user: {exec: {command: rm}}')
        .replace('{exec:', '\n    exec:'),
    },
  });
  assert.ok(exec.status === 422 || exec.status === 400, String(exec.status));
  const badName = await server.request('/api/v1/clusters', {
    method: 'POST',
    json: { name: 'Bad_Name', kubeconfig: kubeconfigFor(fake.url) },
  });
  assert.equal(badName.status, 422);
  const badContext = await server.request('/api/v1/clusters', {
    method: 'POST',
    json: { name: 'ctx', kubeconfig: kubeconfigFor(fake.url), context: 'nope' },
  });
  assert.equal(badContext.status, 400);
});

test('viewers may list clusters but not change them; anonymous may do neither', async () => {
  const viewer = await server.createUser('vera', 'viewer');
  assert.equal((await server.request('/api/v1/clusters', { token: viewer })).status, 200);
  const add = await server.request('/api/v1/clusters', {
    token: viewer,
    method: 'POST',
    json: { name: 'x', kubeconfig: kubeconfigFor(fake.url) },
  });
  assert.equal(add.status, 403);
  assert.equal(
    (await server.request('/api/v1/clusters/in-cluster', { token: viewer, method: 'DELETE' })).status,
    403,
  );
  assert.equal((await server.request('/api/v1/clusters', { token: null })).status, 401);
});

test('slipway cluster add/list/remove', async () => {
  const out: string[] = [];
  const io = {
    out: (s: string) => out.push(s),
    err: (s: string) => out.push(`ERR ${s}`),
    env: {} as NodeJS.ProcessEnv,
  };
  let json = false;
  const ctx = createCliContext(io, () => ({ server: server.url, token: server.adminToken, json }));
  const run = async (...args: string[]) => {
    const program = new Command('slipway').exitOverride();
    registerClusterCommands(program, ctx);
    await program.parseAsync(args, { from: 'user' });
  };
  const file = join(server.dataDir, 'cli-kubeconfig.yaml');
  writeFileSync(file, kubeconfigFor(fake.url));
  await run('cluster', 'add', 'cli', '--kubeconfig', file);
  assert.match(out.pop() ?? '', /Cluster "cli" added: http:\/\/127\.0\.0\.1:\d+ \(reachable \(v1\.26\.0\)\)/);
  await run('cluster', 'list');
  const listing = out.pop() ?? '';
  assert.match(listing, /^NAME +SERVER/);
  assert.match(listing, /\ncli +http:\/\/127\.0\.0\.1:\d+ +c +Reachable +v1\.26\.0/);
  json = true;
  await run('cluster', 'list', '--json');
  const parsed = JSON.parse(out.pop() ?? '[]') as Status[];
  assert.deepEqual(
    parsed.map((c) => c.name),
    ['in-cluster', 'cli'],
  );
  json = false;
  await run('cluster', 'remove', 'cli');
  assert.equal(out.pop(), 'Cluster "cli" removed');
});
