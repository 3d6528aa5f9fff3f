// REST API under /api/v1: repositories (`/repos`) and push webhooks (`/hooks/<provider>`).
import type { FastifyPluginAsync } from 'fastify';
import { type AuthService, SYSTEM } from '../auth/index.ts';
import { AuthenticationError, InputError, NotFoundError, jsonObject, stringField } from '../core/index.ts';
import { parseRepoName } from './names.ts';
import type { ExternalRepoInput, GitService } from './service.ts';
import { isWebhookProvider, normaliseRepoUrl, parseWebhook, verifyWebhookSignature } from './webhooks.ts';

export interface GitApiDeps {
  git: GitService;
  auth: AuthService;
  publicUrl: () => string;
}

export function gitApiRoutes(deps: GitApiDeps): FastifyPluginAsync {
  return async (app) => {
    const { git, auth } = deps;
    const withUrls = (info: ReturnType<GitService['getRepo']>) => ({
      ...info,
      cloneUrl: `${deps.publicUrl()}/git/${info.repo}.git`,
    });

    app.get('/repos', async (request) => {
      const subject = await auth.authenticate(request.headers);
      auth.require(subject, 'repo.read', SYSTEM);
      return { items: git.listRepos().map(withUrls) };
    });

    app.post('/repos', async (request, reply) => {
      const subject = await auth.authenticate(request.headers);
      auth.require(subject, 'repo.create', SYSTEM);
      const b = jsonObject(request.body);
      const name = stringField(b, 'name', false);
      if (!name) throw new InputError('Missing field "name" (ORG/NAME)', { location: { field: 'name' } });
      const url = stringField(b, 'url', false);
      let external: ExternalRepoInput | undefined;
      if (url !== undefined) {
        external = { url };
        for (const key of [
          'provider',
          'webhookSecret',
          'token',
          'username',
          'sshKey',
          'statusApiUrl',
          'statusToken',
          'remoteName',
        ] as const) {
          const v = stringField(b, key, false);
          if (v !== undefined) (external as unknown as Record<string, string>)[key] = v;
        }
        if (b.poll !== undefined) external.poll = b.poll === true;
      }
      const defaultBranch = stringField(b, 'defaultBranch', false);
      const info = await git.createRepo(name, {
        actor: subject,
        ...(defaultBranch ? { defaultBranch } : {}),
        ...(external ? { external } : {}),
      });
      auth.audit({
        actor: subject,
        action: 'repo.create',
        resource: `repo/${info.repo}`,
        details: external ? { url: external.url } : {},
      });
      reply.code(201);
      return withUrls(info);
    });

    app.get('/repos/:org/:name', async (request) => {
      const subject = await auth.authenticate(request.headers);
      auth.require(subject, 'repo.read', SYSTEM);
      const { org, name } = request.params as { org: string; name: string };
      const repo = parseRepoName(`${org}/${name}`).full;
      const info = git.getRepo(repo);
      const refs = await git.listRefs(repo);
      return { ...withUrls(info), refs: Object.fromEntries(refs) };
    });

    app.get('/repos/:org/:name/commits', async (request) => {
      const subject = await auth.authenticate(request.headers);
      auth.require(subject, 'repo.read', SYSTEM);
      const { org, name } = request.params as { org: string; name: string };
      const q = request.query as { ref?: string; limit?: string };
      const repo = parseRepoName(`${org}/${name}`).full;
      git.getRepo(repo);
      return {
        items: await git.log(repo, q.ref ?? 'HEAD', { limit: Math.min(Number(q.limit ?? 50) || 50, 500) }),
      };
    });

    app.delete('/repos/:org/:name', async (request, reply) => {
      const subject = await auth.authenticate(request.headers);
      auth.require(subject, 'repo.delete', SYSTEM);
      const { org, name } = request.params as { org: string; name: string };
      const repo = parseRepoName(`${org}/${name}`).full;
      await git.deleteRepo(repo, subject);
      auth.audit({ actor: subject, action: 'repo.delete', resource: `repo/${repo}` });
      reply.code(204);
    });

    app.post('/repos/:org/:name/sync', async (request) => {
      const subject = await auth.authenticate(request.headers);
      auth.require(subject, 'repo.push', SYSTEM);
      const { org, name } = request.params as { org: string; name: string };
      const events = await git.fetchExternal(parseRepoName(`${org}/${name}`).full, {
        pusher: subject.name,
        source: 'poll',
      });
      return { updated: events.map((e) => ({ ref: e.ref, before: e.before, after: e.after })) };
    });

    // Webhooks need the raw body for the HMAC: a child plugin with its own body parser.
    await app.register(async (hooks) => {
      hooks.removeAllContentTypeParsers();
      hooks.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 5 * 1024 * 1024 }, (_req, body, done) =>
        done(null, body),
      );
      hooks.post('/hooks/:provider', async (request, reply) => {
        const { provider } = request.params as { provider: string };
        if (!isWebhookProvider(provider))
          throw new NotFoundError(`Unknown webhook provider "${provider}": use github, gitea or gitlab`);
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const message = (() => {
          try {
            return parseWebhook(provider, request.headers, body);
          } catch {
            return undefined;
          }
        })();
        // Find the registered repository: ?repo=ORG/NAME, or the URLs/names in the payload.
        const q = request.query as { repo?: string };
        let target: string | undefined;
        if (q.repo) target = parseRepoName(q.repo, 'repo').full;
        else if (message?.kind === 'push') {
          const ids = new Set(message.identifiers);
          target = git
            .listRepos()
            .find(
              (r) =>
                r.external &&
                (ids.has(normaliseRepoUrl(r.external.url)) ||
                  ids.has(normaliseRepoUrl(r.external.remoteName))),
            )?.repo;
        }
        const secrets = target ? git.externalSecrets(target) : undefined;
        // Unknown repository and bad signature answer the same, so the endpoint reveals nothing.
        if (
          !secrets?.webhookSecret ||
          !verifyWebhookSignature(provider, request.headers, body, secrets.webhookSecret)
        ) {
          throw new AuthenticationError('Webhook signature does not match');
        }
        if (!message) throw new InputError('Webhook payload is not a valid push event');
        if (message.kind !== 'push') {
          reply.code(202);
          return {
            accepted: false,
            reason: message.kind === 'ping' ? 'ping' : `event ${message.event} ignored`,
          };
        }
        const events = await git.fetchExternal(secrets.repo, { pusher: message.pusher, source: 'webhook' });
        reply.code(202);
        return {
          accepted: true,
          repo: secrets.repo,
          updated: events.map((e) => ({ ref: e.ref, before: e.before, after: e.after })),
        };
      });
    });
  };
}
