// An image's root filesystem in memory, built by applying layer tarballs in order (with OCI whiteouts).
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { UnavailableError } from '../core/index.ts';

export interface FsNode {
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** File contents, when kept (see {@link ApplyLayerOptions.keepData}). */
  data?: Buffer;
  linkname?: string;
}

/** Paths are normalized: relative, no leading `./` or `/`, no trailing `/`. */
export type LayerFs = Map<string, FsNode>;

export interface ApplyLayerOptions {
  /** Which files to keep the contents of (default: all). */
  keepData?: (path: string) => boolean;
  /** Whether to record a path at all (default: all); sees the tar header's mode and size. Whiteouts always apply. */
  keepEntry?: (path: string, info: { mode: number; size: number; type: string }) => boolean;
  /** Replaces a kept file's contents before it is stored (e.g. by a small summary of a large binary). */
  transformData?: (path: string, data: Buffer) => Buffer | undefined;
}

/** Normalizes a tar entry name to the form used as a {@link LayerFs} key. */
export function normalizeLayerPath(name: string): string {
  const n = posix.normalize(`/${name}`).slice(1);
  return n.endsWith('/') ? n.slice(0, -1) : n;
}

function removeTree(fs: LayerFs, path: string): void {
  fs.delete(path);
  const prefix = `${path}/`;
  for (const key of [...fs.keys()]) if (key.startsWith(prefix)) fs.delete(key);
}

/**
 * Applies one layer (gzip-compressed or plain tar bytes, or a stream of them) on top of `fs`:
 * `.wh.name` deletes `name`, `.wh..wh..opq` empties its directory.
 */
export async function applyLayer(
  fs: LayerFs,
  layer: Uint8Array | NodeJS.ReadableStream,
  options: ApplyLayerOptions = {},
): Promise<void> {
  const extract = tar.extract();
  const source: NodeJS.ReadableStream =
    layer instanceof Uint8Array ? Readable.from([Buffer.from(layer)]) : layer;
  const head = await peekGzip(source);
  const work = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      const path = normalizeLayerPath(h.name);
      const base = posix.basename(path);
      const dir = posix.dirname(path) === '.' ? '' : posix.dirname(path);
      if (base === '.wh..wh..opq') {
        for (const key of [...fs.keys()]) if (dir === '' || key.startsWith(`${dir}/`)) fs.delete(key);
        entry.resume();
        continue;
      }
      if (base.startsWith('.wh.')) {
        removeTree(fs, posix.join(dir, base.slice(4)));
        entry.resume();
        continue;
      }
      if (
        path === '' ||
        (options.keepEntry &&
          !options.keepEntry(path, { mode: h.mode ?? 0, size: h.size ?? 0, type: h.type ?? 'file' }))
      ) {
        entry.resume();
        continue;
      }
      const type =
        h.type === 'file' || h.type === 'contiguous-file'
          ? 'file'
          : h.type === 'directory'
            ? 'dir'
            : h.type === 'symlink'
              ? 'symlink'
              : h.type === 'link'
                ? 'hardlink'
                : 'other';
      const node: FsNode = {
        type,
        mode: h.mode ?? 0,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        size: h.size ?? 0,
        ...(h.linkname ? { linkname: h.linkname } : {}),
      };
      if (type === 'file' && (!options.keepData || options.keepData(path))) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        const data = Buffer.concat(chunks);
        if (options.transformData) {
          const replaced = options.transformData(path, data);
          if (replaced === undefined) {
            removeTree(fs, path);
            continue;
          }
          node.data = replaced;
        } else node.data = data;
      } else entry.resume();
      const existing = fs.get(path);
      if (existing?.type === 'dir' && type !== 'dir') removeTree(fs, path);
      fs.set(path, node);
    }
  })();
  try {
    await Promise.all([
      pipeline(head.gzip ? [head.stream, createGunzip(), extract] : [head.stream, extract]),
      work,
    ]);
  } catch (err) {
    throw new UnavailableError(`Cannot read image layer: ${(err as Error).message}`, { cause: err });
  }
}

/** Looks at the first bytes to tell gzip from plain tar, and returns a stream that still has them. */
async function peekGzip(source: NodeJS.ReadableStream): Promise<{ gzip: boolean; stream: Readable }> {
  const iterator = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first = await iterator.next();
  const chunk: Buffer | undefined = first.done ? undefined : Buffer.from(first.value);
  const gzip = chunk !== undefined && chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b;
  async function* rest(): AsyncGenerator<Buffer> {
    if (chunk) yield chunk;
    for (let n = await iterator.next(); !n.done; n = await iterator.next()) yield Buffer.from(n.value);
  }
  return { gzip, stream: Readable.from(rest()) };
}

/** Resolves symlinks inside the image to find the node a path names (at most 40 hops). */
export function lookupPath(fs: LayerFs, path: string): { path: string; node: FsNode } | undefined {
  let current = normalizeLayerPath(path);
  for (let hops = 0; hops < 40; hops++) {
    const node = fs.get(current);
    if (!node) return undefined;
    if (node.type !== 'symlink' || !node.linkname) return { path: current, node };
    const target = node.linkname.startsWith('/')
      ? node.linkname
      : posix.join(posix.dirname(`/${current}`), node.linkname);
    current = normalizeLayerPath(target);
  }
  return undefined;
}
