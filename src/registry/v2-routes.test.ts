// Conformance-style tests of every /v2/ endpoint with fetch: status codes, headers and error bodies.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { manualClock } from '../core/index.ts';
import {
  basic,
  pushBlob,
  pushImage,
  type RegistryTestServer,
  sha256,
  startRegistryServer,
} from './test-support.ts';

let s: RegistryTestServer;
let A: string;

before(async () => {
  s = await startRegistryServer();
  A = s.adminBasic;
  for (const name of ['t', 'other', 'pub']) {
    const res = await s.request('/api/v1/registry/projects', {
      method: 'POST',
      json: { name, public: name === 'pub' },
    });
    assert.equal(res.status, 201);
  }
});
after(() => s?.stop());

const v2 = (path: string, init: RequestInit & { auth?: string | null } = {}) => {
  const headers = new Headers(init.headers);
  if (init.auth !== null) headers.set('authorization', init.auth ?? A);
  return fetch(`${s.url}/v2/${path}`, { ...init, headers });
};

async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { errors: { code: string; message: string }[] };
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, 'OCI error body');
  assert.equal(typeof body.errors[0]!.message, 'string');
  return body.errors[0]!.code;
}

test('GET /v2/ answers 200 with credentials and 401 with a Bearer challenge without', async () => {
  let res = await v2('');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
  res = await v2('', { auth: null });
  assert.equal(res.status, 401);
  assert.equal(
    res.headers.get('www-authenticate'),
    `Bearer realm="${s.url}/service/token",service="slipway"`,
  );
  assert.equal(await errorCode(res), 'UNAUTHORIZED');
  res = await v2('', { auth: basic('admin', 'wrong') });
  assert.equal(res.status, 401);
});

test('monolithic POST+PUT upload, then HEAD and GET with Range', async () => {
  const data = Buffer.from('hello registry world');
  const digest = sha256(data);
  let res = await v2('t/mono/blobs/uploads/', { method: 'POST' });
  assert.equal(res.status, 202);
  const location = res.headers.get('location')!;
  assert.match(location, /^\/v2\/t\/mono\/blobs\/uploads\/[A-Za-z0-9_-]+$/);
  assert.ok(res.headers.get('docker-upload-uuid'));
  res = await fetch(`${s.url}${location}?digest=${digest}`, {
    method: 'PUT',
    headers: { authorization: A, 'content-type': 'application/octet-stream' },
    body: data,
  });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('location'), `/v2/t/mono/blobs/${digest}`);
  assert.equal(res.headers.get('docker-content-digest'), digest);
  res = await v2(`t/mono/blobs/${digest}`, { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(data.length));
  assert.equal(res.headers.get('docker-content-digest'), digest);
  res = await v2(`t/mono/blobs/${digest}`);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);
  res = await v2(`t/mono/blobs/${digest}`, { headers: { range: 'bytes=6-13' } });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get('content-range'), `bytes 6-13/${data.length}`);
  assert.equal(await res.text(), 'registry');
  res = await v2(`t/mono/blobs/${digest}`, { headers: { range: 'bytes=100-200' } });
  assert.equal(res.status, 416);
  // Blobs are per repository: another repository does not see it.
  res = await v2(`t/elsewhere/blobs/${digest}`, { method: 'HEAD' });
  assert.equal(res.status, 404);
  res = await v2(`t/mono/blobs/${sha256('nope')}`);
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), 'BLOB_UNKNOWN');
  res = await v2('t/mono/blobs/sha256:zz');
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), 'DIGEST_INVALID');
});

