import assert from 'node:assert/strict';
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
