// The blob store's upload path, with and without O_DIRECT: what an interrupted upload leaves, and that
// only bytes matching their digest ever become a blob.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chunkedBody } from './test-support.ts';
import { SLAB_BYTES, slabs } from './blob-io.ts';
import { BlobStore } from './blob-store.ts';
import { OciError } from './oci-errors.ts';
import { sha256 } from './test-support.ts';

async function withStore(directIo: boolean, fn: (store: BlobStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-blob-store-'));
  try {
    const store = new BlobStore(dir, { directIo });
    await store.init();
    await fn(store);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

for (const directIo of [true, false]) {
  const mode = directIo ? 'direct I/O' : 'page cache only';

  test(`appendUpload() (${mode}): a client that drops mid-chunk leaves a prefix, never a blob`, async () => {
    await withStore(directIo, async (store) => {
      const data = randomBytes(2 * SLAB_BYTES + 5000);
      const cut = SLAB_BYTES + 4096 * 3 + 11;
      await store.createUpload('upload-aaaaaaaaaaaa');
      await assert.rejects(
        store.appendUpload('upload-aaaaaaaaaaaa', chunkedBody(data, 50_000, cut), 0),
        /went away/,
      );
      // What arrived is on disk (a resumable client asks for the size and goes on from there).
      assert.equal(await store.uploadSize('upload-aaaaaaaaaaaa'), cut);
      const file = await readFile(store.uploadPath('upload-aaaaaaaaaaaa'));
      assert.ok(file.equals(data.subarray(0, cut)));
      // Completing with the digest of the whole content fails and removes the upload.
      await assert.rejects(
        store.completeUpload('upload-aaaaaaaaaaaa', sha256(data)),
        (err: unknown) => err instanceof OciError && err.code === 'DIGEST_INVALID',
      );
      assert.equal(await store.uploadSize('upload-aaaaaaaaaaaa'), undefined);
      assert.equal(await store.blobSize(sha256(data)), undefined);
      assert.equal(await store.blobSize(sha256(data.subarray(0, cut))), undefined);
      assert.deepEqual(await readdir(join(store.root, 'blobs')), []);
    });
  });

  test(`appendUpload() (${mode}): resumed at an unaligned offset, the blob is exactly the content`, async () => {
    await withStore(directIo, async (store) => {
      const data = randomBytes(3 * SLAB_BYTES + 4321);
      const id = 'upload-bbbbbbbbbbbb';
      await store.createUpload(id);
      await assert.rejects(store.appendUpload(id, chunkedBody(data, 65_536, SLAB_BYTES + 17), 0));
      const size = (await store.uploadSize(id))!;
      assert.equal(size, SLAB_BYTES + 17);
      // Two more chunks of odd sizes, each starting where the last ended.
      const mid = size + 3 * 4096 + 5;
      assert.equal(await store.appendUpload(id, chunkedBody(data.subarray(size, mid), 1000), size), mid);
      assert.equal(
        await store.appendUpload(id, chunkedBody(data.subarray(mid), 65_536 - 7), mid),
        data.length,
      );
      assert.equal(await store.completeUpload(id, sha256(data)), data.length);
      const blob = await readFile(store.blobPath(sha256(data)));
      assert.ok(blob.equals(data));
      assert.equal(await store.uploadSize(id), undefined);
    });
  });

  test(`appendUpload() (${mode}): an upload over the size limit is refused and keeps nothing usable`, async () => {
    await withStore(directIo, async (store) => {
      const data = randomBytes(SLAB_BYTES + 100);
      const id = 'upload-cccccccccccc';
      await store.createUpload(id);
      await assert.rejects(
        store.appendUpload(id, chunkedBody(data, 65_536), 0, SLAB_BYTES),
        (err: unknown) => err instanceof OciError && err.code === 'SIZE_INVALID',
      );
      await assert.rejects(store.completeUpload(id, sha256(data)), /digest/);
      assert.equal(await store.blobSize(sha256(data)), undefined);
    });
  });
}

/** Uploads `data` as one chunk and completes it; returns its digest. */
async function putBlob(store: BlobStore, id: string, data: Buffer): Promise<string> {
  await store.createUpload(id);
  await store.appendUpload(id, chunkedBody(data, 65_536), 0);
  await store.completeUpload(id, sha256(data));
  return sha256(data);
}

/** Whether `openBlob` reads `digest` around the page cache, and that what it reads is the content. */
async function readsDirect(
  store: BlobStore,
  digest: string,
  data: Buffer,
  options: { large: boolean },
): Promise<boolean> {
  const reader = await store.openBlob(digest, options);
  try {
    const into = slabs.take();
    try {
      await reader.read(into, 0, data.length, 0, slabs.isAligned(into));
      assert.ok(into.subarray(0, data.length).equals(data));
    } finally {
      slabs.give(into);
    }
    return reader.direct;
  } finally {
    await reader.close();
  }
}

test('openBlob(): a blob written around the page cache is read directly once, then through the cache', async () => {
  await withStore(true, async (store) => {
    const data = randomBytes(SLAB_BYTES - 4096 + 7);
    const digest = await putBlob(store, 'upload-dddddddddddd', data);
    assert.equal(store.directIo, true, 'O_DIRECT works on the temp dir, so the store keeps it on');
    // A small read neither goes direct nor uses up the blob's one direct read.
    assert.equal(await readsDirect(store, digest, data, { large: false }), false);
    assert.equal(await readsDirect(store, digest, data, { large: true }), true);
    // The second pull fills the page cache; every later one is served from memory.
    assert.equal(await readsDirect(store, digest, data, { large: true }), false);
    assert.equal(await readsDirect(store, digest, data, { large: true }), false);
    // Pushed again after a delete, it is again not cached.
    await store.deleteBlobFile(digest);
    await putBlob(store, 'upload-eeeeeeeeeeee', data);
    assert.equal(await readsDirect(store, digest, data, { large: true }), true);
  });
});

test('openBlob(): after a restart, and with direct I/O off, blobs are read through the page cache', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-blob-store-'));
  try {
    const data = randomBytes(SLAB_BYTES - 3);
    const first = new BlobStore(dir, { directIo: true });
    await first.init();
    const digest = await putBlob(first, 'upload-ffffffffffff', data);
    const restarted = new BlobStore(dir);
    assert.equal(restarted.directIo, true, 'direct I/O is the default');
    assert.equal(await readsDirect(restarted, digest, data, { large: true }), false);
    const buffered = new BlobStore(dir, { directIo: false });
    const other = randomBytes(SLAB_BYTES / 2);
    const otherDigest = await putBlob(buffered, 'upload-gggggggggggg', other);
    assert.equal(await readsDirect(buffered, otherDigest, other, { large: true }), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
