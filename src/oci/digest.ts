// sha256 content digests in the OCI form `sha256:<64 hex>`.
import { createHash } from 'node:crypto';

/** An OCI content digest such as `sha256:e3b0...`. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** The sha256 digest of `data`. */
export function sha256Digest(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** True when `value` is a well-formed sha256 digest. */
export function isDigest(value: string): value is Digest {
  return DIGEST_RE.test(value);
}
