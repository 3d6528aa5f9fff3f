import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { AuthenticationError, NotFoundError } from '../core/index.ts';
import { sha256Digest } from './digest.ts';
import { MEDIA_TYPES } from './media-types.ts';
import { parseImageReference, referenceOf } from './reference.ts';
import { findExecutable } from './buildah-builder.ts';
import { parseAuthChallenge, RegistryClient } from './registry-client.ts';
import { type DistributionRegistry, startDistributionRegistry } from './testing.ts';

const run = promisify(execFile);
let registry: DistributionRegistry | undefined;

before(async () => {
  registry = await startDistributionRegistry();
});
after(async () => {
  await registry?.stop();
});

/** An auth front for Distribution: Bearer tokens from /token (Basic-authenticated), or plain Basic. */
async function authProxy(
  mode: 'bearer' | 'basic',
): Promise<{ host: string; server: Server; scopes: string[] }> {
  const scopes: string[] = [];
  const good = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (url.pathname === '/token') {
      if (req.headers.authorization !== good) {
        res.writeHead(401).end();
        return;
      }
      scopes.push(...url.searchParams.getAll('scope'));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'tok-123' }));
      return;
    }
    const ok =
      mode === 'bearer' ? req.headers.authorization === 'Bearer tok-123' : req.headers.authorization === good;
    if (!ok) {
      const challenge =
        mode === 'bearer'
          ? `Bearer realm="http://${host}/token",service="proxy",scope="repository:${url.pathname.split('/').slice(2, 4).join('/')}:pull"`
          : 'Basic realm="proxy"';
      res
        .writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' })
        .end('{"errors":[]}');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string' && !['host', 'authorization', 'connection', 'content-length'].includes(k))
        headers[k] = v;
    }
    const upstream = await fetch(`http://${registry!.host}${req.url}`, {
      method: req.method ?? 'GET',
      headers,
      redirect: 'manual',
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
    });
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (k === 'location') out[k] = v.replace(registry!.host, host);
      else if (k !== 'content-encoding' && k !== 'transfer-encoding') out[k] = v;
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    res.writeHead(upstream.status, out).end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, server, scopes };
}

async function pushImage(client: RegistryClient, host: string, repo: string, tag: string) {
  const layer = Buffer.from(`layer of ${repo}`);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const ld = await client.pushBlob(host, repo, layer);
  const cd = await client.pushBlob(host, repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: cd, size: config.length },
      layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest: ld, size: layer.length }],
    }),
  );
  const { digest } = await client.putManifest(host, repo, tag, manifest, MEDIA_TYPES.ociManifest);
  return { digest, layerDigest: ld };
}

test('parseAuthChallenge() reads Bearer and Basic challenges', () => {
  assert.deepEqual(
    parseAuthChallenge(
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
    ),
    {
      scheme: 'bearer',
      params: {
        realm: 'https://auth.example/token',
        service: 'registry.example',
        scope: 'repository:a/b:pull,push',
      },
    },
  );
  assert.deepEqual(parseAuthChallenge('Basic realm="x"'), { scheme: 'basic', params: { realm: 'x' } });
});

test('parseImageReference() understands hosts, tags, digests and Docker Hub names', () => {
  assert.deepEqual(parseImageReference('127.0.0.1:5000/team/app:1.2'), {
    registry: '127.0.0.1:5000',
    repository: 'team/app',
    tag: '1.2',
  });
  assert.deepEqual(parseImageReference('busybox'), {
    registry: 'docker.io',
    repository: 'library/busybox',
    tag: 'latest',
  });
  const d = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(parseImageReference(`localhost/x@${d}`), {
    registry: 'localhost',
    repository: 'x',
    digest: d,
  });
  assert.throws(() => parseImageReference('Bad/Name'), /Invalid image reference/);
  assert.throws(() => parseImageReference('Bad Name'), /Invalid image reference/);
});

test('parseImageReference() puts a registry-less name in defaultRegistry, without library/', () => {
  assert.deepEqual(parseImageReference('busybox', { defaultRegistry: 'h:1' }), {
    registry: 'h:1',
    repository: 'busybox',
    tag: 'latest',
  });
  assert.equal(
    parseImageReference('127.0.0.1:5000/base/app:1.2', { defaultRegistry: 'h' }).registry,
    '127.0.0.1:5000',
  );
  assert.equal(
    referenceOf(parseImageReference(`base/app@sha256:${'b'.repeat(64)}`)),
    `sha256:${'b'.repeat(64)}`,
  );
  assert.deepEqual(parseImageReference('index.docker.io/nginx'), {
    registry: 'docker.io',
    repository: 'library/nginx',
    tag: 'latest',
  });
});

