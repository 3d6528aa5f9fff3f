// A small in-memory Kubernetes API server for tests: discovery and /version replayed from the k8s-reference
// recordings (testdata/discovery), server-side apply (simplified merge), get/list/delete, watch with 410 Gone.
// It is a stand-in until a real API server (src/localcluster) runs in tests; it is not a Kubernetes.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { isRecord, type KubeObject } from './types.ts';

export interface FakeKubeApiOptions {
  /** Require `Authorization: Bearer <token>`. */
  token?: string;
  /** Serve TLS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /** Serve under a path prefix such as `/kube`. */
  basePath?: string;
}

export interface FakeKubeApi {
  /** The server URL (with the base path). */
  url: string;
  /** A kubeconfig for it (bearer token when one is required; insecure-skip-tls-verify for TLS). */
  kubeconfig(options?: { namespace?: string }): string;
  /** Forgets the event history, so watches from older resourceVersions get 410 Gone. */
  compact(): void;
  /** Closes every open watch stream (as a server restart or network cut would). */
  dropWatches(): void;
  /** Requests received (`METHOD path?query`). */
  readonly requests: string[];
  close(): Promise<void>;
}

interface ResourceInfo {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

interface Stored {
  obj: KubeObject;
  info: ResourceInfo;
  /** Last applied configuration per field manager (to remove fields a manager stopped applying). */
  applied: Map<string, unknown>;
}

interface LoggedEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  group: string;
  resource: string;
  obj: KubeObject;
}

const DISCOVERY = new URL('./testdata/discovery/', import.meta.url);

function readJson(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, DISCOVERY), 'utf8'));
}

function loadDiscovery(): { docs: Map<string, unknown>; resources: ResourceInfo[] } {
  const docs = new Map<string, unknown>();
  const resources: ResourceInfo[] = [];
  docs.set('/api', readJson('api.json'));
  docs.set('/apis', readJson('apis.json'));
  docs.set('/version', readJson('version.json'));
  const add = (path: string, group: string, doc: unknown) => {
    docs.set(path, doc);
    const d = doc as {
      groupVersion: string;
      resources: { name: string; kind: string; namespaced: boolean }[];
    };
    const version = d.groupVersion.includes('/') ? d.groupVersion.split('/')[1]! : d.groupVersion;
    for (const r of d.resources) {
      if (!r.name.includes('/'))
        resources.push({ group, version, resource: r.name, kind: r.kind, namespaced: r.namespaced });
    }
  };
  add('/api/v1', '', readJson('api_v1.json'));
  for (const file of readdirSync(DISCOVERY)) {
    const m = /^apis_(.+)_(v[^_]+)\.json$/.exec(file);
    if (m) add(`/apis/${m[1]}/${m[2]}`, m[1]!, readJson(file));
  }
  return { docs, resources };
}

