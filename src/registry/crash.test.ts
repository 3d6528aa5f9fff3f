// A kill -9 of the server in the middle of pushes leaves only verified blobs, and a restart resumes.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { basic, pushImage, sha256 } from './test-support.ts';

const SCRIPT = join(import.meta.dirname, 'testdata', 'serve-registry.ts');

async function spawnServer(
  dataDir: string,
  mode: string,
): Promise<{ child: ChildProcess; url: string; token: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, dataDir, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const { url, token } = JSON.parse(line) as { url: string; token: string };
  return { child, url, token };
}

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* walk(join(dir, e.name));
    else yield join(dir, e.name);
  }
}

for (const mode of ['buffered', 'direct'])
  test(`kill -9 during pushes leaves only verified blobs; after a restart every tag is whole (${mode} I/O)`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'slipway-registry-crash-'));
    let child: ChildProcess | undefined;
    try {
      const first = await spawnServer(dataDir, mode);
      child = first.child;
      const auth = basic('admin', first.token);
      const res = await fetch(`${first.url}/api/v1/registry/projects`, {
        method: 'POST',
        headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'crash' }),
      });
      assert.equal(res.status, 201);
      await pushImage(first.url, 'crash/app', 'before', auth);
      // Several pushes with large layers in flight, then SIGKILL as soon as one of them completes.
      const pushes = Array.from({ length: 6 }, (_, i) =>
        pushImage(first.url, 'crash/app', `p${i}`, auth, {
          layers: [Buffer.alloc(1_500_000, i + 1), Buffer.from(`small ${i}`)],
        }).then(
          () => true,
          () => false,
        ),
      );
      await Promise.race(pushes);
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      await Promise.all(pushes);

      // Every blob file holds exactly the bytes its name says.
      const blobsDir = join(dataDir, 'registry', 'blobs', 'sha256');
      let files = 0;
      for (const file of walk(blobsDir)) {
        files++;
        const hex = createHash('sha256').update(readFileSync(file)).digest('hex');
        assert.equal(hex, file.split('/').pop(), `${file} matches its digest`);
      }
      assert.ok(files > 0);

      // Restart on the same data: every tag resolves to a manifest whose blobs are all there and intact.
      const second = await spawnServer(dataDir, mode);
      child = second.child;
      const auth2 = basic('admin', second.token);
      const tags = (await (
        await fetch(`${second.url}/v2/crash/app/tags/list`, { headers: { authorization: auth2 } })
      ).json()) as { tags: string[] };
      assert.ok(tags.tags.includes('before'));
      for (const tag of tags.tags) {
        const m = await fetch(`${second.url}/v2/crash/app/manifests/${tag}`, {
          headers: { authorization: auth2 },
        });
        assert.equal(m.status, 200);
        const body = Buffer.from(await m.arrayBuffer());
        assert.equal(sha256(body), m.headers.get('docker-content-digest'));
        const doc = JSON.parse(body.toString()) as {
          config: { digest: string };
          layers: { digest: string }[];
        };
        for (const d of [doc.config.digest, ...doc.layers.map((l) => l.digest)]) {
          const b = await fetch(`${second.url}/v2/crash/app/blobs/${d}`, {
            headers: { authorization: auth2 },
          });
          assert.equal(b.status, 200, `${tag}: blob ${d}`);
          assert.equal(sha256(Buffer.from(await b.arrayBuffer())), d);
        }
      }
      // And pushing works again, including the images that were cut off.
      for (let i = 0; i < 6; i++)
        await pushImage(second.url, 'crash/app', `p${i}`, auth2, {
          layers: [Buffer.alloc(1_500_000, i + 1), Buffer.from(`small ${i}`)],
        });
    } finally {
      child?.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
