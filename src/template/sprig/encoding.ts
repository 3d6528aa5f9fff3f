// Sprig's encoding, hashing and id functions (b64/b32, sha*/adler32, uuidv4, randBytes) and unsupported crypto.
import { createCipheriv, createDecipheriv, createHash, randomBytes as cryptoRandomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type bcryptjsModule from 'bcryptjs';
import type { TemplateFunction } from '../signature.ts';
import { utf8Bytes, utf8Decode } from '../value.ts';
import { derivePassword } from './derive-password.ts';
import { sig } from './strings.ts';

const B64 = /^[A-Za-z0-9+/]*$/;

/** base64.StdEncoding.DecodeString with Go's error text. */
function b64decode(s: string): string {
  const clean = s.replace(/[\r\n]/g, '');
  const body = clean.replace(/=+$/, '');
  for (let i = 0; i < body.length; i++) {
    if (!B64.test(body[i]!)) return `illegal base64 data at input byte ${i}`;
  }
  const pad = clean.length - body.length;
  if (clean.length % 4 !== 0 || pad > 2 || body.length % 4 === 1) {
    const at = clean.length % 4 !== 0 ? clean.length - (clean.length % 4) : body.length;
    return `illegal base64 data at input byte ${Math.min(at, clean.length)}`;
  }
  return utf8Decode(Buffer.from(body, 'base64'));
}

const B32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function b32encode(s: string): string {
  const bytes = utf8Bytes(s);
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32_ALPHABET[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

function b32decode(s: string): string {
  const clean = s.replace(/[\r\n]/g, '');
  if (clean.length % 8 !== 0) return `illegal base32 data at input byte ${clean.length - (clean.length % 8)}`;
  const body = clean.replace(/=+$/, '');
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (let i = 0; i < body.length; i++) {
    const idx = B32_ALPHABET.indexOf(body[i]!);
    if (idx < 0) return `illegal base32 data at input byte ${i}`;
    value = ((value << 5) | idx) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return utf8Decode(new Uint8Array(bytes));
}

function adler32(s: string): bigint {
  let a = 1;
  let b = 0;
  for (const byte of utf8Bytes(s)) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return BigInt(((b << 16) | a) >>> 0);
}

const hash = (alg: string) => sig(['string'])((s: string) => createHash(alg).update(s, 'utf8').digest('hex'));

let bcryptjs: typeof bcryptjsModule | undefined;

/** Go's bcrypt.GenerateFromPassword at the default cost: a `$2a$10$` hash. bcryptjs loads on first use. */
function bcryptHash(password: string): string {
  bcryptjs ??= createRequire(import.meta.url)('bcryptjs') as typeof bcryptjsModule;
  const salt = bcryptjs.genSaltSync(10).replace(/^\$2b\$/, '$2a$');
  return bcryptjs.hashSync(password, salt);
}

/** Sprig's AES-256-CBC with the password zero-padded to a 32-byte key and a random IV before the data. */
function aesKey(password: string): Buffer {
  const key = Buffer.alloc(32);
  Buffer.from(password, 'utf8').copy(key, 0, 0, 32);
  return key;
}

function encryptAES(password: string, plaintext: string): string {
  if (plaintext === '') return '';
  const iv = cryptoRandomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', aesKey(password), iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

function decryptAES(password: string, crypt64: string): string {
  if (crypt64 === '') return '';
  const data = Buffer.from(crypt64, 'base64');
  if (data.length < 32 || data.length % 16 !== 0) throw new Error('crypto/cipher: input not full blocks');
  const decipher = createDecipheriv('aes-256-cbc', aesKey(password), data.subarray(0, 16));
  decipher.setAutoPadding(false);
  const out = Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]);
  const pad = out[out.length - 1]!;
  return out.subarray(0, Math.max(0, out.length - pad)).toString('utf8');
}

function unsupported(name: string): TemplateFunction {
  return () => {
    throw new Error(`${name} is not supported by Slipway's template engine`);
  };
}

export function encodingFunctions(random: () => number): Record<string, TemplateFunction> {
  const randomBytes = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
    return out;
  };
  return {
    b64enc: sig(['string'])((s: string) => Buffer.from(s, 'utf8').toString('base64')),
    b64dec: sig(['string'])(b64decode),
    b32enc: sig(['string'])(b32encode),
    b32dec: sig(['string'])(b32decode),
    sha1sum: hash('sha1'),
    sha256sum: hash('sha256'),
    sha512sum: hash('sha512'),
    adler32sum: sig(['string'])((s: string) => adler32(s).toString()),
    uuidv4: sig([])(() => {
      const b = randomBytes(16);
      b[6] = (b[6]! & 0x0f) | 0x40;
      b[8] = (b[8]! & 0x3f) | 0x80;
      const h = Buffer.from(b).toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }),
    randBytes: sig(['int'])((n: unknown) => Buffer.from(randomBytes(Number(n as bigint))).toString('base64')),
    bcrypt: sig(['string'])(bcryptHash),
    htpasswd: sig(['string', 'string'])((user: string, password: string) =>
      user.includes(':') ? `invalid username: ${user}` : `${user}:${bcryptHash(password)}`,
    ),
    derivePassword: sig(['int', 'string', 'string', 'string', 'string'])(
      (counter: unknown, typ: string, password: string, user: string, site: string) =>
        derivePassword(Number(counter as bigint), typ, password, user, site),
    ),
    encryptAES: sig(['string', 'string'])(encryptAES),
    decryptAES: sig(['string', 'string'])(decryptAES),
    getHostByName: unsupported('getHostByName'),
  };
}
