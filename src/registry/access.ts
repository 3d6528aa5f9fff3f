// Who is calling the registry and what they may do: Basic credentials (users, API tokens, robots),
// Slipway API tokens, and the Docker registry token service (short-lived ES256 JWTs with `access` claims).
import {
  createPrivateKey,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
  sign as signBytes,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  jwtVerify,
  type CryptoKey as JoseKey,
} from 'jose';
import { ANONYMOUS, type AuthService, type Subject, SYSTEM } from '../auth/index.ts';
import { AuthenticationError, type Clock, sha256Hex, writeFileAtomic } from '../core/index.ts';
import type { ScopeRequest } from './names.ts';
import type { ProjectService } from './projects.ts';

export const TOKEN_SERVICE = 'slipway';
const ISSUER = 'slipway-registry';
const REFRESH_TTL_SECONDS = 30 * 86400;
const CACHE_MAX = 10_000;
/**
 * How long a checked user password is trusted without running scrypt again. Each use still re-reads
 * the user (deleted or disabled users are refused at once); a changed password keeps working this long.
 */
const PASSWORD_CACHE_MS = 60_000;

export interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** The identity behind one request. `access` is set when it came from a registry token. */
export interface Caller {
  subject: Subject;
  access?: Access[];
}

export type RegistryAction = 'pull' | 'push' | 'delete';

const POLICY_ACTION = { pull: 'registry.pull', push: 'registry.push', delete: 'registry.delete' } as const;

export class RegistryAccess {
  readonly #auth: AuthService;
  readonly #projects: ProjectService;
  readonly #clock: Clock;
  readonly #keyFile: string;
  readonly #ttlSeconds: number;
  #signingKey: KeyObject | undefined;
  #publicKey: JoseKey | undefined;
  #kid = '';
  /** Registry tokens known to be valid (issued here, or verified once), until they expire. */
  readonly #tokenCache = new Map<string, { caller: Caller; exp: number }>();
  /** Checked user passwords, keyed by a hash of user and password (never the password itself). */
  readonly #passwordCache = new Map<string, { name: string; until: number }>();
  /** Password checks running now, so concurrent logins with one credential run scrypt once. */
  readonly #passwordChecks = new Map<string, Promise<Subject>>();

  constructor(options: {
    auth: AuthService;
    projects: ProjectService;
    clock: Clock;
    dataDir: string;
    tokenTtlSeconds: number;
  }) {
    this.#auth = options.auth;
    this.#projects = options.projects;
    this.#clock = options.clock;
    this.#keyFile = join(options.dataDir, 'token-signing-key.jwk');
    this.#ttlSeconds = options.tokenTtlSeconds;
  }

