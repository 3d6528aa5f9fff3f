import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyLayer, gzipReproducible, type LayerFs, type TarEntry, writeTar } from '../oci/index.ts';
import { isPackageDatabasePath, packagesFromFs } from './extract.ts';

function file(path: string, content: string): TarEntry {
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, data: Buffer.from(content) };
}

test('packagesFromFs() reads every package database across layers, honouring whiteouts', async () => {
  const lower = writeTar([
    file('etc/os-release', 'ID=alpine\nVERSION_ID=3.19.1\n'),
    file(
      'lib/apk/db/installed',
      'C:Q1x\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\nL:MIT\no:musl\n\nP:ssl_client\nV:3.1.4-r5\no:openssl\n',
    ),
    file(
      'srv/old/package-lock.json',
      JSON.stringify({ lockfileVersion: 1, dependencies: { gone: { version: '1.0.0' } } }),
    ),
    file('var/lib/dpkg/status.d/base', 'Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n'),
  ]);
  const upper = writeTar([
    file('srv/.wh.old', ''),
    file(
      'app/package-lock.json',
      JSON.stringify({
        lockfileVersion: 1,
        dependencies: {
          a: { version: '1.0.0', dependencies: { b: { version: '2.0.0' } } },
          local: { version: 'file:../x' },
        },
      }),
    ),
    file(
      'app/node_modules/@scope/c/package.json',
      JSON.stringify({ name: '@scope/c', version: '3.0.0', license: 'MIT' }),
    ),
    file('app/node_modules/c/lib/package.json', JSON.stringify({ name: 'not-a-package', version: '0.0.1' })),
    file(
      'php/composer.lock',
      JSON.stringify({
        packages: [{ name: 'guzzlehttp/guzzle', version: 'v7.4.2' }],
        'packages-dev': [{ name: 'x/y', version: '1.0' }],
      }),
    ),
  ]);
  const fs: LayerFs = new Map();
  await applyLayer(fs, gzipReproducible(lower), { keepEntry: isPackageDatabasePath });
  await applyLayer(fs, upper, { keepEntry: isPackageDatabasePath });
  const found = packagesFromFs(fs);
  assert.deepEqual(found.os, { id: 'alpine', versionId: '3.19.1' });
  assert.deepEqual(
    found.packages.map((p) => `${p.ecosystem}:${p.sourceName ?? p.name}@${p.version} ${p.location}`),
    [
      'npm:@scope/c@3.0.0 /app/node_modules/@scope/c/package.json',
      'npm:a@1.0.0 /app/package-lock.json',
      'npm:b@2.0.0 /app/package-lock.json',
      'Alpine:musl@1.2.4_git20230717-r4 /lib/apk/db/installed',
      'Alpine:openssl@3.1.4-r5 /lib/apk/db/installed',
      'Packagist:guzzlehttp/guzzle@7.4.2 /php/composer.lock',
      'Packagist:x/y@1.0 /php/composer.lock',
      'Debian:base-files@12.4+deb12u5 /var/lib/dpkg/status.d/base',
    ],
  );
});

/** A minimal ELF-looking file holding Go 1.18+ inline build info. */
function fakeGoBinary(goVersion: string, modInfo: string): Buffer {
  const uv = (n: number) => {
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return Buffer.from(out);
  };
  const sentinel = Buffer.alloc(16, 0x30);
  const mod = Buffer.concat([sentinel, Buffer.from(modInfo), sentinel]);
  const header = Buffer.concat([
    Buffer.from('\xff Go buildinf:', 'latin1'),
    Buffer.from([8, 2]),
    Buffer.alloc(16),
  ]);
  return Buffer.concat([
    Buffer.from([0x7f, 0x45, 0x4c, 0x46]),
    Buffer.alloc(2000),
    header,
    uv(goVersion.length),
    Buffer.from(goVersion),
    uv(mod.length),
    mod,
  ]);
}

test('Go binaries: build info gives stdlib, the main module and dependencies (with replacements)', async () => {
  const bin = fakeGoBinary(
    'go1.20.3',
    'path\texample.com/app\nmod\texample.com/app\tv1.4.0\th1:x\ndep\tgolang.org/x/net\tv0.7.0\th1:y\ndep\tgithub.com/a/b\tv1.0.0\n=>\tgithub.com/fork/b\tv1.0.1\th1:z\nbuild\tGOOS=linux\n',
  );
  const tar = writeTar([
    { ...file('usr/local/bin/app', ''), mode: 0o755, data: bin },
    { ...file('usr/local/bin/script', ''), mode: 0o755, data: Buffer.alloc(4096, 0x61) },
    { ...file('srv/data.bin', ''), mode: 0o644, data: bin },
  ]);
  const { isScannedEntry, scannedData } = await import('./extract.ts');
  const fs: LayerFs = new Map();
  await applyLayer(fs, tar, { keepEntry: isScannedEntry, transformData: scannedData });
  assert.deepEqual([...fs.keys()], ['usr/local/bin/app']);
  assert.ok((fs.get('usr/local/bin/app')?.data?.length ?? 0) < 1000, 'only a summary is kept');
  const found = packagesFromFs(fs);
  assert.deepEqual(
    found.packages.map((p) => `${p.name}@${p.version}`),
    ['stdlib@v1.20.3', 'example.com/app@v1.4.0', 'golang.org/x/net@v0.7.0', 'github.com/fork/b@v1.0.1'],
  );
  const { OsvDatabase } = await import('./osv.ts');
  const { readOsvSource } = await import('./osv-store.ts');
  const { matchPackages } = await import('./scanner.ts');
  const db = new OsvDatabase((await readOsvSource(join(import.meta.dirname, 'testdata', 'osv'))).advisories);
  const findings = matchPackages(db, found.packages);
  assert.deepEqual(
    findings.map((f) => [f.package, f.id, f.fixedVersion]),
    [['stdlib', 'GO-2023-1878', '1.20.6']],
  );
});

test('readGoBuildInfo() reads a real Go binary when one is installed', async (t) => {
  const { existsSync, readFileSync } = await import('node:fs');
  const path = ['/usr/bin/docker-registry', '/usr/bin/skopeo', '/usr/bin/buildah'].find((p) => existsSync(p));
  if (!path) return t.skip('no Go binary (docker-registry, skopeo, buildah) installed');
  const { readGoBuildInfo } = await import('./go-buildinfo.ts');
  const info = readGoBuildInfo(readFileSync(path));
  assert.match(info?.goVersion ?? '', /^go1\.\d+/);
  assert.match(info?.modInfo ?? '', /^path\t/);
});
