// The Kubernetes REST API over HTTP: discovery, OpenAPI, CRUD, list, watch, patch, apply, Status errors.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Cluster, DeleteOptions, PatchType } from './api.ts';
import { openApiV2, openApiV3, openApiV3Index, unknownFields } from './openapi.ts';
import { decodeProtobuf } from './protobuf.ts';
import type { ResourceInfo } from './resources.ts';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { StoreEvent } from './store.ts';
import {
  badRequest,
  expired,
  KubeError,
  methodNotAllowed,
  notAcceptable,
  resourceNotFound,
  unsupportedMediaType,
} from './status.ts';
import { toTable } from './table.ts';
import { type LogLine, logTime, type PodLogs } from './pod-logs.ts';
import { isObject, type KubeObject } from './types.ts';

export interface Caller {
  name: string;
  admin: boolean;
}

export interface RestOptions {
  cluster: Cluster;
  /** Authenticates a request; returns undefined for missing/invalid credentials (→ 401). */
  authenticate(headers: FastifyRequest['headers']): Promise<Caller | undefined>;
  version: Record<string, string>;
  /** Interval of watch bookmarks (ms). */
  bookmarkIntervalMs?: number;
  /** Containers' logs (`pods/log`); without it every log is empty. */
  logs?: PodLogs;
}

type Format = 'json' | 'yaml' | 'table';

interface Negotiated {
  format: Format;
  pretty: boolean;
  includeObject: string;
}

/** Picks a response representation from Accept; throws 406 when none fits. */
export function negotiate(
  accept: string | undefined,
  userAgent: string | undefined,
  query: Record<string, string>,
): Negotiated {
  const pretty = query.pretty === 'true' || query.pretty === '1' || /^curl\//.test(userAgent ?? '');
  const includeObject = query.includeObject ?? 'Metadata';
  if (!accept || accept.trim() === '') return { format: 'json', pretty, includeObject };
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part
      .trim()
      .split(';')
      .map((s) => s.trim());
    const p = Object.fromEntries(params.map((x) => x.split('=').map((s) => s.trim()) as [string, string]));
    if (type === 'application/json' && p.as === 'Table') return { format: 'table', pretty, includeObject };
    if (p.as) continue;
    if (type === 'application/json' || type === '*/*' || type === 'application/*')
      return { format: 'json', pretty, includeObject };
    if (type === 'application/yaml') return { format: 'yaml', pretty, includeObject };
    if (type === 'application/vnd.kubernetes.protobuf') continue;
  }
  if (/application\/vnd\.kubernetes\.protobuf/.test(accept) && !/as=/.test(accept))
    return { format: 'json', pretty, includeObject };
  throw notAcceptable();
}

function withTypeMeta(o: KubeObject): Record<string, unknown> {
  const { kind, apiVersion, ...rest } = o;
  return { kind, apiVersion, ...rest };
}

function stripTypeMeta(o: KubeObject): Record<string, unknown> {
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return rest;
}

interface Route {
  groupVersion: string;
  info: ResourceInfo;
  namespace: string;
  name: string | undefined;
  subresource: string | undefined;
}

function parseQuery(url: string): Record<string, string> {
  const q = url.indexOf('?');
  if (q < 0) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(url.slice(q + 1))) out[k] = v;
  return out;
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      rv?: unknown;
      start?: unknown;
    };
    if (typeof parsed.rv !== 'number' || typeof parsed.start !== 'string') throw new Error('bad');
    return { rv: parsed.rv, start: parsed.start };
  } catch {
    throw badRequest('invalid continue token: continue key is not valid: malformed continue token');
  }
}

