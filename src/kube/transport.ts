// HTTP to one Kubernetes API server with the credentials of a kubeconfig (through @kubernetes/client-node's
// KubeConfig), timeouts on every call, and Kubernetes Status errors turned into Slipway's typed errors.
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  type SlipwayError,
  UnavailableError,
  ValidationError,
} from '../core/index.ts';
import { isRecord } from './types.ts';

export interface TransportOptions {
  /** Cluster name for messages. */
  name: string;
  /** Kubeconfig YAML. */
  kubeconfig: string;
  /** Context to use (default: the kubeconfig's current-context). */
  context?: string;
  /** Per-call timeout (default 15 s). */
  timeoutMs?: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
}

export interface KubeResponse {
  status: number;
  body: unknown;
}

/** Kubernetes' `Status` body. */
interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    kind?: string;
    causes?: { reason?: string; message?: string; field?: string }[];
  };
  metadata?: { continue?: string };
}

/** Loads a kubeconfig (YAML), selecting `context`. Throws InputError for a bad file or unknown context. */
export function loadKubeConfig(text: string, context?: string, label = 'kubeconfig'): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (err) {
    throw new InputError(`Cannot read ${label}: ${(err as Error).message}`, { location: { file: label } });
  }
  if (context) {
    if (!kc.getContextObject(context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new InputError(`Context "${context}" is not in ${label}; it has: ${known.join(', ') || 'none'}`, {
        location: { file: label, field: 'contexts' },
      });
    }
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new InputError(`${label} has no current context with a cluster server URL`, {
      location: { file: label, field: 'current-context' },
    });
  }
  if (!kc.getCurrentUser()) {
    // client-node applies no TLS settings without a user; an anonymous user keeps CA and skip-verify working.
    kc.loadFromOptions({
      clusters: kc.clusters,
      users: [...kc.users, { name: '__slipway_anonymous__' }],
      contexts: kc.contexts.map((c) =>
        c.name === kc.currentContext ? { ...c, user: '__slipway_anonymous__' } : c,
      ),
      currentContext: kc.currentContext,
    });
  }
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    // client-node refuses plain http unless TLS verification is off; plain http has no TLS to verify.
    kc.loadFromOptions({
      clusters: kc.clusters.map((c) => (c.name === cluster.name ? { ...c, skipTLSVerify: true } : c)),
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    });
  }
  return kc;
}

function errorFor(cluster: string, what: string, status: number, body: unknown): SlipwayError {
  const st: KubeStatus = isRecord(body) ? (body as KubeStatus) : {};
  const message = st.message ?? (typeof body === 'string' && body ? body.trim() : `HTTP ${status}`);
  const details: Record<string, unknown> = { cluster, status, reason: st.reason ?? '' };
  if (st.details?.causes) details.causes = st.details.causes;
  if (st.metadata?.continue) details.continue = st.metadata.continue;
  const text = `Cluster "${cluster}": ${what}: ${message}`;
  switch (status) {
    case 400:
    case 415:
      return new InputError(text, { details });
    case 403:
      return new NotAllowedError(text, { details });
    case 404:
      return new NotFoundError(text, { details });
    case 409:
    case 410:
      return new ConflictError(text, { details });
    case 422:
      return new ValidationError(text, { details });
    default:
      return new UnavailableError(text, { details });
  }
}

/** True for the 410 Gone / Expired answers that mean "re-list". */
export function isExpired(err: unknown): boolean {
  const details = (err as SlipwayError | undefined)?.details;
  return details?.status === 410;
}

export class KubeTransport {
  readonly name: string;
  readonly kubeConfig: KubeConfig;
  readonly server: URL;
  readonly defaultNamespace: string;
  private readonly timeoutMs: number;
  private agent: http.Agent | undefined;

