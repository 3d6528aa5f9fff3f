// Moving blob bytes between sockets and files with little work per byte: a few large reused buffers
// instead of one allocation per chunk, few large file writes and reads, no stream pipeline in between.
// Go's server uses sendfile(2) and splice(2); Node cannot, so this copies as little and as rarely as it can.
// The buffers are page-aligned where possible, so files can be written and read around the page cache
// (direct-io.ts).
import type { Hash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { finished, type Readable } from 'node:stream';
import { allocateAlignedBuffers, BLOCK_BYTES } from './direct-io.ts';

/** Size of the buffers blobs move through (one file write or read, one socket write each). */
export const SLAB_BYTES = 1 << 20;

/**
 * Free buffers of {@link SLAB_BYTES}, reused across requests. The first `maxAligned` (64) are
 * page-aligned (see {@link allocateAlignedBuffers}) so files can be written and read with O_DIRECT: they
 * come from one WebAssembly memory made on first use, whose pages the kernel backs only once touched,
 * and they are kept for the life of the process. When all are in use, plain buffers (at most `max`
 * kept when free). Free buffers are reused last-in first-out, so few of them are ever touched.
 */
export class BufferPool {
  readonly #free: Buffer[] = [];
  readonly #aligned = new WeakSet<Buffer>();
  readonly #max: number;
  readonly #maxAligned: number;
  #alignedMade = false;
  #plainFree = 0;
  readonly size: number;

  constructor(size = SLAB_BYTES, options: { max?: number; maxAligned?: number } = {}) {
    this.size = size;
    this.#max = options.max ?? 16;
    this.#maxAligned = options.maxAligned ?? 64;
  }

  take(): Buffer {
    if (!this.#alignedMade) {
      this.#alignedMade = true;
      const aligned = allocateAlignedBuffers(this.#maxAligned, this.size) ?? [];
      for (const b of aligned.reverse()) {
        this.#aligned.add(b);
        this.#free.push(b);
      }
    }
    const free = this.#free.pop();
    if (!free) return Buffer.allocUnsafeSlow(this.size);
    if (!this.#aligned.has(free)) this.#plainFree--;
    return free;
  }

  /** Returns a buffer nobody references any more (never one a pending write still reads). */
  give(buffer: Buffer): void {
    if (this.#aligned.has(buffer)) this.#free.push(buffer);
    else if (buffer.length === this.size && this.#plainFree < this.#max) {
      this.#plainFree++;
      this.#free.push(buffer);
    }
  }

  /** True for buffers of this pool that start on a page boundary. */
  isAligned(buffer: Buffer): boolean {
    return this.#aligned.has(buffer);
  }
}

export const slabs = new BufferPool();

/** Ranges below this are read in one exact-size buffer through the page cache; larger ones go by slabs. */
export const SMALL_RANGE_BYTES = SLAB_BYTES / 4;

/** Bytes of a download's first read (then whole slabs): what the client waits for before its first byte. */
const FIRST_READ_BYTES = 128 << 10;

/** Slabs one download reads ahead into while the socket still sends earlier ones. */
const SEND_DEPTH = 2;

/** Thrown by {@link receiveToFile} when the body is larger than allowed. */
export class TooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`Body is larger than the ${limit} bytes allowed`);
    this.limit = limit;
  }
}

/** Full slabs an upload may have waiting for the disk before it stops reading from the client. */
const MAX_QUEUED_SLABS = 4;

/** Where {@link receiveToFile} puts slabs: a file, or an {@link UploadWriter} that may go around the page cache. */
export interface SlabSink {
  /** Writes `buffer[offset, offset+length)` at file `position`; `aligned`: the buffer is page-aligned. */
  write(buffer: Buffer, offset: number, length: number, position: number, aligned: boolean): Promise<void>;
}

/**
 * Writes everything `source` yields to `sink` from byte `position` on, hashing it into `hash` (in
 * order) when given. Incoming chunks are copied into slabs; full slabs are written one at a time in
 * order while the socket keeps flowing, so there is one file write per {@link SLAB_BYTES}; the source
 * is paused only while {@link MAX_QUEUED_SLABS} slabs wait for the disk. Slab byte `i` always maps to
 * a file offset congruent to `i` modulo {@link BLOCK_BYTES} (the first slab starts filling at
 * `position % BLOCK_BYTES`), so whole blocks can be written directly. Resolves with the number of
 * bytes written. When `source` fails midway, the bytes received so far are still written (a client
 * may resume from there), then the error is rethrown; `hash` is then incomplete.
 */
export function receiveToFile(
  source: Readable,
  sink: SlabSink,
  position: number,
  hash: Hash | undefined,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const queue: { buffer: Buffer; start: number; end: number; at: number }[] = [];
    let slab = slabs.take();
    let start = position % BLOCK_BYTES;
    let fill = start;
    let next = position;
    let received = 0;
    let writing = false;
    let paused = false;
    let done = false;
    let failure: unknown;
    let settled = false;

    const enqueue = () => {
      if (fill === start) return;
      queue.push({ buffer: slab, start, end: fill, at: next });
      next += fill - start;
      slab = slabs.take();
      start = 0;
      fill = 0;
    };
    const settle = () => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      stopWatching();
      slabs.give(slab);
      for (const q of queue) slabs.give(q.buffer);
      if (failure !== undefined) reject(failure);
      else resolve(next - position);
    };
    const pump = () => {
      if (writing || settled) return;
      const item = queue.shift();
      if (!item) {
        if (done || failure !== undefined) settle();
        return;
      }
      writing = true;
      sink.write(item.buffer, item.start, item.end - item.start, item.at, slabs.isAligned(item.buffer)).then(
        () => {
          writing = false;
          slabs.give(item.buffer);
          if (paused && queue.length < MAX_QUEUED_SLABS && failure === undefined) {
            paused = false;
            source.resume();
          }
          pump();
        },
        (err: unknown) => {
          writing = false;
          slabs.give(item.buffer);
          fail(err, false);
        },
      );
    };
    /** Stops receiving; `keep`: still write what arrived (a resumable client goes on from there). */
    const fail = (err: unknown, keep: boolean) => {
      if (failure === undefined) failure = err;
      if (keep) enqueue();
      else for (const q of queue.splice(0)) slabs.give(q.buffer);
      if (!source.destroyed) source.destroy();
      pump();
    };
    const onData = (data: Buffer) => {
      if (failure !== undefined) return;
      received += data.length;
      if (received > maxBytes) {
        fail(new TooLargeError(maxBytes), false);
        return;
      }
      hash?.update(data);
      let from = 0;
      while (from < data.length) {
        const n = Math.min(data.length - from, SLAB_BYTES - fill);
        data.copy(slab, fill, from, from + n);
        fill += n;
        from += n;
        if (fill === SLAB_BYTES) enqueue();
      }
      if (queue.length > 0) pump();
      if (queue.length >= MAX_QUEUED_SLABS && !paused) {
        paused = true;
        source.pause();
      }
    };
    const stopWatching = finished(source, (err) => {
      if (failure !== undefined) return;
      if (err) {
        fail(err, true);
        return;
      }
      done = true;
      enqueue();
      pump();
    });
    source.on('data', onData);
  });
}

