// Users, role bindings, API tokens, UI sessions and the audit log, on the store.
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  AuthenticationError,
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  newId,
  newSecret,
  sha256Hex,
  writeFileAtomicSync,
  type Clock,
  systemClock,
} from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { checkPasswordStrength, decoyHash, hashPassword, verifyPassword } from './passwords.ts';
import {
  ANONYMOUS,
  can,
  isEnvironmentRole,
  isGlobalRole,
  isProjectRole,
  type Action,
  type Binding,
  type GlobalRole,
  type Resource,
  type Subject,
} from './policy.ts';

const MIGRATIONS = {
  module: 'auth',
  steps: [
    `CREATE TABLE users (
       name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,
       created_at TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);
     CREATE TABLE bindings (
       user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
       scope TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,
       PRIMARY KEY (user_name, scope, name));
     CREATE TABLE tokens (
       id TEXT PRIMARY KEY, user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
       name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,
       expires_at TEXT, last_used_at TEXT);
     CREATE TABLE sessions (
       hash TEXT PRIMARY KEY, user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
       expires_at INTEGER NOT NULL);
     CREATE TABLE audit (
       id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, actor TEXT NOT NULL,
       action TEXT NOT NULL, resource TEXT NOT NULL, outcome TEXT NOT NULL, details TEXT);
     CREATE INDEX audit_time ON audit(time);`,
  ],
};

const NAME_RE = /^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$/;

export interface UserInfo {
  name: string;
  role: GlobalRole;
  createdAt: string;
  disabled: boolean;
  bindings: Binding[];
}

export interface TokenInfo {
  id: string;
  user: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export interface AuditEntry {
  id: number;
  time: string;
  actor: string;
  action: string;
  resource: string;
  outcome: 'ok' | 'denied' | 'failed';
  details: Record<string, unknown> | null;
}

export interface AuditInput {
  actor: Subject | string;
  action: string;
  resource: string;
  outcome?: AuditEntry['outcome'];
  details?: Record<string, unknown>;
}

export interface AuthServiceOptions {
  clock?: Clock;
  sessionTtlSeconds?: number;
}

/** Validates a user (or org, project, robot) name: lower-case letters, digits, `.`, `_`, `-`. */
export function validateName(kind: string, name: string): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new InputError(
      `Invalid ${kind} name ${JSON.stringify(name)}: use 1-64 lower-case letters, digits, ".", "_" or "-", starting and ending with a letter or digit`,
      { location: { field: 'name' } },
    );
  }
  return name;
}