  constructor(options: TransportOptions) {
    this.name = options.name;
    this.kubeConfig = loadKubeConfig(
      options.kubeconfig,
      options.context,
      `kubeconfig of cluster "${options.name}"`,
    );
    const server = this.kubeConfig.getCurrentCluster()!.server;
    try {
      this.server = new URL(server);
    } catch {
      throw new InputError(`Cluster "${options.name}": server URL "${server}" is not a URL`);
    }
    const ctx = this.kubeConfig.getContextObject(this.kubeConfig.getCurrentContext());
    this.defaultNamespace = ctx?.namespace || 'default';
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** The URL of an API path (the server URL may carry a path prefix, e.g. `https://host/kube`). */
  url(path: string, query?: RequestOptions['query']): URL {
    const base = this.server.pathname.replace(/\/+$/, '');
    const url = new URL(this.server.origin);
    url.pathname = `${base}${path}`;
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private async connection(): Promise<{ headers: Record<string, string>; agent: http.Agent }> {
    const opts: https.RequestOptions = {};
    try {
      await this.kubeConfig.applyToHTTPSOptions(opts);
    } catch (err) {
      throw new UnavailableError(
        `Cluster "${this.name}": cannot prepare credentials: ${(err as Error).message}`,
        {
          details: { cluster: this.name },
        },
      );
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (typeof v === 'string' || typeof v === 'number') headers[k.toLowerCase()] = String(v);
      else if (Array.isArray(v)) headers[k.toLowerCase()] = v.join(', ');
    }
    if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    if (!this.agent) {
      this.agent =
        this.server.protocol === 'http:'
          ? new http.Agent({ keepAlive: true })
          : new https.Agent({
              keepAlive: true,
              ca: opts.ca,
              cert: opts.cert,
              key: opts.key,
              ...(opts.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
              ...(opts.servername ? { servername: opts.servername } : {}),
            });
    }
    return { headers, agent: this.agent };
  }

  /** One request; resolves with the status and parsed JSON body for 2xx, throws typed errors otherwise. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<KubeResponse> {
    const res = await this.send(method, path, options);
    if (res.status >= 200 && res.status < 300) return res;
    throw errorFor(this.name, `${method} ${path}`, res.status, res.body);
  }

  /** Throws the typed error for a non-2xx response; returns it otherwise. */
  check(method: string, path: string, res: KubeResponse): KubeResponse {
    if (res.status >= 200 && res.status < 300) return res;
    throw errorFor(this.name, `${method} ${path}`, res.status, res.body);
  }

  /** Like request(), but returns error statuses instead of throwing them (network errors still throw). */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<KubeResponse> {
    const { headers, agent } = await this.connection();
    const url = this.url(path, options.query);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    headers.accept = 'application/json';
    headers['user-agent'] = 'slipway';
    if (payload) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const lib = url.protocol === 'http:' ? http : https;
    return new Promise<KubeResponse>((resolve, reject) => {
      let settled = false;
      const fail = (reason: string) => {
        if (settled) return;
        settled = true;
        reject(
          new UnavailableError(`Cluster "${this.name}" is unavailable: ${method} ${path}: ${reason}`, {
            details: { cluster: this.name },
          }),
        );
      };
      const req = lib.request(url, { method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => fail(err.message));
        res.on('end', () => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          if (text && (res.headers['content-type'] ?? '').includes('json')) {
            try {
              body = JSON.parse(text);
            } catch {
              body = text;
            }
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      const timer = setTimeout(() => {
        fail(`no answer within ${timeoutMs} ms`);
        req.destroy();
      }, timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        fail(err.code ? `${err.code} ${err.message}` : err.message);
      });
      req.end(payload);
    });
  }

  /**
   * Opens a streaming GET (watch). Calls `onLine` for each line of the body; resolves when the stream ends,
   * rejects with a typed error for an error status or a network failure. `signal` aborts it.
   */
  async stream(
    path: string,
    query: RequestOptions['query'],
    onLine: (line: string) => void,
    signal: AbortSignal,
    idleTimeoutMs: number,
  ): Promise<void> {
    const { headers, agent } = await this.connection();
    const url = this.url(path, query);
    headers.accept = 'application/json';
    headers['user-agent'] = 'slipway';
    const lib = url.protocol === 'http:' ? http : https;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const unavailable = (reason: string) =>
        new UnavailableError(`Cluster "${this.name}" is unavailable: watch ${path}: ${reason}`, {
          details: { cluster: this.name },
        });
      let idle = setTimeout(() => {
        done(unavailable(`no answer within ${idleTimeoutMs} ms`));
        req.destroy();
      }, idleTimeoutMs);
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          done(unavailable(`stream idle for ${idleTimeoutMs} ms`));
          req.destroy();
        }, idleTimeoutMs);
      };
      const onAbort = () => {
        req.destroy();
        done();
      };
      signal.addEventListener('abort', onAbort);
      const req = lib.request(url, { method: 'GET', headers, agent }, (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            try {
              body = JSON.parse(text);
            } catch {}
            done(errorFor(this.name, `watch ${path}`, status, body));
          });
          return;
        }
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          touch();
          buffer += chunk;
          let nl = buffer.indexOf('\n');
          while (nl >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (line) {
              try {
                onLine(line);
              } catch (err) {
                done(err as Error);
                req.destroy();
                return;
              }
            }
            nl = buffer.indexOf('\n');
          }
        });
        res.on('error', (err) => done(unavailable(err.message)));
        res.on('close', () => {
          if (!res.complete) done(unavailable('the connection was closed'));
        });
        res.on('end', () => {
          const rest = buffer.trim();
          if (rest && !settled) {
            try {
              onLine(rest);
            } catch (err) {
              done(err as Error);
              return;
            }
          }
          done();
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (signal.aborted) done();
        else done(unavailable(err.code ? `${err.code} ${err.message}` : err.message));
      });
      req.end();
    });
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}
