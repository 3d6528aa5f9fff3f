// The Docker token endpoint (`/service/token`) and the registry's REST API under `/api/v1/registry/`.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService, Subject } from '../auth/index.ts';
import {
  AuthenticationError,
  InputError,
  isSlipwayError,
  NotAllowedError,
  NotFoundError,
  jsonObject,
  stringField,
} from '../core/index.ts';
import type { RegistryAccess } from './access.ts';
import { isRepositoryName, parseScope, type ScopeRequest } from './names.ts';
import type { ProjectService, ProjectUpdate } from './projects.ts';
import type { RegistryService } from './service.ts';

export interface ApiRoutesOptions {
  service: RegistryService;
  access: RegistryAccess;
  projects: ProjectService;
  auth: AuthService;
}

function scopesOf(values: string | string[] | undefined): ScopeRequest[] {
  const list = values === undefined ? [] : Array.isArray(values) ? values : [values];
  return list.flatMap(parseScope);
}

export function apiRoutes(options: ApiRoutesOptions): FastifyPluginAsync {
  const { service, access, projects, auth } = options;

  const subjectOf = (request: FastifyRequest): Promise<Subject> => auth.authenticate(request.headers);
  const requireUser = async (request: FastifyRequest): Promise<Subject> => {
    const s = await subjectOf(request);
    if (s.kind === 'anonymous') throw new AuthenticationError('Authentication required');
    return s;
  };

  async function tokenReply(
    reply: FastifyReply,
    subject: Subject,
    scopes: ScopeRequest[],
    refresh: boolean,
    oauth: boolean,
  ) {
    const granted = access.grant(subject, scopes);
    const issued = await access.issue(subject, granted, { refresh });
    reply.header('cache-control', 'no-store');
    return reply.send({
      token: issued.token,
      access_token: issued.token,
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt,
      ...(issued.refreshToken ? { refresh_token: issued.refreshToken } : {}),
      ...(oauth ? { scope: granted.map((g) => `${g.type}:${g.name}:${g.actions.join(',')}`).join(' ') } : {}),
    });
  }

  function tokenError(reply: FastifyReply, err: unknown) {
    if (isSlipwayError(err) && err.status === 401) {
      reply.code(401).header('content-type', 'application/json');
      return reply.send({ errors: [{ code: 'UNAUTHORIZED', message: err.message }] });
    }
    throw err;
  }

  return async (app) => {
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(body as string)));
      },
    );

    // Docker registry token spec: GET with optional Basic credentials.
    app.get('/service/token', async (request, reply) => {
      const q = request.query as Record<string, string | string[] | undefined>;
      try {
        const caller = await access.identify(request.headers.authorization);
        const subject = access.liveSubject(caller);
        const account = typeof q.account === 'string' ? q.account : undefined;
        if (account && subject.kind !== 'anonymous' && account !== subject.name)
          throw new AuthenticationError('The account parameter does not match the credentials');
        const refresh = q.offline_token === 'true' && subject.kind !== 'anonymous';
        return await tokenReply(reply, subject, scopesOf(q.scope), refresh, false);
      } catch (err) {
        return tokenError(reply, err);
      }
    });

    // OAuth2 form (grant_type password or refresh_token), as used by clients holding a refresh token.
    app.post('/service/token', async (request, reply) => {
      const b = jsonObject(request.body, { optional: true }) as Record<string, string | undefined>;
      try {
        let subject: Subject;
        if (b.grant_type === 'refresh_token') {
          subject = await access.subjectOfRefreshToken(b.refresh_token ?? '');
        } else if (b.grant_type === 'password') {
          subject = await access.verifyPassword(b.username ?? '', b.password ?? '');
        } else {
          throw new InputError(
            `Unsupported grant_type ${JSON.stringify(b.grant_type)}: use password or refresh_token`,
          );
        }
        return await tokenReply(reply, subject, scopesOf(b.scope), b.access_type === 'offline', true);
      } catch (err) {
        return tokenError(reply, err);
      }
    });

    const base = '/api/v1/registry';

    app.get(`${base}/projects`, async (request) => {
      const subject = await subjectOf(request);
      const items = projects
        .list()
        .filter((p) => projects.visibleTo(p, subject))
        .map((p) => ({ ...p, usageBytes: projects.usage(p.name) }));
      return { items };
    });

    app.post(`${base}/projects`, async (request, reply) => {
      const subject = await requireUser(request);
      projects.requireCreate(subject);
      const b = jsonObject(request.body, { optional: true });
      const created = projects.create(
        {
          name: stringField(b, 'name')!,
          public: b.public === true,
          ...(b.quotaBytes !== undefined ? { quotaBytes: b.quotaBytes as number | null } : {}),
          ...(b.immutableTags !== undefined ? { immutableTags: b.immutableTags as string[] } : {}),
        },
        subject,
      );
      access.invalidateCaches();
      return reply.code(201).send(created);
    });

    app.get<{ Params: { project: string } }>(`${base}/projects/:project`, async (request) => {
      const subject = await subjectOf(request);
      const p = projects.require(request.params.project);
      if (!projects.visibleTo(p, subject)) {
        if (subject.kind === 'anonymous') throw new AuthenticationError('Authentication required');
        throw new NotFoundError(`Registry project "${p.name}" not found`);
      }
      return { ...p, usageBytes: projects.usage(p.name) };
    });

    app.patch<{ Params: { project: string } }>(`${base}/projects/:project`, async (request) => {
      const subject = await requireUser(request);
      projects.requireAdmin(subject, request.params.project);
      const b = jsonObject(request.body, { optional: true });
      const patch: ProjectUpdate = {};
      if (b.public !== undefined) {
        if (typeof b.public !== 'boolean')
          throw new InputError('Field "public" must be true or false', { location: { field: 'public' } });
        patch.public = b.public;
      }
      if (b.quotaBytes !== undefined) patch.quotaBytes = b.quotaBytes as number | null;
      if (b.immutableTags !== undefined) patch.immutableTags = b.immutableTags as string[];
      if (b.preventVulnerable !== undefined)
        patch.preventVulnerable = b.preventVulnerable as ProjectUpdate['preventVulnerable'];
      const updated = projects.update(request.params.project, patch, subject);
      return { ...updated, usageBytes: projects.usage(updated.name) };
    });

    app.delete<{ Params: { project: string } }>(`${base}/projects/:project`, async (request, reply) => {
      const subject = await requireUser(request);
      projects.requireAdmin(subject, request.params.project);
      projects.delete(request.params.project, subject);
      return reply.code(204).send();
    });

    app.get<{ Params: { project: string } }>(`${base}/projects/:project/members`, async (request) => {
      const subject = await requireUser(request);
      projects.requireAdmin(subject, request.params.project);
      return { items: projects.members(request.params.project) };
    });

    app.post<{ Params: { project: string } }>(`${base}/projects/:project/members`, async (request, reply) => {
      const subject = await requireUser(request);
      projects.requireAdmin(subject, request.params.project);
      const b = jsonObject(request.body, { optional: true });
      const member = projects.addMember(
        request.params.project,
        stringField(b, 'user')!,
        stringField(b, 'role')!,
        subject,
      );
      access.invalidateCaches();
      return reply.code(201).send(member);
    });

    app.delete<{ Params: { project: string; user: string } }>(
      `${base}/projects/:project/members/:user`,
      async (request, reply) => {
        const subject = await requireUser(request);
        projects.requireAdmin(subject, request.params.project);
        projects.removeMember(request.params.project, request.params.user, subject);
        access.invalidateCaches();
        return reply.code(204).send();
      },
    );

    app.get<{ Params: { project: string } }>(`${base}/projects/:project/robots`, async (request) => {
      const subject = await requireUser(request);
      projects.requireAdmin(subject, request.params.project);
      return { items: projects.robots(request.params.project) };
    });

    app.post<{ Params: { project: string } }>(`${base}/projects/:project/robots`, async (request, reply) => {
      const subject = await requireUser(request);
      projects.requireAdmin(subject, request.params.project);
      const b = jsonObject(request.body, { optional: true });
      const days = b.expiresInDays;
      if (days !== undefined && (typeof days !== 'number' || !(days > 0)))
        throw new InputError('expiresInDays must be a positive number', {
          location: { field: 'expiresInDays' },
        });
      const { robot, secret } = projects.createRobot(
        request.params.project,
        {
          name: stringField(b, 'name')!,
          ...(b.permission !== undefined ? { permission: stringField(b, 'permission')! } : {}),
          ...(days !== undefined ? { expiresInDays: days as number } : {}),
        },
        subject,
      );
      return reply.code(201).send({ ...robot, secret });
    });

    app.delete<{ Params: { project: string; name: string } }>(
      `${base}/projects/:project/robots/:name`,
      async (request, reply) => {
        const subject = await requireUser(request);
        projects.requireAdmin(subject, request.params.project);
        projects.deleteRobot(request.params.project, request.params.name, subject);
        access.invalidateCaches();
        return reply.code(204).send();
      },
    );

    app.get(`${base}/repositories`, async (request) => {
      const subject = await subjectOf(request);
      const project = (request.query as { project?: string }).project;
      const list = project ? [projects.require(project)] : projects.list();
      const items = list
        .filter((p) => projects.visibleTo(p, subject))
        .flatMap((p) => service.listProjectRepositories(p.name).map((r) => ({ ...r, project: p.name })));
      if (project && items.length === 0 && !projects.visibleTo(list[0]!, subject)) {
        if (subject.kind === 'anonymous') throw new AuthenticationError('Authentication required');
        throw new NotFoundError(`Registry project "${project}" not found`);
      }
      return { items };
    });

    // GET /repositories/<project>/<name...>/tags
    app.get(`${base}/repositories/*`, async (request) => {
      const rest = (request.params as { '*': string })['*'];
      const manifestMatch = /^(.+)\/manifests\/([^/]+)$/.exec(rest);
      const m = manifestMatch ? null : /^(.+)\/tags$/.exec(rest);
      const name = manifestMatch ? manifestMatch[1]! : m ? m[1]! : rest;
      if (!isRepositoryName(name) || !name.includes('/'))
        throw new InputError(`Invalid repository name ${JSON.stringify(name)}`, {
          location: { field: 'repository' },
        });
      const subject = await subjectOf(request);
      const project = name.slice(0, name.indexOf('/'));
      const p = projects.get(project);
      if (!p || !projects.visibleTo(p, subject) || !service.repositoryExists(name)) {
        if (subject.kind === 'anonymous') throw new AuthenticationError('Authentication required');
        throw new NotFoundError(`Repository "${name}" not found`);
      }
      if (manifestMatch) return manifestDetail(service, name, decodeURIComponent(manifestMatch[2]!));
      const tags = service.listTagDetails(name);
      if (m) return { items: tags };
      return { name, project, tags: tags.length };
    });

    app.post(`${base}/gc`, async (request) => {
      const subject = await requireUser(request);
      if (subject.role !== 'admin')
        throw new NotAllowedError('Only administrators may run registry garbage collection');
      const b = jsonObject(request.body, { optional: true });
      const result = await service.gc({
        dryRun: b.dryRun === true,
        deleteUntagged: b.deleteUntagged === true,
      });
      auth.audit({
        actor: subject,
        action: 'registry.gc',
        resource: 'registry',
        details: { dryRun: result.dryRun, blobs: result.deletedBlobs.length, bytes: result.freedBytes },
      });
      return result;
    });
  };
}

/** A manifest with its parsed JSON and, for an image, its config (for the UI's tag page). */
async function manifestDetail(service: RegistryService, repo: string, reference: string) {
  const found = await service.getManifest(repo, reference);
  if (!found) throw new NotFoundError(`Manifest "${reference}" not found in "${repo}"`);
  const manifest = JSON.parse(found.body.toString('utf8')) as { config?: { digest?: string; size?: number } };
  let config: unknown = null;
  const cfg = manifest.config;
  if (cfg?.digest && (cfg.size ?? 0) <= 1024 * 1024 && service.statBlob(repo, cfg.digest) !== undefined) {
    const chunks: Buffer[] = [];
    for await (const chunk of service.readBlob(cfg.digest)) chunks.push(chunk as Buffer);
    try {
      config = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      config = null;
    }
  }
  return { repository: repo, reference, digest: found.digest, mediaType: found.mediaType, manifest, config };
}
