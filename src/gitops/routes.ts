// REST API under /api/v1: /apps, /envs, /promotions. Every write authenticates and is checked on the server.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { AuthService, Subject } from '../auth/index.ts';
import { InputError } from '../core/index.ts';
import { parseApplicationObject, parseApplications, toManifest } from './app-spec.ts';
import type { SyncWindow } from './app-store.ts';
import type { AppView, GitOpsService } from './service.ts';

export interface GitOpsRoutesDeps {
  service: GitOpsService;
  auth: Pick<AuthService, 'authenticate' | 'require'>;
}

type Body = Record<string, unknown> | undefined;

function parseAppBody(request: FastifyRequest) {
  const body = request.body as Body | string | undefined;
  if (typeof body === 'string') return parseApplications(body, 'request body');
  if (body && typeof body === 'object' && typeof (body as { yaml?: unknown }).yaml === 'string') {
    const b = body as { yaml: string; file?: string };
    return parseApplications(b.yaml, typeof b.file === 'string' ? b.file : 'app.yaml');
  }
  if (body && typeof body === 'object' && Array.isArray((body as { items?: unknown }).items)) {
    return (body as { items: unknown[] }).items.map((i, n) => parseApplicationObject(i, `items[${n}]`));
  }
  return [parseApplicationObject(body)];
}

function intParam(value: string, field: string): number {
  if (!/^\d+$/.test(value))
    throw new InputError(`${field} must be a number, got ${JSON.stringify(value)}`, { location: { field } });
  return Number(value);
}

/**
 * What a list of many apps needs (`GET /apps?view=summary`, the UI's grid): status without the per-resource
 * detail and inventory, which make up most of a full view's bytes.
 */
function summarize(a: AppView) {
  const { resources, inventory: _inventory, revisions: _revisions, ...status } = a.status;
  return {
    name: a.name,
    spec: {
      project: a.spec.project,
      environment: a.spec.environment,
      destination: a.spec.destination,
      syncPolicy: { automated: a.spec.syncPolicy.automated },
      labels: a.spec.labels,
    },
    status: { ...status, resourceCount: resources.length },
    environment: a.environment,
  };
}