function status(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: code < 400 ? 'Success' : 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

/** Parses an equality/set-based label selector; returns a predicate. */
export function parseLabelSelector(
  selector: string,
): (labels: Record<string, string> | undefined) => boolean {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur);
  const tests = parts.map((raw) => {
    const p = raw.trim();
    let m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(p);
    if (m) {
      const [, k, op, v] = m;
      return (l: Record<string, string>) => (op === '!=' ? l[k!] !== v : l[k!] === v);
    }
    m = /^([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(p);
    if (m) {
      const [, k, op, list] = m;
      const values = list!.split(',').map((s) => s.trim());
      return (l: Record<string, string>) =>
        op === 'in' ? values.includes(l[k!] ?? '\0') : !values.includes(l[k!] ?? '\0');
    }
    if (p.startsWith('!')) return (l: Record<string, string>) => !(p.slice(1) in l);
    return (l: Record<string, string>) => p in l;
  });
  return (labels) => tests.every((t) => t(labels ?? {}));
}

function fieldsOf(value: unknown): Record<string, unknown> {
  if (!isRecord(value)) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[`f:${k}`] = isRecord(v) ? fieldsOf(v) : {};
  return out;
}

function removeUnapplied(target: unknown, previous: unknown, next: unknown): void {
  if (!isRecord(target) || !isRecord(previous)) return;
  for (const [k, v] of Object.entries(previous)) {
    if (!isRecord(next) || !(k in next)) delete target[k];
    else if (isRecord(v)) removeUnapplied(target[k], v, next[k]);
  }
}

function leaves(value: unknown, path: string, out: Map<string, string>): Map<string, string> {
  if (isRecord(value)) for (const [k, v] of Object.entries(value)) leaves(v, `${path}.${k}`, out);
  else out.set(path, JSON.stringify(value));
  return out;
}

function deletePath(value: unknown, path: string): void {
  const parts = path.split('.').slice(1);
  let cur = value;
  for (let i = 0; i < parts.length - 1; i++) cur = isRecord(cur) ? cur[parts[i]!] : undefined;
  if (isRecord(cur)) delete cur[parts[parts.length - 1]!];
}

function merge(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (isRecord(v) && isRecord(target[k])) merge(target[k] as Record<string, unknown>, v);
    else target[k] = JSON.parse(JSON.stringify(v));
  }
}

export async function startFakeKubeApi(options: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
  const { docs, resources } = loadDiscovery();
  const base = (options.basePath ?? '').replace(/\/+$/, '');
  const store = new Map<string, Stored>();
  let rv = 100;
  let compactedBefore = 0;
  const log: LoggedEvent[] = [];
  const watchers = new Set<{ res: http.ServerResponse; send: (e: LoggedEvent) => void }>();
  const requests: string[] = [];

  const record = (type: LoggedEvent['type'], info: ResourceInfo, obj: KubeObject) => {
    const e: LoggedEvent = {
      rv: Number(obj.metadata.resourceVersion),
      type,
      group: info.group,
      resource: info.resource,
      obj,
    };
    log.push(e);
    for (const w of watchers) w.send(e);
  };

  const keyOf = (info: ResourceInfo, ns: string | undefined, name: string) =>
    `${info.group}|${info.resource}|${info.namespaced ? (ns ?? '') : ''}|${name}`;

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      send(401, status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    if (!url.pathname.startsWith(`${base}/`)) {
      send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return;
    }
    const path = url.pathname.slice(base.length).replace(/\/+$/, '');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');

    const doc = docs.get(path);
    if (doc && req.method === 'GET') {
      send(200, doc);
      return;
    }
    const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (seg[0] === 'api' && seg.length >= 2) {
      group = '';
      version = seg[1]!;
      rest = seg.slice(2);
    } else if (seg[0] === 'apis' && seg.length >= 3) {
      group = seg[1]!;
      version = seg[2]!;
      rest = seg.slice(3);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('404 page not found');
      return;
    }
    let ns: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      ns = rest[1];
      rest = rest.slice(2);
    }
    const info = resources.find((r) => r.group === group && r.version === version && r.resource === rest[0]);
    if (!info || rest.length > 2) {
      send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return;
    }
    const apiVersion = group ? `${group}/${version}` : version;
    const name = rest[1];
    const q = url.searchParams;

    if (!name) {
      if (req.method !== 'GET') {
        send(
          405,
          status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
        );
        return;
      }
      const selector = parseLabelSelector(q.get('labelSelector') ?? '');
      const fieldSel = (q.get('fieldSelector') ?? '')
        .split(',')
        .filter(Boolean)
        .map((s) => s.split('='));
      const matches = (obj: KubeObject) =>
        selector(obj.metadata.labels) &&
        (!ns || obj.metadata.namespace === ns) &&
        fieldSel.every(([k, v]) =>
          k === 'metadata.name'
            ? obj.metadata.name === v
            : k === 'metadata.namespace'
              ? obj.metadata.namespace === v
              : true,
        );
      if (q.get('watch') === '1' || q.get('watch') === 'true') {
        const from = Number(q.get('resourceVersion') ?? '0');
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        const write = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
        if (from > 0 && from < compactedBefore) {
          write('ERROR', status(410, 'Expired', `too old resource version: ${from} (${compactedBefore})`));
          res.end();
          return;
        }
        const sendEvent = (e: LoggedEvent) => {
          if (e.group === info.group && e.resource === info.resource && matches(e.obj)) write(e.type, e.obj);
        };
        if (from > 0) {
          for (const e of log) if (e.rv > from) sendEvent(e);
        } else {
          for (const s of store.values()) if (s.info === info && matches(s.obj)) write('ADDED', s.obj);
        }
        const watcher = { res, send: sendEvent };
        watchers.add(watcher);
        const timeout = Number(q.get('timeoutSeconds') ?? '0');
        const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
        res.on('close', () => {
          watchers.delete(watcher);
          if (timer) clearTimeout(timer);
        });
        return;
      }
      const items = [...store.entries()]
        .filter(([k]) => k.startsWith(`${info.group}|${info.resource}|`))
        .map(([, s]) => s.obj)
        .filter(matches)
        .map((o) => {
          const { apiVersion: _a, kind: _k, ...item } = o;
          return item;
        });
      const limit = Number(q.get('limit') ?? '0');
      const offset = Number(q.get('continue') ?? '0');
      const page = limit > 0 ? items.slice(offset, offset + limit) : items;
      const more = limit > 0 && offset + limit < items.length;
      send(200, {
        kind: `${info.kind}List`,
        apiVersion,
        metadata: { resourceVersion: String(rv), ...(more ? { continue: String(offset + limit) } : {}) },
        items: page,
      });
      return;
    }

    const key = keyOf(info, ns, name);
    const stored = store.get(key);
    const notFound = () =>
      send(
        404,
        status(404, 'NotFound', `${info.resource}${group ? `.${group}` : ''} "${name}" not found`, {
          name,
          group,
          kind: info.resource,
        }),
      );
    if (req.method === 'GET') {
      if (!stored) notFound();
      else send(200, stored.obj);
      return;
    }
    if (req.method === 'DELETE') {
      if (!stored) {
        notFound();
        return;
      }
      const opts = rawBody ? (JSON.parse(rawBody) as { propagationPolicy?: string }) : {};
      if (q.get('dryRun') === 'All') {
        send(200, status(200, '', '', { name, kind: info.resource, uid: stored.obj.metadata.uid }));
        return;
      }
      const remove = (k: string, s: Stored) => {
        store.delete(k);
        s.obj.metadata.resourceVersion = String(++rv);
        record('DELETED', s.info, s.obj);
        const uid = s.obj.metadata.uid;
        for (const [dk, ds] of [...store.entries()]) {
          const owners = ds.obj.metadata.ownerReferences ?? [];
          if (!owners.some((o) => o.uid === uid)) continue;
          if (opts.propagationPolicy === 'Orphan') {
            ds.obj.metadata.ownerReferences = owners.filter((o) => o.uid !== uid);
          } else remove(dk, ds);
        }
      };
      remove(key, stored);
      send(200, status(200, '', '', { name, kind: info.resource, uid: stored.obj.metadata.uid }));
      return;
    }
    if (req.method === 'PATCH') {
      if (req.headers['content-type'] !== 'application/apply-patch+yaml') {
        send(
          415,
          status(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml`,
          ),
        );
        return;
      }
      const manager = q.get('fieldManager');
      if (!manager) {
        send(
          422,
          status(
            422,
            'Invalid',
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
          ),
        );
        return;
      }
      let patch: KubeObject;
      try {
        patch = parseYaml(rawBody) as KubeObject;
      } catch (err) {
        send(400, status(400, 'BadRequest', `error decoding YAML: ${(err as Error).message}`));
        return;
      }
      if (!isRecord(patch) || patch.kind !== info.kind || patch.apiVersion !== apiVersion) {
        send(
          400,
          status(
            400,
            'BadRequest',
            `the apiVersion/kind of the body does not match the URL (${apiVersion} ${info.kind})`,
          ),
        );
        return;
      }
      if (patch.metadata?.name !== name) {
        send(400, status(400, 'BadRequest', 'the name of the object does not match the name on the URL'));
        return;
      }
      const applied = JSON.parse(JSON.stringify(patch)) as KubeObject;
      delete applied.status;
      if (applied.kind === 'Secret' && isRecord(applied.stringData)) {
        const data = isRecord(applied.data) ? applied.data : {};
        for (const [k, v] of Object.entries(applied.stringData))
          data[k] = Buffer.from(String(v)).toString('base64');
        applied.data = data;
        delete applied.stringData;
      }
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const next: Stored = stored
        ? {
            obj: JSON.parse(JSON.stringify(stored.obj)) as KubeObject,
            info,
            applied: new Map(stored.applied),
          }
        : {
            obj: {
              apiVersion,
              kind: info.kind,
              metadata: {
                name,
                ...(info.namespaced ? { namespace: ns ?? 'default' } : {}),
                uid: randomUUID(),
                creationTimestamp: now,
              },
            },
            info,
            applied: new Map(),
          };
      // Field ownership: a leaf another manager applied with a different value is a conflict unless forced.
      const mine = leaves(
        { ...applied, metadata: { ...applied.metadata, name: undefined, namespace: undefined } },
        '',
        new Map(),
      );
      const conflicts: { manager: string; field: string }[] = [];
      for (const [other, config] of next.applied) {
        if (other === manager) continue;
        for (const [field, value] of leaves(config, '', new Map())) {
          if (mine.has(field) && mine.get(field) !== value && !field.startsWith('.metadata.name'))
            conflicts.push({ manager: other, field });
        }
      }
      if (conflicts.length > 0 && q.get('force') !== 'true') {
        send(
          409,
          status(409, 'Conflict', `Apply failed with ${conflicts.length} conflict(s)`, {
            name,
            kind: info.resource,
            causes: conflicts.map((c) => ({
              reason: 'FieldManagerConflict',
              message: `conflict with "${c.manager}"`,
              field: c.field,
            })),
          }),
        );
        return;
      }
      for (const c of conflicts) {
        const config = JSON.parse(JSON.stringify(next.applied.get(c.manager))) as unknown;
        deletePath(config, c.field);
        next.applied.set(c.manager, config);
      }
      const prevApplied = next.applied.get(manager);
      if (prevApplied) removeUnapplied(next.obj, prevApplied, applied);
      const { metadata: appliedMeta, ...restApplied } = applied;
      merge(next.obj, restApplied);
      const {
        name: _n,
        namespace: _ns,
        uid: _u,
        resourceVersion: _rv,
        managedFields: _mf,
        ...metaRest
      } = appliedMeta;
      merge(next.obj.metadata, metaRest);
      next.applied.set(manager, applied);
      const changed = !stored || JSON.stringify(stored.obj.spec) !== JSON.stringify(next.obj.spec);
      next.obj.metadata.generation = (stored?.obj.metadata.generation ?? 0) + (changed ? 1 : 0);
      next.obj.metadata.managedFields = [...next.applied.entries()].map(([m, a]) => ({
        manager: m,
        operation: 'Apply',
        apiVersion,
        time: now,
        fieldsType: 'FieldsV1',
        fieldsV1: fieldsOf({ ...(a as Record<string, unknown>), apiVersion: undefined, kind: undefined }),
      }));
      for (const e of next.obj.metadata.managedFields) {
        delete (e.fieldsV1 as Record<string, unknown>)['f:apiVersion'];
        delete (e.fieldsV1 as Record<string, unknown>)['f:kind'];
      }
      if (q.get('dryRun') === 'All') {
        send(stored ? 200 : 201, next.obj);
        return;
      }
      if (
        stored &&
        JSON.stringify(stored.obj) ===
          JSON.stringify({
            ...next.obj,
            metadata: { ...next.obj.metadata, managedFields: stored.obj.metadata.managedFields },
          })
      ) {
        send(200, stored.obj);
        return;
      }
      next.obj.metadata.resourceVersion = String(++rv);
      store.set(key, next);
      record(stored ? 'MODIFIED' : 'ADDED', info, next.obj);
      send(stored ? 200 : 201, next.obj);
      return;
    }
    send(
      405,
      status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
    );
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handler(req, res).catch((err: Error) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status(500, 'InternalError', err.message)));
      }
    });
  };
  const server = options.tls
    ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, listener)
    : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}${base}`;

  return {
    url,
    requests,
    kubeconfig({ namespace } = {}) {
      const lines = [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: fake',
        '  cluster:',
        `    server: ${url}`,
        ...(options.tls ? ['    insecure-skip-tls-verify: true'] : []),
        'users:',
        '- name: fake-user',
        `  user: ${options.token ? `{token: ${options.token}}` : '{}'}`,
        'contexts:',
        '- name: fake',
        `  context: {cluster: fake, user: fake-user${namespace ? `, namespace: ${namespace}` : ''}}`,
        'current-context: fake',
      ];
      return `${lines.join('\n')}\n`;
    },
    compact() {
      compactedBefore = rv;
      log.length = 0;
    },
    dropWatches() {
      for (const w of [...watchers]) {
        w.res.destroy();
        watchers.delete(w);
      }
    },
    async close() {
      for (const w of watchers) w.res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