export class AuthService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #sessionTtlMs: number;

  constructor(store: Store, options: AuthServiceOptions = {}) {
    this.#store = store;
    this.#clock = options.clock ?? systemClock;
    this.#sessionTtlMs = (options.sessionTtlSeconds ?? 7 * 86400) * 1000;
    store.migrate(MIGRATIONS);
  }

  #now(): string {
    return new Date(this.#clock.now()).toISOString();
  }

  /**
   * On first start (no users at all) creates `admin` with a random password, writes it to
   * `<dataDir>/initial-admin-password` (mode 0600) and returns it; otherwise returns undefined.
   */
  async bootstrapAdmin(dataDir: string): Promise<string | undefined> {
    const count = this.#store.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users').get()?.n ?? 0;
    if (count > 0) return undefined;
    const password = randomBytes(18).toString('base64url');
    await this.createUser({ name: 'admin', password, role: 'admin' }, 'system');
    const file = join(dataDir, 'initial-admin-password');
    writeFileAtomicSync(file, `${password}\n`, 0o600);
    if (existsSync(file)) chmodSync(file, 0o600);
    return password;
  }

  async createUser(
    input: { name: string; password: string; role: string; bindings?: Binding[] },
    actor: Subject | string,
  ): Promise<UserInfo> {
    const name = validateName('user', input.name);
    if (!isGlobalRole(input.role)) {
      throw new InputError(
        `Invalid role ${JSON.stringify(input.role)}: use admin, maintainer, developer or viewer`,
        {
          location: { field: 'role' },
        },
      );
    }
    const weak = checkPasswordStrength(input.password ?? '');
    if (weak)
      throw new InputError(`Invalid password for user "${name}": ${weak}`, {
        location: { field: 'password' },
      });
    for (const b of input.bindings ?? []) this.#checkBinding(b);
    const hash = await hashPassword(input.password);
    this.#store.transaction(() => {
      const exists = this.#store.db.prepare('SELECT 1 FROM users WHERE name = ?').get(name);
      if (exists) throw new ConflictError(`User "${name}" already exists`);
      this.#store.db
        .prepare('INSERT INTO users (name, password_hash, role, created_at) VALUES (?, ?, ?, ?)')
        .run(name, hash, input.role, this.#now());
      for (const b of input.bindings ?? []) this.#insertBinding(name, b);
      this.audit({ actor, action: 'user.create', resource: `user/${name}`, details: { role: input.role } });
    });
    return this.getUser(name);
  }

  #checkBinding(b: Binding): void {
    const ok =
      (b.scope === 'project' && isProjectRole(b.role)) ||
      (b.scope === 'environment' && isEnvironmentRole(b.role));
    if (!ok) {
      throw new InputError(
        `Invalid binding ${JSON.stringify(b)}: project roles are admin, maintainer, developer, guest; environment roles are deployer, approver`,
        { location: { field: 'bindings' } },
      );
    }
    validateName(b.scope, b.name);
  }

  #insertBinding(user: string, b: Binding): void {
    this.#store.db
      .prepare('INSERT OR REPLACE INTO bindings (user_name, scope, name, role) VALUES (?, ?, ?, ?)')
      .run(user, b.scope, b.name, b.role);
  }

  getUser(name: string): UserInfo {
    const row = this.#store.db
      .prepare<[string], { name: string; role: GlobalRole; created_at: string; disabled: number }>(
        'SELECT name, role, created_at, disabled FROM users WHERE name = ?',
      )
      .get(name);
    if (!row) throw new NotFoundError(`User "${name}" not found`);
    return {
      name: row.name,
      role: row.role,
      createdAt: row.created_at,
      disabled: row.disabled === 1,
      bindings: this.#bindingsOf(name),
    };
  }

  hasUser(name: string): boolean {
    return this.#store.db.prepare('SELECT 1 FROM users WHERE name = ?').get(name) !== undefined;
  }

  listUsers(): UserInfo[] {
    const names = this.#store.db.prepare<[], { name: string }>('SELECT name FROM users ORDER BY name').all();
    return names.map((r) => this.getUser(r.name));
  }

  #bindingsOf(name: string): Binding[] {
    return this.#store.db
      .prepare<[string], Binding>(
        'SELECT scope, name, role FROM bindings WHERE user_name = ? ORDER BY scope, name',
      )
      .all(name);
  }

  setRole(name: string, role: string, actor: Subject | string): UserInfo {
    if (!isGlobalRole(role)) {
      throw new InputError(
        `Invalid role ${JSON.stringify(role)}: use admin, maintainer, developer or viewer`,
        {
          location: { field: 'role' },
        },
      );
    }
    this.#store.transaction(() => {
      const res = this.#store.db.prepare('UPDATE users SET role = ? WHERE name = ?').run(role, name);
      if (res.changes === 0) throw new NotFoundError(`User "${name}" not found`);
      this.audit({ actor, action: 'user.set-role', resource: `user/${name}`, details: { role } });
    });
    return this.getUser(name);
  }

  /** Adds or replaces one binding (project role or environment right) of a user. */
  bind(name: string, binding: Binding, actor: Subject | string): UserInfo {
    this.#checkBinding(binding);
    this.#store.transaction(() => {
      if (!this.hasUser(name)) throw new NotFoundError(`User "${name}" not found`);
      this.#insertBinding(name, binding);
      this.audit({ actor, action: 'user.bind', resource: `user/${name}`, details: { ...binding } });
    });
    return this.getUser(name);
  }

  unbind(name: string, binding: Pick<Binding, 'scope' | 'name'>, actor: Subject | string): UserInfo {
    this.#store.transaction(() => {
      this.#store.db
        .prepare('DELETE FROM bindings WHERE user_name = ? AND scope = ? AND name = ?')
        .run(name, binding.scope, binding.name);
      this.audit({ actor, action: 'user.unbind', resource: `user/${name}`, details: { ...binding } });
    });
    return this.getUser(name);
  }

  async setPassword(name: string, password: string, actor: Subject | string): Promise<void> {
    const weak = checkPasswordStrength(password ?? '');
    if (weak)
      throw new InputError(`Invalid password for user "${name}": ${weak}`, {
        location: { field: 'password' },
      });
    const hash = await hashPassword(password);
    this.#store.transaction(() => {
      const res = this.#store.db.prepare('UPDATE users SET password_hash = ? WHERE name = ?').run(hash, name);
      if (res.changes === 0) throw new NotFoundError(`User "${name}" not found`);
      this.audit({ actor, action: 'user.set-password', resource: `user/${name}` });
    });
  }

  deleteUser(name: string, actor: Subject | string): void {
    this.#store.transaction(() => {
      const res = this.#store.db.prepare('DELETE FROM users WHERE name = ?').run(name);
      if (res.changes === 0) throw new NotFoundError(`User "${name}" not found`);
      this.audit({ actor, action: 'user.delete', resource: `user/${name}` });
    });
  }

  /** The subject for a known, enabled user (used after a credential has been checked). */
  subjectFor(name: string): Subject {
    const user = this.getUser(name);
    if (user.disabled) throw new AuthenticationError('Invalid credentials');
    return { kind: 'user', name: user.name, role: user.role, bindings: user.bindings };
  }

  /**
   * Checks a user name and a password or API token. Throws {@link AuthenticationError} with the
   * same message whatever was wrong, after the same amount of work.
   */
  async verifyCredentials(name: string, secret: string): Promise<Subject> {
    if (secret.startsWith('slw_')) {
      const subject = this.verifyToken(secret);
      if (subject && subject.name === name) return subject;
      await verifyPassword(secret, await decoyHash());
      throw new AuthenticationError('Invalid credentials');
    }
    const row = this.#store.db
      .prepare<[string], { password_hash: string; disabled: number }>(
        'SELECT password_hash, disabled FROM users WHERE name = ?',
      )
      .get(name);
    const ok = await verifyPassword(secret, row?.password_hash ?? (await decoyHash()));
    if (!row || !ok || row.disabled) throw new AuthenticationError('Invalid credentials');
    return this.subjectFor(name);
  }

  /** Creates an API token; the secret is returned once and only its hash is stored. */
  createToken(
    user: string,
    input: { name: string; expiresInDays?: number },
    actor: Subject | string,
  ): { token: string; info: TokenInfo } {
    const tokenName = validateName('token', input.name);
    if (!this.hasUser(user)) throw new NotFoundError(`User "${user}" not found`);
    const secret = newSecret('slw');
    const id = newId(9);
    const created = this.#now();
    const expires =
      input.expiresInDays !== undefined
        ? new Date(this.#clock.now() + input.expiresInDays * 86400_000).toISOString()
        : null;
    this.#store.transaction(() => {
      this.#store.db
        .prepare(
          'INSERT INTO tokens (id, user_name, name, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(id, user, tokenName, sha256Hex(secret), created, expires);
      this.audit({
        actor,
        action: 'token.create',
        resource: `user/${user}/token/${id}`,
        details: { name: tokenName },
      });
    });
    return {
      token: secret,
      info: { id, user, name: tokenName, createdAt: created, expiresAt: expires, lastUsedAt: null },
    };
  }

  listTokens(user: string): TokenInfo[] {
    return this.#store.db
      .prepare<[string], TokenInfo>(
        `SELECT id, user_name AS user, name, created_at AS createdAt, expires_at AS expiresAt,
                last_used_at AS lastUsedAt FROM tokens WHERE user_name = ? ORDER BY created_at`,
      )
      .all(user);
  }

  /** Revokes a token by id or name; `user` limits the search to that user's tokens (null: any user). */
  revokeToken(user: string | null, idOrName: string, actor: Subject | string): void {
    this.#store.transaction(() => {
      const row = this.#store.db
        .prepare<[string, string, string | null, string | null], { id: string; user_name: string }>(
          'SELECT id, user_name FROM tokens WHERE (id = ? OR name = ?) AND (? IS NULL OR user_name = ?)',
        )
        .get(idOrName, idOrName, user, user);
      if (!row) throw new NotFoundError(`Token "${idOrName}" not found`);
      this.#store.db.prepare('DELETE FROM tokens WHERE id = ?').run(row.id);
      this.audit({ actor, action: 'token.revoke', resource: `user/${row.user_name}/token/${row.id}` });
    });
  }

  /** The subject of an API token, or undefined when it is unknown, expired or its user disabled. */
  verifyToken(secret: string): Subject | undefined {
    const row = this.#store.db
      .prepare<[string], { id: string; user_name: string; expires_at: string | null }>(
        'SELECT id, user_name, expires_at FROM tokens WHERE hash = ?',
      )
      .get(sha256Hex(secret));
    if (!row) return undefined;
    if (row.expires_at && Date.parse(row.expires_at) <= this.#clock.now()) return undefined;
    this.#store.db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(this.#now(), row.id);
    try {
      return this.subjectFor(row.user_name);
    } catch {
      return undefined;
    }
  }

  /** Starts a UI session; returns the cookie value. */
  createSession(user: string): { cookie: string; expiresAt: number } {
    const cookie = newSecret('sess');
    const expiresAt = this.#clock.now() + this.#sessionTtlMs;
    this.#store.db
      .prepare('INSERT INTO sessions (hash, user_name, expires_at) VALUES (?, ?, ?)')
      .run(sha256Hex(cookie), user, expiresAt);
    this.#store.db.prepare('DELETE FROM sessions WHERE expires_at < ?').run(this.#clock.now());
    return { cookie, expiresAt };
  }

  verifySession(cookie: string): Subject | undefined {
    const row = this.#store.db
      .prepare<[string], { user_name: string; expires_at: number }>(
        'SELECT user_name, expires_at FROM sessions WHERE hash = ?',
      )
      .get(sha256Hex(cookie));
    if (!row || row.expires_at <= this.#clock.now()) return undefined;
    try {
      return this.subjectFor(row.user_name);
    } catch {
      return undefined;
    }
  }

  endSession(cookie: string): void {
    this.#store.db.prepare('DELETE FROM sessions WHERE hash = ?').run(sha256Hex(cookie));
  }

  /**
   * Resolves the subject of a request from its headers: `Authorization: Bearer <api token>`,
   * `Authorization: Basic user:password-or-token`, or the `slipway_session` cookie.
   * No credentials gives {@link ANONYMOUS}; wrong credentials throw {@link AuthenticationError}.
   */
  async authenticate(headers: {
    authorization?: string | undefined;
    cookie?: string | undefined;
  }): Promise<Subject> {
    const header = headers.authorization;
    if (header) {
      const [scheme, value = ''] = header.split(/\s+/, 2) as [string, string?];
      if (/^bearer$/i.test(scheme)) {
        const subject = value.startsWith('slw_') ? this.verifyToken(value) : undefined;
        if (!subject) throw new AuthenticationError('Invalid credentials');
        return subject;
      }
      if (/^basic$/i.test(scheme)) {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 0) throw new AuthenticationError('Invalid credentials');
        return this.verifyCredentials(decoded.slice(0, colon), decoded.slice(colon + 1));
      }
      throw new AuthenticationError(`Unsupported authorization scheme "${scheme}"; use Bearer or Basic`);
    }
    const cookie = parseCookie(headers.cookie ?? '')[SESSION_COOKIE];
    if (cookie) {
      const subject = this.verifySession(cookie);
      if (!subject) throw new AuthenticationError('Session expired; sign in again');
      return subject;
    }
    return ANONYMOUS;
  }

  /**
   * Throws unless `subject` may do `action` on `resource`: {@link AuthenticationError} (401) for an
   * anonymous subject, {@link NotAllowedError} (403) otherwise. Denials are written to the audit log.
   */
  require(subject: Subject, action: Action, resource: Resource): void {
    if (can(subject, action, resource)) return;
    if (subject.kind === 'anonymous') throw new AuthenticationError(`Authentication required to ${action}`);
    this.audit({ actor: subject, action, resource: describeResource(resource), outcome: 'denied' });
    throw new NotAllowedError(`User "${subject.name}" may not ${action} on ${describeResource(resource)}`, {
      details: { action, resource: describeResource(resource) },
    });
  }

  can(subject: Subject, action: Action, resource: Resource): boolean {
    return can(subject, action, resource);
  }

  audit(entry: AuditInput): void {
    const actor = typeof entry.actor === 'string' ? entry.actor : entry.actor.name || 'anonymous';
    this.#store.db
      .prepare(
        'INSERT INTO audit (time, actor, action, resource, outcome, details) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(
        this.#now(),
        actor,
        entry.action,
        entry.resource,
        entry.outcome ?? 'ok',
        entry.details ? JSON.stringify(entry.details) : null,
      );
  }

  listAudit(filter: { actor?: string; action?: string; limit?: number } = {}): AuditEntry[] {
    const rows = this.#store.db
      .prepare<
        [string | null, string | null, string | null, string | null, number],
        Omit<AuditEntry, 'details'> & { details: string | null }
      >(
        `SELECT id, time, actor, action, resource, outcome, details FROM audit
         WHERE (? IS NULL OR actor = ?) AND (? IS NULL OR action LIKE ?)
         ORDER BY id DESC LIMIT ?`,
      )
      .all(
        filter.actor ?? null,
        filter.actor ?? null,
        filter.action ?? null,
        filter.action ? `${filter.action}%` : null,
        Math.min(filter.limit ?? 200, 10_000),
      );
    return rows.map((r) => ({
      ...r,
      details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
    }));
  }
}

export const SESSION_COOKIE = 'slipway_session';

export function parseCookie(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    if (key) out[key] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return out;
}

export function describeResource(resource: Resource): string {
  switch (resource.kind) {
    case 'system':
      return 'slipway';
    case 'project':
      return `project "${resource.name}"`;
    case 'environment':
      return `environment "${resource.name}"`;
  }
}
