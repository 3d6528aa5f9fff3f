import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chunkedBody } from './test-support.ts';
import {
  receiveToFile,
  SLAB_BYTES,
  type SlabSink,
  type SlabSource,
  sendFileRange,
  TooLargeError,
} from './blob-io.ts';
import { readFully, writeFully } from './direct-io.ts';

/** A plain file handle as a sink and as a source (what the store's writer and reader do with direct I/O off). */
const fileSink = (file: FileHandle): SlabSink => ({ write: (b, o, l, p) => writeFully(file, b, o, l, p) });
const fileSource = (file: FileHandle): SlabSource => ({
  direct: false,
  read: (b, o, l, p) => readFully(file, b, o, l, p),
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-blob-io-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('receiveToFile writes a multi-slab body in order at the given offset and hashes it', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'upload');
    const head = Buffer.from('already here');
    await writeFile(path, head);
    const body = randomBytes(3 * SLAB_BYTES + 12_345);
    const hash = createHash('sha256');
    const fh = await open(path, 'r+');
    const n = await receiveToFile(chunkedBody(body, 65_536 - 7), fileSink(fh), head.length, hash);
    await fh.close();
    assert.equal(n, body.length);
    assert.deepEqual(await readFile(path), Buffer.concat([head, body]));
    assert.equal(hash.digest('hex'), createHash('sha256').update(body).digest('hex'));
  });
});

test('receiveToFile keeps what arrived before the client failed, then rejects', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'upload');
    await writeFile(path, '');
    const body = randomBytes(2 * SLAB_BYTES + 999);
    const cut = SLAB_BYTES + 5000;
    const fh = await open(path, 'r+');
    await assert.rejects(
      receiveToFile(chunkedBody(body, 10_000, cut), fileSink(fh), 0, undefined),
      /connection reset/,
    );
    await fh.close();
    assert.deepEqual(await readFile(path), body.subarray(0, cut));
  });
});

test('receiveToFile refuses a body over the limit', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'upload');
    await writeFile(path, '');
    const fh = await open(path, 'r+');
    await assert.rejects(
      receiveToFile(chunkedBody(randomBytes(100_000), 4096), fileSink(fh), 0, undefined, 50_000),
      (err: unknown) => err instanceof TooLargeError && err.limit === 50_000,
    );
    await fh.close();
  });
});

test('sendFileRange sends whole files and ranges across slab boundaries; a client leaving is no crash', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'blob');
    const data = randomBytes(3 * SLAB_BYTES + 777);
    await writeFile(path, data);
    const results: Promise<unknown>[] = [];
    const server = createServer((req, res) => {
      const [start, end] = (req.url ?? '').slice(1).split('-').map(Number) as [number, number];
      res.writeHead(200, { 'content-length': end - start + 1 });
      results.push(
        (async () => {
          const fh = await open(path, 'r');
          try {
            await sendFileRange(fileSource(fh), start, end, res);
            return 'sent';
          } catch {
            return 'aborted';
          } finally {
            await fh.close();
          }
        })(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const get = async (start: number, end: number) => {
      const res = await fetch(`http://127.0.0.1:${port}/${start}-${end}`);
      return Buffer.from(await res.arrayBuffer());
    };
    try {
      assert.deepEqual(await get(0, data.length - 1), data);
      assert.deepEqual(
        await get(SLAB_BYTES - 10, 2 * SLAB_BYTES + 10),
        data.subarray(SLAB_BYTES - 10, 2 * SLAB_BYTES + 11),
      );
      assert.deepEqual(await get(5, 104), data.subarray(5, 105));
      // A client that reads a little and goes away.
      await new Promise<void>((resolve) => {
        const req = request({ port, host: '127.0.0.1', path: `/0-${data.length - 1}` }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.end();
      });
      const outcomes = await Promise.all(results);
      assert.deepEqual(outcomes.slice(0, 3), ['sent', 'sent', 'sent']);
      // The last one either finished into the socket buffers or noticed the client leaving.
      assert.ok(['sent', 'aborted'].includes(outcomes[3] as string));
      // The server still serves.
      assert.deepEqual(await get(0, 9), data.subarray(0, 10));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
