// Wires the registry together: storage, projects, access and routes, plus the scheduled GC and upload expiry.
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { AuthService } from '../auth/index.ts';
import { type Clock, type EventBus, type Logger, systemClock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { RegistryAccess } from './access.ts';
import { apiRoutes } from './api-routes.ts';
import { BlobStore } from './blob-store.ts';
import { prepareStatements } from './metadata.ts';
import { ProjectService } from './projects.ts';
import { RegistryService } from './service.ts';
import { v2Routes } from './v2-routes.ts';

export interface RegistryOptions {
  /** Seconds between scheduled garbage collections (0 disables; default 6 h). */
  gcIntervalSeconds?: number;
  /** Blobs written or linked within this window are never collected (default 1 h). */
  gcGraceSeconds?: number;
  /** Idle uploads are deleted after this many seconds (default 24 h). */
  uploadTtlSeconds?: number;
  /** Blob uploads around the page cache (default: `config.registryDirectIo`, else on). */
  directIo?: boolean;
  clock?: Clock;
}

export interface RegistryDeps {
  logger: Logger;
  events: EventBus;
  store: Store;
  auth: AuthService;
  dataDir: string;
  /** Read on every challenge: the server sets it once it knows its port. */
  publicUrl: string;
  config: { tokenTtlSeconds: number; registryDirectIo?: boolean };
  registry?: RegistryOptions;
}

/** A mount in the shape the server's module list takes. */
export interface RegistryMount {
  name: string;
  prefix: string;
  routes: FastifyPluginAsync;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export interface RegistryModule {
  /** `/service/token` and `/api/v1/registry/...`: mount at prefix `''`. */
  routes: FastifyPluginAsync;
  /** The OCI API: mount at prefix `/v2`. */
  v2Routes: FastifyPluginAsync;
  /** Both mounts, ready for the server's module list. */
  mounts: RegistryMount[];
  service: RegistryService;
  projects: ProjectService;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Creates the registry module. Its data lives under `<dataDir>/registry/`. */
export function createRegistry(deps: RegistryDeps): RegistryModule {
  const opts = deps.registry ?? {};
  const clock = opts.clock ?? systemClock;
  const root = join(deps.dataDir, 'registry');
  const statements = prepareStatements(deps.store);
  const blobs = new BlobStore(root, { directIo: opts.directIo ?? deps.config.registryDirectIo ?? true });
  const projects = new ProjectService({ statements, auth: deps.auth, clock });
  const service = new RegistryService({
    statements,
    blobs,
    projects,
    events: deps.events,
    logger: deps.logger,
    clock,
    gcGraceSeconds: opts.gcGraceSeconds ?? 3600,
    uploadTtlSeconds: opts.uploadTtlSeconds ?? 86400,
  });
  const access = new RegistryAccess({
    auth: deps.auth,
    projects,
    clock,
    dataDir: root,
    tokenTtlSeconds: deps.config.tokenTtlSeconds,
  });
  let ready: Promise<void> | undefined;
  const init = () => {
    ready ??= blobs.init().then(() => access.init());
    return ready;
  };
  const timers: NodeJS.Timeout[] = [];

  const v2: FastifyPluginAsync = async (app) => {
    await init();
    await app.register(
      v2Routes({ service, access, projects, publicUrl: () => deps.publicUrl, logger: deps.logger }),
    );
  };
  const rest: FastifyPluginAsync = async (app) => {
    await init();
    await app.register(apiRoutes({ service, access, projects, auth: deps.auth }));
  };

  const start = async () => {
    await init();
    const gcEvery = opts.gcIntervalSeconds ?? 6 * 3600;
    if (gcEvery > 0) {
      const t = setInterval(() => {
        service
          .gc()
          .catch((err: unknown) => deps.logger.error({ err }, 'registry garbage collection failed'));
      }, gcEvery * 1000);
      t.unref();
      timers.push(t);
    }
    const t = setInterval(() => {
      service
        .expireUploads()
        .catch((err: unknown) => deps.logger.error({ err }, 'registry upload expiry failed'));
    }, 600_000);
    t.unref();
    timers.push(t);
  };
  const stop = async () => {
    for (const t of timers.splice(0)) clearInterval(t);
  };

  return {
    routes: rest,
    v2Routes: v2,
    mounts: [
      { name: 'registry', prefix: '/v2', routes: v2, start, stop },
      { name: 'registry-api', prefix: '', routes: rest },
    ],
    service,
    projects,
    start,
    stop,
  };
}