  /** Loads the signing key, generating it (mode 0600) on first start. */
  async init(): Promise<void> {
    let jwk: JWK;
    try {
      jwk = JSON.parse(await readFile(this.#keyFile, 'utf8')) as JWK;
    } catch {
      const pair = await generateKeyPair('ES256', { extractable: true });
      jwk = await exportJWK(pair.privateKey);
      await writeFileAtomic(this.#keyFile, JSON.stringify(jwk), 0o600);
    }
    // Tokens are signed with node:crypto (synchronous, no WebCrypto job per token); jose verifies them.
    this.#signingKey = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
    const { d: _d, ...pub } = jwk;
    this.#publicKey = (await importJWK(pub, 'ES256')) as JoseKey;
    this.#kid = await calculateJwkThumbprint(pub);
  }

  /** Forgets every cached token and password check (after robots, members or projects change). */
  invalidateCaches(): void {
    this.#tokenCache.clear();
    this.#passwordCache.clear();
  }

  /**
   * Resolves the caller from an Authorization header. No header: anonymous. Wrong or expired
   * credentials throw {@link AuthenticationError}. API tokens and robot secrets are checked on every
   * request (a sha256 and one row: a revoked token or deleted robot is refused at once); user passwords
   * are checked with scrypt once and then trusted for {@link PASSWORD_CACHE_MS}.
   */
  async identify(authorization: string | undefined): Promise<Caller> {
    if (!authorization) return { subject: ANONYMOUS };
    const space = authorization.indexOf(' ');
    const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : authorization.slice(space + 1).trim();
    if (scheme === 'bearer' && !value.startsWith('slw_')) return this.#verifyToken(value);
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new AuthenticationError('Invalid credentials');
      return { subject: await this.verifyPassword(decoded.slice(0, colon), decoded.slice(colon + 1)) };
    }
    return { subject: await this.#auth.authenticate({ authorization }) };
  }

  /** Checks a user name with a password, API token or robot secret. */
  async verifyPassword(name: string, secret: string): Promise<Subject> {
    if (name.startsWith('robot$')) {
      const robot = this.#projects.verifyRobot(name, secret);
      if (!robot) throw new AuthenticationError('Invalid credentials');
      return robot;
    }
    // API tokens: a hash lookup, no scrypt on success, so nothing to cache (and revocation is immediate).
    if (secret.startsWith('slw_')) return this.#auth.verifyCredentials(name, secret);
    const key = sha256Hex(`${name}\n${secret}`);
    const cached = this.#passwordCache.get(key);
    if (cached && cached.until > this.#clock.now()) {
      try {
        return this.#auth.subjectFor(cached.name);
      } catch {
        this.#passwordCache.delete(key);
        throw new AuthenticationError('Invalid credentials');
      }
    }
    let check = this.#passwordChecks.get(key);
    if (!check) {
      check = this.#auth.verifyCredentials(name, secret).then((subject) => {
        if (this.#passwordCache.size >= CACHE_MAX) this.#passwordCache.clear();
        this.#passwordCache.set(key, { name: subject.name, until: this.#clock.now() + PASSWORD_CACHE_MS });
        return subject;
      });
      this.#passwordChecks.set(key, check);
      const done = () => this.#passwordChecks.delete(key);
      check.then(done, done);
    }
    return check;
  }

  async #verifyToken(token: string): Promise<Caller> {
    const now = this.#clock.now();
    const cached = this.#tokenCache.get(token);
    if (cached && cached.exp * 1000 > now) return cached.caller;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.#publicKey!, {
        issuer: ISSUER,
        audience: TOKEN_SERVICE,
        currentDate: new Date(now),
      }));
    } catch {
      throw new AuthenticationError('Invalid or expired registry token');
    }
    if (payload.typ === 'refresh')
      throw new AuthenticationError('A refresh token cannot be used as an access token');
    const kind = payload.kind === 'user' || payload.kind === 'robot' ? payload.kind : 'anonymous';
    const name = String(payload.sub ?? '');
    // A token outlives nothing it was issued to: a deleted robot's (or user's) tokens stop working.
    if (kind === 'robot' && !this.#projects.robotSubject(name))
      throw new AuthenticationError('Invalid or expired registry token');
    if (kind === 'user') {
      try {
        this.#auth.subjectFor(name);
      } catch {
        throw new AuthenticationError('Invalid or expired registry token');
      }
    }
    const caller = this.#tokenCaller(kind, name, payload.access);
    this.#remember(token, caller, Number(payload.exp));
    return caller;
  }

  #tokenCaller(kind: Subject['kind'], name: string, access: unknown): Caller {
    return {
      subject: kind === 'user' || kind === 'robot' ? { kind, name, role: null, bindings: [] } : ANONYMOUS,
      access: Array.isArray(access) ? (access as Access[]) : [],
    };
  }

  #remember(token: string, caller: Caller, exp: number): void {
    if (this.#tokenCache.size >= CACHE_MAX) this.#tokenCache.clear();
    this.#tokenCache.set(token, { caller, exp });
  }

  /** A compact ES256 JWS of `payload`. */
  #sign(payload: Record<string, unknown>, typ?: string): string {
    const header = { alg: 'ES256', kid: this.#kid, ...(typ ? { typ } : {}) };
    const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    const signature = signBytes('sha256', Buffer.from(input), {
      key: this.#signingKey!,
      dsaEncoding: 'ieee-p1363',
    });
    return `${input}.${signature.toString('base64url')}`;
  }

  /** The live subject behind a token caller (its roles may have changed since the token was issued). */
  liveSubject(caller: Caller): Subject {
    const s = caller.subject;
    if (!caller.access || s.kind === 'anonymous') return s;
    try {
      if (s.kind === 'robot') return this.#projects.robotSubject(s.name) ?? ANONYMOUS;
      return this.#auth.subjectFor(s.name);
    } catch {
      return ANONYMOUS;
    }
  }

  /** Whether the policy lets `subject` do `action` in the project of `repo` (false for unknown projects). */
  allowed(subject: Subject, project: string, action: RegistryAction): boolean {
    const p = this.#projects.get(project);
    if (!p) return false;
    return this.#auth.can(subject, POLICY_ACTION[action], {
      kind: 'project',
      name: project,
      public: p.public,
    });
  }

  /** Whether a token's access claims cover `action` on `repo`. */
  static tokenCovers(access: Access[], repo: string, action: RegistryAction): boolean {
    return access.some(
      (a) =>
        a.type === 'repository' && a.name === repo && (a.actions.includes(action) || a.actions.includes('*')),
    );
  }

  /** The subset of the requested scopes that `subject` may have (Docker token spec). */
  grant(subject: Subject, scopes: ScopeRequest[]): Access[] {
    const out: Access[] = [];
    for (const scope of scopes) {
      if (scope.type === 'registry' && scope.name === 'catalog') {
        if (subject.kind !== 'anonymous') out.push({ type: 'registry', name: 'catalog', actions: ['*'] });
        continue;
      }
      if (scope.type !== 'repository') continue;
      const slash = scope.name.indexOf('/');
      if (slash <= 0) continue;
      const project = scope.name.slice(0, slash);
      const exists = this.#projects.get(project) !== undefined;
      const actions: string[] = [];
      const wanted = scope.actions.includes('*') ? ['pull', 'push', 'delete'] : scope.actions;
      for (const a of wanted) {
        if (a !== 'pull' && a !== 'push' && a !== 'delete') continue;
        // An admin asking for an unknown project gets the grant, so the push fails with a clear NAME_UNKNOWN.
        const ok = exists
          ? this.allowed(subject, project, a)
          : this.#auth.can(subject, 'project.create', SYSTEM);
        if (ok) actions.push(a);
      }
      if (scope.actions.includes('*') && actions.length === 3)
        out.push({ type: 'repository', name: scope.name, actions: ['*'] });
      else out.push({ type: 'repository', name: scope.name, actions });
    }
    return out;
  }

  /** Issues an access token for `subject` with `access`, and a refresh token when asked. */
  async issue(
    subject: Subject,
    access: Access[],
    options: { refresh?: boolean } = {},
  ): Promise<{ token: string; expiresIn: number; issuedAt: string; refreshToken?: string }> {
    const now = Math.floor(this.#clock.now() / 1000);
    const exp = now + this.#ttlSeconds;
    const token = this.#sign(
      {
        access,
        kind: subject.kind,
        iss: ISSUER,
        aud: TOKEN_SERVICE,
        sub: subject.name,
        iat: now,
        nbf: now - 1,
        exp,
        jti: randomBytes(12).toString('base64url'),
      },
      'JWT',
    );
    // Known good: its first use needs no signature check.
    this.#remember(token, this.#tokenCaller(subject.kind, subject.name, access), exp);
    const out: { token: string; expiresIn: number; issuedAt: string; refreshToken?: string } = {
      token,
      expiresIn: this.#ttlSeconds,
      issuedAt: new Date(now * 1000).toISOString(),
    };
    if (options.refresh && subject.kind !== 'anonymous') {
      out.refreshToken = this.#sign({
        typ: 'refresh',
        kind: subject.kind,
        iss: ISSUER,
        aud: TOKEN_SERVICE,
        sub: subject.name,
        iat: now,
        exp: now + REFRESH_TTL_SECONDS,
      });
    }
    return out;
  }

  /** The subject of a refresh token, re-read from the store (deleted users and robots fail). */
  async subjectOfRefreshToken(token: string): Promise<Subject> {
    try {
      const { payload } = await jwtVerify(token, this.#publicKey!, {
        issuer: ISSUER,
        audience: TOKEN_SERVICE,
        currentDate: new Date(this.#clock.now()),
      });
      if (payload.typ !== 'refresh' || typeof payload.sub !== 'string')
        throw new Error('not a refresh token');
      if (payload.kind === 'robot') {
        const robot = this.#projects.robotSubject(payload.sub);
        if (!robot) throw new Error('robot gone');
        return robot;
      }
      return this.#auth.subjectFor(payload.sub);
    } catch {
      throw new AuthenticationError('Invalid or expired refresh token');
    }
  }
}