export function restRoutes(opts: RestOptions) {
  const { cluster } = opts;
  const registry = cluster.registry;
  const store = cluster.store;
  const bookmarkMs = opts.bookmarkIntervalMs ?? 10_000;

  function send(reply: FastifyReply, code: number, body: unknown, neg: Negotiated): FastifyReply {
    reply.code(code).header('cache-control', 'no-cache, private');
    if (neg.format === 'yaml') return reply.type('application/yaml').send(stringifyYaml(body));
    return reply
      .type('application/json')
      .send(neg.pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body));
  }

  function sendError(reply: FastifyReply, err: KubeError, neg: Negotiated | undefined): FastifyReply {
    const n = neg ?? { format: 'json' as Format, pretty: false, includeObject: 'Metadata' };
    return send(reply, err.code, err.toStatus(), n.format === 'table' ? { ...n, format: 'json' } : n);
  }

  function parseBody(request: FastifyRequest, patchType?: PatchType): unknown {
    const raw = request.body instanceof Buffer ? request.body : Buffer.alloc(0);
    const ct =
      String(request.headers['content-type'] ?? 'application/json')
        .split(';')[0]
        ?.trim() ?? '';
    if (ct === 'application/vnd.kubernetes.protobuf') return decodeProtobuf(raw);
    const text = raw.toString('utf8');
    if (patchType === 'apply' || ct === 'application/yaml') {
      try {
        return parseYaml(text);
      } catch (err) {
        throw badRequest(`error decoding YAML: ${(err as Error).message}`);
      }
    }
    try {
      return text.trim() === '' ? {} : JSON.parse(text);
    } catch (err) {
      const msg = (err as Error).message.includes('Unexpected end')
        ? 'unexpected end of JSON input'
        : (err as Error).message;
      if (patchType) throw badRequest(`error decoding patch: ${msg}`);
      throw badRequest(
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
      );
    }
  }

  function route(segments: string[]): Route | 'discovery' | undefined {
    let groupVersion: string;
    let rest: string[];
    if (segments[0] === 'api') {
      if (segments.length < 2) return 'discovery';
      groupVersion = segments[1] ?? '';
      rest = segments.slice(2);
    } else {
      if (segments.length < 3) return 'discovery';
      groupVersion = `${segments[1]}/${segments[2]}`;
      rest = segments.slice(3);
    }
    if (!registry.hasGroupVersion(groupVersion)) return undefined;
    if (rest.length === 0) return 'discovery';
    let namespace = '';
    if (
      rest[0] === 'namespaces' &&
      rest.length >= 3 &&
      !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))
    ) {
      namespace = rest[1] ?? '';
      rest = rest.slice(2);
    }
    const info = registry.get(groupVersion, rest[0] ?? '');
    if (!info) throw resourceNotFound();
    if (info.namespaced !== (namespace !== '') && !(info.namespaced && rest.length === 1)) {
      if (!info.namespaced) throw resourceNotFound();
    }
    const sub = rest[2];
    if (rest.length > 3) throw resourceNotFound();
    if (sub && !info.subresources.has(sub) && !(info.key === '/namespaces' && sub === 'finalize'))
      throw resourceNotFound();
    return { groupVersion, info, namespace, name: rest[1], subresource: sub };
  }

  function selectorFilter(query: Record<string, string>): (o: KubeObject) => boolean {
    const labels = query.labelSelector ? parseLabelSelector(query.labelSelector) : undefined;
    const fields = query.fieldSelector ? parseFieldSelector(query.fieldSelector) : undefined;
    return (o) =>
      (!labels || matchesLabels(labels, o.metadata.labels)) && (!fields || matchesFields(fields, o));
  }

  function list(r: Route, query: Record<string, string>, neg: Negotiated): unknown {
    const rv = store.resourceVersion;
    if (
      query.resourceVersionMatch === 'Exact' &&
      query.resourceVersion &&
      Number(query.resourceVersion) < store.compactedRv
    )
      throw expired('The resourceVersion for the provided list is too old.');
    if (query.resourceVersion && Number(query.resourceVersion) > rv && query.resourceVersion !== '0')
      throw new KubeError(
        504,
        'Timeout',
        `Too large resource version: ${query.resourceVersion}, current: ${rv}`,
        {
          causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
          retryAfterSeconds: 1,
        },
      );
    const filter = selectorFilter(query);
    let items = store
      .list(r.info.key, r.info.namespaced && r.namespace ? r.namespace : undefined)
      .filter(filter);
    let start = '';
    if (query.continue) {
      const token = decodeContinue(query.continue);
      if (token.rv < store.compactedRv) {
        throw expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          {
            continue: encodeContinue(-1, token.start),
          },
        );
      }
      start = token.start;
    }
    const inNamespace = r.info.namespaced && r.namespace !== '';
    const keyOf = (o: KubeObject) =>
      inNamespace || !r.info.namespaced
        ? (o.metadata.name ?? '')
        : `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    if (start) items = items.filter((o) => keyOf(o) >= start);
    const meta: Record<string, unknown> = { resourceVersion: String(rv) };
    const limit = Number(query.limit ?? 0);
    if (limit > 0 && items.length > limit) {
      const last = items[limit - 1] as KubeObject;
      meta.continue = encodeContinue(rv, `${keyOf(last)}\u0000`);
      meta.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    if (neg.format === 'table')
      return toTable(r.info.key, items, cluster.clock.now(), meta, neg.includeObject);
    return {
      kind: `${r.info.kind}List`,
      apiVersion: r.groupVersion,
      metadata: meta,
      items: items.map(stripTypeMeta),
    };
  }

  function watch(
    request: FastifyRequest,
    reply: FastifyReply,
    r: Route,
    query: Record<string, string>,
    neg: Negotiated,
  ): void {
    const filter = selectorFilter(query);
    const ns = r.info.namespaced && r.namespace ? r.namespace : undefined;
    const fromRv =
      query.resourceVersion && query.resourceVersion !== '0' ? Number(query.resourceVersion) : undefined;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'no-cache, private',
      'transfer-encoding': 'chunked',
    });
    res.flushHeaders();
    const render = (type: string, o: KubeObject) => {
      const object =
        neg.format === 'table'
          ? toTable(
              r.info.key,
              [o],
              cluster.clock.now(),
              { resourceVersion: o.metadata.resourceVersion ?? '' },
              neg.includeObject,
            )
          : withTypeMeta(o);
      return `${JSON.stringify({ type, object })}\n`;
    };
    let closed = false;
    const timers: NodeJS.Timeout[] = [];
    let unsubscribe: (() => void) | undefined;
    const close = () => {
      if (closed) return;
      closed = true;
      unsubscribe?.();
      for (const t of timers) clearTimeout(t);
      if (!res.writableEnded) res.end();
    };
    request.raw.on('close', close);
    res.on('close', close);
    if (fromRv !== undefined && (Number.isNaN(fromRv) || fromRv < store.compactedRv)) {
      const status = expired(
        `too old resource version: ${query.resourceVersion} (${store.compactedRv})`,
      ).toStatus();
      res.write(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      close();
      return;
    }
    let lastRv = store.resourceVersion;
    const matches = (e: StoreEvent) =>
      e.key === r.info.key && (ns === undefined || (e.object.metadata.namespace ?? '') === ns);
    const onEvent = (e: StoreEvent) => {
      if (closed || !matches(e)) return;
      lastRv = e.rv;
      const now = filter(e.object);
      const before = e.old ? filter(e.old) : false;
      if (e.type === 'DELETED') {
        if (now) res.write(render('DELETED', e.object));
      } else if (now)
        res.write(
          render(
            e.type === 'ADDED' || !before
              ? e.type === 'MODIFIED' && !before
                ? 'ADDED'
                : e.type
              : 'MODIFIED',
            e.object,
          ),
        );
      else if (before) res.write(render('DELETED', e.object));
    };
    if (fromRv === undefined) {
      for (const o of store.list(r.info.key, ns)) if (filter(o)) res.write(render('ADDED', o));
    } else {
      for (const e of store.eventsSince(fromRv) ?? []) onEvent(e);
    }
    unsubscribe = store.subscribe(onEvent);
    const timeout = Number(query.timeoutSeconds ?? 0);
    if (timeout > 0) timers.push(setTimeout(close, timeout * 1000));
    if (query.allowWatchBookmarks === 'true') {
      const tick = () => {
        if (closed) return;
        const bookmark = {
          type: 'BOOKMARK',
          object: {
            kind: r.info.kind,
            apiVersion: r.groupVersion,
            metadata: { resourceVersion: String(Math.max(lastRv, store.resourceVersion)) },
          },
        };
        res.write(`${JSON.stringify(bookmark)}\n`);
        timers.push(setTimeout(tick, bookmarkMs));
      };
      timers.push(setTimeout(tick, bookmarkMs));
    }
  }

  function deleteOptions(request: FastifyRequest, query: Record<string, string>): DeleteOptions {
    const body = request.body instanceof Buffer && request.body.length > 0 ? parseBody(request) : {};
    const b = isObject(body) ? body : {};
    let policy = (query.propagationPolicy ?? b.propagationPolicy) as DeleteOptions['propagationPolicy'];
    if (!policy && (b.orphanDependents === true || query.orphanDependents === 'true')) policy = 'Orphan';
    const pre = isObject(b.preconditions) ? (b.preconditions as DeleteOptions['preconditions']) : undefined;
    const dry = query.dryRun === 'All' || (Array.isArray(b.dryRun) && b.dryRun.includes('All'));
    return { propagationPolicy: policy, preconditions: pre, dryRun: dry };
  }

  function checkStrict(r: Route, body: unknown, query: Record<string, string>, reply: FastifyReply): void {
    const mode = query.fieldValidation ?? 'Warn';
    if (mode === 'Ignore' || r.info.custom || !isObject(body)) return;
    const unknown = unknownFieldsOf(r, body);
    if (unknown.length === 0) return;
    if (mode === 'Strict') {
      throw badRequest(
        `${r.info.kind} in version "${r.info.version}" cannot be handled as a ${r.info.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`,
      );
    }
    reply.header('warning', unknown.map((f) => `299 - "unknown field \\"${f}\\""`).join(', '));
  }

  /** `pods/log`: the container's lines (see pod-logs.ts), with `follow` streaming until the container stops. */
  function podLog(
    request: FastifyRequest,
    reply: FastifyReply,
    pod: KubeObject,
    query: Record<string, string>,
  ): FastifyReply {
    const podName = pod.metadata.name ?? '';
    const uid = pod.metadata.uid ?? '';
    const names = ((pod.spec?.containers ?? []) as { name: string }[]).map((c) => c.name);
    let container = query.container;
    if (container === undefined || container === '') {
      if (names.length !== 1)
        throw badRequest(
          `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`,
        );
      container = names[0]!;
    } else if (!names.includes(container)) {
      throw badRequest(`container ${container} is not valid for pod ${podName}`);
    }
    const int = (field: string) => {
      const raw = query[field];
      if (raw === undefined) return undefined;
      if (!/^-?\d+$/.test(raw)) throw badRequest(`${field}: Invalid value: "${raw}": must be an integer`);
      const n = Number(raw);
      if (n < 0) throw badRequest(`${field}: Invalid value: ${n}: must be greater than or equal to 0`);
      return n;
    };
    const tailLines = int('tailLines');
    const sinceSeconds = int('sinceSeconds');
    const limitBytes = int('limitBytes');
    const sinceMs =
      sinceSeconds !== undefined
        ? cluster.clock.now() - sinceSeconds * 1000
        : query.sinceTime
          ? Date.parse(query.sinceTime)
          : undefined;
    if (sinceMs !== undefined && Number.isNaN(sinceMs))
      throw badRequest(`sinceTime: Invalid value: "${query.sinceTime}": must be an RFC 3339 time`);
    const timestamps = query.timestamps === 'true' || query.timestamps === '1';
    const follow = query.follow === 'true' || query.follow === '1';
    const status = (
      (pod.status?.containerStatuses ?? []) as {
        name: string;
        image?: string;
        state?: { running?: { startedAt?: string }; waiting?: { reason?: string } };
      }[]
    ).find((c) => c.name === container);
    const logs = opts.logs;
    let lines =
      logs?.read(uid, container, {
        ...(tailLines !== undefined ? { tailLines } : {}),
        ...(sinceMs !== undefined ? { sinceMs } : {}),
      }) ?? [];
    if (!logs?.has(uid, container)) {
      const waiting = status?.state?.waiting?.reason;
      if (!status || waiting === 'ContainerCreating')
        throw badRequest(
          `container "${container}" in pod "${podName}" is waiting to start: ${waiting ?? 'PodInitializing'}`,
        );
      // The local cluster restarted since the container started: its earlier lines were in memory only.
      const startedAt = status.state?.running?.startedAt;
      if (startedAt && tailLines !== 0)
        lines = [
          {
            time: logTime(Date.parse(startedAt)),
            text: `Container ${container} running since ${startedAt} (image ${status.image ?? ''}; simulated: no process runs; earlier lines were not kept across a restart)`,
          },
        ];
    }
    const render = (l: LogLine) => `${timestamps ? `${l.time} ` : ''}${l.text}\n`;
    let budget = limitBytes ?? Number.POSITIVE_INFINITY;
    const clip = (text: string) => {
      if (budget >= Buffer.byteLength(text)) {
        budget -= Buffer.byteLength(text);
        return text;
      }
      const out = Buffer.from(text).subarray(0, Math.max(0, budget)).toString('utf8');
      budget = 0;
      return out;
    };
    const initial = clip(lines.map(render).join(''));
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (!follow || !logs || phase === 'Succeeded' || phase === 'Failed' || budget === 0) {
      return reply.code(200).type('text/plain').header('cache-control', 'no-cache, private').send(initial);
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/plain',
      'cache-control': 'no-cache, private',
      'transfer-encoding': 'chunked',
    });
    if (initial) res.write(initial);
    else res.flushHeaders();
    let off: (() => void) | undefined;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      off?.();
      if (!res.writableEnded) res.end();
    };
    off = logs.follow(uid, container, {
      onLine: (l) => {
        if (closed) return;
        res.write(clip(render(l)));
        if (budget === 0) close();
      },
      onEnd: close,
    });
    if (closed) off();
    request.raw.on('close', close);
    res.on('close', close);
    return reply;
  }

  async function handle(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const url = request.url;
    const query = parseQuery(url);
    const path = `/${(request.params as { '*'?: string })['*'] ?? ''}`.split('?')[0] ?? '/';
    let neg: Negotiated | undefined;
    try {
      const caller = await opts.authenticate(request.headers);
      if (!caller) throw new KubeError(401, 'Unauthorized', 'Unauthorized');
      const method = request.method;
      const segments = path
        .split('/')
        .filter((s) => s !== '')
        .map(decodeURIComponent);
      // Non-resource endpoints.
      if (segments[0] === 'version' && segments.length === 1)
        return send(reply, 200, opts.version, negotiate(undefined, request.headers['user-agent'], query));
      if (['healthz', 'readyz', 'livez'].includes(segments[0] ?? '') && segments.length === 1)
        return reply.type('text/plain').send('ok');
      if (segments[0] === 'openapi') return serveOpenApi(request, reply, segments);
      if (segments[0] !== 'api' && segments[0] !== 'apis') {
        return reply.code(404).type('text/plain; charset=utf-8').send('404 page not found');
      }
      const accept = request.headers.accept;
      const r = route(segments);
      if (r === 'discovery') {
        if (
          accept &&
          !/application\/json(?!;)|application\/json\s*(,|$)|\*\/\*/.test(
            accept.replace(/;g=apidiscovery[^,]*/g, ';agg'),
          )
        ) {
          if (!accept.split(',').some((p) => /^\s*(application\/json|\*\/\*)\s*$/.test(p)))
            throw notAcceptable();
        }
        neg = {
          format: 'json',
          pretty: negotiate(undefined, request.headers['user-agent'], query).pretty,
          includeObject: 'Metadata',
        };
        const doc = discovery(segments);
        if (!doc) return reply.code(404).type('text/plain; charset=utf-8').send('404 page not found');
        return send(reply, 200, doc, neg);
      }
      if (!r) {
        if (segments[0] === 'api') throw resourceNotFound();
        return reply.code(404).type('text/plain; charset=utf-8').send('404 page not found');
      }
      neg = negotiate(accept, request.headers['user-agent'], query);
      const write = method !== 'GET' && method !== 'HEAD';
      if (write && !caller.admin)
        throw new KubeError(
          403,
          'Forbidden',
          `${r.info.resource} is forbidden: User "${caller.name}" cannot ${method.toLowerCase()} resource "${r.info.resource}" in API group "${r.info.group}"`,
          { kind: r.info.resource },
        );
      const dryRun = query.dryRun === 'All';
      const fieldManager = query.fieldManager;
      const { info, namespace, name, subresource } = r;
      if (name === undefined) {
        // Collection.
        if (method === 'GET') {
          if (query.watch === 'true' || query.watch === '1') {
            watch(request, reply, r, query, neg);
            return reply;
          }
          return send(reply, 200, list(r, query, neg), neg);
        }
        if (method === 'POST') {
          const body = parseBody(request);
          checkStrict(r, body, query, reply);
          const created = cluster.create(info, namespace, body, {
            fieldManager: fieldManager ?? managerFromAgent(request),
            dryRun,
          });
          return send(
            reply,
            201,
            withTypeMeta(created),
            neg.format === 'table' ? { ...neg, format: 'json' } : neg,
          );
        }
        if (method === 'DELETE') {
          const filter = selectorFilter(query);
          const deleted: Record<string, unknown>[] = [];
          const dopts = deleteOptions(request, query);
          for (const o of store
            .list(info.key, info.namespaced && namespace ? namespace : undefined)
            .filter(filter)) {
            deleted.push(
              stripTypeMeta(
                cluster.delete(info, o.metadata.namespace ?? '', o.metadata.name ?? '', dopts).object,
              ),
            );
          }
          return send(
            reply,
            200,
            {
              kind: `${info.kind}List`,
              apiVersion: r.groupVersion,
              metadata: { resourceVersion: String(store.resourceVersion) },
              items: deleted,
            },
            { ...neg, format: neg.format === 'yaml' ? 'yaml' : 'json' },
          );
        }
        throw methodNotAllowed();
      }
      const jsonNeg: Negotiated = neg.format === 'table' ? { ...neg, format: 'json' } : neg;
      if (subresource === 'scale') {
        if (method === 'GET') return send(reply, 200, cluster.getScale(info, namespace, name), jsonNeg);
        if (method === 'PUT') {
          const old = cluster.get(info, namespace, name);
          const body = parseBody(request) as KubeObject;
          return send(
            reply,
            200,
            cluster.updateScale(info, old, body, {
              fieldManager: fieldManager ?? managerFromAgent(request),
              dryRun,
            }),
            jsonNeg,
          );
        }
      }
      if (subresource === 'log' && method === 'GET') {
        return podLog(request, reply, cluster.get(info, namespace, name), query);
      }
      if (subresource && !['status', 'scale', 'finalize'].includes(subresource)) throw methodNotAllowed();
      switch (method) {
        case 'GET': {
          const o = cluster.get(info, namespace, name);
          if (neg.format === 'table')
            return send(
              reply,
              200,
              toTable(
                info.key,
                [o],
                cluster.clock.now(),
                { resourceVersion: o.metadata.resourceVersion ?? '' },
                neg.includeObject,
              ),
              neg,
            );
          return send(reply, 200, withTypeMeta(o), neg);
        }
        case 'PUT': {
          const body = parseBody(request);
          checkStrict(r, body, query, reply);
          const sub = subresource === 'finalize' ? undefined : subresource;
          const existed = cluster.find(info, namespace, name) !== undefined;
          const o = cluster.update(info, namespace, name, body, {
            fieldManager: fieldManager ?? managerFromAgent(request),
            dryRun,
            subresource: sub,
          });
          return send(reply, existed ? 200 : 201, withTypeMeta(o), jsonNeg);
        }
        case 'PATCH': {
          const ct = String(request.headers['content-type'] ?? '')
            .split(';')[0]
            ?.trim();
          const type: PatchType | undefined =
            ct === 'application/json-patch+json'
              ? 'json'
              : ct === 'application/merge-patch+json'
                ? 'merge'
                : ct === 'application/strategic-merge-patch+json'
                  ? 'strategic'
                  : ct === 'application/apply-patch+yaml' || ct === 'application/apply-patch+cbor'
                    ? 'apply'
                    : undefined;
          if (!type) throw unsupportedMediaType();
          const force = query.force === 'true';
          if (type === 'apply' && !fieldManager) {
            throw new KubeError(
              422,
              'Invalid',
              'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
              {
                group: 'meta.k8s.io',
                kind: 'PatchOptions',
                causes: [
                  {
                    reason: 'FieldValueRequired',
                    message: 'Required value: is required for apply patch',
                    field: 'fieldManager',
                  },
                ],
              },
            );
          }
          if (type !== 'apply' && query.force !== undefined) {
            throw new KubeError(
              422,
              'Invalid',
              'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
              {
                group: 'meta.k8s.io',
                kind: 'PatchOptions',
                causes: [
                  {
                    reason: 'FieldValueForbidden',
                    message: 'Forbidden: may not be specified for non-apply patch',
                    field: 'force',
                  },
                ],
              },
            );
          }
          const body = parseBody(request, type);
          if (type === 'apply') checkStrict(r, body, query, reply);
          const existed = cluster.find(info, namespace, name) !== undefined;
          const o = cluster.patch(info, namespace, name, type, body, {
            fieldManager: fieldManager ?? managerFromAgent(request),
            force,
            dryRun,
            subresource,
          });
          return send(reply, existed ? 200 : 201, withTypeMeta(o), jsonNeg);
        }
        case 'DELETE': {
          const { object, gone } = cluster.delete(info, namespace, name, deleteOptions(request, query));
          if (gone && info.group !== '') {
            return send(
              reply,
              200,
              {
                kind: 'Status',
                apiVersion: 'v1',
                metadata: {},
                status: 'Success',
                details: { name, group: info.group, kind: info.resource, uid: object.metadata.uid },
              },
              jsonNeg,
            );
          }
          return send(reply, gone ? 200 : 202, withTypeMeta(object), jsonNeg);
        }
        default:
          throw methodNotAllowed();
      }
    } catch (err) {
      if (reply.sent || reply.raw.headersSent) return reply;
      if (err instanceof KubeError) return sendError(reply, err, neg);
      request.log.error({ err }, 'kube api request failed');
      return sendError(
        reply,
        new KubeError(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`),
        neg,
      );
    }
  }

  function unknownFieldsOf(r: Route, body: Record<string, unknown>): string[] {
    return unknownFields(r.info.group, r.info.version, r.info.kind, body);
  }

  function discovery(segments: string[]): unknown {
    if (segments[0] === 'api') {
      if (segments.length === 1)
        return {
          kind: 'APIVersions',
          versions: ['v1'],
          serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }],
        };
      return registry.groupVersionDoc(segments[1] ?? '');
    }
    if (segments.length === 1) return registry.apiGroupList();
    if (segments.length === 2) return registry.apiGroup(segments[1] ?? '');
    return registry.groupVersionDoc(`${segments[1]}/${segments[2]}`);
  }

  function serveOpenApi(request: FastifyRequest, reply: FastifyReply, segments: string[]): FastifyReply {
    const query = parseQuery(request.url);
    let doc: { body: Buffer; etag: string } | undefined;
    if (segments[1] === 'v2' && segments.length === 2) doc = openApiV2();
    else if (segments[1] === 'v3' && segments.length === 2) doc = openApiV3Index();
    else if (segments[1] === 'v3') doc = openApiV3(segments.slice(2).join('/'));
    if (!doc) return reply.code(404).type('text/plain; charset=utf-8').send('404 page not found');
    const etag = `"${doc.etag}"`;
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    reply.header('etag', etag);
    if (query.hash) {
      reply.header('cache-control', 'public, immutable');
      reply.header('expires', new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString());
    } else reply.header('cache-control', 'no-cache, private');
    return reply.code(200).type('application/json').send(doc.body);
  }

  return async function routes(app: FastifyInstance): Promise<void> {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 * 1024 }, (_req, body, done) =>
      done(null, body),
    );
    app.all('/*', handle);
    app.all('/', handle);
  };
}

function managerFromAgent(request: FastifyRequest): string {
  const ua = String(request.headers['user-agent'] ?? 'unknown');
  return ua.split('/')[0] || 'unknown';
}
