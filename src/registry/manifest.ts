// Parses and checks image manifests and indexes (OCI and Docker schema 2). Pure: no storage access;
// the caller checks that the descriptors it returns exist.
import { isDigest, isIndexMediaType, MANIFEST_MEDIA_TYPES, MEDIA_TYPES } from '../oci/index.ts';
import { OciError } from './oci-errors.ts';

/** Manifests larger than this are refused (Distribution uses 4 MiB too). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ParsedManifest {
  mediaType: string;
  /** For indexes: the child manifests. */
  manifests: Descriptor[];
  /** For image manifests: the config and layers (blobs). */
  blobs: Descriptor[];
  subject: Descriptor | undefined;
  /** `artifactType`, or for an image manifest its config media type (as the referrers API reports it). */
  artifactType: string | undefined;
  annotations: Record<string, string> | undefined;
}

function invalid(message: string, detail?: unknown): OciError {
  return new OciError('MANIFEST_INVALID', message, detail === undefined ? {} : { detail });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseDescriptor(v: unknown, field: string): Descriptor {
  if (!isObject(v)) throw invalid(`${field} must be a descriptor object`, { field });
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || mediaType === '')
    throw invalid(`${field}.mediaType must be a non-empty string`, { field: `${field}.mediaType` });
  if (typeof digest !== 'string' || !isDigest(digest))
    throw invalid(`${field}.digest ${JSON.stringify(digest)} is not a valid digest`, {
      field: `${field}.digest`,
    });
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw invalid(`${field}.size must be a non-negative integer`, { field: `${field}.size` });
  const d: Descriptor = { mediaType, digest, size };
  if (typeof v.artifactType === 'string') d.artifactType = v.artifactType;
  if (isObject(v.annotations)) d.annotations = v.annotations as Record<string, string>;
  if (Array.isArray(v.urls)) d.urls = v.urls.filter((u): u is string => typeof u === 'string');
  return d;
}

function parseList(v: unknown, field: string): Descriptor[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(`${field} must be an array`, { field });
  return v.map((d, i) => parseDescriptor(d, `${field}[${i}]`));
}

/**
 * Parses manifest bytes sent with `contentType`. The media type is the `mediaType` field, or the
 * Content-Type; when both are set they must agree. Throws {@link OciError} MANIFEST_INVALID.
 */
export function parseManifest(body: Uint8Array, contentType: string | undefined): ParsedManifest {
  if (body.length > MAX_MANIFEST_BYTES) {
    throw new OciError(
      'SIZE_INVALID',
      `Manifest is ${body.length} bytes; the limit is ${MAX_MANIFEST_BYTES}`,
      {
        status: 413,
      },
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    throw invalid(`Manifest is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw invalid('Manifest must be a JSON object');
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const header = contentType?.split(';')[0]?.trim();
  const headerType =
    header && header !== 'application/json' && header !== 'application/octet-stream' ? header : undefined;
  if (declared && headerType && declared !== headerType) {
    throw invalid(
      `Manifest mediaType ${JSON.stringify(declared)} differs from Content-Type ${JSON.stringify(headerType)}`,
    );
  }
  let mediaType = declared ?? headerType;
  if (!mediaType) {
    // OCI allows mediaType to be absent; tell image manifests and indexes apart by their fields.
    if (Array.isArray(doc.manifests)) mediaType = MEDIA_TYPES.ociIndex;
    else if (isObject(doc.config)) mediaType = MEDIA_TYPES.ociManifest;
    else throw invalid('Manifest has no mediaType and no Content-Type');
  }
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    throw invalid(`Unsupported manifest media type ${JSON.stringify(mediaType)}`, { mediaType });
  }
  if (doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2', { field: 'schemaVersion' });
  const subject = doc.subject === undefined ? undefined : parseDescriptor(doc.subject, 'subject');
  const annotations = isObject(doc.annotations) ? (doc.annotations as Record<string, string>) : undefined;
  const artifactTypeField = typeof doc.artifactType === 'string' ? doc.artifactType : undefined;
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(doc.manifests))
      throw invalid('An index needs a manifests array', { field: 'manifests' });
    return {
      mediaType,
      manifests: parseList(doc.manifests, 'manifests'),
      blobs: [],
      subject,
      artifactType: artifactTypeField,
      annotations,
    };
  }
  const config = parseDescriptor(doc.config, 'config');
  const layers = parseList(doc.layers, 'layers');
  if (mediaType === MEDIA_TYPES.dockerManifest && layers.length === 0 && !Array.isArray(doc.layers)) {
    throw invalid('A Docker image manifest needs a layers array', { field: 'layers' });
  }
  return {
    mediaType,
    manifests: [],
    blobs: [config, ...layers],
    subject,
    artifactType: artifactTypeField ?? config.mediaType,
    annotations,
  };
}

/** Layers that live elsewhere (non-distributable, with `urls`) need not be in the registry. */
export function isForeignLayer(d: Descriptor): boolean {
  return (
    (d.urls?.length ?? 0) > 0 || d.mediaType.includes('.foreign.') || d.mediaType.includes('nondistributable')
  );
}

/**
 * Picks what to answer for a manifest GET given the client's Accept header: true when the stored
 * media type may be sent. Indexes are only sent to clients that accept them (or accept anything).
 */
export function acceptsMediaType(accept: string | undefined, mediaType: string): boolean {
  if (!accept) return true;
  const types = accept.split(',').map((t) => t.split(';')[0]!.trim().toLowerCase());
  if (types.includes(mediaType) || types.includes('*/*') || types.includes('application/*')) return true;
  if (!isIndexMediaType(mediaType)) return true;
  return false;
}
