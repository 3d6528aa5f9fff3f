// Content digests (`algorithm:hex`) as the OCI image spec defines them. Pure.
import { createHash } from 'node:crypto';

/** A digest such as `sha256:9f86d0…` (sha256 or sha512). */
export type Digest = `sha256:${string}` | `sha512:${string}`;

const DIGEST_RE = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

/** Parses a digest; returns undefined when it is malformed or its algorithm is not sha256/sha512. */
export function tryParseDigest(value: string): { algorithm: 'sha256' | 'sha512'; hex: string } | undefined {
  const m = DIGEST_RE.exec(value);
  if (!m) return undefined;
  const algorithm = m[1]!;
  const hex = m[2]!;
  const len = HEX_LENGTH[algorithm];
  if (len === undefined || hex.length !== len || !/^[a-f0-9]+$/.test(hex)) return undefined;
  return { algorithm: algorithm as 'sha256' | 'sha512', hex };
}

/** True when `value` is a well-formed sha256 or sha512 digest. */
export function isDigest(value: string): value is Digest {
  return tryParseDigest(value) !== undefined;
}

/** The sha256 digest of `data`. */
export function sha256Digest(data: Uint8Array | string): `sha256:${string}` {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
