import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { affectedBy, OsvDatabase } from './osv.ts';
import { readOsvSource } from './osv-store.ts';
import { type InstalledPackage, parseApkInstalled, parseDpkgStatus, parsePackageLock } from './packages.ts';
import { checkPolicy } from './policy.ts';
import { matchPackages } from './scanner.ts';
import { cvss3BaseScore, severityFromScore } from './severity.ts';

const FIXTURE = join(import.meta.dirname, 'testdata', 'osv');

test('cvss3BaseScore() matches the CVSS v3.1 calculator', () => {
  const cases: [string, number][] = [
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10.0],
    ['CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H', 7.2],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', 7.5],
    ['CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H', 7.8],
    ['CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N', 3.1],
    ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N', 6.4],
    ['CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N', 0],
  ];
  for (const [vector, score] of cases) assert.equal(cvss3BaseScore(vector), score, vector);
  assert.equal(cvss3BaseScore('CVSS:4.0/AV:N'), undefined);
  assert.equal(severityFromScore(9.8), 'CRITICAL');
  assert.equal(severityFromScore(6.9), 'MEDIUM');
});

test('affectedBy() evaluates OSV ranges, last_affected and versions lists', () => {
  const a = { ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '1.0.0' }, { fixed: '1.2.6' }] }] };
  assert.deepEqual(affectedBy(a, 'npm', '1.2.5'), { affected: true, fixed: '1.2.6' });
  assert.deepEqual(affectedBy(a, 'npm', '1.2.6'), { affected: false });
  assert.deepEqual(affectedBy(a, 'npm', '0.9.0'), { affected: false });
  const last = { ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { last_affected: '2.0.0' }] }] };
  assert.equal(affectedBy(last, 'npm', '2.0.0').affected, true);
  assert.equal(affectedBy(last, 'npm', '2.0.1').affected, false);
  const multi = {
    ranges: [
      {
        type: 'ECOSYSTEM',
        events: [{ introduced: '0' }, { fixed: '1.0' }, { introduced: '2.0' }, { fixed: '2.5' }],
      },
    ],
  };
  assert.equal(affectedBy(multi, 'npm', '1.5.0').affected, false);
  assert.deepEqual(affectedBy(multi, 'npm', '2.1.0'), { affected: true, fixed: '2.5' });
  assert.equal(affectedBy({ versions: ['1.0.1'] }, 'npm', '1.0.1').affected, true);
  assert.equal(
    affectedBy({ ranges: [{ type: 'GIT', events: [{ introduced: '0' }] }] }, 'npm', '1').affected,
    false,
  );
});

