// Content-addressed blob files under `<data>/registry`: `blobs/<alg>/<aa>/<hex>` and upload temp files
// under `uploads/`. A blob file appears only by rename after its bytes were hashed, matched and fsynced.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, type ReadStream, unlinkSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tryParseDigest } from '../oci/index.ts';
import { receiveToFile, SMALL_RANGE_BYTES, TooLargeError } from './blob-io.ts';
import { BlobReader, type DirectIoSwitch, UploadWriter } from './direct-io.ts';
import { OciError } from './oci-errors.ts';

interface HashState {
  hash: Hash;
  offset: number;
  busy: boolean;
}

const UPLOAD_ID_RE = /^[A-Za-z0-9_-]{16,64}$/;
/** Read size for streaming large blobs. */
const READ_CHUNK = 1 << 20;
/** At most this many blobs are remembered as written around the page cache and not read since. */
const MAX_UNREAD_DIRECT = 10_000;

export class BlobStore {
  readonly root: string;
  readonly #blobs: string;
  readonly #uploads: string;
  /** Running sha256 of each upload, so completing one needs no re-read (lost on restart: then re-read). */
  readonly #hashes = new Map<string, HashState>();
  /** Temp files being written by {@link writeSmallBlob} right now. */
  readonly #writing = new Set<string>();
  /** Blob directories (`blobs/<alg>/<aa>`) known to exist: nothing ever removes them. */
  readonly #blobDirs = new Set<string>();
  /** Uploads go around the page cache (O_DIRECT) until the file system refuses once. */
  readonly #direct: DirectIoSwitch;
  /**
   * Large blobs this store wrote around the page cache and nobody has read since, oldest first: the
   * one read each of them gets directly (see {@link openBlob}). Forgotten on restart and past
   * {@link MAX_UNREAD_DIRECT}; a forgotten blob is read through the cache, which is correct, only slower.
   */
  readonly #unreadDirect = new Set<string>();

  /** `directIo: true` (the default) writes uploads around the page cache (see direct-io.ts). */
  constructor(root: string, options: { directIo?: boolean } = {}) {
    this.root = root;
    this.#blobs = join(root, 'blobs');
    this.#uploads = join(root, 'uploads');
    this.#direct = { enabled: options.directIo ?? true };
  }

  /** True while uploads still go around the page cache. */
  get directIo(): boolean {
    return this.#direct.enabled;
  }

