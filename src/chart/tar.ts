// A small synchronous reader and writer for gzipped tar archives (ustar, pax and GNU long names): enough for
// Helm chart packages. Pure: bytes in, entries out.
import { createRequire } from 'node:module';
import { InputError } from '../core/index.ts';

type Zlib = typeof import('node:zlib');
let zlibModule: Zlib | undefined;
/** node:zlib, loaded on first use: most charts are directories, and loading zlib costs a CLI start ~5 ms. */
const zlib = (): Zlib => (zlibModule ??= createRequire(import.meta.url)('node:zlib') as Zlib);

export interface TarEntry {
  path: string;
  data: Uint8Array;
}

function cstring(buf: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && buf[end] !== 0) end++;
  return Buffer.from(buf.subarray(start, end)).toString('utf8');
}

function octal(buf: Uint8Array, start: number, len: number): number {
  const s = cstring(buf, start, len).trim();
  if (s === '') return 0;
  return Number.parseInt(s, 8);
}

function parsePax(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const text = Buffer.from(data).toString('utf8');
  let i = 0;
  while (i < text.length) {
    const sp = text.indexOf(' ', i);
    if (sp < 0) break;
    const len = Number.parseInt(text.slice(i, sp), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = text.slice(sp + 1, i + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

/** Reads the regular files of a (optionally gzipped) tar archive. */
export function readTarGz(bytes: Uint8Array, name = 'archive'): TarEntry[] {
  let buf: Uint8Array;
  try {
    buf = bytes[0] === 0x1f && bytes[1] === 0x8b ? zlib().gunzipSync(bytes) : bytes;
  } catch (err) {
    throw new InputError(`${name}: not a valid gzip archive: ${(err as Error).message}`, {
      location: { file: name },
    });
  }
  const entries: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  while (off + 512 <= buf.length) {
    const header = buf.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    let path = cstring(header, 0, 100);
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] ?? 48);
    const prefix = cstring(header, 345, 155);
    if (prefix && header[257] === 0x75) path = `${prefix}/${path}`;
    const dataStart = off + 512;
    if (!Number.isFinite(size) || dataStart + size > buf.length) {
      throw new InputError(`${name}: truncated tar archive at entry "${path}"`, { location: { file: name } });
    }
    const data = buf.subarray(dataStart, dataStart + size);
    off = dataStart + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = cstring(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      pax = parsePax(data);
      continue;
    }
    if (type === 'g') continue;
    const finalPath = pax.path ?? longName ?? path;
    longName = undefined;
    pax = {};
    if (type === '0' || type === '\0' || type === '7')
      entries.push({ path: finalPath, data: new Uint8Array(data) });
  }
  return entries;
}

function writeOctal(buf: Buffer, value: number, start: number, len: number): void {
  buf.write(`${value.toString(8).padStart(len - 1, '0')}\0`, start, len, 'ascii');
}

/** Writes a gzipped ustar archive (paths up to 100 bytes use the name field, longer ones a pax header). */
export function writeTarGz(entries: TarEntry[], mtime = 0): Uint8Array {
  const parts: Buffer[] = [];
  const header = (path: string, size: number, type: string): Buffer => {
    const h = Buffer.alloc(512);
    h.write(path.slice(0, 100), 0, 100, 'utf8');
    writeOctal(h, 0o644, 100, 8);
    writeOctal(h, 0, 108, 8);
    writeOctal(h, 0, 116, 8);
    writeOctal(h, size, 124, 12);
    writeOctal(h, mtime, 136, 12);
    h.write(type, 156, 1, 'ascii');
    h.write('ustar\x0000', 257, 8, 'binary');
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    writeOctal(h, sum, 148, 7);
    return h;
  };
  const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);
  for (const e of entries) {
    if (Buffer.byteLength(e.path) > 100) {
      const rec = ` path=${e.path}\n`;
      let len = Buffer.byteLength(rec) + 1;
      len += String(len).length;
      if (String(len).length !== String(len - String(len).length).length) len++;
      const body = Buffer.from(`${len}${rec}`);
      parts.push(header('PaxHeader', body.length, 'x'), body, pad(body.length));
    }
    parts.push(header(e.path, e.data.length, '0'), Buffer.from(e.data), pad(e.data.length));
  }
  parts.push(Buffer.alloc(1024));
  return new Uint8Array(zlib().gzipSync(Buffer.concat(parts)));
}
