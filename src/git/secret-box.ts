// Encryption at rest for credentials (webhook secrets, tokens, deploy keys, pipeline secrets):
// AES-256-GCM with a random 96-bit nonce per value, and a key kept in `<data>/keys/` with mode 0600.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, writeFileAtomicSync } from '../core/index.ts';

export interface SecretBox {
  /** Encrypts `plain`; the result is `v1:<nonce>:<tag>:<ciphertext>` in base64url parts. */
  seal(plain: string): string;
  /** Decrypts what {@link SecretBox.seal} produced; throws when it was tampered with. */
  open(sealed: string): string;
}

/** A box keyed with a 32-byte key. */
export function secretBoxFromKey(key: Buffer): SecretBox {
  if (key.length !== 32) throw new InputError('A secret box key must be 32 bytes');
  return {
    seal(plain) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return `v1:${nonce.toString('base64url')}:${tag.toString('base64url')}:${data.toString('base64url')}`;
    },
    open(sealed) {
      const [v, nonce, tag, data] = sealed.split(':');
      if (v !== 'v1' || nonce === undefined || tag === undefined || data === undefined) {
        throw new InputError('Cannot decrypt a stored secret: unknown format');
      }
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    },
  };
}

/** Opens (creating on first use) the key at `<dataDir>/keys/<name>.key` with mode 0600. */
export function openSecretBox(dataDir: string, name = 'secrets'): SecretBox {
  const dir = join(dataDir, 'keys');
  const file = join(dir, `${name}.key`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(file)) writeFileAtomicSync(file, randomBytes(32).toString('base64'), 0o600);
  chmodSync(file, 0o600);
  return secretBoxFromKey(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'));
}