test('matchPackages() finds vulnerable packages and nothing for fixed versions', async () => {
  const { advisories } = await readOsvSource(FIXTURE);
  const db = new OsvDatabase(advisories);
  assert.equal(db.size, 11, 'the withdrawn advisory is dropped');
  const dpkg = parseDpkgStatus(
    [
      'Package: libssl3',
      'Status: install ok installed',
      'Source: openssl',
      'Version: 3.0.11-1~deb12u1',
      'Architecture: amd64',
      '',
      'Package: zlib1g',
      'Status: install ok installed',
      'Source: zlib',
      'Version: 1:1.2.11.dfsg-2+deb11u1',
      '',
      'Package: removed-one',
      'Status: deinstall ok config-files',
      'Version: 1.0',
      '',
    ].join('\n'),
    '/var/lib/dpkg/status',
  );
  assert.equal(dpkg.length, 2);
  const npm = parsePackageLock(
    JSON.stringify({
      lockfileVersion: 3,
      packages: {
        '': { name: 'app', version: '1.0.0' },
        'node_modules/lodash': { version: '4.17.15' },
        'node_modules/a/node_modules/minimist': { version: '1.2.5' },
        'node_modules/json5': { version: '2.2.1' },
      },
    }),
    '/app/package-lock.json',
  );
  const findings = matchPackages(db, [...dpkg, ...npm], { id: 'debian', versionId: '12' });
  const ids = findings.map((f) => `${f.package}:${f.id}`).sort();
  assert.deepEqual(ids, [
    'json5:GHSA-9c47-m6qq-7p4h',
    'libssl3:DSA-5532-1',
    'lodash:GHSA-35jh-r3h4-6jhm',
    'lodash:GHSA-p6mc-m468-83gw',
    'minimist:GHSA-xvch-5gv4-984h',
    'zlib1g:DLA-3134-1',
  ]);
  const ssl = findings.find((f) => f.id === 'DSA-5532-1')!;
  assert.equal(ssl.severity, 'HIGH');
  assert.equal(ssl.score, 7.5);
  assert.equal(ssl.fixedVersion, '3.0.11-1~deb12u2');
  assert.equal(ssl.advisoryPackage, 'openssl');
  assert.equal(findings[0]!.severity, 'CRITICAL');
  assert.equal(findings.find((f) => f.id === 'GHSA-9c47-m6qq-7p4h')!.severity, 'MEDIUM');

  // A Debian 11 image does not match the Debian:12 advisory.
  assert.equal(
    matchPackages(db, dpkg, { id: 'debian', versionId: '11' }).filter((f) => f.id === 'DSA-5532-1').length,
    0,
  );

  const fixed: InstalledPackage[] = [
    {
      ecosystem: 'Debian',
      name: 'libssl3',
      sourceName: 'openssl',
      version: '3.0.11-1~deb12u2',
      location: 'x',
    },
    { ecosystem: 'Debian', name: 'zlib1g', sourceName: 'zlib', version: '1:1.3.dfsg-3', location: 'x' },
    { ecosystem: 'npm', name: 'lodash', version: '4.17.21', location: 'x' },
    { ecosystem: 'npm', name: 'minimist', version: '1.2.8', location: 'x' },
    { ecosystem: 'npm', name: 'minimist', version: '0.2.4', location: 'x' },
    { ecosystem: 'npm', name: 'json5', version: '2.2.3', location: 'x' },
    { ecosystem: 'Maven', name: 'org.apache.logging.log4j:log4j-core', version: '2.17.1', location: 'x' },
    { ecosystem: 'Packagist', name: 'guzzlehttp/guzzle', version: '7.4.5', location: 'x' },
  ];
  assert.deepEqual(matchPackages(db, fixed, { id: 'debian', versionId: '12' }), []);

  const apk = parseApkInstalled(
    'P:busybox-binsh\nV:1.36.1-r15\no:busybox\nA:x86_64\n\nP:musl\nV:1.2.4-r2\no:musl\n',
    '/lib/apk/db/installed',
  );
  const alpine = matchPackages(db, apk, { id: 'alpine', versionId: '3.19.1' });
  assert.deepEqual(
    alpine.map((f) => [f.package, f.id, f.fixedVersion]),
    [['busybox-binsh', 'ALPINE-CVE-2023-42363', '1.36.1-r16']],
  );
  const log4j = matchPackages(db, [
    { ecosystem: 'Maven', name: 'org.apache.logging.log4j:log4j-core', version: '2.14.1', location: 'x' },
  ]);
  assert.equal(log4j[0]?.severity, 'CRITICAL');
  assert.equal(log4j[0]?.score, 10);
});

test('checkPolicy() blocks at or above the configured severity', () => {
  const report = {
    image: { registry: 'r', repository: 'shop/api', digest: 'sha256:abc' },
    findings: [
      {
        id: 'A',
        aliases: [],
        severity: 'HIGH' as const,
        ecosystem: 'npm',
        package: 'lodash',
        installedVersion: '4.17.15',
        fixedVersion: '4.17.21',
        location: '/',
      },
      {
        id: 'B',
        aliases: [],
        severity: 'LOW' as const,
        ecosystem: 'npm',
        package: 'x',
        installedVersion: '1',
        location: '/',
      },
    ],
  };
  assert.deepEqual(checkPolicy(report, { blockAtOrAbove: 'CRITICAL' }), { ok: true });
  const r = checkPolicy(report, { blockAtOrAbove: 'HIGH' });
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.blocked && /A in lodash 4.17.15 \(HIGH, fixed in 4.17.21\)/.test(r.message));
  const low = checkPolicy(report, { blockAtOrAbove: 'LOW' });
  assert.ok(!low.ok && low.count === 2);
  assert.deepEqual(checkPolicy(report, {}), { ok: true });
});
