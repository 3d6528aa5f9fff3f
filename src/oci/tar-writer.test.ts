import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyLayer, type LayerFs } from './layer-fs.ts';
import { gzipLayer, gzipReproducible, type TarEntry, writeTar, writeTarChunks } from './tar-writer.ts';

const long = `${'deep/'.repeat(30)}file-with-a-long-name.txt`;
const entries: TarEntry[] = [
  { path: 'b.txt', type: 'file', mode: 0o600, uid: 1000, gid: 1000, mtime: 0, data: Buffer.from('bee') },
  { path: 'a', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0 },
  { path: 'a/link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, linkname: '../b.txt' },
  { path: long, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1700000000, data: Buffer.alloc(1000, 1) },
];

test('writeTar() is deterministic whatever the entry order, and readable (PAX for long names)', async () => {
  const one = writeTar(entries);
  const two = writeTar([...entries].reverse());
  assert.ok(one.equals(two));
  assert.equal(one.length % 512, 0);
  const gz = gzipReproducible(one);
  assert.ok(gz.equals(gzipReproducible(two)));
  assert.deepEqual([...gz.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  const streamed = await gzipLayer(writeTarChunks(entries));
  assert.ok(streamed.gz.equals(gz), 'streaming gzip gives the same bytes');
  const fs: LayerFs = new Map();
  await applyLayer(fs, gz);
  assert.deepEqual([...fs.keys()].sort(), ['a', 'a/link', 'b.txt', long].sort());
  assert.equal(fs.get(long)?.data?.length, 1000);
  assert.equal(fs.get('b.txt')?.uid, 1000);
  assert.equal(fs.get('b.txt')?.mode, 0o600);
  assert.equal(fs.get('a/link')?.linkname, '../b.txt');
});