test('single POST upload with ?digest= creates the blob', async () => {
  const data = Buffer.from('single post');
  const res = await v2(`t/single/blobs/uploads/?digest=${sha256(data)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: data,
  });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('docker-content-digest'), sha256(data));
});

test('chunked PATCH uploads with Content-Range, status GET, out-of-order chunk 416', async () => {
  const data = Buffer.from('0123456789abcdefghij');
  let res = await v2('t/chunked/blobs/uploads/', { method: 'POST' });
  const location = res.headers.get('location')!;
  const patch = (body: Buffer, range: string) =>
    fetch(`${s.url}${location}`, {
      method: 'PATCH',
      headers: {
        authorization: A,
        'content-type': 'application/octet-stream',
        'content-range': range,
        'content-length': String(body.length),
      },
      body,
    });
  res = await patch(data.subarray(0, 10), '0-9');
  assert.equal(res.status, 202);
  assert.equal(res.headers.get('range'), '0-9');
  assert.equal(res.headers.get('location'), location);
  res = await fetch(`${s.url}${location}`, { headers: { authorization: A } });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('range'), '0-9');
  res = await patch(data.subarray(15), '15-19');
  assert.equal(res.status, 416);
  res = await patch(data.subarray(10), '10-19');
  assert.equal(res.status, 202);
  assert.equal(res.headers.get('range'), '0-19');
  res = await fetch(`${s.url}${location}?digest=${sha256(data)}`, {
    method: 'PUT',
    headers: { authorization: A },
  });
  assert.equal(res.status, 201);
  res = await v2(`t/chunked/blobs/${sha256(data)}`);
  assert.equal(await res.text(), data.toString());
  res = await fetch(`${s.url}${location}`, { headers: { authorization: A } });
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
});

test('big blobs: chunked PATCHes across buffer boundaries, an interrupted PATCH resumed, Range GETs', async () => {
  const MiB = 1 << 20;
  const data = randomBytes(3 * MiB + 4321);
  let res = await v2('t/big/blobs/uploads/', { method: 'POST' });
  const location = res.headers.get('location')!;
  const patch = (body: Buffer, start: number) =>
    fetch(`${s.url}${location}`, {
      method: 'PATCH',
      headers: {
        authorization: A,
        'content-type': 'application/octet-stream',
        'content-range': `${start}-${start + body.length - 1}`,
        'content-length': String(body.length),
      },
      body,
    });
  res = await patch(data.subarray(0, MiB + 17), 0);
  assert.equal(res.status, 202);
  assert.equal(res.headers.get('range'), `0-${MiB + 16}`);
  // A client that dies in the middle of a chunk: it promised more bytes than it sends.
  const cut = MiB + 17 + MiB / 2;
  await new Promise<void>((resolve) => {
    const req = httpRequest(`${s.url}${location}`, {
      method: 'PATCH',
      headers: {
        authorization: A,
        'content-type': 'application/octet-stream',
        'content-range': `${MiB + 17}-${2 * MiB}`,
        'content-length': String(2 * MiB - (MiB + 17) + 1),
      },
    });
    req.on('error', () => resolve());
    req.write(data.subarray(MiB + 17, cut), () => setTimeout(() => req.destroy(), 200));
    req.on('close', () => resolve());
  });
  // The upload kept a prefix of what was sent; the client asks where to go on and resumes there.
  let size = -1;
  for (let i = 0; i < 50; i++) {
    res = await fetch(`${s.url}${location}`, { headers: { authorization: A } });
    assert.equal(res.status, 204);
    size = Number(res.headers.get('range')!.split('-')[1]) + 1;
    if (size === cut) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(size >= MiB + 17 && size <= cut, `resume point ${size}`);
  res = await patch(data.subarray(size), size);
  assert.equal(res.status, 202);
  assert.equal(res.headers.get('range'), `0-${data.length - 1}`);
  const digest = sha256(data);
  res = await fetch(`${s.url}${location}?digest=${digest}`, { method: 'PUT', headers: { authorization: A } });
  assert.equal(res.status, 201);
  res = await v2(`t/big/blobs/${digest}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(data.length));
  assert.equal(res.headers.get('docker-content-digest'), digest);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
  res = await v2(`t/big/blobs/${digest}`, { headers: { range: `bytes=${MiB - 3}-${2 * MiB + 3}` } });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get('content-range'), `bytes ${MiB - 3}-${2 * MiB + 3}/${data.length}`);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(data.subarray(MiB - 3, 2 * MiB + 4)));
  res = await v2(`t/big/blobs/${digest}`, { headers: { range: 'bytes=-10' } });
  assert.equal(res.status, 206);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(data.subarray(data.length - 10)));
  // A single POST with the whole body and ?digest= works at this size too.
  const other = randomBytes(2 * MiB + 1);
  res = await v2(`t/big/blobs/uploads/?digest=${sha256(other)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: other,
  });
  assert.equal(res.status, 201);
  res = await v2(`t/big/blobs/${sha256(other)}`);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(other));
});

test('with directIo on, big blobs go around the page cache and read back whole and in ranges', async () => {
  const b = await startRegistryServer({ directIo: true });
  try {
    await b.request('/api/v1/registry/projects', { method: 'POST', json: { name: 'buf' } });
    const MiB = 1 << 20;
    const data = randomBytes(3 * MiB + 99);
    const digest = await pushBlob(b.url, 'buf/a', data, b.adminBasic);
    const get = (range?: string) =>
      fetch(`${b.url}/v2/buf/a/blobs/${digest}`, {
        headers: { authorization: b.adminBasic, ...(range ? { range } : {}) },
      });
    assert.ok(Buffer.from(await (await get()).arrayBuffer()).equals(data));
    const res = await get(`bytes=${MiB + 1}-${3 * MiB}`);
    assert.equal(res.status, 206);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(data.subarray(MiB + 1, 3 * MiB + 1)));
  } finally {
    await b.stop();
  }
});

test('a chunked upload with a wrong digest is rejected and leaves nothing behind', async () => {
  const registryDir = join(s.dataDir, 'registry');
  const before = readdirSync(join(registryDir, 'uploads')).length;
  let res = await v2('t/bad/blobs/uploads/', { method: 'POST' });
  const location = res.headers.get('location')!;
  res = await fetch(`${s.url}${location}`, {
    method: 'PATCH',
    headers: { authorization: A, 'content-type': 'application/octet-stream', 'content-range': '0-4' },
    body: 'abcde',
  });
  assert.equal(res.status, 202);
  const wrong = sha256('something else');
  res = await fetch(`${s.url}${location}?digest=${wrong}`, { method: 'PUT', headers: { authorization: A } });
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), 'DIGEST_INVALID');
  assert.equal(readdirSync(join(registryDir, 'uploads')).length, before);
  res = await v2(`t/bad/blobs/${wrong}`, { method: 'HEAD' });
  assert.equal(res.status, 404);
  res = await v2(`t/bad/blobs/${sha256('abcde')}`, { method: 'HEAD' });
  assert.equal(res.status, 404);
  assert.equal(s.registry.service.blobSizeAnywhere(wrong), undefined);
});

test('an abandoned upload (client gone mid-PATCH) expires after the upload TTL, not before', async () => {
  const clock = manualClock(Date.now());
  const e = await startRegistryServer({ uploadTtlSeconds: 60, clock });
  try {
    await e.request('/api/v1/registry/projects', { method: 'POST', json: { name: 'exp' } });
    const auth = e.adminBasic;
    let res = await fetch(`${e.url}/v2/exp/a/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: auth },
    });
    const location = res.headers.get('location')!;
    const id = location.split('/').pop()!;
    const data = randomBytes(3 << 20);
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${e.url}${location}`, {
        method: 'PATCH',
        headers: { authorization: auth, 'content-length': String(data.length) },
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.write(data.subarray(0, (1 << 20) + 12_345), () => setTimeout(() => req.destroy(), 200));
    });
    const uploads = join(e.dataDir, 'registry', 'uploads');
    const status = () => fetch(`${e.url}${location}`, { headers: { authorization: auth } });
    // The bytes that arrived are kept while the client may still come back.
    for (let i = 0; i < 50; i++) {
      res = await status();
      if (res.headers.get('range') === `0-${(1 << 20) + 12_344}`) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(res.headers.get('range'), `0-${(1 << 20) + 12_344}`);
    clock.advance(30_000);
    assert.equal(await e.registry.service.expireUploads(), 0);
    assert.ok(readdirSync(uploads).includes(id));
    // The server marks the upload active when it has finished with the cut-off PATCH, which under load may
    // come after the status above, as late as the first advance: 61 s past that point it is idle for sure.
    clock.advance(61_000);
    assert.equal(await e.registry.service.expireUploads(), 1);
    assert.ok(!readdirSync(uploads).includes(id));
    res = await status();
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
    res = await fetch(`${e.url}${location}?digest=${sha256(data)}`, {
      method: 'PUT',
      headers: { authorization: auth },
    });
    assert.equal(res.status, 404);
    assert.equal(e.registry.service.blobSizeAnywhere(sha256(data)), undefined);
  } finally {
    await e.stop();
  }
});

test('cross-repository mount, and blob DELETE', async () => {
  const digest = await pushBlob(s.url, 't/src', Buffer.from('mount me'), A);
  let res = await v2(`t/dst/blobs/uploads/?mount=${digest}&from=t/src`, { method: 'POST' });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('location'), `/v2/t/dst/blobs/${digest}`);
  res = await v2(`t/dst/blobs/${digest}`, { method: 'HEAD' });
  assert.equal(res.status, 200);
  // Mount from a repository without the blob falls back to an upload session.
  res = await v2(`t/dst2/blobs/uploads/?mount=${sha256('absent')}&from=t/src`, { method: 'POST' });
  assert.equal(res.status, 202);
  res = await v2(`t/dst/blobs/${digest}`, { method: 'DELETE' });
  assert.equal(res.status, 202);
  res = await v2(`t/dst/blobs/${digest}`, { method: 'HEAD' });
  assert.equal(res.status, 404);
  res = await v2(`t/src/blobs/${digest}`, { method: 'HEAD' });
  assert.equal(res.status, 200);
});

test('manifests: PUT/GET/HEAD/DELETE by tag and digest, OCI and Docker, indexes and Accept', async () => {
  const img = await pushImage(s.url, 't/app', 'v1', A);
  let res = await v2('t/app/manifests/v1');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(res.headers.get('docker-content-digest'), img.digest);
  assert.equal(await res.text(), img.body);
  res = await v2(`t/app/manifests/${img.digest}`, { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(img.body)));
  // Docker schema 2
  const m = JSON.parse(img.body) as { config: object; layers: object[] };
  const docker = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { ...m.config, mediaType: 'application/vnd.docker.container.image.v1+json' },
    layers: m.layers,
  });
  res = await v2('t/app/manifests/docker', {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' },
    body: docker,
  });
  assert.equal(res.status, 201);
  const dockerDigest = res.headers.get('docker-content-digest')!;
  assert.equal(dockerDigest, sha256(docker));
  // An index over both
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: img.digest,
        size: Buffer.byteLength(img.body),
        platform: { os: 'linux', architecture: 'amd64' },
      },
      {
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        digest: dockerDigest,
        size: docker.length,
        platform: { os: 'linux', architecture: 'arm64' },
      },
    ],
  });
  res = await v2('t/app/manifests/multi', {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
    body: index,
  });
  assert.equal(res.status, 201);
  res = await v2('t/app/manifests/multi', {
    headers: {
      accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json',
    },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/vnd.oci.image.index.v1+json');
  res = await v2('t/app/manifests/multi', {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  assert.equal(res.status, 404);
  // Unknown blob / child manifest, bad JSON, media type mismatch
  const missing = JSON.stringify({
    ...JSON.parse(img.body),
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256('missing'), size: 7 }],
  });
  res = await v2('t/app/manifests/bad', {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: missing,
  });
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), 'MANIFEST_BLOB_UNKNOWN');
  res = await v2('t/app/manifests/bad', {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: '{nope',
  });
  assert.equal(await errorCode(res), 'MANIFEST_INVALID');
  res = await v2('t/app/manifests/bad', {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
    body: img.body,
  });
  assert.equal(await errorCode(res), 'MANIFEST_INVALID');
  res = await v2(`t/app/manifests/${sha256('x')}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: img.body,
  });
  assert.equal(await errorCode(res), 'DIGEST_INVALID');
  res = await v2('t/app/manifests/nope');
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), 'MANIFEST_UNKNOWN');
  // DELETE by tag untags; DELETE by digest removes the manifest
  res = await v2('t/app/manifests/docker', { method: 'DELETE' });
  assert.equal(res.status, 202);
  res = await v2(`t/app/manifests/${dockerDigest}`, { method: 'HEAD' });
  assert.equal(res.status, 200);
  res = await v2(`t/app/manifests/${img.digest}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: img.body,
  });
  assert.equal(res.status, 201);
  res = await v2('t/app/manifests/v1', { method: 'DELETE' });
  res = await v2('t/app/manifests/v1', { method: 'DELETE' });
  assert.equal(res.status, 404);
});

test('tags list with n/last pagination and Link header; catalog', async () => {
  for (const tag of ['a', 'b', 'c', 'd', 'e']) await pushImage(s.url, 't/paged', tag, A);
  let res = await v2('t/paged/tags/list');
  assert.deepEqual(await res.json(), { name: 't/paged', tags: ['a', 'b', 'c', 'd', 'e'] });
  res = await v2('t/paged/tags/list?n=2');
  assert.deepEqual(await res.json(), { name: 't/paged', tags: ['a', 'b'] });
  assert.equal(res.headers.get('link'), '</v2/t/paged/tags/list?last=b&n=2>; rel="next"');
  res = await v2('t/paged/tags/list?n=2&last=b');
  assert.deepEqual(((await res.json()) as { tags: string[] }).tags, ['c', 'd']);
  res = await v2('t/paged/tags/list?n=2&last=d');
  assert.deepEqual(((await res.json()) as { tags: string[] }).tags, ['e']);
  assert.equal(res.headers.get('link'), null);
  res = await v2('t/unknown-repo/tags/list');
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), 'NAME_UNKNOWN');
  res = await v2('_catalog?n=1');
  const first = (await res.json()) as { repositories: string[] };
  assert.equal(first.repositories.length, 1);
  assert.match(res.headers.get('link') ?? '', /rel="next"/);
  res = await v2('_catalog');
  assert.ok(((await res.json()) as { repositories: string[] }).repositories.includes('t/paged'));
});

test('referrers API with artifactType filter, and OCI-Subject on PUT', async () => {
  const img = await pushImage(s.url, 't/ref', 'v1', A);
  const subject = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: img.digest,
    size: Buffer.byteLength(img.body),
  };
  const sig = await pushImage(s.url, 't/ref', 'sig', A, {
    subject,
    artifactType: 'application/vnd.example.signature',
  });
  await pushImage(s.url, 't/ref', 'sbom', A, { subject, artifactType: 'application/spdx+json' });
  let res = await v2(`t/ref/referrers/${img.digest}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/vnd.oci.image.index.v1+json');
  const all = (await res.json()) as { manifests: { digest: string; artifactType: string }[] };
  assert.equal(all.manifests.length, 2);
  res = await v2(`t/ref/referrers/${img.digest}?artifactType=application/vnd.example.signature`);
  assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
  const filtered = (await res.json()) as { manifests: { digest: string }[] };
  assert.deepEqual(
    filtered.manifests.map((m) => m.digest),
    [sig.digest],
  );
  res = await v2(`t/ref/referrers/${sha256('none')}`);
  assert.deepEqual(((await res.json()) as { manifests: unknown[] }).manifests, []);
  // OCI-Subject header on a PUT with a subject
  const m = JSON.parse(sig.body);
  m.annotations = { again: 'yes' };
  res = await v2('t/ref/manifests/sig2', {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: JSON.stringify(m),
  });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('oci-subject'), img.digest);
});

