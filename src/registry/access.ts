// Who is calling the registry and what they may do: Basic credentials (users, API tokens, robots),
// Slipway API tokens, and the Docker registry token service (short-lived ES256 JWTs with `access` claims).
import { randomBytes } from 'node:crypto';
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
  SignJWT,
} from 'jose';
import { ANONYMOUS, type AuthService, type Subject, SYSTEM } from '../auth/index.ts';
import { AuthenticationError, type Clock, writeFileAtomic } from '../core/index.ts';
import type { ScopeRequest } from './names.ts';
import type { ProjectService } from './projects.ts';

export const TOKEN_SERVICE = 'slipway';
const ISSUER = 'slipway-registry';
const REFRESH_TTL_SECONDS = 30 * 86400;
const CACHE_MAX = 10_000;
const BASIC_CACHE_MS = 30_000;

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
  #privateKey: JoseKey | undefined;
  #publicKey: JoseKey | undefined;
  #kid = '';
  readonly #tokenCache = new Map<string, { caller: Caller; exp: number }>();
  readonly #basicCache = new Map<string, { subject: Subject; until: number }>();

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
    this.#privateKey = (await importJWK(jwk, 'ES256')) as JoseKey;
    const { d: _d, ...pub } = jwk;
    this.#publicKey = (await importJWK(pub, 'ES256')) as JoseKey;
    this.#kid = await calculateJwkThumbprint(pub);
  }

  invalidateCaches(): void {
    this.#tokenCache.clear();
    this.#basicCache.clear();
  }

  /**
   * Resolves the caller from an Authorization header. No header: anonymous. Wrong or expired
   * credentials throw {@link AuthenticationError}.
   */
  async identify(authorization: string | undefined): Promise<Caller> {
    if (!authorization) return { subject: ANONYMOUS };
    const space = authorization.indexOf(' ');
    const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : authorization.slice(space + 1).trim();
    if (scheme === 'bearer' && !value.startsWith('slw_')) return this.#verifyToken(value);
    const now = this.#clock.now();
    const cached = this.#basicCache.get(authorization);
    if (cached && cached.until > now) return { subject: cached.subject };
    let subject: Subject;
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new AuthenticationError('Invalid credentials');
      subject = await this.verifyPassword(decoded.slice(0, colon), decoded.slice(colon + 1));
    } else {
      subject = await this.#auth.authenticate({ authorization });
    }
    if (this.#basicCache.size >= CACHE_MAX) this.#basicCache.clear();
    this.#basicCache.set(authorization, { subject, until: now + BASIC_CACHE_MS });
    return { subject };
  }

  /** Checks a user name with a password, API token or robot secret. */
  async verifyPassword(name: string, secret: string): Promise<Subject> {
    if (name.startsWith('robot$')) {
      const robot = this.#projects.verifyRobot(name, secret);
      if (!robot) throw new AuthenticationError('Invalid credentials');
      return robot;
    }
    return this.#auth.verifyCredentials(name, secret);
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
    const caller: Caller = {
      subject:
        kind === 'anonymous'
          ? ANONYMOUS
          : { kind, name: String(payload.sub ?? ''), role: null, bindings: [] },
      access: Array.isArray(payload.access) ? (payload.access as Access[]) : [],
    };
    if (this.#tokenCache.size >= CACHE_MAX) this.#tokenCache.clear();
    this.#tokenCache.set(token, { caller, exp: Number(payload.exp) });
    return caller;
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
    const token = await new SignJWT({ access, kind: subject.kind })
      .setProtectedHeader({ alg: 'ES256', kid: this.#kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(TOKEN_SERVICE)
      .setSubject(subject.name)
      .setIssuedAt(now)
      .setNotBefore(now - 1)
      .setExpirationTime(now + this.#ttlSeconds)
      .setJti(randomBytes(12).toString('base64url'))
      .sign(this.#privateKey!);
    const out: { token: string; expiresIn: number; issuedAt: string; refreshToken?: string } = {
      token,
      expiresIn: this.#ttlSeconds,
      issuedAt: new Date(now * 1000).toISOString(),
    };
    if (options.refresh && subject.kind !== 'anonymous') {
      out.refreshToken = await new SignJWT({ typ: 'refresh', kind: subject.kind })
        .setProtectedHeader({ alg: 'ES256', kid: this.#kid })
        .setIssuer(ISSUER)
        .setAudience(TOKEN_SERVICE)
        .setSubject(subject.name)
        .setIssuedAt(now)
        .setExpirationTime(now + REFRESH_TTL_SECONDS)
        .sign(this.#privateKey!);
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
