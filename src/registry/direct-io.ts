// Blob bytes moved around the page cache: uploads write whole 4 KiB blocks with O_DIRECT from
// page-aligned buffers (only the unaligned head and tail of an append go through the page cache), and
// a blob's first large read reads whole blocks the same way.
// Why: a pushed layer is written once, yet a buffered write makes the kernel allocate and fill one new
// page-cache page per 4 KiB. On the 2-core VM the benchmarks run on, filling pages the guest never
// touched costs ~2.6 ms of CPU per MB (0.3 ms once pages are recycled): a 200 MB push spent 0.3–0.5 s
// of its ~1.4 s there, on the thread pool, and its fdatasync then had all of it still to write. With
// O_DIRECT the disk reads our buffer, and the fdatasync at completion has only the tail and metadata
// left. The first read of such a blob goes direct too (it is not in the cache, and a buffered read
// would pay that fill instead); BlobStore sends every later read through the cache, so layers pulled
// again and again are served from memory. `registryDirectIo: false` (SLIPWAY_REGISTRY_DIRECT_IO) puts
// everything back in the cache. Every refusal (a file system without O_DIRECT, no WebAssembly) falls
// back to normal I/O.
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

/** File offsets and lengths written directly are multiples of this (the common logical block size). */
export const BLOCK_BYTES = 4096;

const WASM_PAGE = 65_536;

/** Undefined where the platform has no O_DIRECT (macOS): then everything goes through the page cache. */
const O_DIRECT: number | undefined = constants.O_DIRECT;

/** The one part of the WebAssembly global used here (typed by neither lib ES2023 nor @types/node 20). */
type WasmMemory = new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
const WasmMemoryCtor = (globalThis as { WebAssembly?: { Memory: WasmMemory } }).WebAssembly?.Memory;

/**
 * `count` buffers of `size` bytes (a multiple of 64 KiB) that start on a page boundary, or undefined
 * when this runtime cannot make them. Node's Buffers come from malloc (16-byte aligned); a WebAssembly
 * memory is mapped by V8 on its own pages, so its bytes start page-aligned. The memory is never grown
 * (growing would detach these views), so the buffers stay valid for the life of the process.
 */
export function allocateAlignedBuffers(count: number, size: number): Buffer[] | undefined {
  if (size % WASM_PAGE !== 0 || !WasmMemoryCtor) return undefined;
  try {
    const pages = (count * size) / WASM_PAGE;
    const memory = new WasmMemoryCtor({ initial: pages, maximum: pages });
    return Array.from({ length: count }, (_, i) => Buffer.from(memory.buffer, i * size, size));
  } catch {
    return undefined;
  }
}

/** Errors that mean "this file, file system or buffer cannot do O_DIRECT", not a failing disk. */
function isUnsupported(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EINVAL' || code === 'EOPNOTSUPP' || code === 'ENOTSUP';
}

/** Whether a store still tries O_DIRECT: it stops after the first refusal (one per store, not per file). */
export interface DirectIoSwitch {
  enabled: boolean;
}

/**
 * An upload's file opened for appending. {@link write} sends the block-aligned middle of each write
 * through an O_DIRECT handle when the buffer is page-aligned, the rest through a normal handle. The
 * O_DIRECT handle is opened by the first write that has whole blocks (small blobs never open it).
 * The caller fdatasyncs (any handle of the file) before the file is made visible.
 */
export class UploadWriter {
  readonly #path: string;
  readonly #buffered: FileHandle;
  /** Undefined until the first whole-block write; null when this file goes through the page cache only. */
  #direct: FileHandle | null | undefined;
  readonly #switch: DirectIoSwitch;

  private constructor(path: string, buffered: FileHandle, directSwitch: DirectIoSwitch) {
    this.#path = path;
    this.#buffered = buffered;
    this.#switch = directSwitch;
    this.#direct = directSwitch.enabled && O_DIRECT !== undefined ? undefined : null;
  }

  /** Opens `path` (which must exist) for writing; O_DIRECT only while `direct.enabled`. */
  static async open(path: string, direct: DirectIoSwitch): Promise<UploadWriter> {
    return new UploadWriter(path, await open(path, 'r+'), direct);
  }

  /** False once this file writes through the page cache only (switch off, or O_DIRECT refused). */
  get direct(): boolean {
    return this.#direct !== null;
  }

  async #directHandle(): Promise<FileHandle | null> {
    if (this.#direct !== undefined) return this.#direct;
    try {
      this.#direct = await open(this.#path, constants.O_WRONLY | (O_DIRECT as number));
    } catch (err) {
      if (isUnsupported(err)) this.#switch.enabled = false;
      this.#direct = null;
    }
    return this.#direct;
  }

