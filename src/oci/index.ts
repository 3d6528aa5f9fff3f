// oci: OCI media types and digests, image references, the Dockerfile parser, .dockerignore, the
// registry client, and the image builders (native, buildah).
export { sha256Digest, isDigest, tryParseDigest } from './digest.ts';
export type { Digest } from './digest.ts';
export { MEDIA_TYPES, MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES, isIndexMediaType } from './media-types.ts';
export { parseImageReference, formatImageReference, referenceOf } from './reference.ts';
export type { ImageReference, ParseImageReferenceOptions } from './reference.ts';
export { parseDockerfile, expandWord, splitWords, unquote, parseDuration } from './dockerfile.ts';
export type {
  Dockerfile,
  DockerfileKeyword,
  Instruction,
  Stage,
  Heredoc,
  ExpandOptions,
  ParseDockerfileOptions,
} from './dockerfile.ts';
export { parseDockerignore } from './dockerignore.ts';
export type { IgnoreMatcher } from './dockerignore.ts';
export { RegistryClient, parseAuthChallenge, fallbackTag, hostArchitecture } from './registry-client.ts';
export type {
  RegistryClientOptions,
  RegistryCredentials,
  CredentialSource,
  Descriptor,
  ImageManifest,
  ImageIndex,
  FetchedManifest,
  FetchedImageManifest,
} from './registry-client.ts';
export { writeTar, writeTarChunks, gzipReproducible, gzipLayer } from './tar-writer.ts';
export type { TarEntry } from './tar-writer.ts';
export { applyLayer, lookupPath, normalizeLayerPath } from './layer-fs.ts';
export type { LayerFs, FsNode, ApplyLayerOptions } from './layer-fs.ts';
export { NativeBuilder, nativeUnsupportedReason, neededStages } from './native-builder.ts';
export type { NativeBuilderOptions } from './native-builder.ts';
export { BuildahBuilder, createImageBuilder, findExecutable } from './buildah-builder.ts';
export type { BuildahBuilderOptions, AutoBuilderOptions } from './buildah-builder.ts';
export type {
  ImageBuilder,
  BuildOptions,
  BuildResult,
  ImageConfig,
  ContainerConfig,
  HistoryEntry,
  HealthConfig,
} from './image-builder.ts';
export { startDistributionRegistry } from './testing.ts';
export type { DistributionRegistry } from './testing.ts';
