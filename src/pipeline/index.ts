// pipeline: `.slipway/pipeline.yaml` (spec, validation), the build engine (queue, numbers, logs,
// secrets, cancel), executors (local processes, chroot into stage images) and built-in steps.
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { AuthService } from '../auth/index.ts';
import type { EventBus, Logger, SlipwayConfig } from '../core/index.ts';
import { type GitService, openSecretBox } from '../git/index.ts';
import type { RegistryCredentials } from '../oci/index.ts';
import type { Store } from '../store/index.ts';
import { pipelineApiRoutes } from './api.ts';
import { CredentialStore } from './credentials.ts';
import { PipelineEngine } from './engine.ts';
import { createLocalExecutor, type Executor } from './executor.ts';
import { ImageCache } from './rootfs.ts';
import type { ImageBuilder, ValuesEditor } from './types.ts';
import { createGitValuesEditor } from './values-fallback.ts';

export { PipelineEngine } from './engine.ts';
export type { EngineOptions } from './engine.ts';
export { parsePipeline, tryParsePipeline, mergePipelines, parseDuration, PIPELINE_FILE } from './spec.ts';
export type { SpecIssue } from './spec.ts';
export type {
  PipelineSpec,
  StageSpec,
  StepSpec,
  TriggerSpec,
  WhenSpec,
  CredentialUse,
  ExtendsSpec,
} from './spec-types.ts';
export {
  matchesTrigger,
  evaluateWhen,
  evaluateExpression,
  expandTag,
  cronMatches,
  globMatch,
  refFacts,
} from './conditions.ts';
export type { BuildFacts } from './conditions.ts';
export { LogMasker } from './mask.ts';
export { createLocalExecutor } from './executor.ts';
export type { Executor, ExecRequest, ExecResult } from './executor.ts';
export { runExecutorConformance } from './executor-conformance.ts';
export { ImageCache, unpackLayer } from './rootfs.ts';
export type { PreparedImage } from './rootfs.ts';
export { CredentialStore, secretStrings } from './credentials.ts';
export type { CredentialInfo, CredentialKind, CredentialValue } from './credentials.ts';
export { createGitValuesEditor, setImageTagInYaml } from './values-fallback.ts';
export type {
  BuildRecord,
  BuildStatus,
  BuildTrigger,
  StageRecord,
  StepRecord,
  StepStatus,
  PipelineInfo,
  ImageBuilder,
  ValuesEditor,
} from './types.ts';

export interface PipelineDeps {
  config: SlipwayConfig;
  logger: Logger;
  events: EventBus;
  store: Store;
  auth: AuthService;
  dataDir: string;
  publicUrl: string;
  git: GitService;
  imageBuilder?: ImageBuilder;
  /** Edits values files for deploy steps; defaults to a built-in editor on GitService. */
  values?: ValuesEditor;
  /** Credentials for Slipway's own registry when a step names none. */
  registryCredentials?: () => Promise<RegistryCredentials | undefined>;
  executor?: Executor;
  /** Builds that may run at once over all pipelines (default: the number of cores, at least 2). */
  globalConcurrency?: number;
  fetch?: typeof fetch;
}

export interface PipelineModule {
  /** REST routes; mount at prefix `/api/v1`. */
  routes: FastifyPluginAsync;
  start(): Promise<void>;
  stop(): Promise<void>;
  service: PipelineEngine;
  credentials: CredentialStore;
}

export function createPipelines(deps: PipelineDeps): PipelineModule {
  const credentials = new CredentialStore(deps.store, openSecretBox(deps.dataDir));
  const publicUrl = () => deps.publicUrl;
  const host = createLocalExecutor();
  const engine = new PipelineEngine({
    store: deps.store,
    events: deps.events,
    logger: deps.logger,
    auth: deps.auth,
    git: deps.git,
    dataDir: deps.dataDir,
    publicUrl,
    executor: deps.executor ?? host,
    host,
    credentials,
    images: new ImageCache({
      dir: join(deps.dataDir, 'builds', '.images'),
      defaultRegistry: () => new URL(publicUrl()).host,
    }),
    values: deps.values ?? createGitValuesEditor(deps.git),
    ...(deps.imageBuilder ? { imageBuilder: deps.imageBuilder } : {}),
    ...(deps.registryCredentials ? { registryCredentials: deps.registryCredentials } : {}),
    ...(deps.globalConcurrency ? { globalConcurrency: deps.globalConcurrency } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  return {
    routes: pipelineApiRoutes({ engine, credentials, auth: deps.auth, events: deps.events }),
    start: () => engine.start(),
    stop: () => engine.stop(),
    service: engine,
    credentials,
  };
}