  async init(): Promise<void> {
    await mkdir(this.#blobs, { recursive: true, mode: 0o700 });
    await mkdir(this.#uploads, { recursive: true, mode: 0o700 });
  }

  blobPath(digest: string): string {
    const d = tryParseDigest(digest);
    if (!d) throw new OciError('DIGEST_INVALID', `Invalid digest ${JSON.stringify(digest)}`);
    return join(this.#blobs, d.algorithm, d.hex.slice(0, 2), d.hex);
  }

  uploadPath(id: string): string {
    if (!UPLOAD_ID_RE.test(id))
      throw new OciError('BLOB_UPLOAD_UNKNOWN', `Unknown upload ${JSON.stringify(id)}`);
    return join(this.#uploads, id);
  }

  async createUpload(id: string): Promise<void> {
    const fh = await open(this.uploadPath(id), 'wx', 0o600);
    await fh.close();
    this.#hashes.set(id, { hash: createHash('sha256'), offset: 0, busy: false });
  }

  /** Current size of an upload's temp file (undefined when it does not exist). */
  async uploadSize(id: string): Promise<number | undefined> {
    try {
      return (await stat(this.uploadPath(id))).size;
    } catch {
      return undefined;
    }
  }

  /**
   * Appends `source` to an upload at byte `start` (which must be its current size) while hashing.
   * Returns the new size. A failed or interrupted append drops the running hash (completion re-reads).
   */
  async appendUpload(
    id: string,
    source: Readable,
    start: number | undefined,
    maxBytes?: number,
  ): Promise<number> {
    const path = this.uploadPath(id);
    const known = this.#hashes.get(id);
    if (known?.busy)
      throw new OciError('RANGE_INVALID', `Upload ${id} is receiving another chunk`, { status: 416 });
    // Claimed before the first await, so a second chunk for this upload is refused, not interleaved.
    const state: HashState = known ?? { hash: createHash('sha256'), offset: -1, busy: true };
    state.busy = true;
    this.#hashes.set(id, state);
    // Only ever forget our own state: a later chunk may have claimed the upload meanwhile.
    const drop = () => {
      if (this.#hashes.get(id) === state) this.#hashes.delete(id);
    };
    let written: number;
    let size: number;
    try {
      size = state.offset >= 0 ? state.offset : ((await this.uploadSize(id)) ?? -1);
      if (size < 0) throw new OciError('BLOB_UPLOAD_UNKNOWN', `Unknown upload ${id}`);
      // An empty upload (after a restart) can start a running hash from scratch.
      if (size === 0) state.offset = 0;
      if (start !== undefined && start !== size) {
        throw new OciError('RANGE_INVALID', `Chunk starts at ${start} but the upload has ${size} bytes`, {
          status: 416,
          detail: { size },
        });
      }
      // The running hash is usable only when it covers exactly the bytes already in the file.
      const hashing = state.offset === size;
      const file = await UploadWriter.open(path, this.#direct);
      try {
        written = await receiveToFile(source, file, size, hashing ? state.hash : undefined, maxBytes).catch(
          (err: unknown) => {
            // Free the upload for the client's next chunk at once, not after the close below.
            drop();
            throw err;
          },
        );
      } finally {
        await file.close();
      }
      if (!hashing) {
        drop();
        return size + written;
      }
    } catch (err) {
      drop();
      if (err instanceof TooLargeError)
        throw new OciError('SIZE_INVALID', `Upload is larger than the ${err.limit} bytes allowed`);
      throw err;
    }
    state.busy = false;
    state.offset = size + written;
    return size + written;
  }

  /**
   * Verifies the upload's bytes against `digest` and moves it to its blob path. Throws DIGEST_INVALID
   * (and deletes the upload) on a mismatch. Returns the size.
   */
  async completeUpload(id: string, digest: string): Promise<number> {
    const path = this.uploadPath(id);
    const parsed = tryParseDigest(digest);
    if (!parsed) throw new OciError('DIGEST_INVALID', `Invalid digest ${JSON.stringify(digest)}`);
    const state = this.#hashes.get(id);
    this.#hashes.delete(id);
    const fh = await open(path, 'r+');
    let size: number;
    let actual: string;
    try {
      size = (await fh.stat()).size;
      if (state && !state.busy && state.offset === size && parsed.algorithm === 'sha256') {
        actual = state.hash.digest('hex');
      } else {
        const h = createHash(parsed.algorithm);
        await pipeline(fh.createReadStream({ start: 0, autoClose: false, highWaterMark: 1 << 20 }), h);
        actual = h.digest('hex');
      }
      if (actual !== parsed.hex) {
        await fh.close().catch(() => {});
        await rm(path, { force: true });
        throw new OciError(
          'DIGEST_INVALID',
          `Uploaded content has digest ${parsed.algorithm}:${actual}, not ${digest}`,
          { detail: { expected: digest, actual: `${parsed.algorithm}:${actual}` } },
        );
      }
      // fdatasync: the bytes and the size are durable before the rename makes the blob visible.
      await fh.datasync();
    } finally {
      await fh.close().catch(() => {});
    }
    await this.#moveIntoPlace(path, this.blobPath(digest));
    if (this.#direct.enabled && size >= SMALL_RANGE_BYTES) {
      this.#unreadDirect.add(digest);
      if (this.#unreadDirect.size > MAX_UNREAD_DIRECT)
        this.#unreadDirect.delete(this.#unreadDirect.values().next().value as string);
    }
    return size;
  }

  /** Renames a verified, synced temp file to its blob path, making the directory on first use. */
  async #moveIntoPlace(path: string, target: string): Promise<void> {
    const dir = join(target, '..');
    if (!this.#blobDirs.has(dir)) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      this.#blobDirs.add(dir);
    }
    try {
      await rename(path, target);
    } catch (err) {
      // Someone removed the directory behind our back: make it again, once.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.#blobDirs.delete(dir);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      this.#blobDirs.add(dir);
      await rename(path, target);
    }
  }

  async deleteUpload(id: string): Promise<void> {
    this.#hashes.delete(id);
    await rm(this.uploadPath(id), { force: true });
  }

  async blobSize(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch {
      return undefined;
    }
  }

  /**
   * Streams a blob's bytes (optionally a byte range, inclusive). Give the range (or `0..size-1`) when
   * the size is known: the stream then reads into buffers of the blob's size instead of 1 MiB ones.
   */
  readBlob(digest: string, range?: { start: number; end: number }): ReadStream {
    return createReadStream(this.blobPath(digest), {
      highWaterMark: range ? Math.max(1, Math.min(READ_CHUNK, range.end - range.start + 1)) : READ_CHUNK,
      ...(range ? { start: range.start, end: range.end } : {}),
    });
  }

  /**
   * Opens a blob's file for reading (rejects with ENOENT when it is gone). The first `large` read of
   * a blob this store wrote around the page cache goes around it too: its bytes are not cached, and
   * filling the cache costs more CPU than the read itself (the push and its pull gain alike). Every
   * other read goes through the cache, so a layer pulled again and again (a base image every node
   * pulls) is served from memory after its second pull, as Distribution serves it.
   */
  openBlob(digest: string, options: { large: boolean }): Promise<BlobReader> {
    const direct = options.large && this.#unreadDirect.delete(digest);
    return BlobReader.open(this.blobPath(digest), { direct, switch: this.#direct });
  }

  /** A small blob's whole bytes in one buffer (manifests, configs). */
  readSmallBlob(digest: string): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }

  deleteBlobFileSync(digest: string): void {
    this.#unreadDirect.delete(digest);
    try {
      unlinkSync(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  async deleteBlobFile(digest: string): Promise<void> {
    this.#unreadDirect.delete(digest);
    await unlink(this.blobPath(digest)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Every blob file on disk with its digest and modification time (for GC and repair). */
  async *listBlobFiles(): AsyncGenerator<{ digest: string; mtimeMs: number; size: number }> {
    for (const alg of await readdir(this.#blobs).catch(() => [] as string[])) {
      for (const prefix of await readdir(join(this.#blobs, alg)).catch(() => [] as string[])) {
        for (const hex of await readdir(join(this.#blobs, alg, prefix)).catch(() => [] as string[])) {
          const s = await stat(join(this.#blobs, alg, prefix, hex)).catch(() => undefined);
          if (s?.isFile()) yield { digest: `${alg}:${hex}`, mtimeMs: s.mtimeMs, size: s.size };
        }
      }
    }
  }

  /** Upload temp files with their modification time. */
  async listUploadFiles(): Promise<{ id: string; mtimeMs: number }[]> {
    const out: { id: string; mtimeMs: number }[] = [];
    for (const id of await readdir(this.#uploads).catch(() => [] as string[])) {
      const s = await stat(join(this.#uploads, id)).catch(() => undefined);
      if (s) out.push({ id, mtimeMs: s.mtimeMs });
    }
    return out;
  }

  /** Removes a stray file in the uploads folder (names that are not valid upload ids included). */
  async removeUploadFile(name: string): Promise<void> {
    if (name.includes('/') || name.startsWith('..')) return;
    await rm(join(this.#uploads, name), { force: true });
  }

  /** Writes a small blob (a manifest) straight from memory, verified by the caller's digest. */
  async writeSmallBlob(id: string, data: Uint8Array, digest: string): Promise<void> {
    const path = this.uploadPath(id);
    this.#writing.add(id);
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(data);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await this.#moveIntoPlace(path, this.blobPath(digest));
    } finally {
      this.#writing.delete(id);
    }
  }

  /** True while this process is writing the upload file `id` (GC must leave it alone). */
  isActive(id: string): boolean {
    return this.#writing.has(id) || this.#hashes.has(id);
  }
}
