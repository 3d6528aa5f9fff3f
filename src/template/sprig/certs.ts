// Sprig's key and certificate functions (genPrivateKey, genCA, genSelfSignedCert, genSignedCert, their
// …WithKey forms, buildCustomCert), building X.509 v3 certificates as Go's x509.CreateCertificate does.
import {
  type KeyObject,
  X509Certificate,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
} from 'node:crypto';
import type { TemplateFunction } from '../signature.ts';
import { GO_TYPE } from '../value.ts';
import { strval } from './convert.ts';
import { sig } from './strings.ts';

/** Sprig's certificate struct: `.Cert` and `.Key` are PEM text. */
export class Certificate {
  readonly [GO_TYPE] = 'sprig.certificate';
  constructor(
    readonly Cert: string,
    readonly Key: string,
  ) {}
}

// --- DER encoding ---
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, body: Buffer): Buffer =>
  Buffer.concat([Buffer.from([tag]), len(body.length), body]);
const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const ctx = (n: number, body: Buffer, constructed = true): Buffer =>
  tlv((constructed ? 0xa0 : 0x80) | n, body);
const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const nul = (): Buffer => Buffer.from([0x05, 0x00]);

function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && (b[i + 1]! & 0x80) === 0) i++;
  let body = b.subarray(i);
  if ((body[0]! & 0x80) !== 0) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(0x02, body);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const stack: number[] = [p & 0x7f];
    for (let v = p >>> 7; v > 0; v >>>= 7) stack.unshift((v & 0x7f) | 0x80);
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}

function bitString(bytes: Buffer, unused = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unused]), bytes]));
}

