// The data model of `.slipway/pipeline.yaml` after validation.

export interface CredentialUse {
  /** Name in the credential store. */
  name: string;
  /** Environment variable that receives the value (default: NAME upper-cased, `-` → `_`). */
  env?: string;
  /** Write the value to a file and put the file's path in this environment variable instead. */
  file?: string;
}

export interface WhenSpec {
  /** Branch glob (`pre-release/*`). */
  branch?: string;
  /** Tag glob (`v*`). */
  tag?: string;
  /** `push`, `manual`, `cron`. */
  event?: string;
  /** Expression such as `branch == 'main' && env.DEPLOY != 'no'`. */
  expression?: string;
}

interface StepCommon {
  name: string;
  timeoutMs?: number;
  /** Extra attempts after a failure (0: none). */
  retry: number;
  continueOnError: boolean;
  env: Record<string, string>;
  line: number;
}

export type StepSpec = StepCommon &
  (
    | { kind: 'run'; run: string }
    | { kind: 'checkout' }
    | {
        kind: 'image-build';
        /** `<project>/<name>` in the registry, or a full reference without tag. */
        image: string;
        context: string;
        dockerfile: string;
        /** Tag templates: `{build}`, `{branch-version}`, `{sha7}`, `{date}`, literals. */
        tags: string[];
        credentials?: string;
      }
    | { kind: 'image-push'; image?: string; tags: string[]; credentials?: string }
    | {
        kind: 'deploy';
        /** GitOps repository `org/name`. */
        repo: string;
        environment: string;
        service: string;
        tag: string;
        file?: string;
        message: string;
      }
    | { kind: 'approval'; right: string; environment?: string; message?: string }
  );

export interface StageSpec {
  name: string;
  when?: WhenSpec;
  image?: string;
  timeoutMs?: number;
  env: Record<string, string>;
  parallel: StageSpec[];
  steps: StepSpec[];
  line: number;
}

export interface TriggerSpec {
  branches: string[];
  tags: string[];
  manual: boolean;
  cron: string[];
}

export interface ExtendsSpec {
  repo: string;
  file: string;
  ref: string;
}

export interface PipelineSpec {
  file: string;
  extends?: ExtendsSpec;
  triggers: TriggerSpec;
  env: Record<string, string>;
  credentials: CredentialUse[];
  /** Builds of this pipeline that may run at once (default 1). */
  concurrency: number;
  timeoutMs?: number;
  stages: StageSpec[];
  /** Top-level keys the file set (used when merging over an `extends:` base). */
  present: string[];
}