test('names are validated: path traversal, upper case, no project', async () => {
  for (const name of ['t/../etc', 'T/app', 'justone', 't/a%2F..%2F..']) {
    const res = await v2(`${name}/tags/list`);
    assert.ok([400, 404].includes(res.status), `${name} → ${res.status}`);
    const code = await errorCode(res);
    assert.ok(['NAME_INVALID', 'NAME_UNKNOWN'].includes(code));
  }
  const res = await v2('t/app/manifests/bad tag!');
  assert.equal(res.status, 400);
  const res2 = await v2('missing/app/tags/list');
  assert.equal(res2.status, 404);
  assert.equal(await errorCode(res2), 'NAME_UNKNOWN');
});

test('token service grants exactly the allowed subset; anonymous tokens for public pulls', async () => {
  const guest = await s.createUser('gus', 'viewer', [{ scope: 'project', name: 't', role: 'guest' }]);
  let res = await fetch(
    `${s.url}/service/token?service=slipway&scope=repository:t/app:pull,push&scope=repository:other/x:pull`,
    {
      headers: { authorization: basic('gus', guest) },
    },
  );
  assert.equal(res.status, 200);
  const body = (await res.json()) as { token: string; expires_in: number };
  const claims = JSON.parse(Buffer.from(body.token.split('.')[1]!, 'base64url').toString()) as {
    access: { name: string; actions: string[] }[];
    sub: string;
  };
  assert.equal(claims.sub, 'gus');
  assert.deepEqual(claims.access, [
    { type: 'repository', name: 't/app', actions: ['pull'] },
    { type: 'repository', name: 'other/x', actions: [] },
  ]);
  // With that token: pull works, push answers 403 DENIED (the policy refuses, a new token would not help).
  await pushImage(s.url, 't/app', 'v9', A);
  res = await v2('t/app/manifests/v9', { auth: `Bearer ${body.token}` });
  assert.equal(res.status, 200);
  res = await v2('t/app/blobs/uploads/', { method: 'POST', auth: `Bearer ${body.token}` });
  assert.equal(res.status, 403);
  assert.equal(await errorCode(res), 'DENIED');
  // An admin token without push scope gets 401 insufficient_scope.
  res = await fetch(`${s.url}/service/token?service=slipway&scope=repository:t/app:pull`, {
    headers: { authorization: A },
  });
  const adminPull = ((await res.json()) as { token: string }).token;
  res = await v2('t/app/blobs/uploads/', { method: 'POST', auth: `Bearer ${adminPull}` });
  assert.equal(res.status, 401);
  assert.match(
    res.headers.get('www-authenticate')!,
    /scope="repository:t\/app:pull,push",error="insufficient_scope"/,
  );
  // Anonymous: a public project yes, a private one no.
  res = await fetch(
    `${s.url}/service/token?service=slipway&scope=repository:pub/x:pull&scope=repository:t/app:pull`,
  );
  const anon = JSON.parse(
    Buffer.from(((await res.json()) as { token: string }).token.split('.')[1]!, 'base64url').toString(),
  ) as { access: { actions: string[] }[] };
  assert.deepEqual(
    anon.access.map((a) => a.actions),
    [['pull'], []],
  );
  // Wrong password
  res = await fetch(`${s.url}/service/token?service=slipway`, {
    headers: { authorization: basic('gus', 'nope') },
  });
  assert.equal(res.status, 401);
  // offline_token → refresh token → POST grant_type=refresh_token
  res = await fetch(`${s.url}/service/token?service=slipway&offline_token=true&client_id=test`, {
    headers: { authorization: A },
  });
  const refresh = ((await res.json()) as { refresh_token: string }).refresh_token;
  assert.ok(refresh);
  res = await fetch(`${s.url}/service/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refresh,
      service: 'slipway',
      scope: 'repository:t/app:push',
      client_id: 'test',
    }).toString(),
  });
  assert.equal(res.status, 200);
  assert.match(((await res.json()) as { scope: string }).scope, /t\/app:push/);
});

test('anonymous pulls from a public project need no token; a private one answers 401 with a challenge', async () => {
  const layer = Buffer.from('public layer');
  const img = await pushImage(s.url, 'pub/open', 'v1', A, { layers: [layer] });
  const accept = { accept: 'application/vnd.oci.image.manifest.v1+json' };
  let res = await v2('pub/open/manifests/v1', { auth: null, headers: accept });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('docker-content-digest'), img.digest);
  assert.equal(await res.text(), img.body);
  res = await v2(`pub/open/blobs/${sha256(layer)}`, { auth: null });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'public layer');
  res = await v2(`pub/open/blobs/${sha256(layer)}`, { auth: null, method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(layer.length));

  await pushImage(s.url, 't/closed', 'v1', A);
  res = await v2('t/closed/manifests/v1', { auth: null, headers: accept });
  assert.equal(res.status, 401);
  assert.equal(
    res.headers.get('www-authenticate'),
    `Bearer realm="${s.url}/service/token",service="slipway",scope="repository:t/closed:pull"`,
  );
  assert.equal(await errorCode(res), 'UNAUTHORIZED');
});

test('a revoked API token, a deleted robot and a deleted user are refused at once', async () => {
  await pushImage(s.url, 't/rev', 'v1', A);
  const accept = { accept: 'application/vnd.oci.image.manifest.v1+json' };
  const pull = (auth: string) => v2('t/rev/manifests/v1', { auth, headers: accept });
  const tokenFor = async (auth: string) => {
    const res = await fetch(`${s.url}/service/token?service=slipway&scope=repository:t/rev:pull`, {
      headers: { authorization: auth },
    });
    assert.equal(res.status, 200);
    return `Bearer ${((await res.json()) as { token: string }).token}`;
  };

  // API tokens, as Basic password and as Bearer.
  const apiToken = await s.createUser('rev', 'viewer', [{ scope: 'project', name: 't', role: 'developer' }]);
  assert.equal((await pull(basic('rev', apiToken))).status, 200);
  s.ctx.auth.revokeToken('rev', 'test', 'system');
  assert.equal((await pull(basic('rev', apiToken))).status, 401);
  const second = s.ctx.auth.createToken('rev', { name: 'second' }, 'system').token;
  assert.equal((await pull(`Bearer ${second}`)).status, 200);
  s.ctx.auth.revokeToken('rev', 'second', 'system');
  assert.equal((await pull(`Bearer ${second}`)).status, 401);

  // A robot's secret and the registry tokens issued to it.
  let res = await s.request('/api/v1/registry/projects/t/robots', {
    method: 'POST',
    json: { name: 'gone', permission: 'pull' },
  });
  assert.equal(res.status, 201);
  const robot = (await res.json()) as { name: string; secret: string };
  const robotBasic = basic(robot.name, robot.secret);
  const robotBearer = await tokenFor(robotBasic);
  assert.equal((await pull(robotBasic)).status, 200);
  assert.equal((await pull(robotBearer)).status, 200);
  res = await s.request('/api/v1/registry/projects/t/robots/gone', { method: 'DELETE' });
  assert.equal(res.status, 204);
  assert.equal((await pull(robotBasic)).status, 401);
  assert.equal((await pull(robotBearer)).status, 401);

  // A password: checked once (concurrent logins share the check), then trusted while the user exists.
  const password = basic('rev', 'rev-password-1');
  const statuses = await Promise.all([1, 2, 3, 4].map(async () => (await pull(password)).status));
  assert.deepEqual(statuses, [200, 200, 200, 200]);
  assert.equal((await pull(password)).status, 200);
  assert.equal((await pull(basic('rev', 'rev-password-2'))).status, 401);
  s.ctx.auth.deleteUser('rev', 'system');
  assert.equal((await pull(password)).status, 401);
});

test('tag immutability and the storage quota', async () => {
  let res = await s.request('/api/v1/registry/projects', {
    method: 'POST',
    json: { name: 'locked', immutableTags: ['release-*'], quotaBytes: 5000 },
  });
  assert.equal(res.status, 201);
  const first = await pushImage(s.url, 'locked/app', 'release-1', A);
  // Same digest again is fine; a different one is refused.
  res = await v2('locked/app/manifests/release-1', {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: first.body,
  });
  assert.equal(res.status, 201);
  await assert.rejects(pushImage(s.url, 'locked/app', 'release-1', A), /403.*DENIED.*immutable/);
  res = await v2('locked/app/manifests/release-1', { method: 'DELETE' });
  assert.equal(res.status, 403);
  await pushImage(s.url, 'locked/app', 'dev', A);
  await pushImage(s.url, 'locked/app', 'dev', A);
  // Quota: 5000 bytes; a 6000-byte blob is refused with 403 DENIED.
  const big = Buffer.alloc(6000, 1);
  res = await v2(`locked/app/blobs/uploads/?digest=${sha256(big)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: big,
  });
  assert.equal(res.status, 403);
  const body = (await res.json()) as { errors: { code: string; message: string }[] };
  assert.equal(body.errors[0]!.code, 'DENIED');
  assert.match(body.errors[0]!.message, /quota/);
});