function time(d: Date): Buffer {
  const y = d.getUTCFullYear();
  const p = (n: number): string => String(n).padStart(2, '0');
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`, 'ascii'));
  return tlv(0x18, Buffer.from(`${String(y).padStart(4, '0')}${rest}`, 'ascii'));
}

/** x509.KeyUsage bits as an ASN.1 BIT STRING (Go encodes the minimal number of bytes). */
function keyUsage(bits: number[]): Buffer {
  let value = 0;
  for (const b of bits) value |= 1 << (15 - b);
  const bytes = [value >> 8, value & 0xff];
  while (bytes.length > 1 && bytes[bytes.length - 1] === 0) bytes.pop();
  const last = bytes[bytes.length - 1]!;
  let unused = 0;
  while (unused < 7 && ((last >> unused) & 1) === 0) unused++;
  return bitString(Buffer.from(bytes), unused);
}

const ext = (id: string, critical: boolean, value: Buffer): Buffer =>
  critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));

// --- DER reading (only what is needed to use a CA certificate) ---
interface Tlv {
  tag: number;
  start: number;
  headerEnd: number;
  end: number;
}

function readTlv(b: Buffer, at: number): Tlv {
  const tag = b[at]!;
  let n = b[at + 1]!;
  let p = at + 2;
  if (n & 0x80) {
    const k = n & 0x7f;
    n = 0;
    for (let i = 0; i < k; i++) n = n * 256 + b[p + i]!;
    p += k;
  }
  return { tag, start: at, headerEnd: p, end: p + n };
}

function children(b: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.headerEnd; p < parent.end; ) {
    const t = readTlv(b, p);
    out.push(t);
    p = t.end;
  }
  return out;
}

/** The subject Name DER and subjectKeyIdentifier of a certificate. */
function certParts(der: Buffer): { subject: Buffer; subjectKeyId: Buffer | undefined } {
  const cert = readTlv(der, 0);
  const tbs = children(der, cert)[0]!;
  const fields = children(der, tbs);
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0;
  const subject = fields[offset + 4]!;
  let subjectKeyId: Buffer | undefined;
  const extsWrapper = fields.find((f) => f.tag === 0xa3);
  if (extsWrapper) {
    const exts = children(der, children(der, extsWrapper)[0]!);
    for (const e of exts) {
      const parts = children(der, e);
      const id = der.subarray(parts[0]!.start, parts[0]!.end);
      if (id.equals(oid('2.5.29.14'))) {
        const value = parts[parts.length - 1]!;
        const inner = readTlv(der, value.headerEnd);
        subjectKeyId = der.subarray(inner.headerEnd, inner.end);
      }
    }
  }
  return { subject: der.subarray(subject.start, subject.end), subjectKeyId };
}

// --- keys ---
function keyPem(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return key.export({ type: 'pkcs1', format: 'pem' }) as string;
    case 'ec':
      return key.export({ type: 'sec1', format: 'pem' }) as string;
    default:
      return key.export({ type: 'pkcs8', format: 'pem' }) as string;
  }
}

function signatureAlgorithm(key: KeyObject): { alg: Buffer; hash: string | null } {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { alg: seq(oid('1.2.840.113549.1.1.11'), nul()), hash: 'sha256' };
    case 'ec':
      return { alg: seq(oid('1.2.840.10045.4.3.2')), hash: 'sha256' };
    case 'ed25519':
      return { alg: seq(oid('1.3.101.112')), hash: null };
    default:
      throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
  }
}

function parsePrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new Error('error decoding pem block');
  }
}

function ipBytes(ip: string): Buffer {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) {
    const parts = ip.split('.').map(Number);
    if (parts.every((n) => n >= 0 && n <= 255)) return Buffer.from(parts);
  }
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
    if (groups.length === 8 && groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) {
      const b = Buffer.alloc(16);
      groups.forEach((g, i) => {
        b.writeUInt16BE(Number.parseInt(g, 16), i * 2);
      });
      return b;
    }
  }
  throw new Error(`error parsing ip: ${ip}`);
}

interface CertRequest {
  cn: string;
  ips: string[];
  dns: string[];
  daysValid: number;
  isCA: boolean;
  now: Date;
}

function createCertificate(
  req: CertRequest,
  subjectKey: KeyObject,
  issuer: { name: Buffer; key: KeyObject; subjectKeyId: Buffer | undefined } | null,
): string {
  const spki = createPublicKey(subjectKey).export({ type: 'spki', format: 'der' });
  const subject = seq(set(seq(oid('2.5.4.3'), utf8(req.cn))));
  const signer = issuer?.key ?? subjectKey;
  const { alg, hash } = signatureAlgorithm(signer);
  const notAfter = new Date(req.now.getTime() + req.daysValid * 86400000);
  const exts: Buffer[] = [];
  // digitalSignature(0), keyEncipherment(2), keyCertSign(5)
  exts.push(ext('2.5.29.15', true, keyUsage(req.isCA ? [0, 2, 5] : [0, 2])));
  exts.push(ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))));
  exts.push(ext('2.5.29.19', true, req.isCA ? seq(bool(true)) : seq()));
  let subjectKeyId: Buffer | undefined;
  if (req.isCA) {
    // Go derives the key id of a CA from the SHA-1 of its public key bits.
    const spkiInfo = readTlv(spki, 0);
    const bits = children(spki, spkiInfo)[1]!;
    subjectKeyId = createHash('sha1')
      .update(spki.subarray(bits.headerEnd + 1, bits.end))
      .digest();
    exts.push(ext('2.5.29.14', false, octets(subjectKeyId)));
  }
  const issuerName = issuer?.name ?? subject;
  if (issuer?.subjectKeyId && !issuerName.equals(subject)) {
    exts.push(ext('2.5.29.35', false, seq(ctx(0, issuer.subjectKeyId, false))));
  }
  if (req.dns.length > 0 || req.ips.length > 0) {
    const names = [
      ...req.dns.map((d) => ctx(2, Buffer.from(d, 'ascii'), false)),
      ...req.ips.map((ip) => ctx(7, ipBytes(ip), false)),
    ];
    exts.push(ext('2.5.29.17', false, seq(...names)));
  }
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const tbs = seq(
    ctx(0, integer(Buffer.from([2]))),
    integer(serial),
    alg,
    issuerName,
    seq(time(req.now), time(notAfter)),
    subject,
    spki,
    ctx(3, seq(...exts)),
  );
  const signature = sign(hash, tbs, signer);
  const der = seq(tbs, alg, bitString(signature));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64.endsWith('\n') ? b64 : `${b64}\n`}-----END CERTIFICATE-----\n`;
}

function listOfStrings(v: unknown, what: string): string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`error processing ${what}: not a list`);
  return v.map((x) => {
    if (typeof x !== 'string') throw new Error(`error processing ${what}: ${strval(x)} is not a string`);
    return x;
  });
}

