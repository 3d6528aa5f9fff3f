// Image resolution for the simulated kubelet: does `image` exist in its registry (OCI distribution API)?

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

/** Splits `host/repo:tag` / `repo@sha256:…` with Docker Hub defaults. */
export function parseImageRef(image: string): ImageRef {
  let rest = image;
  let host = 'registry-1.docker.io';
  const first = rest.split('/')[0] ?? '';
  if (rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    host = first;
    rest = rest.slice(first.length + 1);
  }
  let reference = 'latest';
  const at = rest.indexOf('@');
  if (at >= 0) {
    reference = rest.slice(at + 1);
    rest = rest.slice(0, at);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon >= 0) {
      reference = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  if (host === 'registry-1.docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  if (host === 'docker.io' || host === 'index.docker.io') host = 'registry-1.docker.io';
  return { host, repository: rest, reference };
}

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** The default resolver: HEAD `/v2/<name>/manifests/<ref>` (plain http for localhost), with bearer-token challenge. */
export function registryResolver(options: { timeoutMs?: number } = {}): ImageResolver {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return async (image, pullSecrets = []) => {
    let ref: ImageRef;
    try {
      ref = parseImageRef(image);
    } catch {
      return { ok: false, message: `invalid image reference "${image}"` };
    }
    const local = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(ref.host);
    const url = `${local ? 'http' : 'https'}://${ref.host}/v2/${ref.repository}/manifests/${ref.reference}`;
    const basic = pullSecrets[0]
      ? `Basic ${Buffer.from(`${pullSecrets[0].username}:${pullSecrets[0].password}`).toString('base64')}`
      : undefined;
    try {
      let res = await fetch(url, {
        method: 'HEAD',
        headers: { accept: ACCEPT, ...(basic ? { authorization: basic } : {}) },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.status === 401) {
        const challenge = res.headers.get('www-authenticate') ?? '';
        const m = /^Bearer\s+(.*)$/i.exec(challenge);
        if (m) {
          const params = Object.fromEntries(
            [...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]),
          );
          const tokenUrl = new URL(params.realm ?? '');
          if (params.service) tokenUrl.searchParams.set('service', params.service);
          tokenUrl.searchParams.set('scope', params.scope ?? `repository:${ref.repository}:pull`);
          const tr = await fetch(tokenUrl, {
            headers: basic ? { authorization: basic } : {},
            signal: AbortSignal.timeout(timeoutMs),
          });
          if (tr.ok) {
            const body = (await tr.json()) as { token?: string; access_token?: string };
            const token = body.token ?? body.access_token;
            res = await fetch(url, {
              method: 'HEAD',
              headers: { accept: ACCEPT, authorization: `Bearer ${token}` },
              signal: AbortSignal.timeout(timeoutMs),
            });
          }
        } else if (basic === undefined && /^Basic/i.test(challenge)) {
          return {
            ok: false,
            message: `failed to resolve reference "${image}": pull access denied, repository does not exist or may require authorization: authorization failed`,
          };
        }
      }
      if (res.ok) return { ok: true, digest: res.headers.get('docker-content-digest') ?? undefined };
      if (res.status === 404)
        return { ok: false, message: `failed to resolve reference "${image}": ${image}: not found` };
      if (res.status === 401 || res.status === 403)
        return {
          ok: false,
          message: `failed to resolve reference "${image}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`,
        };
      return {
        ok: false,
        message: `failed to resolve reference "${image}": unexpected status from HEAD request to ${url}: ${res.status}`,
      };
    } catch (err) {
      return {
        ok: false,
        message: `failed to resolve reference "${image}": failed to do request: ${(err as Error).message}`,
      };
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