test('two clients push the same blob at once', async () => {
  const data = Buffer.alloc(2_000_000, 7);
  const [a, b] = await Promise.all([
    pushBlob(s.url, 't/race1', data, A),
    pushBlob(s.url, 't/race2', data, A),
  ]);
  assert.equal(a, b);
  for (const repo of ['t/race1', 't/race2']) {
    const res = await v2(`${repo}/blobs/${a}`);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), a);
  }
});

test('GC during pushes loses nothing; unreferenced blobs go after the grace period', async () => {
  const clock = manualClock(Date.now());
  const g = await startRegistryServer({ gcGraceSeconds: 3600, clock });
  try {
    await g.request('/api/v1/registry/projects', { method: 'POST', json: { name: 'gc' } });
    const orphan = await pushBlob(g.url, 'gc/a', Buffer.from('orphan blob'), g.adminBasic);
    clock.advance(2 * 3600_000);
    // Push images while GC runs over and over (the orphan is past its grace period, the pushes are not).
    let stop = false;
    const gcLoop = (async () => {
      let runs = 0;
      while (!stop) {
        await g.registry.service.gc();
        runs++;
        await new Promise((r) => setImmediate(r));
      }
      return runs;
    })();
    const images = [];
    for (let i = 0; i < 10; i++)
      images.push(
        pushImage(g.url, 'gc/a', `t${i}`, g.adminBasic, {
          layers: [Buffer.from(`layer ${i}`), Buffer.alloc(100_000, i)],
        }),
      );
    await Promise.all(images);
    stop = true;
    assert.ok((await gcLoop) > 0);
    assert.equal(
      g.registry.service.blobSizeAnywhere(orphan),
      undefined,
      'the unreferenced blob was collected',
    );
    // Much later, GC again: everything the images reference survives.
    clock.advance(2 * 3600_000);
    await g.registry.service.gc();
    for (let i = 0; i < 10; i++) {
      const m = await g.registry.service.getManifest('gc/a', `t${i}`);
      assert.ok(m, `t${i} exists`);
      const doc = JSON.parse(m.body.toString()) as {
        config: { digest: string };
        layers: { digest: string }[];
      };
      for (const d of [doc.config.digest, ...doc.layers.map((l) => l.digest)]) {
        const res = await fetch(`${g.url}/v2/gc/a/blobs/${d}`, { headers: { authorization: g.adminBasic } });
        assert.equal(res.status, 200, `blob ${d} of t${i} survives GC`);
        assert.equal(sha256(Buffer.from(await res.arrayBuffer())), d);
      }
    }
    // Untagging and GC with deleteUntagged frees the image's blobs.
    for (let i = 0; i < 10; i++) assert.ok(g.registry.service.deleteManifest('gc/a', `t${i}`));
    clock.advance(2 * 3600_000);
    const result = await g.registry.service.gc({ deleteUntagged: true });
    assert.equal(result.deletedManifests.length, 10);
    assert.ok(result.deletedBlobs.length >= 30);
  } finally {
    await g.stop();
  }
});

