// Repository credentials, like Argo CD's repository credential templates: a username and password (or
// token) for every URL under a prefix — git over HTTPS, classic Helm repositories, OCI registries
// (`oci://host/...`). Secrets are sealed at rest with the data directory's secret box and never returned
// or logged; the API answers with the prefix, kind and username only.
import type { FastifyPluginAsync } from 'fastify';
import type { AuthService } from '../auth/index.ts';
import { SYSTEM } from '../auth/index.ts';
import { InputError, jsonObject, NotFoundError } from '../core/index.ts';
import type { Store } from '../store/index.ts';

/** Seals and opens secrets (git/'s `SecretBox`). */
export interface Sealer {
  seal(plain: string): string;
  open(sealed: string): string;
}

export interface RepoCredential {
  id: number;
  /** URL prefix: `https://git.example.com/org`, `oci://registry.example:5000`, `https://charts.example.com`. */
  url: string;
  type: 'https' | 'oci';
  username: string;
  createdBy: string;
  createdAt: string;
}

export interface RepoCredentialInput {
  url: string;
  username: string;
  password: string;
}

export interface MatchedCredential {
  url: string;
  username: string;
  password: string;
}

/** Validates and normalises a credential prefix: scheme and host lower-cased, no trailing slash, no user info. */
export function normalizeCredentialUrl(input: unknown): string {
  if (typeof input !== 'string' || input.trim() === '')
    throw new InputError('url is required (https://host/prefix or oci://host/prefix)', {
      location: { field: 'url' },
    });
  const raw = input.trim();
  const m = /^(https?|oci):\/\/([^/?#]+)(\/[^?#]*)?$/i.exec(raw);
  if (!m)
    throw new InputError(`Invalid url ${JSON.stringify(raw)}: use https://host/prefix or oci://host/prefix`, {
      location: { field: 'url' },
    });
  if (m[2]!.includes('@'))
    throw new InputError('The url must not contain credentials; give --username and --password-stdin', {
      location: { field: 'url' },
    });
  const path = (m[3] ?? '').replace(/\/+$/, '');
  return `${m[1]!.toLowerCase()}://${m[2]!.toLowerCase()}${path}`;
}

/** True when `url` is `prefix` or lies under it (at a path boundary). */
function under(url: string, prefix: string): boolean {
  return url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}.git`);
}

function comparable(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/i.exec(url.trim());
  if (!m) return url;
  const host = m[2]!.replace(/^[^@]*@/, '').toLowerCase();
  return `${m[1]!.toLowerCase()}://${host}${m[3]!.replace(/\/+$/, '')}`;
}

export class RepoCredentials {
  readonly #store: Store;
  readonly #box: Sealer;
  readonly #now: () => string;

  constructor(store: Store, box: Sealer, now: () => string = () => new Date().toISOString()) {
    this.#store = store;
    this.#box = box;
    this.#now = now;
  }

  list(): RepoCredential[] {
    return this.#store.db
      .prepare<[], Record<string, unknown>>('SELECT * FROM gitops_repo_creds ORDER BY url')
      .all()
      .map(credentialOf);
  }

  /** Adds the credential for `url`, or replaces the one stored for the same prefix. */
  add(input: RepoCredentialInput, actor: string): RepoCredential {
    const url = normalizeCredentialUrl(input.url);
    if (typeof input.username !== 'string' || input.username.trim() === '' || /[:\n\r]/.test(input.username))
      throw new InputError('username is required (no ":" or line breaks)', {
        location: { field: 'username' },
      });
    if (typeof input.password !== 'string' || input.password === '' || /[\n\r]/.test(input.password))
      throw new InputError('password (or token) is required, on one line', {
        location: { field: 'password' },
      });
    const type = url.startsWith('oci://') ? 'oci' : 'https';
    const sealed = this.#box.seal(JSON.stringify({ password: input.password }));
    this.#store.db
      .prepare(
        `INSERT INTO gitops_repo_creds (url, type, username, secret, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(url) DO UPDATE SET type = excluded.type, username = excluded.username,
           secret = excluded.secret, created_by = excluded.created_by, created_at = excluded.created_at`,
      )
      .run(url, type, input.username.trim(), sealed, actor, this.#now());
    return this.list().find((c) => c.url === url)!;
  }

  /** Removes the credential with this id or prefix. */
  remove(idOrUrl: string): RepoCredential {
    const found = /^\d+$/.test(idOrUrl)
      ? this.list().find((c) => c.id === Number(idOrUrl))
      : this.list().find((c) => c.url === normalizeCredentialUrl(idOrUrl));
    if (!found) throw new NotFoundError(`No repository credential for ${JSON.stringify(idOrUrl)}`);
    this.#store.db.prepare('DELETE FROM gitops_repo_creds WHERE id = ?').run(found.id);
    return found;
  }

  /** The credential with the longest prefix that `url` lies under, with its secret (for the fetchers only). */
  match(url: string): MatchedCredential | undefined {
    const target = comparable(url);
    let best: Record<string, unknown> | undefined;
    for (const row of this.#store.db
      .prepare<[], Record<string, unknown>>('SELECT * FROM gitops_repo_creds')
      .all()) {
      const prefix = String(row.url);
      if (!under(target, prefix)) continue;
      if (!best || prefix.length > String(best.url).length) best = row;
    }
    if (!best) return undefined;
    const { password } = JSON.parse(this.#box.open(String(best.secret))) as { password: string };
    return { url: String(best.url), username: String(best.username), password };
  }
}

function credentialOf(r: Record<string, unknown>): RepoCredential {
  return {
    id: Number(r.id),
    url: String(r.url),
    type: String(r.type) as RepoCredential['type'],
    username: String(r.username),
    createdBy: String(r.created_by),
    createdAt: String(r.created_at),
  };
}

export interface RepoCredsRoutesDeps {
  creds: RepoCredentials;
  auth: Pick<AuthService, 'authenticate' | 'require' | 'audit'>;
}

/** `/repo-creds` (mount under `/api/v1`): list, add (or replace), remove. Admins only; secrets never returned. */
export function repoCredsRoutes(deps: RepoCredsRoutesDeps): FastifyPluginAsync {
  return async (app) => {
    app.get('/repo-creds', async (request) => {
      const subject = await deps.auth.authenticate(request.headers);
      deps.auth.require(subject, 'credential.admin', SYSTEM);
      return { items: deps.creds.list() };
    });
    app.post('/repo-creds', async (request, reply) => {
      const subject = await deps.auth.authenticate(request.headers);
      deps.auth.require(subject, 'credential.admin', SYSTEM);
      const body = jsonObject(request.body);
      const cred = deps.creds.add(
        {
          url: body.url as string,
          username: body.username as string,
          password: body.password as string,
        },
        subject.name,
      );
      deps.auth.audit({
        actor: subject,
        action: 'repo-creds.add',
        resource: `repo-creds/${cred.url}`,
        details: { username: cred.username },
      });
      reply.code(201);
      return cred;
    });
    app.delete<{ Params: { id: string } }>('/repo-creds/:id', async (request, reply) => {
      const subject = await deps.auth.authenticate(request.headers);
      deps.auth.require(subject, 'credential.admin', SYSTEM);
      const removed = deps.creds.remove(decodeURIComponent(request.params.id));
      deps.auth.audit({ actor: subject, action: 'repo-creds.remove', resource: `repo-creds/${removed.url}` });
      reply.code(204);
      return null;
    });
  };
}
