import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BufferPool, SLAB_BYTES } from './blob-io.ts';
import { allocateAlignedBuffers, BLOCK_BYTES, BlobReader, UploadWriter } from './direct-io.ts';

/** statfs(2) type of tmpfs, which has no O_DIRECT. */
const TMPFS_MAGIC = 0x01021994;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-direct-io-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An empty upload file in a fresh temp dir. */
function withEmptyUpload(fn: (path: string, dir: string) => Promise<void>): Promise<void> {
  return withDir(async (dir) => {
    const path = join(dir, 'upload');
    await writeFile(path, '');
    await fn(path, dir);
  });
}

/** A page-aligned slab holding `data` so that slab byte i is file byte `position - lead + i`. */
function slabFor(data: Buffer, position: number): { slab: Buffer; offset: number } {
  const slab = allocateAlignedBuffers(1, SLAB_BYTES)![0]!;
  const offset = position % BLOCK_BYTES;
  data.copy(slab, offset);
  return { slab, offset };
}

test('allocateAlignedBuffers() gives page-aligned buffers that survive later allocations', () => {
  const group = allocateAlignedBuffers(3, SLAB_BYTES);
  assert.ok(group, 'WebAssembly memory is available in Node');
  assert.equal(group.length, 3);
  group[2]!.fill(7);
  allocateAlignedBuffers(1, SLAB_BYTES);
  assert.ok(group.every((b) => b.length === SLAB_BYTES));
  assert.equal(group[2]![SLAB_BYTES - 1], 7);
  assert.equal(allocateAlignedBuffers(1, 1000), undefined, 'sizes must be whole 64 KiB pages');
});

test('BufferPool hands out aligned slabs first and keeps them when given back', () => {
  const pool = new BufferPool(SLAB_BYTES, { max: 1, maxAligned: 8 });
  const taken = Array.from({ length: 10 }, () => pool.take());
  assert.equal(taken.filter((b) => pool.isAligned(b)).length, 8);
  for (const b of taken) pool.give(b);
  // Every aligned slab was kept (they cannot be freed one by one); one plain buffer too.
  const again = Array.from({ length: 9 }, () => pool.take());
  assert.equal(again.filter((b) => pool.isAligned(b)).length, 8);
});

test('UploadWriter appends at unaligned offsets: head and tail buffered, the middle direct, bytes exact', async () => {
  await withEmptyUpload(async (path, dir) => {
    const direct = { enabled: true };
    const writer = await UploadWriter.open(path, direct);
    const expected = randomBytes(3 * SLAB_BYTES);
    // Appends as a chunked client sends them: sizes that end anywhere, the next one starting there.
    const cuts = [0, 17, 4096, 4096 + 5, SLAB_BYTES - 3, SLAB_BYTES + 12_345, 2 * SLAB_BYTES, 3 * SLAB_BYTES];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [from, to] = [cuts[i]!, cuts[i + 1]!];
      const { slab, offset } = slabFor(expected.subarray(from, to), from);
      await writer.write(slab, offset, to - from, from, true);
    }
    await writer.close();
    assert.ok((await readFile(path)).equals(expected));
    if ((await statfs(dir)).type !== TMPFS_MAGIC)
      assert.equal(direct.enabled, true, 'disk file systems take O_DIRECT');
  });
});

test('UploadWriter never goes direct when the switch is off, or for unaligned buffers', async () => {
  await withEmptyUpload(async (path) => {
    const off = await UploadWriter.open(path, { enabled: false });
    assert.equal(off.direct, false);
    const data = randomBytes(2 * BLOCK_BYTES + 10);
    await off.write(data, 0, data.length, 0, false);
    await off.close();
    const on = await UploadWriter.open(path, { enabled: true });
    // A plain Buffer (malloc'd, not page-aligned) is written through the page cache, not refused.
    const more = Buffer.concat([Buffer.alloc(5), randomBytes(3 * BLOCK_BYTES)]);
    await on.write(more, 5, more.length - 5, data.length, false);
    await on.close();
    assert.ok((await readFile(path)).equals(Buffer.concat([data, more.subarray(5)])));
  });
});

// A refusal (EINVAL: a file system without O_DIRECT, or memory it cannot DMA from) turns the store's
// switch off and the bytes still land, through the page cache. A malloc'd buffer claimed to be aligned
// provokes the refusal on any file system that does support O_DIRECT.
test('a refused direct write or read falls back to the page cache and turns the switch off', async () => {
  await withEmptyUpload(async (path) => {
    const direct = { enabled: true };
    const writer = await UploadWriter.open(path, direct);
    const opened = writer.direct;
    const data = randomBytes(3 * BLOCK_BYTES);
    const misaligned = Buffer.alloc(data.length + 1).subarray(1);
    data.copy(misaligned);
    await writer.write(misaligned, 0, data.length, 0, true);
    await writer.write(misaligned, 0, data.length, data.length, true);
    await writer.close();
    assert.ok((await readFile(path)).equals(Buffer.concat([data, data])));
    if (opened) assert.equal(direct.enabled, false);
    const readSwitch = { enabled: true };
    const reader = await BlobReader.open(path, { direct: true, switch: readSwitch });
    const out = Buffer.alloc(BLOCK_BYTES + 1).subarray(1);
    await reader.read(out, 0, BLOCK_BYTES, BLOCK_BYTES, true);
    await reader.read(out, 0, BLOCK_BYTES, 2 * BLOCK_BYTES, true);
    await reader.close();
    assert.ok(out.equals(data.subarray(2 * BLOCK_BYTES)));
    if (opened) assert.equal(reader.direct, false);
  });
});

test('BlobReader reads any range directly into aligned slabs, the last block short', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'blob');
    const data = randomBytes(2 * SLAB_BYTES + 777);
    await writeFile(path, data);
    const reader = await BlobReader.open(path, { direct: true, switch: { enabled: true } });
    if ((await statfs(dir)).type !== TMPFS_MAGIC) assert.equal(reader.direct, true);
    const slab = allocateAlignedBuffers(1, SLAB_BYTES)![0]!;
    const ranges: [number, number][] = [
      [0, SLAB_BYTES],
      [5, 100],
      [BLOCK_BYTES - 1, 2],
      [SLAB_BYTES + 4000, SLAB_BYTES - 4000],
      [2 * SLAB_BYTES + 700, 77],
    ];
    for (const [position, length] of ranges) {
      const offset = position % BLOCK_BYTES;
      await reader.read(slab, offset, length, position, true);
      assert.ok(slab.subarray(offset, offset + length).equals(data.subarray(position, position + length)));
    }
    await assert.rejects(reader.read(slab, 0, 1000, data.length - 10, true), /ended/);
    await reader.close();
  });
});
