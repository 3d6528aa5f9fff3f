import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parseImageRef, RegistryClient } from './oci-client.ts';
import { startBusyboxRegistry } from './test-support.ts';

const run = promisify(execFile);

test('parseImageRef() splits registry, repository and reference', () => {
  assert.deepEqual(parseImageRef('busybox', 'h:1'), {
    registry: 'h:1',
    repository: 'busybox',
    reference: 'latest',
  });
  assert.deepEqual(parseImageRef('127.0.0.1:5000/base/app:1.2', 'h'), {
    registry: '127.0.0.1:5000',
    repository: 'base/app',
    reference: '1.2',
  });
  assert.equal(parseImageRef('base/app@sha256:abc', 'h').reference, 'sha256:abc');
  assert.throws(() => parseImageRef('Bad Name', 'h'), /Invalid image/);
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

test('image-push tags: addTags() against Distribution (docker-registry) keeps one digest', async (t) => {
  if (!existsSync('/usr/bin/docker-registry') || !existsSync('/usr/bin/skopeo'))
    return t.skip('docker-registry or skopeo not installed');
  const source = await startBusyboxRegistry();
  if (!source) return t.skip('busybox-static not installed');
  const dir = mkdtempSync(join(tmpdir(), 'slipway-distribution-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`http://127.0.0.1:${port}/v2/`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const target = `127.0.0.1:${port}/base/app:1`;
    await run('skopeo', [
      'copy',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `docker://${source.image}`,
      `docker://${target}`,
    ]);
    const digest = await new RegistryClient().addTags(parseImageRef(target, 'x'), ['latest', '1.0.0']);
    for (const tag of ['1', 'latest', '1.0.0']) {
      const { stdout } = await run('skopeo', [
        'inspect',
        '--tls-verify=false',
        '--format',
        '{{.Digest}}',
        `docker://127.0.0.1:${port}/base/app:${tag}`,
      ]);
      assert.equal(stdout.trim(), digest, tag);
    }
  } finally {
    registry.kill('SIGTERM');
    await source.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
