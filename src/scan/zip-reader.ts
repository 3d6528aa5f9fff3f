// A minimal zip reader (stored and deflated entries) for OSV database archives and jar files.
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  read(): Buffer;
}

/** Lists the entries of a zip archive held in memory; throws on a damaged archive. */
export function readZip(data: Buffer): ZipEntry[] {
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 65557); i--) {
    if (data.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory)');
  let count = data.readUInt16LE(eocd + 10);
  let offset = data.readUInt32LE(eocd + 16);
  // zip64: the real values are in the zip64 end record.
  if (offset === 0xffffffff || count === 0xffff) {
    const loc = eocd - 20;
    if (loc >= 0 && data.readUInt32LE(loc) === 0x07064b50) {
      const rec = Number(data.readBigUInt64LE(loc + 8));
      count = Number(data.readBigUInt64LE(rec + 32));
      offset = Number(data.readBigUInt64LE(rec + 48));
    }
  }
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (data.readUInt32LE(offset) !== 0x02014b50) throw new Error('damaged zip central directory');
    const method = data.readUInt16LE(offset + 10);
    let compSize = data.readUInt32LE(offset + 20);
    const nameLen = data.readUInt16LE(offset + 28);
    const extraLen = data.readUInt16LE(offset + 30);
    const commentLen = data.readUInt16LE(offset + 32);
    let local = data.readUInt32LE(offset + 42);
    const name = data.toString('utf8', offset + 46, offset + 46 + nameLen);
    // zip64 extra field
    let e = offset + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = data.readUInt16LE(e);
      const size = data.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let p = e + 4;
        if (data.readUInt32LE(offset + 24) === 0xffffffff) p += 8;
        if (compSize === 0xffffffff) {
          compSize = Number(data.readBigUInt64LE(p));
          p += 8;
        }
        if (local === 0xffffffff) local = Number(data.readBigUInt64LE(p));
      }
      e += 4 + size;
    }
    offset += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    const start = local + 30 + data.readUInt16LE(local + 26) + data.readUInt16LE(local + 28);
    entries.push({
      name,
      read() {
        const raw = data.subarray(start, start + compSize);
        if (method === 0) return Buffer.from(raw);
        if (method === 8) return inflateRawSync(raw);
        throw new Error(`zip entry ${name} uses unsupported compression method ${method}`);
      },
    });
  }
  return entries;
}