  /**
   * Writes `buffer[offset, offset+length)` at file `position`. `aligned`: the buffer starts on a page
   * boundary. Direct writes need the buffer offset and the file position to agree modulo
   * {@link BLOCK_BYTES}; callers that fill buffers from a block boundary get that for free.
   */
  async write(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    aligned: boolean,
  ): Promise<void> {
    const end = position + length;
    const from = Math.min(end, Math.ceil(position / BLOCK_BYTES) * BLOCK_BYTES);
    const to = Math.max(from, Math.floor(end / BLOCK_BYTES) * BLOCK_BYTES);
    const direct =
      this.#direct !== null && aligned && to > from && (position - offset) % BLOCK_BYTES === 0
        ? await this.#directHandle()
        : null;
    if (!direct) {
      await writeFully(this.#buffered, buffer, offset, length, position);
      return;
    }
    if (from > position) await writeFully(this.#buffered, buffer, offset, from - position, position);
    if (to > from) {
      const at = offset + (from - position);
      let done = 0;
      try {
        done = await transfer(direct, {
          kind: 'write',
          buffer,
          offset: at,
          length: to - from,
          position: from,
          stopInsideBlock: true,
        });
      } catch (err) {
        if (!isUnsupported(err)) throw err;
        // This file system or buffer cannot go direct: the whole middle goes through the page cache
        // (bytes a refused call may have written already are written again, the same bytes in place).
        this.#switch.enabled = false;
        this.#direct = null;
        await direct.close().catch(() => {});
      }
      if (done < to - from)
        await writeFully(this.#buffered, buffer, at + done, to - from - done, from + done);
    }
    if (end > to) await writeFully(this.#buffered, buffer, offset + (to - position), end - to, to);
  }

  async close(): Promise<void> {
    await Promise.all([this.#buffered.close(), this.#direct?.close()]);
  }
}

/** One transfer between a buffer span and a file: `buffer[offset, offset+length)` to or from file `position`. */
interface Transfer {
  kind: 'read' | 'write';
  buffer: Buffer;
  offset: number;
  length: number;
  position: number;
  /** Done once this many bytes have moved (default `length`): a direct read asks for whole blocks past them. */
  need?: number;
  /** Stop early (answering the bytes moved) after a call that ends inside a block: direct I/O cannot go on. */
  stopInsideBlock?: boolean;
}

/**
 * Moves a {@link Transfer}'s bytes however many calls it takes; answers how many moved. A read that finds
 * the file ending before `need` is an error.
 */
async function transfer(file: FileHandle, t: Transfer): Promise<number> {
  const need = t.need ?? t.length;
  let done = 0;
  while (done < need) {
    const args = [t.buffer, t.offset + done, t.length - done, t.position + done] as const;
    const moved =
      t.kind === 'read' ? (await file.read(...args)).bytesRead : (await file.write(...args)).bytesWritten;
    if (moved <= 0) {
      throw new Error(
        t.kind === 'read' ? `Blob file ended ${need - done} bytes early` : 'File write made no progress',
      );
    }
    done += moved;
    if (t.stopInsideBlock && done % BLOCK_BYTES !== 0 && done < need) break;
  }
  return done;
}

/** The bytes `[offset, offset+length)` of `buffer` written at file `position`, however many calls it takes. */
export async function writeFully(
  file: FileHandle,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<void> {
  await transfer(file, { kind: 'write', buffer, offset, length, position });
}

/**
 * A blob file opened for reading. Direct (O_DIRECT, no page cache) when asked and possible: each read
 * then covers whole blocks, from the block boundary below the wanted bytes to the one above (short at
 * the end of the file), into a page-aligned buffer. Unaligned buffers and refusals read normally.
 */
export class BlobReader {
  readonly #file: FileHandle;
  readonly #path: string;
  /** `#file` was opened with O_DIRECT. */
  readonly #fileIsDirect: boolean;
  #direct: boolean;
  #buffered: FileHandle | undefined;

  private constructor(file: FileHandle, path: string, direct: boolean) {
    this.#file = file;
    this.#path = path;
    this.#fileIsDirect = direct;
    this.#direct = direct;
  }

  /**
   * Opens `path` for reading (rejects with ENOENT when it is missing); direct when `direct` is true
   * and the switch is on. A file system that refuses O_DIRECT turns the switch off.
   */
  static async open(path: string, options: { direct: boolean; switch: DirectIoSwitch }): Promise<BlobReader> {
    if (options.direct && options.switch.enabled && O_DIRECT !== undefined) {
      try {
        return new BlobReader(await open(path, constants.O_RDONLY | O_DIRECT), path, true);
      } catch (err) {
        if (!isUnsupported(err)) throw err;
        options.switch.enabled = false;
      }
    }
    return new BlobReader(await open(path, 'r'), path, false);
  }

  get direct(): boolean {
    return this.#direct;
  }

  async read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    aligned: boolean,
  ): Promise<void> {
    if (this.#direct && aligned && (position - offset) % BLOCK_BYTES === 0) {
      const lead = position % BLOCK_BYTES;
      const from = position - lead;
      const span = Math.ceil((lead + length) / BLOCK_BYTES) * BLOCK_BYTES;
      if (offset - lead + span <= buffer.length) {
        try {
          // Done once the wanted bytes are in, even when the last block came back short (end of file).
          const done = await transfer(this.#file, {
            kind: 'read',
            buffer,
            offset: offset - lead,
            length: span,
            position: from,
            need: lead + length,
            stopInsideBlock: true,
          });
          if (done >= lead + length) return;
          await readFully(
            await this.#plain(),
            buffer,
            offset - lead + done,
            lead + length - done,
            from + done,
          );
          return;
        } catch (err) {
          if (!isUnsupported(err)) throw err;
          this.#direct = false;
        }
      }
    }
    await readFully(await this.#plain(), buffer, offset, length, position);
  }

  /** A normal handle for reads that cannot go direct (the only handle when not direct). */
  async #plain(): Promise<FileHandle> {
    if (!this.#fileIsDirect) return this.#file;
    this.#buffered ??= await open(this.#path, 'r');
    return this.#buffered;
  }

  async close(): Promise<void> {
    await Promise.all([this.#file.close(), this.#buffered?.close()]);
  }
}

/** `length` bytes from file `position` into `buffer` at `offset`; a file that ends sooner is an error. */
export async function readFully(
  file: FileHandle,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<void> {
  await transfer(file, { kind: 'read', buffer, offset, length, position });
}
