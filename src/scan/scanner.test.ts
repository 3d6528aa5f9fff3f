import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Fastify from 'fastify';
import { AuthService } from '../auth/index.ts';
import { EventBus, manualClock, silentLogger, toHttpError } from '../core/index.ts';
import {
  type DistributionRegistry,
  fallbackTag,
  NativeBuilder,
  RegistryClient,
  startDistributionRegistry,
} from '../oci/index.ts';
import { openStore } from '../store/index.ts';
import { createScan } from './module.ts';
import { OsvDatabase } from './osv.ts';
import { readOsvSource } from './osv-store.ts';
import { CYCLONEDX_MEDIA_TYPE } from './sbom.ts';
import { Scanner } from './scanner.ts';

const FIXTURE = join(import.meta.dirname, 'testdata', 'osv');
let registry: DistributionRegistry | undefined;
let work: string;
let db: OsvDatabase;

before(async () => {
  registry = await startDistributionRegistry();
  work = mkdtempSync(join(tmpdir(), 'slipway-scan-test-'));
  db = new OsvDatabase((await readOsvSource(FIXTURE)).advisories);
});

after(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

function dpkgStatus(pkgs: [string, string, string][]): string {
  return pkgs
    .map(([name, source, version]) =>
      [
        `Package: ${name}`,
        'Status: install ok installed',
        `Source: ${source}`,
        `Version: ${version}`,
        'Architecture: amd64',
        '',
      ].join('\n'),
    )
    .join('\n');
}

function packageLock(deps: Record<string, string>): string {
  const packages: Record<string, { version: string }> = { '': { version: '1.0.0' } };
  for (const [name, version] of Object.entries(deps)) packages[`node_modules/${name}`] = { version };
  return JSON.stringify({ name: 'app', lockfileVersion: 3, packages });
}

/** Builds and pushes an image FROM scratch that holds the given files (two layers: OS, then app). */
async function plantImage(name: string, files: { os: Record<string, string>; app: Record<string, string> }) {
  const dir = join(work, name);
  for (const [part, entries] of Object.entries(files)) {
    for (const [path, content] of Object.entries(entries)) {
      mkdirSync(join(dir, part, path, '..'), { recursive: true });
      writeFileSync(join(dir, part, path), content);
    }
  }
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY os/ /\nCOPY app/ /app/\n');
  const ref = `${registry!.host}/scan/${name}:1`;
  const r = await new NativeBuilder({ cacheDir: join(work, 'cache') }).build({
    contextDir: dir,
    tags: [ref],
    push: true,
  });
  return { ref, digest: r.digest };
}

const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n';

test('scanImage() finds planted vulnerable packages (dpkg status and package-lock) and none when fixed', async (t) => {
  if (!registry) return t.skip('docker-registry (CNCF Distribution) is not installed');
  const scanner = new Scanner({ database: db, clock: manualClock(0) });
  const vulnerable = await plantImage('vulnerable', {
    os: {
      'etc/os-release': OS_RELEASE,
      'var/lib/dpkg/status': dpkgStatus([
        ['libssl3', 'openssl', '3.0.11-1~deb12u1'],
        ['zlib1g', 'zlib', '1:1.2.13.dfsg-1'],
        ['tar', 'tar', '1.34+dfsg-1.2'],
      ]),
    },
    app: {
      'package-lock.json': packageLock({ lodash: '4.17.20', minimist: '1.2.5', express: '4.18.2' }),
      'node_modules/lodash/package.json': JSON.stringify({ name: 'lodash', version: '4.17.20' }),
    },
  });
  const report = await scanner.scanImage(vulnerable.ref);
  assert.equal(report.image.digest, vulnerable.digest);
  assert.equal(report.os?.id, 'debian');
  assert.equal(report.packageCount, 6);
  assert.deepEqual(
    report.findings.map((f) => [f.package, f.installedVersion, f.fixedVersion, f.id, f.severity]),
    [
      ['minimist', '1.2.5', '1.2.6', 'GHSA-xvch-5gv4-984h', 'CRITICAL'],
      ['libssl3', '3.0.11-1~deb12u1', '3.0.11-1~deb12u2', 'DSA-5532-1', 'HIGH'],
      ['lodash', '4.17.20', '4.17.21', 'GHSA-35jh-r3h4-6jhm', 'HIGH'],
      ['tar', '1.34+dfsg-1.2', '1.34+dfsg-1.2+deb12u1', 'DEBIAN-CVE-2022-48303', 'LOW'],
    ],
  );
  assert.deepEqual(report.counts, { CRITICAL: 1, HIGH: 2, MEDIUM: 0, LOW: 1, UNKNOWN: 0 });

  const fixed = await plantImage('fixed', {
    os: {
      'etc/os-release': OS_RELEASE,
      'var/lib/dpkg/status': dpkgStatus([
        ['libssl3', 'openssl', '3.0.11-1~deb12u2'],
        ['tar', 'tar', '1.34+dfsg-1.2+deb12u1'],
      ]),
    },
    app: { 'package-lock.json': packageLock({ lodash: '4.17.21', minimist: '1.2.8' }) },
  });
  const clean = await scanner.scanImage(fixed.ref);
  assert.equal(clean.packageCount, 4);
  assert.deepEqual(clean.findings, []);
});

test('pushSbom() stores a CycloneDX SBOM as a referrer of the image', async (t) => {
  if (!registry) return t.skip('docker-registry (CNCF Distribution) is not installed');
  const client = new RegistryClient();
  const scanner = new Scanner({ database: db, client, clock: manualClock(0) });
  const img = await plantImage('with-sbom', {
    os: {
      'etc/os-release': OS_RELEASE,
      'var/lib/dpkg/status': dpkgStatus([['zlib1g', 'zlib', '1:1.2.13.dfsg-1']]),
    },
    app: { 'package-lock.json': packageLock({ '@scope/pkg': '1.0.0' }) },
  });
  const { digest, bom } = await scanner.pushSbom(img.ref);
  assert.equal(bom.specVersion, '1.5');
  assert.deepEqual(
    bom.components.map((c) => c.purl ?? c.name),
    [
      'debian',
      'pkg:npm/%40scope/pkg@1.0.0',
      'pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12',
    ],
  );
  const refs = await client.referrers(registry.host, 'scan/with-sbom', img.digest, CYCLONEDX_MEDIA_TYPE);
  assert.deepEqual(
    refs.map((r) => r.digest),
    [digest],
  );
  // Distribution has no Referrers API: the tag-schema fallback index holds it.
  assert.ok((await client.listTags(registry.host, 'scan/with-sbom')).includes(fallbackTag(img.digest)));
  const m = await client.getManifest(registry.host, 'scan/with-sbom', digest);
  assert.equal((m.json as { subject?: { digest: string } }).subject?.digest, img.digest);
});

test('createScan() scans on registry.push, stores reports and serves them over REST', async (t) => {
  if (!registry) return t.skip('docker-registry (CNCF Distribution) is not installed');
  const dataDir = join(work, 'data');
  const store = openStore(':memory:');
  const auth = new AuthService(store);
  const events = new EventBus();
  const mod = createScan({
    store,
    dataDir,
    logger: silentLogger(),
    auth,
    events,
    registry: { host: registry.host, client: new RegistryClient() },
    clock: manualClock(0),
  });
  const imported = await mod.importDatabase(FIXTURE);
  assert.equal(imported.advisories, 12);
  await mod.start();
  const img = await plantImage('pushed', {
    os: {
      'etc/os-release': OS_RELEASE,
      'var/lib/dpkg/status': dpkgStatus([['libssl3', 'openssl', '3.0.11-1~deb12u1']]),
    },
    app: { 'package-lock.json': packageLock({ lodash: '4.17.15' }) },
  });
  // The registry declares this event; the scanner subscribes loosely.
  (events as unknown as { emit(type: string, data: unknown): void }).emit('registry.push', {
    repository: 'scan/pushed',
    digest: img.digest,
    tag: '1',
  });
  await new Promise((r) => setImmediate(r));
  await mod.idle();
  const stored = mod.getReport('scan/pushed', img.digest);
  assert.ok(stored, 'report stored');
  assert.deepEqual(stored.counts, { CRITICAL: 0, HIGH: 3, MEDIUM: 0, LOW: 0, UNKNOWN: 0 });
  assert.deepEqual(mod.checkImage('scan/pushed', img.digest, { blockAtOrAbove: 'CRITICAL' }), {
    ok: true,
    scanned: true,
  });
  assert.equal(mod.checkImage('scan/pushed', img.digest, { blockAtOrAbove: 'HIGH' }).ok, false);

  const app = Fastify();
  app.setErrorHandler((err, _req, reply) => {
    const { status, body } = toHttpError(err);
    reply.code(status).send(body);
  });
  await app.register(mod.routes, { prefix: '/api/v1/scan' });
  const user = await auth.createUser(
    { name: 'dev', role: 'admin', password: 'pw-long-enough-123' },
    'system',
  );
  assert.ok(user);
  const token = auth.createToken('dev', { name: 't' }, 'system').token;
  const h = { authorization: `Bearer ${token}` };
  try {
    const get = await app.inject({ url: `/api/v1/scan/reports/scan/pushed/${img.digest}`, headers: h });
    assert.equal(get.statusCode, 200, get.body);
    assert.equal(get.json().image.digest, img.digest);
    const anon = await app.inject({ url: `/api/v1/scan/reports/scan/pushed/${img.digest}` });
    assert.equal(anon.statusCode, 401);
    const missing = await app.inject({
      url: `/api/v1/scan/reports/scan/pushed/sha256:${'0'.repeat(64)}`,
      headers: h,
    });
    assert.equal(missing.statusCode, 404);
    const bad = await app.inject({ url: '/api/v1/scan/reports/scan/pushed/latest', headers: h });
    assert.equal(bad.statusCode, 400);
    const list = await app.inject({ url: '/api/v1/scan/reports?repository=scan/pushed', headers: h });
    assert.equal(list.json().items.length, 1);
    const post = await app.inject({
      method: 'POST',
      url: '/api/v1/scan',
      headers: h,
      payload: { repository: 'scan/pushed', tag: '1' },
    });
    assert.equal(post.statusCode, 200, post.body);
    assert.equal(post.json().counts.HIGH, 3);
    // The SBOM referrer pushed after the scan is an artifact, not scanned again.
    const refs = await new RegistryClient().referrers(registry.host, 'scan/pushed', img.digest);
    assert.equal(refs.length, 1);
    assert.equal(refs[0]!.artifactType, CYCLONEDX_MEDIA_TYPE);
  } finally {
    await app.close();
    await mod.stop();
    store.close();
  }
});
