// The seam the pipeline engine builds images through, and the image config types.
import type { CredentialSource, Descriptor, ImageManifest } from './registry-client.ts';

export interface BuildOptions {
  contextDir: string;
  /** Path of the Dockerfile (absolute or relative to contextDir); default `Dockerfile` in the context. */
  dockerfile?: string;
  /** Full references `host:port/repo:tag`. The first one names the image. */
  tags: string[];
  push: boolean;
  buildArgs?: Record<string, string>;
  /** Stage to build (default: the last). */
  target?: string;
  credentials?: CredentialSource;
  onLog?: (line: string) => void;
}

export interface BuildResult {
  /** Manifest digest. */
  digest: string;
  manifest: ImageManifest;
  config: ImageConfig;
  backend: 'native' | 'buildah';
  /** Native builder only: each layer and whether it came from the layer cache. */
  layers?: { digest: string; cached: boolean; instruction: string }[];
}

export interface ImageBuilder {
  build(options: BuildOptions): Promise<BuildResult>;
}

export interface HealthConfig {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: HealthConfig;
  OnBuild?: string[];
  Shell?: string[];
  ArgsEscaped?: boolean;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The OCI image configuration (application/vnd.oci.image.config.v1+json). */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

export type { Descriptor };
