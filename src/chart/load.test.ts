import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { loadChart, parseOciReference, pullOciChart } from './load.ts';
import { writeTarGz } from './tar.ts';

const run = promisify(execFile);
const HELM = resolve(import.meta.dirname, '../../node_modules/.cache/slipway-tools/helm');
const REGISTRY = '/usr/bin/docker-registry';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function writeChart(dir: string, name: string): Promise<void> {
  await mkdir(join(dir, 'templates'), { recursive: true });
  await writeFile(join(dir, 'Chart.yaml'), `apiVersion: v2\nname: ${name}\nversion: 1.2.3\n`);
  await writeFile(join(dir, 'values.yaml'), 'greeting: hello\n');
  await writeFile(join(dir, 'templates', 'cm.yaml'), 'kind: ConfigMap\n');
  await writeFile(join(dir, 'notes.bak'), 'ignored\n');
  await writeFile(join(dir, '.helmignore'), '*.bak\n');
}

test('loadChart() reads a directory honouring .helmignore, and a .tgz', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-chart-'));
  try {
    await writeChart(join(dir, 'demo'), 'demo');
    const chart = await loadChart(join(dir, 'demo'));
    assert.equal(chart.metadata.Name, 'demo');
    assert.deepEqual(
      chart.files.map((f) => f.name),
      ['.helmignore'],
    );
    const enc = new TextEncoder();
    await writeFile(
      join(dir, 'demo.tgz'),
      writeTarGz([
        { path: 'demo/Chart.yaml', data: enc.encode('apiVersion: v2\nname: demo\nversion: 0.0.1\n') },
        { path: 'demo/templates/a.yaml', data: enc.encode('kind: A\n') },
      ]),
    );
    const packed = await loadChart(join(dir, 'demo.tgz'));
    assert.equal(packed.metadata.Version, '0.0.1');
    await assert.rejects(loadChart(join(dir, 'nope')), /not found/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('parseOciReference() takes the version from the option or the tag', () => {
  assert.deepEqual(parseOciReference('oci://h:5000/a/b', '1.0.0+x'), {
    host: 'h:5000',
    repository: 'a/b',
    tag: '1.0.0_x',
  });
  assert.deepEqual(parseOciReference('oci://h/a/b:2.0.0'), { host: 'h', repository: 'a/b', tag: '2.0.0' });
  assert.throws(() => parseOciReference('oci://h/a/b'), /version is required/);
});

const skipRegistry = !existsSync(REGISTRY)
  ? 'docker-registry (Debian package docker-registry) is not installed'
  : !existsSync(HELM)
    ? 'helm binary not found'
    : false;

describe('OCI charts in a real registry (CNCF Distribution + helm push)', { skip: skipRegistry }, () => {
  let dir = '';
  let registry: ChildProcess | undefined;
  let port = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-oci-'));
    port = await freePort();
    const config = `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`;
    await writeFile(join(dir, 'config.yml'), config);
    registry = spawn(REGISTRY, ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v2/`);
        if (res.ok) break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await writeChart(join(dir, 'web'), 'web');
    const env = {
      ...process.env,
      HELM_CACHE_HOME: join(dir, 'cache'),
      HELM_CONFIG_HOME: join(dir, 'config'),
    };
    await run(HELM, ['package', join(dir, 'web'), '-d', dir], { env });
    await run(HELM, ['push', join(dir, 'web-1.2.3.tgz'), `oci://127.0.0.1:${port}/charts`, '--plain-http'], {
      env,
    });
  });
  after(async () => {
    registry?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  test('loadChart() pulls oci://host/repo/name with --version', async () => {
    const chart = await loadChart(`oci://127.0.0.1:${port}/charts/web`, {
      version: '1.2.3',
      plainHttp: true,
    });
    assert.equal(chart.metadata.Name, 'web');
    assert.deepEqual(chart.values, { greeting: 'hello' });
  });

  test('loadChart() reports a missing version as not found', async () => {
    await assert.rejects(
      loadChart(`oci://127.0.0.1:${port}/charts/web`, { version: '9.9.9', plainHttp: true }),
      /not found/,
    );
  });
});

describe('OCI token authentication', () => {
  let server: Server;
  let base = '';
  const seen: string[] = [];
  before(async () => {
    const archive = writeTarGz([
      {
        path: 'auth/Chart.yaml',
        data: new TextEncoder().encode('apiVersion: v2\nname: auth\nversion: 1.0.0\n'),
      },
    ]);
    const { createHash } = await import('node:crypto');
    const digest = `sha256:${createHash('sha256').update(archive).digest('hex')}`;
    server = createServer((req, res) => {
      const auth = req.headers.authorization ?? '';
      seen.push(`${req.url} ${auth}`);
      if (req.url?.startsWith('/token')) {
        const ok = auth === `Basic ${Buffer.from('alice:pw').toString('base64')}`;
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(ok ? JSON.stringify({ token: 'T0K' }) : '{}');
        return;
      }
      if (auth !== 'Bearer T0K') {
        res.writeHead(401, {
          'www-authenticate': `Bearer realm="${base}/token",service="test",scope="repository:p/auth:pull"`,
        });
        res.end();
        return;
      }
      if (req.url === '/v2/p/auth/manifests/1.0.0') {
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
        res.end(
          JSON.stringify({
            schemaVersion: 2,
            layers: [
              {
                mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
                digest,
                size: archive.length,
              },
            ],
          }),
        );
        return;
      }
      if (req.url === `/v2/p/auth/blobs/${digest}`) {
        res.writeHead(200);
        res.end(Buffer.from(archive));
        return;
      }
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test('pullOciChart() follows the Bearer challenge with Basic credentials', async () => {
    const host = base.slice('http://'.length);
    const data = await pullOciChart(`oci://${host}/p/auth`, {
      version: '1.0.0',
      plainHttp: true,
      registryAuth: { username: 'alice', password: 'pw' },
    });
    assert.ok(data.length > 0);
    assert.ok(seen.some((s) => s.startsWith('/token?service=test&scope=repository%3Ap%2Fauth%3Apull')));
    await assert.rejects(
      pullOciChart(`oci://${host}/p/auth`, {
        version: '1.0.0',
        plainHttp: true,
        registryAuth: { username: 'bob' },
      }),
      /token request failed: 401/,
    );
  });
});
