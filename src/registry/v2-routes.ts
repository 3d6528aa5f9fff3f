// The OCI Distribution API under /v2/: every endpoint of distribution-spec v1.1 plus `_catalog`.
// Errors are answered in the spec's format; 401s carry the Docker token challenge.
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isSlipwayError, type Logger } from '../core/index.ts';
import { SMALL_RANGE_BYTES, sendFileRange } from './blob-io.ts';
import { type Caller, RegistryAccess, type RegistryAction, TOKEN_SERVICE } from './access.ts';
import { acceptsMediaType, MAX_MANIFEST_BYTES } from './manifest.ts';
import { parseDigestParam, parseRepository, parseV2Path, type V2Route } from './names.ts';
import { OciError } from './oci-errors.ts';
import type { ProjectService } from './projects.ts';
import type { RegistryService } from './service.ts';

/** A 401 that tells the client where to get a token and for which scope. */
class ChallengeError extends OciError {
  readonly scope: string | undefined;
  readonly insufficient: boolean;
  constructor(message: string, scope: string | undefined, insufficient = false) {
    super('UNAUTHORIZED', message);
    this.scope = scope;
    this.insufficient = insufficient;
  }
}

export interface V2RoutesOptions {
  service: RegistryService;
  access: RegistryAccess;
  projects: ProjectService;
  /** The public URL (read per request: it is known only once the server listens). */
  publicUrl: () => string;
  logger: Logger;
}

const MAX_PAGE = 10_000;

function scopeFor(name: string, action: RegistryAction): string {
  return `repository:${name}:${action === 'push' ? 'pull,push' : action}`;
}

function hasBody(request: FastifyRequest): boolean {
  const len = request.headers['content-length'];
  if (len !== undefined) return Number(len) > 0;
  return request.headers['transfer-encoding'] !== undefined;
}

function queryOf(request: FastifyRequest): Record<string, string | undefined> {
  const q = request.query as Record<string, string | string[] | undefined>;
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(q ?? {})) out[k] = Array.isArray(v) ? v[0] : v;
  return out;
}

function parsePageSize(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new OciError('UNSUPPORTED', `Invalid page size n=${JSON.stringify(value)}`, { status: 400 });
  return Math.min(n, MAX_PAGE);
}

async function readLimited(request: FastifyRequest, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request.raw) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      request.raw.destroy();
      throw new OciError('SIZE_INVALID', `Manifest is larger than ${limit} bytes`, { status: 413 });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses `Content-Range: <start>-<end>` (with or without a `bytes ` prefix); returns the start. */
function contentRangeStart(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const m = /^(?:bytes\s+)?(\d+)-(\d+)(?:\/\d+|\/\*)?$/.exec(header.trim());
  if (!m)
    throw new OciError('RANGE_INVALID', `Invalid Content-Range ${JSON.stringify(header)}`, { status: 416 });
  const start = Number(m[1]);
  if (Number(m[2]) < start)
    throw new OciError('RANGE_INVALID', `Invalid Content-Range ${JSON.stringify(header)}`, { status: 416 });
  return start;
}