function caFrom(ca: unknown): { name: Buffer; key: KeyObject; subjectKeyId: Buffer | undefined } {
  const c = ca as { Cert?: unknown; Key?: unknown } | null;
  if (!c || typeof c.Cert !== 'string' || typeof c.Key !== 'string')
    throw new Error('invalid CA certificate');
  let der: Buffer;
  try {
    der = Buffer.from(new X509Certificate(c.Cert).raw);
  } catch (e) {
    throw new Error(`error parsing certificate: decodedSignerCert.Bytes: ${(e as Error).message}`);
  }
  const parts = certParts(der);
  return { name: parts.subject, key: parsePrivateKey(c.Key), subjectKeyId: parts.subjectKeyId };
}

const rsaKey = (bits: number): KeyObject => generateKeyPairSync('rsa', { modulusLength: bits }).privateKey;

export function certificateFunctions(now: () => Date): Record<string, TemplateFunction> {
  const request = (cn: string, ips: unknown, dns: unknown, days: unknown, isCA: boolean): CertRequest => ({
    cn,
    ips: listOfStrings(ips, 'ips'),
    dns: listOfStrings(dns, 'alternate DNS names'),
    daysValid: Number(days as bigint),
    isCA,
    now: now(),
  });
  const selfSigned = (req: CertRequest, key: KeyObject): Certificate =>
    new Certificate(createCertificate(req, key, null), keyPem(key));
  const signed = (req: CertRequest, key: KeyObject, ca: unknown): Certificate =>
    new Certificate(createCertificate(req, key, caFrom(ca)), keyPem(key));
  return {
    genPrivateKey: sig(['string'])((typ: string) => {
      switch (typ) {
        case '':
        case 'rsa':
          return keyPem(rsaKey(4096));
        case 'ecdsa':
          return keyPem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
        case 'ed25519':
          return keyPem(generateKeyPairSync('ed25519').privateKey);
        case 'dsa':
          throw new Error('dsa keys are not supported by Slipway');
        default:
          return `Unknown type ${typ}`;
      }
    }),
    genCA: sig(['string', 'int'])((cn: string, days: unknown) =>
      selfSigned(request(cn, null, null, days, true), rsaKey(2048)),
    ),
    genCAWithKey: sig(['string', 'int', 'string'])((cn: string, days: unknown, key: string) =>
      selfSigned(request(cn, null, null, days, true), parsePrivateKey(key)),
    ),
    genSelfSignedCert: sig(['string', 'slice', 'slice', 'int'])(
      (cn: string, ips: unknown, dns: unknown, days: unknown) =>
        selfSigned(request(cn, ips, dns, days, false), rsaKey(2048)),
    ),
    genSelfSignedCertWithKey: sig(['string', 'slice', 'slice', 'int', 'string'])(
      (cn: string, ips: unknown, dns: unknown, days: unknown, key: string) =>
        selfSigned(request(cn, ips, dns, days, false), parsePrivateKey(key)),
    ),
    genSignedCert: sig(['string', 'slice', 'slice', 'int', 'any'])(
      (cn: string, ips: unknown, dns: unknown, days: unknown, ca: unknown) =>
        signed(request(cn, ips, dns, days, false), rsaKey(2048), ca),
    ),
    genSignedCertWithKey: sig(['string', 'slice', 'slice', 'int', 'any', 'string'])(
      (cn: string, ips: unknown, dns: unknown, days: unknown, ca: unknown, key: string) =>
        signed(request(cn, ips, dns, days, false), parsePrivateKey(key), ca),
    ),
    buildCustomCert: sig(['string', 'string'])((b64cert: string, b64key: string) => {
      const cert = Buffer.from(b64cert, 'base64').toString('utf8');
      const key = Buffer.from(b64key, 'base64').toString('utf8');
      if (!cert.includes('-----BEGIN')) throw new Error('unable to decode certificate');
      try {
        new X509Certificate(cert);
      } catch (e) {
        throw new Error(`error parsing certificate: decodedCert.Bytes: ${(e as Error).message}`);
      }
      parsePrivateKey(key);
      return new Certificate(cert, key);
    }),
  };
}
