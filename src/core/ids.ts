// Identifiers and secrets.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';

/** A random URL-safe id, 16 bytes of entropy by default. */
export function newId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** A random secret token with a readable prefix, e.g. `slw_...`. */
export function newSecret(prefix: string, bytes = 32): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Compares two strings in time that does not depend on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) {
    // Compare against itself so the time spent does not reveal the length mismatch early.
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}
