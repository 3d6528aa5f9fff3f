// REST endpoints for sign-in, users, tokens and the audit log.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { SESSION_COOKIE, SYSTEM, type AuthService, type Binding, type Subject } from '../auth/index.ts';
import { AuthenticationError, InputError, NotAllowedError, jsonObject, stringField } from '../core/index.ts';

function parseBinding(b: Record<string, unknown>): Binding {
  const scope = stringField(b, 'scope');
  if (scope !== 'project' && scope !== 'environment') {
    throw new InputError(`Field "scope" must be "project" or "environment", not ${JSON.stringify(scope)}`, {
      location: { field: 'scope' },
    });
  }
  return { scope, name: stringField(b, 'name')!, role: stringField(b, 'role')! } as Binding;
}

export function authRoutes(auth: AuthService, options: { secureCookies: boolean }): FastifyPluginAsync {
  return async (app) => {
    const subjectOf = (request: FastifyRequest): Promise<Subject> => auth.authenticate(request.headers);
    const requireUser = async (request: FastifyRequest): Promise<Subject> => {
      const s = await subjectOf(request);
      if (s.kind === 'anonymous') throw new AuthenticationError('Authentication required');
      return s;
    };

    app.post('/login', async (request, reply) => {
      const b = jsonObject(request.body);
      const name = stringField(b, 'username')!;
      const password = stringField(b, 'password')!;
      let subject: Subject;
      try {
        subject = await auth.verifyCredentials(name, password);
      } catch (err) {
        auth.audit({ actor: name, action: 'login', resource: 'slipway', outcome: 'failed' });
        throw err;
      }
      auth.audit({ actor: subject, action: 'login', resource: 'slipway' });
      const result: Record<string, unknown> = { user: auth.getUser(subject.name) };
      if (b.token === true || typeof b.token === 'string') {
        const tokenName = typeof b.token === 'string' ? b.token : `cli-${Date.now().toString(36)}`;
        const created = auth.createToken(subject.name, { name: tokenName }, subject);
        result.token = created.token;
        result.tokenInfo = created.info;
      } else {
        const session = auth.createSession(subject.name);
        reply.header(
          'set-cookie',
          `${SESSION_COOKIE}=${session.cookie}; Path=/; HttpOnly; SameSite=Strict; Expires=${new Date(session.expiresAt).toUTCString()}${options.secureCookies ? '; Secure' : ''}`,
        );
      }
      return result;
    });

    app.post('/logout', async (request, reply) => {
      const cookie = /(?:^|;\s*)slipway_session=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
      if (cookie) auth.endSession(decodeURIComponent(cookie));
      reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
      return { ok: true };
    });

    app.get('/me', async (request) => {
      const s = await requireUser(request);
      return { ...auth.getUser(s.name), kind: s.kind };
    });

    app.get('/users', async (request) => {
      const s = await requireUser(request);
      auth.require(s, 'cluster.view', SYSTEM);
      return { items: auth.listUsers() };
    });

    app.post('/users', async (request, reply) => {
      const s = await subjectOf(request);
      auth.require(s, 'user.admin', SYSTEM);
      const b = jsonObject(request.body);
      const bindings = Array.isArray(b.bindings)
        ? b.bindings.map((x) => parseBinding(x as Record<string, unknown>))
        : [];
      const user = await auth.createUser(
        {
          name: stringField(b, 'name')!,
          password: stringField(b, 'password')!,
          role: stringField(b, 'role', false) ?? 'viewer',
          bindings,
        },
        s,
      );
      reply.code(201);
      return user;
    });

    app.get<{ Params: { name: string } }>('/users/:name', async (request) => {
      const s = await requireUser(request);
      if (s.name !== request.params.name) auth.require(s, 'cluster.view', SYSTEM);
      return auth.getUser(request.params.name);
    });

    app.patch<{ Params: { name: string } }>('/users/:name', async (request) => {
      const s = await subjectOf(request);
      const b = jsonObject(request.body);
      const password = stringField(b, 'password', false);
      const role = stringField(b, 'role', false);
      if (role !== undefined) auth.require(s, 'user.admin', SYSTEM);
      if (password !== undefined && s.name !== request.params.name) auth.require(s, 'user.admin', SYSTEM);
      if (password === undefined && role === undefined) auth.require(s, 'user.admin', SYSTEM);
      if (role !== undefined) auth.setRole(request.params.name, role, s);
      if (password !== undefined) {
        if (s.kind === 'anonymous') throw new AuthenticationError('Authentication required');
        await auth.setPassword(request.params.name, password, s);
      }
      return auth.getUser(request.params.name);
    });

    app.delete<{ Params: { name: string } }>('/users/:name', async (request, reply) => {
      const s = await subjectOf(request);
      auth.require(s, 'user.admin', SYSTEM);
      if (s.name === request.params.name) throw new InputError('You cannot delete your own account');
      auth.deleteUser(request.params.name, s);
      reply.code(204);
    });

    app.post<{ Params: { name: string } }>('/users/:name/bindings', async (request) => {
      const s = await subjectOf(request);
      auth.require(s, 'user.admin', SYSTEM);
      return auth.bind(request.params.name, parseBinding(jsonObject(request.body)), s);
    });

    app.delete<{ Params: { name: string }; Querystring: { scope?: string; name?: string } }>(
      '/users/:name/bindings',
      async (request) => {
        const s = await subjectOf(request);
        auth.require(s, 'user.admin', SYSTEM);
        const q = request.query;
        if ((q.scope !== 'project' && q.scope !== 'environment') || !q.name) {
          throw new InputError('Query parameters "scope" (project or environment) and "name" are required');
        }
        return auth.unbind(request.params.name, { scope: q.scope, name: q.name }, s);
      },
    );

    app.get('/tokens', async (request) => {
      const s = await requireUser(request);
      return { items: auth.listTokens(s.name) };
    });

    app.post('/tokens', async (request, reply) => {
      const s = await requireUser(request);
      if (s.kind !== 'user') throw new NotAllowedError('Only users can create API tokens');
      const b = jsonObject(request.body);
      const days = b.expiresInDays;
      if (days !== undefined && (typeof days !== 'number' || !(days > 0) || days > 3650)) {
        throw new InputError('Field "expiresInDays" must be a number from 1 to 3650', {
          location: { field: 'expiresInDays' },
        });
      }
      const user = stringField(b, 'user', false) ?? s.name;
      if (user !== s.name) auth.require(s, 'user.admin', SYSTEM);
      const created = auth.createToken(
        user,
        { name: stringField(b, 'name')!, ...(days !== undefined ? { expiresInDays: days } : {}) },
        s,
      );
      reply.code(201);
      return { token: created.token, ...created.info };
    });

    app.delete<{ Params: { id: string } }>('/tokens/:id', async (request, reply) => {
      const s = await requireUser(request);
      const admin = auth.can(s, 'user.admin', SYSTEM);
      auth.revokeToken(admin ? null : s.name, request.params.id, s);
      reply.code(204);
    });

    app.get<{ Querystring: { actor?: string; action?: string; limit?: string } }>(
      '/audit',
      async (request) => {
        const s = await subjectOf(request);
        auth.require(s, 'audit.view', SYSTEM);
        const q = request.query;
        return {
          items: auth.listAudit({
            ...(q.actor ? { actor: q.actor } : {}),
            ...(q.action ? { action: q.action } : {}),
            ...(q.limit ? { limit: Number(q.limit) || 200 } : {}),
          }),
        };
      },
    );
  };
}
