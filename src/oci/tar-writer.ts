// Reproducible tar + gzip: entries sorted by path, fixed mtimes, no user/group names, PAX only for long paths.
import { createHash } from 'node:crypto';
import { constants, createGzip, gzipSync } from 'node:zlib';

export interface TarEntry {
  /** Path inside the archive, relative, `/`-separated, without a trailing slash. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink';
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  data?: Uint8Array;
  linkname?: string;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function writeString(buf: Buffer, offset: number, width: number, value: string): void {
  buf.write(value, offset, Math.min(width, Buffer.byteLength(value)), 'utf8');
}

function header(entry: TarEntry, name: string, size: number, typeflag: string, linkname = ''): Buffer {
  const h = Buffer.alloc(BLOCK);
  writeString(h, 0, 100, name);
  writeString(h, 100, 8, octal(entry.mode & 0o7777, 8));
  writeString(h, 108, 8, octal(entry.uid, 8));
  writeString(h, 116, 8, octal(entry.gid, 8));
  writeString(h, 124, 12, octal(size, 12));
  writeString(h, 136, 12, octal(entry.mtime, 12));
  h.fill(0x20, 148, 156);
  writeString(h, 156, 1, typeflag);
  writeString(h, 157, 100, linkname);
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  writeString(h, 329, 8, octal(0, 8));
  writeString(h, 337, 8, octal(0, 8));
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

function pad(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body);
  let total = len + String(len).length;
  if (String(total).length !== String(len).length) total = len + String(total).length;
  len = total;
  return `${len}${body}`;
}

/** Serializes `entries` (sorted by path here) to an uncompressed tar archive. */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  return Buffer.concat(writeTarChunks(entries));
}

/** Like {@link writeTar}, as the list of chunks (headers, file data, padding) without copying the data. */
export function writeTarChunks(entries: readonly TarEntry[]): Buffer[] {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const chunks: Buffer[] = [];
  for (const e of sorted) {
    const name = e.type === 'dir' ? `${e.path}/` : e.path;
    const link = e.linkname ?? '';
    const typeflag = { file: '0', dir: '5', symlink: '2', hardlink: '1' }[e.type];
    const data = e.type === 'file' ? (e.data ?? new Uint8Array(0)) : new Uint8Array(0);
    const longName = Buffer.byteLength(name) > 100;
    const longLink = Buffer.byteLength(link) > 100;
    if (longName || longLink) {
      const pax = Buffer.from(
        (longName ? paxRecord('path', name) : '') + (longLink ? paxRecord('linkpath', link) : ''),
        'utf8',
      );
      const paxName = `PaxHeaders/${name.slice(-80)}`;
      chunks.push(header({ ...e, mode: 0o644 }, paxName, pax.length, 'x'), pax, pad(pax.length));
    }
    chunks.push(
      header(
        e,
        longName ? name.slice(0, 100) : name,
        data.length,
        typeflag,
        longLink ? link.slice(0, 100) : link,
      ),
    );
    if (data.length > 0)
      chunks.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength), pad(data.length));
  }
  chunks.push(Buffer.alloc(BLOCK * 2));
  return chunks;
}

/** gzip with a fixed header (mtime 0, no file name) and a fixed level, so equal input gives equal bytes. */
export function gzipReproducible(data: Uint8Array): Buffer {
  const out = gzipSync(data, { level: 6 });
  // Node writes mtime 0 and OS=3 already; pin them anyway so other zlib builds agree.
  out.writeUInt32LE(0, 4);
  out[9] = 0xff;
  return out;
}

/**
 * Builds a reproducible gzip layer from tar chunks off the main thread, hashing as it goes.
 * Returns the compressed bytes and the sha256 of the uncompressed tar (the layer's diff ID).
 */
export async function gzipLayer(chunks: readonly Buffer[]): Promise<{ gz: Buffer; diffIdHex: string }> {
  const hash = createHash('sha256');
  const gzip = createGzip({ level: 6, flush: constants.Z_NO_FLUSH });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    gzip.once('end', resolve);
    gzip.once('error', reject);
  });
  for (const c of chunks) {
    hash.update(c);
    if (!gzip.write(c)) await new Promise((r) => gzip.once('drain', r));
  }
  gzip.end();
  await done;
  const gz = Buffer.concat(out);
  gz.writeUInt32LE(0, 4);
  gz[9] = 0xff;
  return { gz, diffIdHex: hash.digest('hex') };
}
