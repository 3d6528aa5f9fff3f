// git: bare repositories on disk, the smart-HTTP server at /git, push webhooks, polling of external
// repositories, and the `git.push` event.
import type { FastifyPluginAsync } from 'fastify';
import type { AuthService } from '../auth/index.ts';
import type { EventBus, Logger, SlipwayConfig } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { gitApiRoutes } from './api.ts';
import { gitHttpRoutes } from './http-backend.ts';
import { openSecretBox } from './secret-box.ts';
import { GitService } from './service.ts';

export { GitService, ZERO_SHA, diffRefs, remoteNameFromUrl } from './service.ts';
export type {
  GitPushEvent,
  PushCommit,
  RepoInfo,
  ExternalRepoInput,
  ExternalRepoSecrets,
  GitProvider,
  GitServiceOptions,
} from './service.ts';
export { parseRepoName, isSafeRef } from './names.ts';
export { readRef } from './refs.ts';
export type { RepoName } from './names.ts';
export { runGit, gitEnv } from './git-cli.ts';
export type { GitRunOptions, GitRunResult } from './git-cli.ts';
export { openSecretBox, secretBoxFromKey } from './secret-box.ts';
export type { SecretBox } from './secret-box.ts';
export { verifyWebhookSignature, parseWebhook, normaliseRepoUrl, isWebhookProvider } from './webhooks.ts';
export type { WebhookProvider, WebhookMessage, WebhookPush } from './webhooks.ts';

export interface GitDeps {
  config: SlipwayConfig;
  logger: Logger;
  events: EventBus;
  store: Store;
  auth: AuthService;
  dataDir: string;
  publicUrl: string;
}

export interface GitModule {
  /** Smart-HTTP; mount at prefix `/git`. */
  routes: FastifyPluginAsync;
  /** REST (`/repos`, `/hooks/:provider`); mount at prefix `/api/v1`. */
  apiRoutes: FastifyPluginAsync;
  service: GitService;
  /** Starts polling external repositories every `config.pollIntervalSeconds` (0: never). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createGit(deps: GitDeps): GitModule {
  const service = new GitService({
    store: deps.store,
    events: deps.events,
    dataDir: deps.dataDir,
    logger: deps.logger,
    box: openSecretBox(deps.dataDir),
  });
  service.ensureHooks();
  let timer: NodeJS.Timeout | undefined;
  let polling = false;
  return {
    service,
    routes: gitHttpRoutes({ git: service, auth: deps.auth, logger: deps.logger }),
    apiRoutes: gitApiRoutes({ git: service, auth: deps.auth, publicUrl: () => deps.publicUrl }),
    async start() {
      const seconds = deps.config.pollIntervalSeconds;
      if (!seconds) return;
      timer = setInterval(() => {
        if (polling) return;
        polling = true;
        service.pollAll().finally(() => {
          polling = false;
        });
      }, seconds * 1000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
    },
  };
}
