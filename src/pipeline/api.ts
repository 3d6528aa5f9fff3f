// REST API under /api/v1: pipelines, builds (run, list, get, cancel, re-run, approve, logs with SSE
// follow) and the credential store.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type AuthService, SYSTEM } from '../auth/index.ts';
import { InputError, type EventBus, jsonObject, stringField } from '../core/index.ts';
import { parseRepoName } from '../git/index.ts';
import type { CredentialKind, CredentialStore } from './credentials.ts';
import type { PipelineEngine } from './engine.ts';
import { FINISHED } from './types.ts';

export interface PipelineApiDeps {
  engine: PipelineEngine;
  credentials: CredentialStore;
  auth: AuthService;
  events: EventBus;
}

function buildParams(request: FastifyRequest): { repo: string; number: number } {
  const p = request.params as { org: string; repo: string; n?: string };
  const repo = parseRepoName(`${p.org}/${p.repo}`).full;
  const number = Number(p.n);
  if (p.n !== undefined && (!Number.isInteger(number) || number < 1))
    throw new InputError(`Invalid build number "${p.n}"`);
  return { repo, number };
}

export function pipelineApiRoutes(deps: PipelineApiDeps): FastifyPluginAsync {
  return async (app) => {
    const { engine, auth } = deps;
    const viewer = async (request: FastifyRequest) => {
      const s = await auth.authenticate(request.headers);
      auth.require(s, 'pipeline.view', SYSTEM);
      return s;
    };
    const runner = async (request: FastifyRequest) => {
      const s = await auth.authenticate(request.headers);
      auth.require(s, 'pipeline.run', SYSTEM);
      return s;
    };

    app.get('/pipelines', async (request) => {
      await viewer(request);
      return { items: engine.listPipelines() };
    });

    app.post('/pipelines/:org/:repo/run', async (request, reply) => {
      const subject = await runner(request);
      const { repo } = buildParams(request);
      const b = jsonObject(request.body, { optional: true });
      const branch = stringField(b, 'branch', false);
      const ref = stringField(b, 'ref', false);
      const build = await engine.runManual(repo, {
        ...(branch ? { branch } : {}),
        ...(ref ? { ref } : {}),
        who: subject.name,
      });
      auth.audit({ actor: subject, action: 'pipeline.run', resource: `build/${repo}/${build.number}` });
      reply.code(201);
      return build;
    });

    app.get('/builds', async (request) => {
      await viewer(request);
      const q = request.query as { limit?: string };
      return { items: engine.listBuilds(undefined, { limit: Number(q.limit ?? 100) || 100 }) };
    });

    app.get('/builds/:org/:repo', async (request) => {
      await viewer(request);
      const { repo } = buildParams(request);
      const q = request.query as { limit?: string };
      return { items: engine.listBuilds(repo, { limit: Number(q.limit ?? 100) || 100 }) };
    });

    app.get('/builds/:org/:repo/:n', async (request) => {
      await viewer(request);
      const { repo, number } = buildParams(request);
      return engine.getBuild(repo, number);
    });

    app.post('/builds/:org/:repo/:n/cancel', async (request) => {
      const subject = await runner(request);
      const { repo, number } = buildParams(request);
      const b = engine.cancel(repo, number, subject.name);
      auth.audit({ actor: subject, action: 'build.cancel', resource: `build/${repo}/${number}` });
      return b;
    });

    app.post('/builds/:org/:repo/:n/rerun', async (request, reply) => {
      const subject = await runner(request);
      const { repo, number } = buildParams(request);
      const b = await engine.rerun(repo, number, subject.name);
      auth.audit({
        actor: subject,
        action: 'build.rerun',
        resource: `build/${repo}/${b.number}`,
        details: { of: number },
      });
      reply.code(201);
      return b;
    });

    app.post('/builds/:org/:repo/:n/approve', async (request) => {
      const subject = await auth.authenticate(request.headers);
      if (subject.kind === 'anonymous') auth.require(subject, 'pipeline.run', SYSTEM);
      const { repo, number } = buildParams(request);
      const b = engine.approve(repo, number, subject);
      auth.audit({ actor: subject, action: 'build.approve', resource: `build/${repo}/${number}` });
      return b;
    });

    // Logs: plain text, or with ?follow=1 an SSE stream (`event: log` with {text}, then `event: end`).
    app.get('/builds/:org/:repo/:n/logs', async (request, reply) => {
      await viewer(request);
      const { repo, number } = buildParams(request);
      const build = engine.getBuild(repo, number);
      const file = engine.logFile(repo, number);
      const q = request.query as { follow?: string };
      if (q.follow !== '1' && q.follow !== 'true') {
        reply.type('text/plain; charset=utf-8');
        return existsSync(file) ? createReadStream(file) : '';
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      const send = (event: string, data: unknown) =>
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      const buffered: { text: string; offset: number }[] = [];
      let live = false;
      let sent = 0;
      let finished = false;
      const finish = (status: string) => {
        if (finished) return;
        finished = true;
        offLog();
        offStatus();
        send('end', { status });
        res.end();
      };
      const offLog = deps.events.on('build.log', (e) => {
        if (e.repo !== build.repo || e.number !== number) return;
        if (!live) buffered.push(e);
        else if (e.offset > sent) {
          sent = e.offset;
          send('log', { text: e.text });
        }
      });
      const offStatus = deps.events.on('build.status', (e) => {
        if (e.repo !== build.repo || e.number !== number) return;
        if (FINISHED.includes(e.status)) setImmediate(() => finish(e.status));
      });
      request.raw.on('close', () => {
        finished = true;
        offLog();
        offStatus();
      });
      const existing = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
      sent = existing.length;
      if (existing.length > 0) send('log', { text: existing.toString('utf8') });
      live = true;
      for (const e of buffered) {
        if (e.offset > sent) {
          sent = e.offset;
          send('log', { text: e.text });
        }
      }
      const now = engine.getBuild(repo, number);
      if (FINISHED.includes(now.status)) finish(now.status);
    });

    app.get('/credentials', async (request) => {
      const s = await auth.authenticate(request.headers);
      auth.require(s, 'pipeline.view', SYSTEM);
      return { items: deps.credentials.list() };
    });

    app.post('/credentials', async (request, reply) => {
      const s = await auth.authenticate(request.headers);
      auth.require(s, 'credential.admin', SYSTEM);
      const b = jsonObject(request.body, { optional: true });
      const name = stringField(b, 'name', false);
      if (!name) throw new InputError('Missing field "name"', { location: { field: 'name' } });
      const kind = (stringField(b, 'kind', false) ??
        (b.username !== undefined ? 'usernamePassword' : 'secret')) as CredentialKind;
      const value = stringField(b, 'value', false);
      const username = stringField(b, 'username', false);
      const password = stringField(b, 'password', false);
      const description = stringField(b, 'description', false);
      const info = deps.credentials.put(
        name,
        {
          kind,
          ...(value ? { value } : {}),
          ...(username ? { username } : {}),
          ...(password ? { password } : {}),
        },
        { actor: s, replace: b.replace === true, ...(description ? { description } : {}) },
      );
      auth.audit({ actor: s, action: 'credential.put', resource: `credential/${name}` });
      reply.code(201);
      return info;
    });

    app.delete('/credentials/:name', async (request, reply) => {
      const s = await auth.authenticate(request.headers);
      auth.require(s, 'credential.admin', SYSTEM);
      const { name } = request.params as { name: string };
      deps.credentials.delete(name);
      auth.audit({ actor: s, action: 'credential.delete', resource: `credential/${name}` });
      reply.code(204);
    });
  };
}
