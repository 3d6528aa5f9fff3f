// Builds and runs one Slipway server: every mount on one port, sharing one store, auth and event bus.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { AuthService } from '../auth/index.ts';
import {
  createLogger,
  EventBus,
  type Logger,
  NotImplementedError,
  type SlipwayConfig,
  toHttpError,
  VERSION,
} from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { authRoutes } from './api-auth.ts';
import type { MountedModule, ServerContext } from './context.ts';
import { eventRoutes } from './events-sse.ts';
import { tuneHeapForStreaming } from './heap-tuning.ts';
import { createMetrics, mountOf } from './metrics.ts';
import { createModules, PROTOCOL_MOUNTS } from './modules.ts';
import { staticUi } from './static-ui.ts';

export interface RunningServer {
  app: FastifyInstance;
  ctx: ServerContext;
  /** The URL the server listens on (with the real port when port 0 was asked for). */
  url: string;
  /** Set on the very first start: the generated admin password (also in `<data>/initial-admin-password`). */
  initialAdminPassword: string | undefined;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Modules to mount instead of the built-in set (tests that wire a module their own way). */
  extraModules?: (ctx: ServerContext) => MountedModule[];
}

/** Starts Slipway with `config`: opens the store, creates the first admin if needed, mounts every module, listens. */
export async function startServer(config: SlipwayConfig, options: StartOptions = {}): Promise<RunningServer> {
  tuneHeapForStreaming();
  if (config.port === 0) {
    const port = await freePort(config.host);
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    config = {
      ...config,
      port,
      publicUrl: config.publicUrl
        .replace(/:0$/, `:${port}`)
        .replace(/\/\/[^/]*:0(?=\/|$)/, `//${host}:${port}`),
    };
  }
  mkdirSync(config.data, { recursive: true, mode: 0o700 });
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const store = openStore(join(config.data, 'slipway.db'));
  const auth = new AuthService(store, { sessionTtlSeconds: config.sessionTtlSeconds });
  const initialAdminPassword = await auth.bootstrapAdmin(config.data);
  const events = new EventBus();
  const ctx: ServerContext = {
    config,
    logger,
    events,
    store,
    auth,
    dataDir: config.data,
    publicUrl: config.publicUrl,
  };
  const metrics = createMetrics();

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 16 * 1024 * 1024,
    routerOptions: { maxParamLength: 1024 },
    return503OnClosing: true,
    forceCloseConnections: true,
  }) as unknown as FastifyInstance;

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toHttpError(err);
    if (status >= 500) request.log.error({ err, url: request.url }, 'request failed');
    reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send({ error: { code: 'NOT_FOUND', message: `No route for ${request.method} ${request.url}` } });
  });

  app.addHook('onResponse', async (request, reply) => {
    const mount = mountOf(request.url);
    metrics.requests.inc({ mount, method: request.method, status: String(reply.statusCode) });
    metrics.duration.observe({ mount, method: request.method }, reply.elapsedTime / 1000);
    // A 401 is how every registry and git client starts (the challenge), so it is not worth an info line.
    if (reply.statusCode >= 400 && reply.statusCode !== 401) {
      request.log.info(
        { method: request.method, url: request.url.split('?')[0], status: reply.statusCode },
        'request',
      );
    } else {
      request.log.debug(
        { method: request.method, url: request.url.split('?')[0], status: reply.statusCode },
        'request',
      );
    }
  });

  app.get('/api/v1/health', async () => ({ status: 'ok', version: VERSION }));
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  await app.register(authRoutes(auth, { secureCookies: config.publicUrl.startsWith('https:') }), {
    prefix: '/api/v1',
  });
  await app.register(eventRoutes(events, auth), { prefix: '/api/v1' });

  // Tests that bring their own modules get exactly those, wired as they choose.
  const modules = options.extraModules ? options.extraModules(ctx) : await createModules(ctx);
  for (const m of modules) {
    if (m.routes) await app.register(m.routes, { prefix: m.prefix });
  }
  const claimed = new Set(modules.map((m) => m.prefix));
  for (const prefix of PROTOCOL_MOUNTS) {
    if (claimed.has(prefix)) continue;
    app.all(`${prefix}/*`, async () => {
      throw new NotImplementedError(`${prefix}/ is not available in this build of Slipway`);
    });
  }

  if (!claimed.has('/')) await app.register(staticUi(join(import.meta.dirname, '..', '..', 'web', 'dist')));

  await app.listen({ port: config.port, host: config.host });
  for (const m of modules) await m.start?.();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (config.port === 0) {
    ctx.publicUrl = url;
    ctx.config = { ...config, port, publicUrl: url };
  }

  let closed = false;
  return {
    app,
    ctx,
    url,
    initialAdminPassword,
    async close() {
      if (closed) return;
      closed = true;
      for (const m of [...modules].reverse()) {
        try {
          await m.stop?.();
        } catch (err) {
          logger.error({ err, module: m.name }, 'module failed to stop');
        }
      }
      await app.close();
      store.close();
    },
  };
}

/** A port that is free right now (the server binds it a moment later). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
