// What every module's factory may draw on: the shared services of one running Slipway.
import type { AuthService } from '../auth/index.ts';
import type { EventBus, Logger, SlipwayConfig } from '../core/index.ts';
import type { Store } from '../store/index.ts';

export interface ServerContext {
  config: SlipwayConfig;
  logger: Logger;
  events: EventBus;
  store: Store;
  auth: AuthService;
  dataDir: string;
  publicUrl: string;
}

/** A module as the server mounts it: routes under a prefix, and optional background work. */
export interface MountedModule {
  name: string;
  prefix: string;
  routes?: import('fastify').FastifyPluginAsync;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}