export function gitopsRoutes(deps: GitOpsRoutesDeps): FastifyPluginAsync {
  const { service, auth } = deps;
  const who = async (request: FastifyRequest): Promise<Subject> => auth.authenticate(request.headers);
  const viewer = async (request: FastifyRequest, env: string): Promise<Subject> => {
    const s = await who(request);
    const e = service.environment(env);
    auth.require(s, 'app.view', { kind: 'environment', name: e.name, protected: e.protected });
    return s;
  };

  return async (app) => {
    app.addContentTypeParser(
      ['application/yaml', 'text/yaml', 'application/x-yaml', 'text/plain'],
      { parseAs: 'string' },
      (_req, body, done) => done(null, body),
    );

    // ---- applications
    app.get('/apps', async (request) => {
      const s = await who(request);
      const q = request.query as { environment?: string; view?: string };
      const items = service
        .listApps()
        .filter((a) => !q.environment || a.spec.environment === q.environment)
        .filter((a) => {
          try {
            auth.require(s, 'app.view', {
              kind: 'environment',
              name: a.environment.name,
              protected: a.environment.protected,
            });
            return true;
          } catch {
            return false;
          }
        });
      return { items: q.view === 'summary' ? items.map(summarize) : items };
    });

    app.post('/apps', async (request, reply) => {
      const s = await who(request);
      const specs = parseAppBody(request);
      const upsert = (request.query as { upsert?: string }).upsert === 'true';
      const items = specs.map((spec) => service.putApp(spec, s, upsert));
      reply.code(201);
      return items.length === 1 ? items[0] : { items };
    });

    app.put('/apps/:name', async (request) => {
      const s = await who(request);
      const [spec] = parseAppBody(request);
      const name = (request.params as { name: string }).name;
      if (spec!.name !== name)
        throw new InputError(`metadata.name "${spec!.name}" does not match the URL's "${name}"`, {
          location: { field: 'metadata.name' },
        });
      return service.putApp(spec!, s, true);
    });

    app.get('/apps/:name', async (request) => {
      const view = service.getApp((request.params as { name: string }).name);
      await viewer(request, view.spec.environment);
      return { ...view, manifest: toManifest(view.spec) };
    });

    app.delete('/apps/:name', async (request, reply) => {
      const s = await who(request);
      const cascade = (request.query as { cascade?: string }).cascade !== 'false';
      await service.deleteApp((request.params as { name: string }).name, s, cascade);
      reply.code(204);
    });

    app.post('/apps/:name/refresh', async (request) => {
      const name = (request.params as { name: string }).name;
      await viewer(request, service.getApp(name).spec.environment);
      return service.refresh(name, { hard: (request.query as { hard?: string }).hard === 'true' });
    });

    app.get('/apps/:name/diff', async (request) => {
      const name = (request.params as { name: string }).name;
      await viewer(request, service.getApp(name).spec.environment);
      return service.diff(name);
    });

    app.get('/apps/:name/tree', async (request) => {
      const name = (request.params as { name: string }).name;
      await viewer(request, service.getApp(name).spec.environment);
      return { items: await service.resourceTree(name) };
    });

    app.get('/apps/:name/history', async (request) => {
      const name = (request.params as { name: string }).name;
      await viewer(request, service.getApp(name).spec.environment);
      return { items: service.history(name) };
    });

    app.post('/apps/:name/sync', async (request) => {
      const s = await who(request);
      const b = (request.body ?? {}) as { prune?: unknown; dryRun?: unknown; resources?: unknown };
      if (
        b.resources !== undefined &&
        (!Array.isArray(b.resources) || b.resources.some((r) => typeof r !== 'string'))
      ) {
        throw new InputError('resources must be a list of "Kind/name"', { location: { field: 'resources' } });
      }
      return service.sync(
        (request.params as { name: string }).name,
        {
          prune: b.prune === true,
          dryRun: b.dryRun === true,
          ...(b.resources ? { resources: b.resources as string[] } : {}),
        },
        s,
      );
    });

    app.post('/apps/:name/rollback', async (request) => {
      const s = await who(request);
      const b = (request.body ?? {}) as { id?: unknown; revision?: unknown };
      const raw = b.id ?? b.revision;
      if (typeof raw !== 'number' && typeof raw !== 'string')
        throw new InputError('rollback needs the history id', { location: { field: 'id' } });
      return service.rollback((request.params as { name: string }).name, intParam(String(raw), 'id'), s);
    });

    // ---- environments
    app.get('/envs', async (request) => {
      await who(request);
      return { items: service.store.listEnvs() };
    });

    app.get('/envs/:name', async (request) => {
      await who(request);
      return service.environment((request.params as { name: string }).name);
    });

    const putEnv = async (request: FastifyRequest) => {
      const s = await who(request);
      const b = (request.body ?? {}) as Record<string, unknown>;
      const name = (request.params as { name?: string }).name ?? b.name;
      const flag = (k: string) => {
        const v = b[k];
        if (v === undefined) return undefined;
        if (typeof v !== 'boolean')
          throw new InputError(`${k} must be true or false`, { location: { field: k } });
        return v;
      };
      if (b.syncWindows !== undefined && !Array.isArray(b.syncWindows))
        throw new InputError('syncWindows must be a list', { location: { field: 'syncWindows' } });
      const input: Parameters<GitOpsService['putEnvironment']>[0] = { name: String(name ?? '') };
      for (const k of ['protected', 'autoSync', 'requireApproval'] as const) {
        const v = flag(k);
        if (v !== undefined) input[k] = v;
      }
      if (b.syncWindows) input.syncWindows = b.syncWindows as SyncWindow[];
      if (typeof b.description === 'string') input.description = b.description;
      return service.putEnvironment(input, s);
    };
    app.post('/envs', async (request, reply) => {
      reply.code(201);
      return putEnv(request);
    });
    app.put('/envs/:name', putEnv);

    // ---- promotions
    app.get('/promotions', async (request) => {
      await who(request);
      return { items: service.listPromotions() };
    });

    app.post('/promotions', async (request, reply) => {
      const s = await who(request);
      const b = (request.body ?? {}) as Record<string, unknown>;
      for (const k of ['service', 'from', 'to']) {
        if (typeof b[k] !== 'string' || !b[k])
          throw new InputError(`${k} is required`, { location: { field: k } });
      }
      const p = await service.promote(
        {
          service: String(b.service),
          from: String(b.from),
          to: String(b.to),
          ...(typeof b.tag === 'string' ? { tag: b.tag } : {}),
        },
        s,
      );
      reply.code(p.state === 'pending' ? 202 : 201);
      return p;
    });

    app.post('/promotions/:id/approve', async (request) => {
      const s = await who(request);
      return service.approve(intParam((request.params as { id: string }).id, 'id'), s, 'approve');
    });

    app.post('/promotions/:id/reject', async (request) => {
      const s = await who(request);
      return service.approve(intParam((request.params as { id: string }).id, 'id'), s, 'reject');
    });
  };
}
