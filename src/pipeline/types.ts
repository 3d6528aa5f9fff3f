// Build records and the interfaces other modules implement for the pipeline (image builds, values edits).
import type { RegistryCredentials } from '../oci/index.ts';
import type { PipelineSpec } from './spec-types.ts';

export type BuildStatus =
  | 'queued'
  | 'running'
  | 'waiting'
  | 'success'
  | 'failed'
  | 'cancelled'
  | 'interrupted';
export type StepStatus =
  | 'pending'
  | 'running'
  | 'waiting'
  | 'success'
  | 'failed'
  | 'skipped'
  | 'cancelled'
  | 'interrupted';

export const FINISHED: readonly BuildStatus[] = ['success', 'failed', 'cancelled', 'interrupted'];

export interface StepRecord {
  name: string;
  kind: string;
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  attempts: number;
  error?: string;
  /** Log file of this step, relative to the build's directory. */
  log?: string;
}

export interface StageRecord {
  name: string;
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  image?: string;
  error?: string;
  steps: StepRecord[];
  parallel: StageRecord[];
}

export type BuildTrigger = 'push' | 'manual' | 'cron' | 'rerun';

export interface BuildRecord {
  repo: string;
  number: number;
  status: BuildStatus;
  trigger: BuildTrigger;
  ref: string;
  sha: string;
  /** Who started it (the pusher, the user, or `cron`). */
  who: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  /** Image references the build pushed. */
  images: string[];
  stages: StageRecord[];
}

export interface PipelineInfo {
  repo: string;
  valid: boolean;
  error?: string;
  triggers?: PipelineSpec['triggers'];
  lastBuild?: number;
  lastStatus?: BuildStatus;
  updatedAt: string;
}

/** Builds and pushes images; implemented by the images module (native builder, buildah). */
export interface ImageBuilder {
  build(request: {
    contextDir: string;
    dockerfile: string;
    /** Full references such as `127.0.0.1:8080/base/app:1`. */
    tags: string[];
    push: true;
    credentials?: RegistryCredentials;
    onLog(line: string): void;
    signal?: AbortSignal;
  }): Promise<{ digest: string }>;
}

/** Edits `image.tag` in a GitOps values file and commits; implemented by the gitops module. */
export interface ValuesEditor {
  setImageTag(request: {
    repo: string;
    file: string;
    tag: string;
    author: string;
    message: string;
  }): Promise<{ commit: string }>;
}

declare module '../core/index.ts' {
  interface EventMap {
    'build.status': {
      repo: string;
      number: number;
      status: BuildStatus;
      ref: string;
      sha: string;
      who: string;
      error?: string;
    };
    'build.stage': { repo: string; number: number; stage: string; status: StepStatus; step?: string };
    'build.log': {
      repo: string;
      number: number;
      stage?: string;
      step?: string;
      text: string;
      offset: number;
    };
  }
}
