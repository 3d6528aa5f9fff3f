// A small OCI Distribution client: pulls manifests and blobs (Bearer and Basic auth challenges) and
// copies a manifest to new tags. Used to pull stage images and to add tags to a pushed image.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InputError, UnavailableError } from '../core/index.ts';

export interface ImageRef {
  registry: string;
  repository: string;
  /** Tag or digest. */
  reference: string;
}

export interface RegistryCredentials {
  username: string;
  password: string;
}

/**
 * Parses `registry:port/repo/path:tag`, `repo:tag` or `repo@sha256:...`. Without a registry part
 * (no `.`, `:` or `localhost` in the first component) `defaultRegistry` is used.
 */
export function parseImageRef(ref: string, defaultRegistry: string): ImageRef {
  let rest = ref.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/.test(rest))
    throw new InputError(`Invalid image reference "${ref}"`);
  let registry = defaultRegistry;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  let reference = 'latest';
  const at = rest.indexOf('@');
  if (at >= 0) {
    reference = rest.slice(at + 1);
    rest = rest.slice(0, at);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon > 0) {
      reference = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  if (!rest || !/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(rest)) {
    throw new InputError(`Invalid image repository "${rest}" in "${ref}"`);
  }
  return { registry, repository: rest, reference };
}

export function formatImageRef(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.reference.startsWith('sha256:') ? '@' : ':'}${ref.reference}`;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: { os?: string; architecture?: string };
}

export interface ImageManifest {
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  manifests?: Descriptor[];
}

export interface ImageConfig {
  config?: { Env?: string[]; WorkingDir?: string; Entrypoint?: string[]; Cmd?: string[] };
}

export class RegistryClient {
  readonly #creds: RegistryCredentials | undefined;
  readonly #insecure: (host: string) => boolean;
  readonly #tokens = new Map<string, string>();

  constructor(options: { credentials?: RegistryCredentials; insecure?: (host: string) => boolean } = {}) {
    this.#creds = options.credentials;
    this.#insecure = options.insecure ?? ((h) => /^(localhost|127\.|\[::1\])/.test(h));
  }

  #base(ref: ImageRef): string {
    return `${this.#insecure(ref.registry) ? 'http' : 'https'}://${ref.registry}/v2/${ref.repository}`;
  }

  async #request(
    ref: ImageRef,
    path: string,
    init: RequestInit & { scope?: string } = {},
  ): Promise<Response> {
    const url = `${this.#base(ref)}${path}`;
    const scope = init.scope ?? `repository:${ref.repository}:pull`;
    const key = `${ref.registry}|${scope}`;
    const send = (auth?: string) => {
      const headers = new Headers(init.headers);
      if (auth) headers.set('authorization', auth);
      return fetch(url, { ...init, headers, redirect: 'follow' });
    };
    const cached = this.#tokens.get(key);
    let res: Response;
    try {
      res = await send(cached);
      if (res.status !== 401) return res;
      await res.arrayBuffer();
      const challenge = res.headers.get('www-authenticate') ?? '';
      const auth = await this.#authorize(challenge, scope);
      if (!auth) return res;
      this.#tokens.set(key, auth);
      return await send(auth);
    } catch (err) {
      throw new UnavailableError(`Cannot reach registry ${ref.registry}: ${(err as Error).message}`);
    }
  }

  async #authorize(challenge: string, scope: string): Promise<string | undefined> {
    const basic = this.#creds
      ? `Basic ${Buffer.from(`${this.#creds.username}:${this.#creds.password}`).toString('base64')}`
      : undefined;
    if (/^basic/i.test(challenge)) return basic;
    if (!/^bearer/i.test(challenge)) return undefined;
    const params: Record<string, string> = {};
    for (const m of challenge.matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!] = m[2]!;
    if (!params.realm) return undefined;
    const u = new URL(params.realm);
    if (params.service) u.searchParams.set('service', params.service);
    u.searchParams.set('scope', scope);
    const res = await fetch(u, { headers: basic ? { authorization: basic } : {} });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    return token ? `Bearer ${token}` : undefined;
  }

  /** The raw manifest bytes and media type. */
  async getManifestRaw(ref: ImageRef): Promise<{ body: Buffer; mediaType: string; digest: string }> {
    const res = await this.#request(ref, `/manifests/${ref.reference}`, {
      headers: { accept: MANIFEST_TYPES },
    });
    if (!res.ok) {
      throw new UnavailableError(`Cannot get manifest of ${formatImageRef(ref)}: HTTP ${res.status}`);
    }
    const body = Buffer.from(await res.arrayBuffer());
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const mediaType =
      res.headers.get('content-type')?.split(';')[0] ?? JSON.parse(body.toString()).mediaType ?? '';
    return { body, mediaType, digest };
  }

  /** The image manifest for linux/amd64 (resolving an index). */
  async getImageManifest(ref: ImageRef): Promise<{ manifest: ImageManifest; digest: string }> {
    let { body, digest } = await this.getManifestRaw(ref);
    let manifest = JSON.parse(body.toString('utf8')) as ImageManifest;
    if (manifest.manifests) {
      const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
      const pick =
        manifest.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch) ??
        manifest.manifests[0];
      if (!pick) throw new UnavailableError(`Image index ${formatImageRef(ref)} has no manifests`);
      ({ body, digest } = await this.getManifestRaw({ ...ref, reference: pick.digest }));
      manifest = JSON.parse(body.toString('utf8')) as ImageManifest;
    }
    if (!manifest.config || !Array.isArray(manifest.layers)) {
      throw new UnavailableError(`${formatImageRef(ref)} is not an image manifest`);
    }
    return { manifest, digest };
  }

  async getBlobJson<T>(ref: ImageRef, digest: string): Promise<T> {
    const res = await this.#request(ref, `/blobs/${digest}`);
    if (!res.ok)
      throw new UnavailableError(`Cannot get blob ${digest} of ${ref.repository}: HTTP ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    verifyDigest(body, digest);
    return JSON.parse(body.toString('utf8')) as T;
  }

  /** Downloads a blob to `file`, verifying its digest. */
  async downloadBlob(ref: ImageRef, digest: string, file: string): Promise<void> {
    const res = await this.#request(ref, `/blobs/${digest}`);
    if (!res.ok || !res.body)
      throw new UnavailableError(`Cannot get blob ${digest} of ${ref.repository}: HTTP ${res.status}`);
    const hash = createHash('sha256');
    const source = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    source.on('data', (b: Buffer) => hash.update(b));
    await pipeline(source, createWriteStream(file));
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== digest) {
      await rm(file, { force: true });
      throw new UnavailableError(`Blob ${digest} of ${ref.repository} arrived with digest ${got}`);
    }
  }

  /** Puts the manifest of `source` under each of `tags` in the same repository; returns its digest. */
  async addTags(source: ImageRef, tags: string[]): Promise<string> {
    const { body, mediaType, digest } = await this.getManifestRaw(source);
    for (const tag of tags) {
      const res = await this.#request(source, `/manifests/${tag}`, {
        method: 'PUT',
        headers: { 'content-type': mediaType },
        body,
        scope: `repository:${source.repository}:pull,push`,
      });
      if (!res.ok) {
        throw new UnavailableError(
          `Cannot tag ${formatImageRef(source)} as ${tag}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`,
        );
      }
    }
    return digest;
  }
}

function verifyDigest(body: Buffer, digest: string): void {
  const got = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  if (got !== digest) throw new UnavailableError(`Blob ${digest} arrived with digest ${got}`);
}
