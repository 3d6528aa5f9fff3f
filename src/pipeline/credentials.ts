// The credential store: named secrets for pipelines, encrypted at rest (AES-256-GCM, key under <data>).
import type { Subject } from '../auth/index.ts';
import { ConflictError, InputError, NotFoundError } from '../core/index.ts';
import type { SecretBox } from '../git/index.ts';
import type { Store } from '../store/index.ts';

export type CredentialKind = 'secret' | 'usernamePassword' | 'file';

export interface CredentialInfo {
  name: string;
  kind: CredentialKind;
  description: string;
  createdAt: string;
  createdBy: string;
}

export interface CredentialValue {
  kind: CredentialKind;
  /** For `secret` and `file`. */
  value?: string;
  username?: string;
  password?: string;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

export class CredentialStore {
  readonly #store: Store;
  readonly #box: SecretBox;

  constructor(store: Store, box: SecretBox) {
    this.#store = store;
    this.#box = box;
  }

  list(): CredentialInfo[] {
    return this.#store.db
      .prepare<[], CredentialInfo>(
        'SELECT name, kind, description, created_at AS createdAt, created_by AS createdBy FROM pipeline_credentials ORDER BY name',
      )
      .all();
  }

  put(
    name: string,
    value: CredentialValue,
    options: { actor: Subject | string; description?: string; replace?: boolean },
  ): CredentialInfo {
    if (!NAME.test(name))
      throw new InputError(`Invalid credential name "${name}"`, { location: { field: 'name' } });
    if (!['secret', 'usernamePassword', 'file'].includes(value.kind)) {
      throw new InputError(`Unknown credential kind "${value.kind}": use secret, usernamePassword or file`, {
        location: { field: 'kind' },
      });
    }
    if (value.kind === 'usernamePassword' ? !value.username || !value.password : !value.value) {
      throw new InputError(
        value.kind === 'usernamePassword' ? 'username and password are required' : 'value is required',
        {
          location: { field: value.kind === 'usernamePassword' ? 'password' : 'value' },
        },
      );
    }
    const exists = this.#store.db.prepare('SELECT 1 FROM pipeline_credentials WHERE name = ?').get(name);
    if (exists && !options.replace) throw new ConflictError(`Credential "${name}" already exists`);
    const actor = typeof options.actor === 'string' ? options.actor : options.actor.name;
    this.#store.db
      .prepare(
        `INSERT INTO pipeline_credentials (name, kind, value, description, created_at, created_by) VALUES (?,?,?,?,?,?)
         ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, value = excluded.value, description = excluded.description`,
      )
      .run(
        name,
        value.kind,
        this.#box.seal(JSON.stringify(value)),
        options.description ?? '',
        new Date().toISOString(),
        actor,
      );
    return this.list().find((c) => c.name === name)!;
  }

  get(name: string): CredentialValue {
    const row = this.#store.db
      .prepare<[string], { value: string }>('SELECT value FROM pipeline_credentials WHERE name = ?')
      .get(name);
    if (!row) throw new NotFoundError(`Credential "${name}" not found`);
    return JSON.parse(this.#box.open(row.value)) as CredentialValue;
  }

  delete(name: string): void {
    const res = this.#store.db.prepare('DELETE FROM pipeline_credentials WHERE name = ?').run(name);
    if (res.changes === 0) throw new NotFoundError(`Credential "${name}" not found`);
  }
}

/** Every secret string of a credential (what the log masker must hide). */
export function secretStrings(value: CredentialValue): string[] {
  const out: string[] = [];
  if (value.value) {
    out.push(value.value);
    for (const line of value.value.split('\n')) if (line.trim().length >= 6) out.push(line.trim());
  }
  if (value.password) out.push(value.password);
  if (value.kind === 'usernamePassword' && value.username && value.password) {
    out.push(Buffer.from(`${value.username}:${value.password}`).toString('base64'));
  }
  return out;
}