test('registry.push events name repository, tag, digest and media type', async () => {
  const seen = s.ctx.events.waitFor('registry.push', (e) => e.repository === 't/evt');
  const img = await pushImage(s.url, 't/evt', 'v1', A);
  assert.deepEqual(await seen, {
    repository: 't/evt',
    tag: 'v1',
    digest: img.digest,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
  });
});

test('in-process service: putBlob, putManifest, resolveTag, getManifest, getBlob, listTags', async () => {
  const svc = s.registry.service;
  const layer = Buffer.from('built in process');
  const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
  const l = await svc.putBlob('t/inproc', layer);
  const c = await svc.putBlob('t/inproc', config);
  assert.equal(l.digest, sha256(layer));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: c.digest, size: c.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l.digest, size: l.size }],
    }),
  );
  const put = await svc.putManifest('t/inproc', 'latest', manifest);
  assert.equal(svc.resolveTag('t/inproc', 'latest'), put.digest);
  assert.deepEqual((await svc.getManifest('t/inproc', 'latest'))?.body, manifest);
  const chunks: Buffer[] = [];
  for await (const chunk of svc.getBlob(l.digest)) chunks.push(chunk as Buffer);
  assert.deepEqual(Buffer.concat(chunks), layer);
  assert.deepEqual(svc.listTags('t/inproc'), ['latest']);
  assert.throws(() => svc.getBlob(sha256('absent')), /not in the registry/);
});