test('RegistryClient pushes and pulls monolithic and chunked blobs, mounts across repos, lists tags', async (t) => {
  if (!registry) return t.skip('docker-registry (CNCF Distribution) is not installed');
  const client = new RegistryClient();
  const host = registry.host;
  const { digest, layerDigest } = await pushImage(client, host, 'lib/one', 'v1');
  const m = await client.getManifest(host, 'lib/one', 'v1');
  assert.equal(m.digest, digest);
  assert.equal((await client.headManifest(host, 'lib/one', digest))?.digest, digest);
  assert.equal(await client.headManifest(host, 'lib/one', 'missing'), undefined);
  const big = Buffer.alloc(300_000, 7);
  const bigDigest = await client.pushBlob(host, 'lib/one', big, { chunkSize: 100_000 });
  assert.equal(bigDigest, sha256Digest(big));
  assert.ok((await client.getBlob(host, 'lib/one', bigDigest)).equals(big));
  assert.equal(await client.mountBlob(host, 'lib/two', layerDigest, 'lib/one'), true);
  assert.equal(await client.hasBlob(host, 'lib/two', layerDigest), true);
  assert.deepEqual(await client.listTags(host, 'lib/one'), ['v1']);
  await client.deleteManifest(host, 'lib/one', digest);
  assert.equal(await client.headManifest(host, 'lib/one', digest), undefined);
});

test('RegistryClient answers Bearer token challenges with realm, service and scope', async (t) => {
  if (!registry) return t.skip('docker-registry (CNCF Distribution) is not installed');
  const proxy = await authProxy('bearer');
  try {
    const client = new RegistryClient({ credentials: () => ({ username: 'alice', password: 's3cret' }) });
    const { digest } = await pushImage(client, proxy.host, 'sec/app', '1');
    assert.equal((await client.getManifest(proxy.host, 'sec/app', '1')).digest, digest);
    assert.ok(proxy.scopes.includes('repository:sec/app:pull,push'));
    const wrong = new RegistryClient({ credentials: { username: 'alice', password: 'nope' } });
    await assert.rejects(wrong.getManifest(proxy.host, 'sec/app', '1'), AuthenticationError);
  } finally {
    proxy.server.close();
  }
});

test('RegistryClient answers Basic challenges', async (t) => {
  if (!registry) return t.skip('docker-registry (CNCF Distribution) is not installed');
  const proxy = await authProxy('basic');
  try {
    const client = new RegistryClient({ credentials: { username: 'alice', password: 's3cret' } });
    const { digest } = await pushImage(client, proxy.host, 'basic/app', '1');
    assert.equal((await client.headManifest(proxy.host, 'basic/app', '1'))?.digest, digest);
    await assert.rejects(new RegistryClient().getManifest(proxy.host, 'basic/app', '1'), /needs credentials/);
  } finally {
    proxy.server.close();
  }
});

test('addTags() puts one manifest under more tags; skopeo sees one digest', async (t) => {
  if (!registry) return t.skip('docker-registry (CNCF Distribution) is not installed');
  const client = new RegistryClient();
  const { digest } = await pushImage(client, registry.host, 'base/app', '1');
  assert.equal(await client.addTags(registry.host, 'base/app', '1', ['latest', '1.0.0']), digest);
  const skopeo = await findExecutable('skopeo');
  for (const tag of ['1', 'latest', '1.0.0']) {
    assert.equal((await client.headManifest(registry.host, 'base/app', tag))?.digest, digest, tag);
    if (!skopeo) continue;
    const { stdout }: { stdout: string } = await run(skopeo, [
      'inspect',
      '--tls-verify=false',
      '--format',
      '{{.Digest}}',
      `docker://${registry.host}/base/app:${tag}`,
    ]);
    assert.equal(stdout.trim(), digest, tag);
  }
});

test('getImageManifest() resolves an index to this platform; downloadBlob() verifies the digest', async (t) => {
  if (!registry) return t.skip('docker-registry (CNCF Distribution) is not installed');
  const client = new RegistryClient();
  const host = registry.host;
  const img = await pushImage(client, host, 'multi/app', 'img');
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        {
          mediaType: MEDIA_TYPES.ociManifest,
          digest: img.digest,
          size: 1,
          platform: { os: 'unknown', architecture: 'unknown' },
        },
        {
          mediaType: MEDIA_TYPES.ociManifest,
          digest: img.digest,
          size: 1,
          platform: { os: 'linux', architecture: 'riscv64' },
        },
      ],
    }),
  );
  await client.putManifest(host, 'multi/app', 'idx', index, MEDIA_TYPES.ociIndex);
  const got = await client.getImageManifest(host, 'multi/app', 'idx', { architecture: 'riscv64' });
  assert.equal(got.digest, img.digest);
  assert.equal(got.manifest.layers[0]?.digest, img.layerDigest);
  assert.equal(
    (await client.getImageManifest(host, 'multi/app', 'idx', { architecture: 's390x' })).digest,
    img.digest,
  );
  await assert.rejects(
    client.getImageManifest(host, 'multi/app', 'idx', { architecture: 's390x', exact: true }),
    (err: unknown) => err instanceof NotFoundError && /has no linux\/s390x manifest/.test(err.message),
  );
  const dir = mkdtempSync(join(tmpdir(), 'slipway-oci-blob-'));
  try {
    await client.downloadBlob(host, 'multi/app', img.layerDigest, join(dir, 'layer'));
    assert.equal(readFileSync(join(dir, 'layer'), 'utf8'), 'layer of multi/app');
    const wrong = `sha256:${'0'.repeat(64)}`;
    await assert.rejects(client.downloadBlob(host, 'multi/app', wrong, join(dir, 'x')), NotFoundError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
