// Git smart-HTTP at `/git/<org>/<repo>.git/...`: `git http-backend` spawned per request as a CGI,
// bodies streamed both ways, Slipway authentication (Basic with password or API token).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { type AuthService, can, SYSTEM, type Subject } from '../auth/index.ts';
import { AuthenticationError, type Logger } from '../core/index.ts';
import { gitEnv } from './git-cli.ts';
import { parseRepoName } from './names.ts';
import type { GitService } from './service.ts';

const PATH_RE = /^([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/;

function plain(reply: FastifyReply, status: number, message: string, extra: Record<string, string> = {}) {
  reply
    .code(status)
    .headers({ 'content-type': 'text/plain; charset=utf-8', ...extra })
    .send(`${message}\n`);
}

function challenge(reply: FastifyReply, message: string) {
  plain(reply, 401, message, { 'www-authenticate': 'Basic realm="Slipway"' });
}

export interface GitHttpDeps {
  git: GitService;
  auth: AuthService;
  logger: Logger;
}

/** The Fastify plugin for the `/git` prefix. */
export function gitHttpRoutes(deps: GitHttpDeps): FastifyPluginAsync {
  return async (app) => {
    app.addContentTypeParser('*', (_req, _payload, done) => done(null));
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const rest = (request.params as { '*': string })['*'] ?? '';
      const m = PATH_RE.exec(rest);
      if (!m) return plain(reply, 404, 'Not a git smart-HTTP path: use /git/ORG/REPO.git');
      let repo: string;
      try {
        repo = parseRepoName(`${m[1]}/${m[2]}`).full;
      } catch (err) {
        return plain(reply, 400, (err as Error).message);
      }
      const query = new URL(request.url, 'http://x').searchParams;
      const action =
        m[3] === 'git-receive-pack' || query.get('service') === 'git-receive-pack'
          ? 'repo.push'
          : 'repo.read';
      let subject: Subject;
      try {
        subject = await deps.auth.authenticate(request.headers);
      } catch (err) {
        if (err instanceof AuthenticationError) return challenge(reply, 'Invalid credentials');
        throw err;
      }
      if (!can(subject, action, SYSTEM)) {
        if (subject.kind === 'anonymous') return challenge(reply, 'Authentication required');
        deps.auth.audit({ actor: subject, action, resource: `repo/${repo}`, outcome: 'denied' });
        return plain(
          reply,
          403,
          `User "${subject.name}" may not ${action === 'repo.push' ? 'push to' : 'read'} ${repo}`,
        );
      }
      if (!deps.git.hasRepo(repo)) return plain(reply, 404, `Repository ${repo} not found`);
      const info = deps.git.getRepo(repo);
      if (action === 'repo.push' && info.external) {
        return plain(reply, 403, `${repo} is a read-only mirror of ${info.external.url}`);
      }
      await runBackend(request, reply, {
        deps,
        repo,
        subject,
        path: `/${repo}.git/${m[3]}`,
        isPush: action === 'repo.push' && m[3] === 'git-receive-pack',
      });
    };
    app.get('/*', handler);
    app.post('/*', handler);
  };
}

function runBackend(
  request: FastifyRequest,
  reply: FastifyReply,
  o: { deps: GitHttpDeps; repo: string; subject: Subject; path: string; isPush: boolean },
): Promise<void> {
  const pushLog = o.isPush ? join(tmpdir(), `slipway-push-${randomBytes(8).toString('hex')}`) : undefined;
  const env: Record<string, string> = {
    GIT_PROJECT_ROOT: o.deps.git.root,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: o.path,
    QUERY_STRING: request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '',
    REQUEST_METHOD: request.method,
    REMOTE_USER: o.subject.name,
    REMOTE_ADDR: request.ip,
    SERVER_PROTOCOL: 'HTTP/1.1',
  };
  const h = request.headers;
  if (typeof h['content-type'] === 'string') env.CONTENT_TYPE = h['content-type'];
  if (typeof h['content-length'] === 'string') env.CONTENT_LENGTH = h['content-length'];
  if (typeof h['content-encoding'] === 'string') env.HTTP_CONTENT_ENCODING = h['content-encoding'];
  if (typeof h['git-protocol'] === 'string') env.GIT_PROTOCOL = h['git-protocol'];
  if (pushLog) env.SLIPWAY_PUSH_LOG = pushLog;
  reply.hijack();
  const res = reply.raw;
  return new Promise<void>((resolve) => {
    const child = spawn('git', ['http-backend'], { env: gitEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let headerDone = false;
    let head = Buffer.alloc(0);
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 4000) stderr += b.toString('utf8');
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (headerDone) {
        if (!res.write(chunk)) {
          child.stdout.pause();
          res.once('drain', () => child.stdout.resume());
        }
        return;
      }
      head = Buffer.concat([head, chunk]);
      let idx = head.indexOf('\r\n\r\n');
      let sep = 4;
      if (idx < 0) {
        idx = head.indexOf('\n\n');
        sep = 2;
      }
      if (idx < 0) return;
      headerDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, idx).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const key = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (key.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
        else headers[key] = value;
      }
      res.writeHead(status, headers);
      const body = head.subarray(idx + sep);
      if (body.length > 0) res.write(body);
    });
    child.on('error', (err) => {
      o.deps.logger.error({ err }, 'cannot run git http-backend');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('git http-backend failed\n');
      resolve();
    });
    child.on('close', async (code) => {
      if (!headerDone) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('git http-backend failed\n');
      }
      if (code !== 0 && stderr)
        o.deps.logger.warn({ repo: o.repo, stderr: stderr.slice(0, 500) }, 'git http-backend');
      if (pushLog) {
        try {
          const log = await readFile(pushLog, 'utf8').catch(() => '');
          if (log) {
            o.deps.auth.audit({
              actor: o.subject,
              action: 'repo.push',
              resource: `repo/${o.repo}`,
              details: { refs: log.trim().split('\n').length },
            });
            await o.deps.git.reportReceive(o.repo, log, o.subject.name);
          }
        } catch (err) {
          o.deps.logger.error({ err, repo: o.repo }, 'cannot report pushed refs');
        } finally {
          await rm(pushLog, { force: true });
        }
      }
      if (headerDone) res.end();
      resolve();
    });
    child.stdin.on('error', () => {});
    if (request.method === 'POST') request.raw.pipe(child.stdin);
    else child.stdin.end();
  });
}
