// Interoperability: real registry clients (skopeo, buildah, helm) against a real Slipway with the registry.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { type RegistryTestServer, startRegistryServer, writeOciLayout } from './test-support.ts';

const run = promisify(execFile);
const HELM = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'slipway-tools', 'helm');
const has = (bin: string) =>
  existsSync(bin) || ['/usr/bin/', '/usr/local/bin/'].some((d) => existsSync(d + bin));

let server: RegistryTestServer;
let host: string;
let work: string;
let guestToken: string;

before(async () => {
  server = await startRegistryServer();
  host = server.url.replace('http://', '');
  work = mkdtempSync(join(tmpdir(), 'slipway-registry-clients-'));
  for (const [name, pub] of [
    ['base', false],
    ['charts', false],
    ['pub', true],
  ] as const) {
    const res = await server.request('/api/v1/registry/projects', {
      method: 'POST',
      json: { name, public: pub },
    });
    assert.equal(res.status, 201);
  }
  guestToken = await server.createUser('gina', 'viewer', [{ scope: 'project', name: 'base', role: 'guest' }]);
});

after(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('skopeo copies a multi-layer image in and out with identical digests', {
  skip: !has('skopeo') && 'skopeo is not installed',
}, async () => {
  const layout = join(work, 'layout');
  const digest = await writeOciLayout(layout, { layers: 4, layerSize: 200_000, tag: 'v1' });
  const creds = `admin:${server.adminToken}`;
  await run('skopeo', [
    'copy',
    '--dest-tls-verify=false',
    '--dest-creds',
    creds,
    `oci:${layout}:v1`,
    `docker://${host}/base/x:1`,
  ]);
  const { stdout: raw } = await run('skopeo', [
    'inspect',
    '--raw',
    '--tls-verify=false',
    '--creds',
    creds,
    `docker://${host}/base/x:1`,
  ]);
  const pushed = JSON.parse(raw) as { layers: unknown[] };
  assert.equal(pushed.layers.length, 4);
  const { stdout: inspect } = await run('skopeo', [
    'inspect',
    '--tls-verify=false',
    '--creds',
    creds,
    `docker://${host}/base/x:1`,
  ]);
  assert.equal((JSON.parse(inspect) as { Digest: string }).Digest, digest);
  const out = join(work, 'out');
  await run('skopeo', [
    'copy',
    '--src-tls-verify=false',
    '--src-creds',
    creds,
    `docker://${host}/base/x:1`,
    `oci:${out}:v1`,
  ]);
  const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  assert.equal(index.manifests[0]!.digest, digest);
  // Every blob came back byte-identical (the layout stores blobs by digest).
  for (const l of pushed.layers as { digest: string }[]) {
    assert.deepEqual(
      readFileSync(join(out, 'blobs', 'sha256', l.digest.slice(7))),
      readFileSync(join(layout, 'blobs', 'sha256', l.digest.slice(7))),
    );
  }
  // list-tags and delete
  await run('skopeo', [
    'copy',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    '--src-creds',
    creds,
    '--dest-creds',
    creds,
    `docker://${host}/base/x:1`,
    `docker://${host}/base/x:2`,
  ]);
  const { stdout: tags } = await run('skopeo', [
    'list-tags',
    '--tls-verify=false',
    '--creds',
    creds,
    `docker://${host}/base/x`,
  ]);
  assert.deepEqual((JSON.parse(tags) as { Tags: string[] }).Tags, ['1', '2']);
  await run('skopeo', ['delete', '--tls-verify=false', '--creds', creds, `docker://${host}/base/x:2`]);
  const res = await fetch(`${server.url}/v2/base/x/manifests/1`, {
    method: 'HEAD',
    headers: { authorization: server.adminBasic },
  });
  assert.equal(res.status, 404, 'deleting by digest removes the manifest and every tag on it');
});

test('skopeo: anonymous pull from a private project and push by a guest are refused', {
  skip: !has('skopeo') && 'skopeo is not installed',
}, async () => {
  const layout = join(work, 'layout-guest');
  await writeOciLayout(layout, { layers: 1, layerSize: 1000, tag: 'v1' });
  await run('skopeo', [
    'copy',
    '--dest-tls-verify=false',
    '--dest-creds',
    `admin:${server.adminToken}`,
    `oci:${layout}:v1`,
    `docker://${host}/base/guest:1`,
  ]);
  await assert.rejects(
    run('skopeo', ['inspect', '--raw', '--tls-verify=false', '--no-creds', `docker://${host}/base/guest:1`]),
    /401|unauthorized|authentication required/i,
  );
  // The guest may pull...
  await run('skopeo', [
    'inspect',
    '--raw',
    '--tls-verify=false',
    '--creds',
    `gina:${guestToken}`,
    `docker://${host}/base/guest:1`,
  ]);
  // ...but not push.
  await assert.rejects(
    run('skopeo', [
      'copy',
      '--dest-tls-verify=false',
      '--dest-creds',
      `gina:${guestToken}`,
      `oci:${layout}:v1`,
      `docker://${host}/base/guest:2`,
    ]),
    /denied|unauthorized|403|401/i,
  );
  // A public project allows anonymous pulls.
  await run('skopeo', [
    'copy',
    '--dest-tls-verify=false',
    '--dest-creds',
    `admin:${server.adminToken}`,
    `oci:${layout}:v1`,
    `docker://${host}/pub/open:1`,
  ]);
  await run('skopeo', [
    'inspect',
    '--raw',
    '--tls-verify=false',
    '--no-creds',
    `docker://${host}/pub/open:1`,
  ]);
});

test('skopeo pushes with a robot account; a pull robot cannot push', {
  skip: !has('skopeo') && 'skopeo is not installed',
}, async () => {
  const mk = async (name: string, permission: string) => {
    const res = await server.request('/api/v1/registry/projects/base/robots', {
      method: 'POST',
      json: { name, permission },
    });
    assert.equal(res.status, 201);
    return (await res.json()) as { name: string; secret: string };
  };
  const ci = await mk('ci', 'push');
  const ro = await mk('reader', 'pull');
  assert.equal(ci.name, 'robot$base+ci');
  const layout = join(work, 'layout-robot');
  await writeOciLayout(layout, { layers: 1, layerSize: 1000, tag: 'v1' });
  await run('skopeo', [
    'copy',
    '--dest-tls-verify=false',
    '--dest-creds',
    `${ci.name}:${ci.secret}`,
    `oci:${layout}:v1`,
    `docker://${host}/base/robot:1`,
  ]);
  await run('skopeo', [
    'inspect',
    '--raw',
    '--tls-verify=false',
    '--creds',
    `${ro.name}:${ro.secret}`,
    `docker://${host}/base/robot:1`,
  ]);
  await assert.rejects(
    run('skopeo', [
      'copy',
      '--dest-tls-verify=false',
      '--dest-creds',
      `${ro.name}:${ro.secret}`,
      `oci:${layout}:v1`,
      `docker://${host}/base/robot:2`,
    ]),
  );
  await assert.rejects(
    run('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--creds',
      `${ci.name}:wrong`,
      `docker://${host}/base/robot:1`,
    ]),
  );
});