/** Where {@link sendFileRange} reads from: a file, or a {@link BlobReader} that may go around the page cache. */
export interface SlabSource {
  /** True when reads are block-aligned direct reads (then each read may fill the whole blocks around it). */
  readonly direct: boolean;
  /**
   * Fills `buffer[offset, offset+length)` with file bytes from `position`; rejects when the file ends
   * first. `aligned`: the buffer is page-aligned. A direct source may also overwrite the rest of the
   * blocks around that span (buffer offset and file position agree modulo {@link BLOCK_BYTES}).
   */
  read(buffer: Buffer, offset: number, length: number, position: number, aligned: boolean): Promise<void>;
}

/**
 * Sends bytes `start..end` (inclusive) of `file` to `response`, whose status and headers the caller
 * has set (written with the first chunk). Reads go into reused slabs; a slab is read into again only
 * after the socket is done with it, which also paces reading to the client. Small ranges are one read
 * and one write. Resolves when everything is handed to the socket; rejects (and destroys the response)
 * when the file is short or unreadable or the client goes away.
 */
export async function sendFileRange(
  file: SlabSource,
  start: number,
  end: number,
  response: ServerResponse,
): Promise<void> {
  const total = end - start + 1;
  if (total <= 0) {
    response.end();
    return;
  }
  if (total < SMALL_RANGE_BYTES && !file.direct) {
    // One exact-size buffer, not kept: the socket may hold it after end().
    const buffer = Buffer.allocUnsafe(total);
    await file.read(buffer, 0, total, start, false);
    response.end(buffer);
    return;
  }
  let closed: ((err: Error) => void) | undefined;
  const gone = new Promise<never>((_, reject) => {
    closed = reject;
  });
  gone.catch(() => {});
  const onClose = () => {
    if (!response.writableFinished) closed?.(new Error('The client closed the connection'));
  };
  response.on('close', onClose);
  // Failed writes are seen through their callbacks; the response's own 'error' event must not go unheard.
  response.on('error', ignore);
  const depth = Math.min(SEND_DEPTH, Math.ceil((total + BLOCK_BYTES) / SLAB_BYTES));
  const buffers = Array.from({ length: depth }, () => slabs.take());
  const inFlight: (Promise<void> | undefined)[] = buffers.map(() => undefined);
  let reusable = true;
  try {
    let position = start;
    let remaining = total;
    let i = 0;
    while (remaining > 0) {
      if (inFlight[i]) await Promise.race([inFlight[i], gone]);
      const buffer = buffers[i]!;
      // Direct reads start at the block boundary below `position`, so the bytes land `lead` in.
      const lead = file.direct ? position % BLOCK_BYTES : 0;
      // The first read is short, so the first bytes leave after one small read, not a whole slab.
      const want = position === start ? FIRST_READ_BYTES : buffer.length;
      const n = Math.min(want - lead, remaining);
      await file.read(buffer, lead, n, position, slabs.isAligned(buffer));
      position += n;
      remaining -= n;
      const sent = writeChunk(
        response,
        lead === 0 && n === buffer.length ? buffer : buffer.subarray(lead, lead + n),
      );
      // Awaited later (or never, when the other write fails first): never an unhandled rejection.
      sent.catch(ignore);
      inFlight[i] = sent;
      i = (i + 1) % depth;
    }
    await Promise.race([Promise.all(inFlight), gone]);
    response.end();
  } catch (err) {
    reusable = false;
    // No error argument: nobody needs an 'error' event for a client that left or a short file.
    response.destroy();
    throw err;
  } finally {
    response.off('close', onClose);
    const giveBack = () => {
      for (const b of buffers) slabs.give(b);
    };
    // After a failure the socket may still hold a slab until the connection is closed for good.
    if (reusable || response.closed) giveBack();
    else response.once('close', giveBack);
  }
}

function ignore(): void {}

function writeChunk(response: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    response.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}
