import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { cachingResolver, type ImageResolver, parseImageRef, registryResolver } from './images.ts';
import { startTestCluster } from './testing.ts';

test('image references with Docker Hub defaults', () => {
  assert.deepEqual(parseImageRef('nginx:1.25'), {
    host: 'registry-1.docker.io',
    repository: 'library/nginx',
    reference: '1.25',
  });
  assert.deepEqual(parseImageRef('127.0.0.1:5000/base/app'), {
    host: '127.0.0.1:5000',
    repository: 'base/app',
    reference: 'latest',
  });
  assert.deepEqual(parseImageRef('ghcr.io/o/r@sha256:abc'), {
    host: 'ghcr.io',
    repository: 'o/r',
    reference: 'sha256:abc',
  });
});

test('the registry resolver follows the bearer-token challenge with pull credentials', async () => {
  const server = createServer((req, res) => {
    const port = (server.address() as AddressInfo).port;
    if (req.url?.startsWith('/token')) {
      if (req.headers.authorization !== `Basic ${Buffer.from('alice:pw').toString('base64')}`) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'tok' }));
      return;
    }
    if (req.headers.authorization !== 'Bearer tok') {
      res
        .writeHead(401, {
          'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="test",scope="repository:base/app:pull"`,
        })
        .end();
      return;
    }
    if (req.method === 'HEAD' && req.url === '/v2/base/app/manifests/1') {
      res.writeHead(200, { 'docker-content-digest': `sha256:${'c'.repeat(64)}` }).end();
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const resolve = registryResolver({ timeoutMs: 5000 });
    const creds = [{ username: 'alice', password: 'pw' }];
    assert.deepEqual(await resolve(`${host}/base/app:1`, creds), {
      ok: true,
      digest: `sha256:${'c'.repeat(64)}`,
    });
    const missing = await resolve(`${host}/base/app:2`, creds);
    assert.equal(missing.ok, false);
    assert.match(missing.ok ? '' : missing.message, /not found/);
    const denied = await resolve(`${host}/base/app:1`);
    assert.equal(denied.ok, false);
    assert.match(denied.ok ? '' : denied.message, /pull access denied/);
    const unreachable = await resolve('127.0.0.1:1/x/y:1');
    assert.equal(unreachable.ok, false);
  } finally {
    server.close();
  }
});

test('the kubelet passes imagePullSecrets to the resolver; results are cached', async () => {
  const seen: unknown[] = [];
  let calls = 0;
  const inner: ImageResolver = async (_image, creds) => {
    calls++;
    seen.push(creds);
    return { ok: true };
  };
  const cached = cachingResolver(inner);
  await cached('a:1');
  await cached('a:1');
  assert.equal(calls, 1);
  seen.length = 0;
  const cluster = await startTestCluster({ resolveImage: inner });
  try {
    const auth = Buffer.from(
      JSON.stringify({ auths: { 'registry.example': { username: 'bob', password: 's3cret' } } }),
    ).toString('base64');
    const post = (path: string, body: unknown) =>
      cluster.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await post('/api/v1/namespaces/default/secrets', {
      metadata: { name: 'pull' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': auth },
    });
    await post('/api/v1/namespaces/default/pods', {
      metadata: { name: 'p' },
      spec: {
        imagePullSecrets: [{ name: 'pull' }],
        containers: [{ name: 'a', image: 'registry.example/team/app:1' }],
      },
    });
    for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen[0], [{ username: 'bob', password: 's3cret' }]);
  } finally {
    await cluster.close();
  }
});