test('buildah pushes and pulls an image built from busybox', {
  skip: (!has('buildah') || !existsSync('/bin/busybox')) && 'buildah or busybox is not installed',
}, async () => {
  const root = join(work, 'buildah');
  const common = ['--storage-driver', 'vfs', '--root', join(root, 'root'), '--runroot', join(root, 'run')];
  const ctxDir = join(work, 'bb-context');
  mkdirSync(ctxDir, { recursive: true });
  writeFileSync(join(ctxDir, 'Containerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\n');
  writeFileSync(join(ctxDir, 'busybox'), readFileSync('/bin/busybox'));
  await run('buildah', [...common, 'bud', '--isolation', 'chroot', '-t', 'localhost/bb:1', ctxDir]);
  const creds = `admin:${server.adminToken}`;
  await run('buildah', [
    ...common,
    'push',
    '--tls-verify=false',
    '--creds',
    creds,
    'localhost/bb:1',
    `docker://${host}/base/busybox:1`,
  ]);
  const root2 = ['--storage-driver', 'vfs', '--root', join(root, 'root2'), '--runroot', join(root, 'run2')];
  const { stdout } = await run('buildah', [
    ...root2,
    'pull',
    '--tls-verify=false',
    '--creds',
    creds,
    `docker://${host}/base/busybox:1`,
  ]);
  assert.match(stdout.trim(), /^[0-9a-f]{64}$/m);
  const { stdout: images } = await run('buildah', [...root2, 'images', '--format', '{{.Name}}:{{.Tag}}']);
  assert.match(images, /base\/busybox:1/);
});

test('helm pushes and pulls a chart to oci://', {
  skip: !existsSync(HELM) && 'helm is not extracted (npm ci)',
}, async () => {
  const chartDir = join(work, 'chart');
  mkdirSync(join(chartDir, 'hello', 'templates'), { recursive: true });
  writeFileSync(join(chartDir, 'hello', 'Chart.yaml'), 'apiVersion: v2\nname: hello\nversion: 0.1.0\n');
  writeFileSync(
    join(chartDir, 'hello', 'templates', 'cm.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\n',
  );
  const env = {
    ...process.env,
    HELM_REGISTRY_CONFIG: join(work, 'helm-registry.json'),
    HELM_CACHE_HOME: join(work, 'helm-cache'),
    HELM_CONFIG_HOME: join(work, 'helm-config'),
  };
  await run(HELM, ['package', join(chartDir, 'hello'), '-d', chartDir], { env });
  const tgz = join(chartDir, 'hello-0.1.0.tgz');
  const { stdout, stderr } = await run(
    HELM,
    [
      'push',
      tgz,
      `oci://${host}/charts`,
      '--plain-http',
      '--username',
      'admin',
      '--password',
      server.adminToken,
    ],
    { env },
  );
  assert.match(stdout + stderr, /Digest: sha256:/);
  const dest = join(work, 'pulled');
  mkdirSync(dest);
  await run(
    HELM,
    [
      'pull',
      `oci://${host}/charts/hello`,
      '--version',
      '0.1.0',
      '--plain-http',
      '--username',
      'admin',
      '--password',
      server.adminToken,
      '-d',
      dest,
    ],
    { env },
  );
  assert.deepEqual(readFileSync(join(dest, 'hello-0.1.0.tgz')), readFileSync(tgz));
  // helm registry login stores credentials; then a pull works without flags.
  await run(
    HELM,
    ['registry', 'login', host, '--insecure', '--username', 'admin', '--password', server.adminToken],
    { env },
  );
  const dest2 = join(work, 'pulled2');
  mkdirSync(dest2);
  await run(HELM, ['pull', `oci://${host}/charts/hello`, '--version', '0.1.0', '--plain-http', '-d', dest2], {
    env,
  });
  assert.ok(existsSync(join(dest2, 'hello-0.1.0.tgz')));
});
