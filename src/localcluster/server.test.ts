// The local cluster mounted in a whole Slipway server at /kube, authenticated by Slipway tokens too.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startTestServer } from '../server/testing.ts';
import { createLocalCluster } from './index.ts';
import { fakeResolver } from './testing.ts';

const KUBECTL = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'slipway-tools', 'kubectl');

test('mounted at /kube: Slipway tokens, cluster token, 401 Status for anonymous, kubeconfig endpoint, kubectl', async () => {
  const server = await startTestServer({
    extraModules: (ctx) => {
      // publicUrl is read lazily: the server learns its real port (port 0) only after listening.
      const lc = createLocalCluster({
        ...ctx,
        get publicUrl() {
          return ctx.publicUrl;
        },
        resolveImage: fakeResolver,
        kubelet: { startDelayMs: 20, readyDelayMs: 20 },
      });
      return [
        { name: 'localcluster', prefix: '/kube', routes: lc.routes, start: lc.start, stop: lc.stop },
        { name: 'localcluster-api', prefix: '/api/v1/cluster', routes: lc.apiRoutes },
      ];
    },
  });
  try {
    const anonymous = await server.request('/kube/api/v1/namespaces', { token: null });
    assert.equal(anonymous.status, 401);
    assert.deepEqual(await anonymous.json(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    const withSlipwayToken = await server.request('/kube/api/v1/namespaces');
    assert.equal(withSlipwayToken.status, 200);
    const viewer = await server.createUser('carol', 'viewer');
    const denied = await server.request('/kube/api/v1/namespaces/default/configmaps', {
      token: viewer,
      method: 'POST',
      json: { metadata: { name: 'x' } },
    });
    assert.ok(denied.status === 403, `viewer write: ${denied.status}`);
    const res = await server.request('/api/v1/cluster/kubeconfig');
    assert.equal(res.status, 200);
    const { kubeconfig } = (await res.json()) as { kubeconfig: string };
    assert.match(kubeconfig, /server: http:\/\/slipway-admin:[^@]+@127\.0\.0\.1:\d+\/kube/);
    const file = join(server.dataDir, 'kubeconfig');
    assert.ok(existsSync(file));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(server.dataDir, 'cluster', 'admin-token')).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8'), kubeconfig);
    if (existsSync(KUBECTL)) {
      const kc = join(server.dataDir, 'kc');
      writeFileSync(kc, kubeconfig);
      const { stdout } = await promisify(execFile)(KUBECTL, ['--kubeconfig', kc, 'get', 'nodes'], {
        env: { ...process.env, HOME: server.dataDir },
      });
      assert.match(stdout, /slipway-node\s+Ready/);
    }
  } finally {
    await server.stop();
  }
});
