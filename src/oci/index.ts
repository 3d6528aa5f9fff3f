// oci: OCI media types and digests (the Dockerfile parser and image builders join later).
export { tryParseDigest, isDigest } from './digest.ts';
export type { Digest } from './digest.ts';
export { MEDIA_TYPES, MANIFEST_MEDIA_TYPES, isIndexMediaType } from './media-types.ts';