export function v2Routes(options: V2RoutesOptions): FastifyPluginAsync {
  const { service, access, projects, logger } = options;

  const challenge = (scope?: string, insufficient = false): string => {
    let h = `Bearer realm="${options.publicUrl()}/service/token",service="${TOKEN_SERVICE}"`;
    if (scope) h += `,scope="${scope}"`;
    if (insufficient) h += ',error="insufficient_scope"';
    return h;
  };

  async function identify(request: FastifyRequest, scope: string | undefined): Promise<Caller> {
    try {
      return await access.identify(request.headers.authorization);
    } catch (err) {
      if (isSlipwayError(err) && err.status === 401) throw new ChallengeError(err.message, scope);
      throw err;
    }
  }

  /** Throws unless the caller may do `action` on repository `name`; returns the caller. */
  async function authorize(request: FastifyRequest, name: string, action: RegistryAction): Promise<Caller> {
    const { project } = parseRepository(name);
    const scope = scopeFor(name, action);
    const caller = await identify(request, scope);
    if (caller.access) {
      if (RegistryAccess.tokenCovers(caller.access, name, action)) {
        if (!projects.get(project)) throw unknownProject(project);
        return caller;
      }
      const live = access.liveSubject(caller);
      if (live.kind === 'anonymous') throw new ChallengeError('Authentication required', scope, true);
      if (!projects.get(project)) throw unknownProject(project);
      if (access.allowed(live, project, action))
        throw new ChallengeError(`The token does not grant ${action} on ${name}`, scope, true);
      throw denied(live.name, action, name);
    }
    const p = projects.get(project);
    if (!p) {
      if (caller.subject.kind === 'anonymous') throw new ChallengeError('Authentication required', scope);
      throw unknownProject(project);
    }
    if (access.allowed(caller.subject, project, action)) return caller;
    if (caller.subject.kind === 'anonymous') throw new ChallengeError('Authentication required', scope);
    throw denied(caller.subject.name, action, name);
  }

  function unknownProject(project: string): OciError {
    return new OciError(
      'NAME_UNKNOWN',
      `Project "${project}" does not exist; create it first (slipway registry project create ${project})`,
      {
        detail: { project },
      },
    );
  }

  function denied(who: string, action: RegistryAction, name: string): OciError {
    return new OciError('DENIED', `"${who}" may not ${action} ${name}`, {
      detail: { action, repository: name },
    });
  }

  /** May the caller pull from `name`? (silent check, for cross-repository mounts) */
  async function mayPull(request: FastifyRequest, name: string): Promise<boolean> {
    try {
      await authorize(request, name, 'pull');
      return true;
    } catch {
      return false;
    }
  }

  // ---- handlers ----------------------------------------------------------------------------------

  async function base(request: FastifyRequest, reply: FastifyReply) {
    const caller = await identify(request, undefined);
    if (caller.subject.kind === 'anonymous' && !caller.access)
      throw new ChallengeError('Authentication required', undefined);
    reply.header('content-type', 'application/json');
    return reply.send('{}');
  }

  async function catalog(request: FastifyRequest, reply: FastifyReply) {
    const caller = await identify(request, 'registry:catalog:*');
    const subject = access.liveSubject(caller);
    const q = queryOf(request);
    const n = parsePageSize(q.n) ?? 1000;
    const repos = service.listRepositories({
      n: n + 1,
      ...(q.last !== undefined ? { last: q.last } : {}),
      visible: (repo) => access.allowed(subject, repo.slice(0, repo.indexOf('/')), 'pull'),
    });
    const page = repos.slice(0, n);
    if (repos.length > n && page.length > 0)
      reply.header(
        'link',
        `</v2/_catalog?last=${encodeURIComponent(page[page.length - 1]!)}&n=${n}>; rel="next"`,
      );
    return reply.send({ repositories: page });
  }

  async function tags(request: FastifyRequest, reply: FastifyReply, name: string) {
    await authorize(request, name, 'pull');
    const q = queryOf(request);
    const n = parsePageSize(q.n);
    const list = service.listTags(name, {
      ...(n !== undefined ? { n: n + 1 } : {}),
      ...(q.last !== undefined ? { last: q.last } : {}),
    });
    if (!list) throw new OciError('NAME_UNKNOWN', `Repository ${name} is not known`, { detail: { name } });
    const page = n !== undefined ? list.slice(0, n) : list;
    if (n !== undefined && list.length > n && page.length > 0)
      reply.header(
        'link',
        `</v2/${name}/tags/list?last=${encodeURIComponent(page[page.length - 1]!)}&n=${n}>; rel="next"`,
      );
    return reply.send({ name, tags: page });
  }

  async function manifest(request: FastifyRequest, reply: FastifyReply, name: string, reference: string) {
    const method = request.method;
    if (method === 'GET' || method === 'HEAD') {
      await authorize(request, name, 'pull');
      const info = service.statManifest(name, reference);
      if (!info)
        throw new OciError('MANIFEST_UNKNOWN', `Manifest ${name}:${reference} is not known`, {
          detail: { name, reference },
        });
      if (!acceptsMediaType(request.headers.accept, info.mediaType))
        throw new OciError(
          'MANIFEST_UNKNOWN',
          `Manifest ${name}:${reference} is a ${info.mediaType}, which the Accept header does not allow`,
          {
            detail: { mediaType: info.mediaType },
          },
        );
      reply.header('content-type', info.mediaType);
      reply.header('docker-content-digest', info.digest);
      reply.header('etag', `"${info.digest}"`);
      reply.header('content-length', info.size);
      if (method === 'HEAD') return reply.send();
      return reply.send(await service.manifestBody(info));
    }
    if (method === 'PUT') {
      await authorize(request, name, 'push');
      const body = await readLimited(request, MAX_MANIFEST_BYTES);
      const stored = await service.putManifest(name, reference, body, request.headers['content-type']);
      reply.header('location', `/v2/${name}/manifests/${stored.digest}`);
      reply.header('docker-content-digest', stored.digest);
      if (stored.subject) reply.header('oci-subject', stored.subject);
      return reply.code(201).send();
    }
    if (method === 'DELETE') {
      await authorize(request, name, 'delete');
      if (!service.deleteManifest(name, reference))
        throw new OciError('MANIFEST_UNKNOWN', `Manifest ${name}:${reference} is not known`);
      return reply.code(202).send();
    }
    throw unsupported(method, 'manifests');
  }

  async function blob(request: FastifyRequest, reply: FastifyReply, name: string, digestParam: string) {
    const method = request.method;
    const digest = parseDigestParam(digestParam);
    if (method === 'GET' || method === 'HEAD') {
      await authorize(request, name, 'pull');
      const size = service.statBlob(name, digest);
      if (size === undefined)
        throw new OciError('BLOB_UNKNOWN', `Blob ${digest} is not in ${name}`, { detail: { digest } });
      reply.header('docker-content-digest', digest);
      reply.header('accept-ranges', 'bytes');
      reply.header('etag', `"${digest}"`);
      reply.header('content-type', 'application/octet-stream');
      if (method === 'HEAD') {
        // A pusher checking for a blob will reference it soon: restart its GC grace period.
        service.touchBlob(name, digest);
        reply.header('content-length', size);
        return reply.send();
      }
      let start = 0;
      let end = size - 1;
      const range = request.headers.range;
      if (range) {
        const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
        let from = m?.[1] ? Number(m[1]) : undefined;
        let to = m?.[2] ? Number(m[2]) : undefined;
        if (m && from === undefined && to !== undefined) {
          from = Math.max(0, size - to);
          to = size - 1;
        }
        if (!m || from === undefined || from >= size || (to !== undefined && to < from)) {
          reply.header('content-range', `bytes */${size}`);
          throw new OciError(
            'RANGE_INVALID',
            `Range ${JSON.stringify(range)} is not satisfiable (size ${size})`,
            { status: 416 },
          );
        }
        start = from;
        end = Math.min(to ?? size - 1, size - 1);
        reply.code(206);
        reply.header('content-range', `bytes ${start}-${end}/${size}`);
      }
      reply.header('content-length', end - start + 1);
      if (size === 0) return reply.send('');
      // Opened before anything is sent: a file gone missing is still a clean 404. A large range may be
      // read around the page cache (BlobStore.openBlob says when).
      const file = await service.openBlob(digest, { large: end - start + 1 >= SMALL_RANGE_BYTES });
      // The bytes bypass Fastify's send: headers now, then the file through reused buffers.
      reply.hijack();
      reply.raw.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
      try {
        await sendFileRange(file, start, end, reply.raw);
      } catch (err) {
        logger.debug({ err, digest }, 'blob download ended early');
      } finally {
        await file.close().catch(() => {});
      }
      return;
    }
    if (method === 'DELETE') {
      await authorize(request, name, 'delete');
      if (!service.unlinkBlob(name, digest))
        throw new OciError('BLOB_UNKNOWN', `Blob ${digest} is not in ${name}`);
      return reply.code(202).send();
    }
    throw unsupported(method, 'blobs');
  }

  function uploadHeaders(reply: FastifyReply, name: string, id: string, size: number): void {
    reply.header('location', `/v2/${name}/blobs/uploads/${id}`);
    reply.header('docker-upload-uuid', id);
    reply.header('range', `0-${Math.max(0, size - 1)}`);
    reply.header('content-length', 0);
  }

  function blobCreated(reply: FastifyReply, name: string, digest: string) {
    reply.header('location', `/v2/${name}/blobs/${digest}`);
    reply.header('docker-content-digest', digest);
    reply.header('content-length', 0);
    return reply.code(201).send();
  }

  async function uploadStart(request: FastifyRequest, reply: FastifyReply, name: string) {
    if (request.method !== 'POST') throw unsupported(request.method, 'uploads');
    await authorize(request, name, 'push');
    const q = queryOf(request);
    if (q.mount !== undefined) {
      const digest = parseDigestParam(q.mount, 'mount');
      if (q.from) {
        try {
          parseRepository(q.from);
        } catch {
          // An invalid source just means no mount: fall through to a normal upload.
        }
        if (
          q.from !== name &&
          (await mayPull(request, q.from)) &&
          service.mountBlob(name, q.from, digest) !== undefined
        )
          return blobCreated(reply, name, digest);
      }
      if (service.statBlob(name, digest) !== undefined) return blobCreated(reply, name, digest);
    }
    const id = await service.startUpload(name);
    if (q.digest !== undefined) {
      const digest = parseDigestParam(q.digest);
      try {
        if (hasBody(request)) await service.appendUpload(name, id, request.raw, 0);
        await service.completeUpload(name, id, digest);
      } catch (err) {
        await service.cancelUpload(name, id).catch(() => {});
        throw err;
      }
      return blobCreated(reply, name, digest);
    }
    uploadHeaders(reply, name, id, 0);
    return reply.code(202).send();
  }

  async function upload(request: FastifyRequest, reply: FastifyReply, name: string, id: string) {
    const method = request.method;
    await authorize(request, name, 'push');
    if (method === 'GET') {
      const size = await service.uploadSize(name, id);
      uploadHeaders(reply, name, id, size);
      return reply.code(204).send();
    }
    if (method === 'PATCH') {
      const start = contentRangeStart(request.headers['content-range']);
      const size = await service.appendUpload(name, id, request.raw, start);
      uploadHeaders(reply, name, id, size);
      return reply.code(202).send();
    }
    if (method === 'PUT') {
      const q = queryOf(request);
      const digest = parseDigestParam(q.digest);
      if (hasBody(request)) {
        const start = contentRangeStart(request.headers['content-range']);
        await service.appendUpload(name, id, request.raw, start);
      }
      await service.completeUpload(name, id, digest);
      return blobCreated(reply, name, digest);
    }
    if (method === 'DELETE') {
      await service.cancelUpload(name, id);
      return reply.code(204).send();
    }
    throw unsupported(method, 'uploads');
  }

  async function referrers(request: FastifyRequest, reply: FastifyReply, name: string, digestParam: string) {
    if (request.method !== 'GET' && request.method !== 'HEAD') throw unsupported(request.method, 'referrers');
    const digest = parseDigestParam(digestParam);
    await authorize(request, name, 'pull');
    const artifactType = queryOf(request).artifactType;
    const { index, filtered } = service.referrers(name, digest, artifactType || undefined);
    reply.header('content-type', 'application/vnd.oci.image.index.v1+json');
    if (filtered) reply.header('oci-filters-applied', 'artifactType');
    return reply.send(Buffer.from(JSON.stringify(index)));
  }

  function unsupported(method: string, what: string): OciError {
    return new OciError('UNSUPPORTED', `${method} is not supported on ${what}`, { status: 405 });
  }

  async function dispatch(request: FastifyRequest, reply: FastifyReply) {
    const route: V2Route | undefined = parseV2Path((request.params as { '*': string })['*'] ?? '');
    if (!route) throw new OciError('NAME_UNKNOWN', `No registry endpoint at ${request.url.split('?')[0]}`);
    switch (route.kind) {
      case 'base':
        return base(request, reply);
      case 'catalog':
        return catalog(request, reply);
      case 'tags':
        return tags(request, reply, route.name);
      case 'manifest':
        return manifest(request, reply, route.name, route.reference);
      case 'blob':
        return blob(request, reply, route.name, route.digest);
      case 'upload-start':
        return uploadStart(request, reply, route.name);
      case 'upload':
        return upload(request, reply, route.name, route.id);
      case 'referrers':
        return referrers(request, reply, route.name, route.digest);
    }
  }

  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('docker-distribution-api-version', 'registry/2.0');
    });
    app.setErrorHandler((err, request, reply) => {
      let e: OciError;
      if (err instanceof OciError) e = err;
      else if (isSlipwayError(err)) {
        const code =
          err.status === 401
            ? 'UNAUTHORIZED'
            : err.status === 403
              ? 'DENIED'
              : err.status === 404
                ? 'NAME_UNKNOWN'
                : undefined;
        e = code
          ? new OciError(code, err.message)
          : new OciError('UNSUPPORTED', err.message, { status: err.status });
      } else if ((err as { code?: string }).code === 'ENOENT') {
        e = new OciError('BLOB_UNKNOWN', 'Blob content is missing', { status: 404 });
      } else if (
        typeof (err as { statusCode?: number }).statusCode === 'number' &&
        (err as { statusCode: number }).statusCode < 500
      ) {
        e = new OciError('UNSUPPORTED', (err as Error).message, {
          status: (err as { statusCode: number }).statusCode,
        });
      } else {
        logger.error({ err, url: request.url, method: request.method }, 'registry request failed');
        reply.code(500).header('content-type', 'application/json');
        return reply.send({ errors: [{ code: 'UNKNOWN', message: 'Internal server error' }] });
      }
      if (e instanceof ChallengeError || e.status === 401) {
        reply.header(
          'www-authenticate',
          challenge(
            e instanceof ChallengeError ? e.scope : undefined,
            e instanceof ChallengeError && e.insufficient,
          ),
        );
      }
      reply.code(e.status).header('content-type', 'application/json');
      return reply.send(JSON.stringify(e.body()));
    });
    app.route({
      method: ['GET', 'HEAD'],
      url: '/',
      exposeHeadRoute: false,
      handler: (request, reply) => base(request, reply),
    });
    app.route({
      method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url: '/*',
      exposeHeadRoute: false,
      handler: dispatch,
    });
  };
}
