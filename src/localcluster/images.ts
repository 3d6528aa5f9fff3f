// Image resolution for the simulated kubelet: does `image` exist in its registry (OCI distribution API)?
import { AuthenticationError, NotAllowedError } from '../core/index.ts';
import { type ImageReference, parseImageReference, RegistryClient, referenceOf } from '../oci/index.ts';

export type ImageResolution = { ok: true; digest?: string | undefined } | { ok: false; message: string };

/** Resolves an image reference; injectable so Slipway can resolve against its own registry in-process. */
export type ImageResolver = (
  image: string,
  pullSecrets?: { username: string; password: string }[],
) => Promise<ImageResolution>;

export interface ImageRef {
  host: string;
  repository: string;
  reference: string;
}

/**
 * Splits `host/repo:tag` / `repo@sha256:…` with Docker Hub defaults (host `registry-1.docker.io`,
 * `library/` for one-part names). Never throws: an invalid reference gives host `''`.
 */
export function parseImageRef(image: string): ImageRef {
  let ref: ImageReference;
  try {
    ref = parseImageReference(image);
  } catch {
    return { host: '', repository: image, reference: '' };
  }
  return {
    host: ref.registry === 'docker.io' ? 'registry-1.docker.io' : ref.registry,
    repository: ref.repository,
    reference: referenceOf(ref),
  };
}

/** The default resolver: HEAD the manifest (plain http for localhost), answering auth challenges. */
export function registryResolver(options: { timeoutMs?: number } = {}): ImageResolver {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const timedFetch: typeof fetch = (url, init) =>
    fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  return async (image, pullSecrets = []) => {
    const ref = parseImageRef(image);
    if (!ref.host) return { ok: false, message: `invalid image reference "${image}"` };
    const credentials = pullSecrets[0];
    const client = new RegistryClient({ fetch: timedFetch, ...(credentials ? { credentials } : {}) });
    const failed = `failed to resolve reference "${image}"`;
    try {
      const head = await client.headManifest(ref.host, ref.repository, ref.reference);
      if (head) return { ok: true, digest: head.digest || undefined };
      return { ok: false, message: `${failed}: ${image}: not found` };
    } catch (err) {
      if (err instanceof AuthenticationError || err instanceof NotAllowedError) {
        return {
          ok: false,
          message: `${failed}: pull access denied, repository does not exist or may require authorization: ${err.message}`,
        };
      }
      return { ok: false, message: `${failed}: ${(err as Error).message}` };
    }
  };
}

/** Caches resolutions (success for `okMs`, failure for `failMs`) and shares in-flight lookups. */
export function cachingResolver(inner: ImageResolver, okMs = 30_000, failMs = 2_000): ImageResolver {
  const cache = new Map<string, { at: number; value: Promise<ImageResolution> }>();
  return (image, secrets) => {
    const key = `${image}|${(secrets ?? []).map((s) => s.username).join(',')}`;
    const hit = cache.get(key);
    const now = Date.now();
    if (hit) {
      const age = now - hit.at;
      if (age < failMs) return hit.value;
      if (age < okMs)
        return hit.value.then((r) => {
          if (r.ok) return r;
          cache.delete(key);
          return inner(image, secrets);
        });
    }
    const value = inner(image, secrets);
    cache.set(key, { at: now, value });
    if (cache.size > 10_000) cache.clear();
    return value;
  };
}
