// A fetch-based OCI Distribution client: token/basic auth, manifests, blobs (monolithic, chunked,
// cross-repo mount) and referrers (API, with the tag-schema fallback). Works against any OCI registry.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import {
  AuthenticationError,
  describeFetchFailure,
  InputError,
  NotAllowedError,
  NotFoundError,
  UnavailableError,
} from '../core/index.ts';
import { type Digest, isDigest, sha256Digest } from './digest.ts';
import { isIndexMediaType, MANIFEST_ACCEPT, MEDIA_TYPES } from './media-types.ts';

export interface RegistryCredentials {
  username: string;
  password: string;
}

/** Fixed credentials, or a function that picks them per registry host. */
export type CredentialSource =
  | RegistryCredentials
  | ((registryHost: string) => RegistryCredentials | undefined);

export interface RegistryClientOptions {
  credentials?: CredentialSource;
  /** Use http:// instead of https://. Default: true for localhost, 127.0.0.1 and ::1 only. */
  plainHttp?: boolean | ((registryHost: string) => boolean);
  fetch?: typeof fetch;
  userAgent?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: { os: string; architecture: string; variant?: string };
  urls?: string[];
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface FetchedManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
  json: ImageManifest | ImageIndex;
}

/** An image manifest fetched by tag or digest, with an index already resolved to one platform. */
export interface FetchedImageManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
  manifest: ImageManifest;
}

/** The OCI architecture name of this machine (`amd64`, `arm64`, ...). */
export function hostArchitecture(): string {
  const names: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
    s390x: 's390x',
  };
  return names[process.arch] ?? process.arch;
}

interface AuthState {
  basic?: string;
  bearer: Map<string, string>;
}

const LOCAL_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/;

/** Parses a `WWW-Authenticate` header into scheme and parameters. */
export function parseAuthChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^(\w+)\s*(.*)$/s.exec(header.trim());
  if (!m) return { scheme: '', params: {} };
  const params: Record<string, string> = {};
  const re = /([a-zA-Z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p = re.exec(m[2]!); p !== null; p = re.exec(m[2]!)) {
    params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

export class RegistryClient {
  readonly #options: RegistryClientOptions;
  readonly #fetch: typeof fetch;
  readonly #auth = new Map<string, AuthState>();

  constructor(options: RegistryClientOptions = {}) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
  }

  /** The base URL of a registry host (`http://` for local hosts unless configured). */
  baseUrl(host: string): string {
    const plain = this.#options.plainHttp;
    const http = typeof plain === 'function' ? plain(host) : (plain ?? LOCAL_HOST.test(host));
    const apiHost = host === 'docker.io' ? 'registry-1.docker.io' : host;
    return `${http ? 'http' : 'https'}://${apiHost}`;
  }

  #credentials(host: string): RegistryCredentials | undefined {
    const c = this.#options.credentials;
    return typeof c === 'function' ? c(host) : c;
  }

  /**
   * Sends one request, answering auth challenges: Basic (credentials) or Bearer (token from the
   * realm with service and scope). `scopes` are the token scopes to ask for.
   */
  async request(
    host: string,
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: Uint8Array; scopes?: string[] } = {},
  ): Promise<Response> {
    const url = /^https?:\/\//.test(path) ? path : `${this.baseUrl(host)}${path}`;
    const state: AuthState = this.#auth.get(host) ?? { bearer: new Map<string, string>() };
    this.#auth.set(host, state);
    const scopeKey = (init.scopes ?? []).join(' ');
    const send = async (): Promise<Response> => {
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      if (this.#options.userAgent) headers['user-agent'] = this.#options.userAgent;
      const token = state.bearer.get(scopeKey);
      if (token) headers.authorization = `Bearer ${token}`;
      else if (state.basic) headers.authorization = `Basic ${state.basic}`;
      try {
        return await this.#fetch(url, {
          method: init.method ?? 'GET',
          headers,
          redirect: 'follow',
          ...(init.body !== undefined ? { body: init.body } : {}),
        });
      } catch (err) {
        throw new UnavailableError(
          `Cannot reach registry ${host} (${init.method ?? 'GET'} ${url}): ${describeFetchFailure(err)}`,
          { cause: err },
        );
      }
    };
    let res = await send();
    if (res.status !== 401) return res;
    const challenge = parseAuthChallenge(res.headers.get('www-authenticate') ?? '');
    await res.body?.cancel();
    const creds = this.#credentials(host);
    if (challenge.scheme === 'basic') {
      if (!creds) throw new AuthenticationError(`Registry ${host} needs credentials (Basic auth)`);
      state.basic = Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
    } else if (challenge.scheme === 'bearer') {
      const token = await this.#fetchToken(host, challenge.params, init.scopes ?? [], creds);
      state.bearer.set(scopeKey, token);
    } else {
      throw new AuthenticationError(`Registry ${host} answered 401 without a usable challenge`);
    }
    res = await send();
    if (res.status === 401) {
      await res.body?.cancel();
      throw new AuthenticationError(
        `Registry ${host} rejected the credentials${creds ? ` of "${creds.username}"` : ' (none given)'}`,
      );
    }
    return res;
  }

  async #fetchToken(
    host: string,
    params: Record<string, string>,
    scopes: string[],
    creds: RegistryCredentials | undefined,
  ): Promise<string> {
    if (!params.realm)
      throw new AuthenticationError(`Registry ${host} sent a Bearer challenge without a realm`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    const wanted = new Set(scopes);
    if (params.scope) for (const s of params.scope.split(' ')) wanted.add(s);
    for (const s of wanted) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (creds)
      headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    let res: Response;
    try {
      res = await this.#fetch(url, { headers });
    } catch (err) {
      throw new UnavailableError(`Cannot reach the token service ${url.origin}: ${(err as Error).message}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new AuthenticationError(`Token service of ${host} answered HTTP ${res.status}`);
    }
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new AuthenticationError(`Token service of ${host} returned no token`);
    return token;
  }

  async #fail(res: Response, what: string): Promise<never> {
    const text = await res.text().catch(() => '');
    let detail = text.slice(0, 300);
    try {
      const j = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      if (j.errors?.length) detail = j.errors.map((e) => `${e.code}: ${e.message}`).join('; ');
    } catch {
      // not JSON
    }
    const msg = `${what} failed: HTTP ${res.status}${detail ? ` (${detail})` : ''}`;
    if (res.status === 404) throw new NotFoundError(msg);
    if (res.status === 403) throw new NotAllowedError(msg);
    if (res.status === 401) throw new AuthenticationError(msg);
    if (res.status >= 400 && res.status < 500) throw new InputError(msg);
    throw new UnavailableError(msg);
  }

  /** Fetches a manifest by tag or digest and checks its digest when asked by digest. */
  async getManifest(
    host: string,
    repo: string,
    reference: string,
    accept = MANIFEST_ACCEPT,
  ): Promise<FetchedManifest> {
    const res = await this.request(host, `/v2/${repo}/manifests/${reference}`, {
      headers: { accept },
      scopes: [`repository:${repo}:pull`],
    });
    if (!res.ok) await this.#fail(res, `GET manifest ${host}/${repo}:${reference}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = sha256Digest(bytes);
    if (isDigest(reference) && reference !== digest) {
      throw new UnavailableError(`Manifest ${repo}@${reference} from ${host} has digest ${digest}: corrupt`);
    }
    let json: ImageManifest | ImageIndex;
    try {
      json = JSON.parse(bytes.toString('utf8')) as ImageManifest | ImageIndex;
    } catch (err) {
      throw new UnavailableError(
        `Manifest ${repo}:${reference} from ${host} is not JSON: ${(err as Error).message}`,
      );
    }
    if (
      !json ||
      typeof json !== 'object' ||
      (!Array.isArray((json as ImageIndex).manifests) && !(json as ImageManifest).config)
    ) {
      throw new UnavailableError(
        `Manifest ${repo}:${reference} from ${host} is neither an image manifest nor an index`,
      );
    }
    if ('config' in json && !Array.isArray(json.layers)) json.layers = [];
    const mediaType =
      json.mediaType ?? res.headers.get('content-type')?.split(';')[0] ?? MEDIA_TYPES.ociManifest;
    return { digest, mediaType, bytes, json };
  }

  /**
   * Fetches the image manifest behind a tag or digest; an index resolves to its linux/`architecture`
   * entry (default: this machine's). Without `exact`, an index lacking that platform gives its first
   * entry of a real OS (attestations say `unknown`); with `exact`, only a one-entry index may stand in.
   */
  async getImageManifest(
    host: string,
    repo: string,
    reference: string,
    options: { architecture?: string; exact?: boolean } = {},
  ): Promise<FetchedImageManifest> {
    let m = await this.getManifest(host, repo, reference);
    if (isIndexMediaType(m.mediaType) || 'manifests' in m.json) {
      const entries = (m.json as ImageIndex).manifests;
      const arch = options.architecture ?? hostArchitecture();
      const pick =
        entries.find((d) => d.platform?.os === 'linux' && d.platform.architecture === arch) ??
        (options.exact
          ? entries.length === 1
            ? entries[0]
            : undefined
          : (entries.find((d) => d.platform?.os !== 'unknown') ?? entries[0]));
      if (!pick) {
        throw new NotFoundError(`Image ${host}/${repo}:${reference} has no linux/${arch} manifest`, {
          details: { ref: `${host}/${repo}:${reference}`, platform: `linux/${arch}` },
        });
      }
      m = await this.getManifest(host, repo, pick.digest);
      if ('manifests' in m.json)
        throw new UnavailableError(`Index ${host}/${repo}:${reference} points at another index`);
    }
    return { digest: m.digest, mediaType: m.mediaType, bytes: m.bytes, manifest: m.json as ImageManifest };
  }

  /** Puts the manifest behind `reference` under each of `tags` in the same repository; returns its digest. */
  async addTags(host: string, repo: string, reference: string, tags: string[]): Promise<Digest> {
    const m = await this.getManifest(host, repo, reference);
    for (const tag of tags) await this.putManifest(host, repo, tag, m.bytes, m.mediaType);
    return m.digest;
  }

  /** Streams a blob into `file`, verifying its digest (the file is removed when it does not match). */
  async downloadBlob(host: string, repo: string, digest: string, file: string): Promise<void> {
    const res = await this.getBlobResponse(host, repo, digest);
    const hash = createHash('sha256');
    const source = res.body
      ? Readable.fromWeb(res.body as WebReadableStream<Uint8Array>)
      : Readable.from([] as Buffer[]);
    source.on('data', (b: Buffer) => hash.update(b));
    await pipeline(source, createWriteStream(file));
    const got = `sha256:${hash.digest('hex')}`;
    if (digest.startsWith('sha256:') && got !== digest) {
      await rm(file, { force: true });
      throw new UnavailableError(`Blob ${repo}@${digest} from ${host} arrived with digest ${got}`);
    }
  }

  /** HEADs a manifest; undefined when it does not exist. */
  async headManifest(
    host: string,
    repo: string,
    reference: string,
  ): Promise<{ digest: string; mediaType: string; size: number } | undefined> {
    const res = await this.request(host, `/v2/${repo}/manifests/${reference}`, {
      method: 'HEAD',
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [`repository:${repo}:pull`],
    });
    if (res.status === 404) return undefined;
    if (!res.ok) await this.#fail(res, `HEAD manifest ${host}/${repo}:${reference}`);
    return {
      digest: res.headers.get('docker-content-digest') ?? '',
      mediaType: res.headers.get('content-type') ?? '',
      size: Number(res.headers.get('content-length') ?? 0),
    };
  }

  /** PUTs a manifest under a tag or its digest; returns its digest and the OCI-Subject header if any. */
  async putManifest(
    host: string,
    repo: string,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
  ): Promise<{ digest: Digest; subject?: string }> {
    const res = await this.request(host, `/v2/${repo}/manifests/${reference}`, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body: bytes,
      scopes: [`repository:${repo}:pull,push`],
    });
    if (!res.ok) await this.#fail(res, `PUT manifest ${host}/${repo}:${reference}`);
    await res.body?.cancel();
    const subject = res.headers.get('oci-subject');
    return { digest: sha256Digest(bytes), ...(subject ? { subject } : {}) };
  }

  async deleteManifest(host: string, repo: string, digest: string): Promise<void> {
    const res = await this.request(host, `/v2/${repo}/manifests/${digest}`, {
      method: 'DELETE',
      scopes: [`repository:${repo}:delete`],
    });
    if (!res.ok && res.status !== 404) await this.#fail(res, `DELETE manifest ${host}/${repo}@${digest}`);
    await res.body?.cancel();
  }

  async hasBlob(host: string, repo: string, digest: string): Promise<boolean> {
    const res = await this.request(host, `/v2/${repo}/blobs/${digest}`, {
      method: 'HEAD',
      scopes: [`repository:${repo}:pull`],
    });
    await res.body?.cancel();
    if (res.status === 404) return false;
    if (!res.ok) await this.#fail(res, `HEAD blob ${host}/${repo}@${digest}`);
    return true;
  }

  /** Downloads a blob into memory and verifies its digest. */
  async getBlob(host: string, repo: string, digest: string): Promise<Buffer> {
    const res = await this.getBlobResponse(host, repo, digest);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (digest.startsWith('sha256:') && sha256Digest(bytes) !== digest) {
      throw new UnavailableError(`Blob ${repo}@${digest} from ${host} does not match its digest`);
    }
    return bytes;
  }

  /** The raw response of a blob GET, for streaming (the caller verifies the digest if it needs to). */
  async getBlobResponse(host: string, repo: string, digest: string): Promise<Response> {
    const res = await this.request(host, `/v2/${repo}/blobs/${digest}`, {
      scopes: [`repository:${repo}:pull`],
    });
    if (!res.ok) await this.#fail(res, `GET blob ${host}/${repo}@${digest}`);
    return res;
  }

  /**
   * Tries a cross-repository mount; true when the registry mounted the blob. A registry that does not
   * mount answers 202 with an upload session, which is cancelled here.
   */
  async mountBlob(host: string, repo: string, digest: string, fromRepo: string): Promise<boolean> {
    const res = await this.request(
      host,
      `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepo)}`,
      { method: 'POST', scopes: [`repository:${repo}:pull,push`, `repository:${fromRepo}:pull`] },
    );
    await res.body?.cancel();
    if (res.status === 201) return true;
    if (res.status === 202) {
      const loc = res.headers.get('location');
      if (loc) {
        const cancel = await this.request(host, this.#resolve(host, loc), {
          method: 'DELETE',
          scopes: [`repository:${repo}:pull,push`],
        });
        await cancel.body?.cancel();
      }
      return false;
    }
    if (!res.ok) await this.#fail(res, `mount blob ${digest} from ${fromRepo} into ${host}/${repo}`);
    return false;
  }

  #resolve(host: string, location: string): string {
    return new URL(location, `${this.baseUrl(host)}/`).toString();
  }

  /**
   * Uploads a blob unless the registry has it: POST then PUT (monolithic), or PATCH chunks of
   * `chunkSize` bytes then PUT when `chunkSize` is given. Returns its digest.
   */
  async pushBlob(
    host: string,
    repo: string,
    data: Uint8Array,
    options: { digest?: string; chunkSize?: number; skipExistsCheck?: boolean } = {},
  ): Promise<Digest> {
    const digest = (options.digest ?? sha256Digest(data)) as Digest;
    if (!options.skipExistsCheck && (await this.hasBlob(host, repo, digest))) return digest;
    const scopes = [`repository:${repo}:pull,push`];
    const start = await this.request(host, `/v2/${repo}/blobs/uploads/`, { method: 'POST', scopes });
    await start.body?.cancel();
    if (start.status !== 202) await this.#fail(start, `start upload to ${host}/${repo}`);
    let location = this.#resolve(host, start.headers.get('location') ?? '');
    const chunk = options.chunkSize;
    if (chunk && chunk > 0 && data.length > 0) {
      for (let off = 0; off < data.length; off += chunk) {
        const part = data.subarray(off, Math.min(off + chunk, data.length));
        const res = await this.request(host, location, {
          method: 'PATCH',
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${off}-${off + part.length - 1}`,
            'content-length': String(part.length),
          },
          body: part,
          scopes,
        });
        await res.body?.cancel();
        if (res.status !== 202) await this.#fail(res, `upload chunk to ${host}/${repo}`);
        location = this.#resolve(host, res.headers.get('location') ?? location);
      }
      const done = await this.request(host, withQuery(location, 'digest', digest), { method: 'PUT', scopes });
      await done.body?.cancel();
      if (done.status !== 201) await this.#fail(done, `finish upload to ${host}/${repo}`);
      return digest;
    }
    const res = await this.request(host, withQuery(location, 'digest', digest), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
      body: data,
      scopes,
    });
    await res.body?.cancel();
    if (res.status !== 201) await this.#fail(res, `upload blob to ${host}/${repo}`);
    return digest;
  }

  /** Lists tags (following `Link` pagination). */
  async listTags(host: string, repo: string): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repo}/tags/list?n=1000`;
    while (path) {
      const res = await this.request(host, path, { scopes: [`repository:${repo}:pull`] });
      if (res.status === 404) return tags;
      if (!res.ok) await this.#fail(res, `list tags of ${host}/${repo}`);
      const body = (await res.json()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      const link = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get('link') ?? '');
      path = link ? link[1] : undefined;
    }
    return tags;
  }

  /**
   * Lists referrers of `digest`: the Referrers API, or the `sha256-<hex>` tag-schema index on registries
   * without it (CNCF Distribution 2.x/3.x).
   */
  async referrers(host: string, repo: string, digest: string, artifactType?: string): Promise<Descriptor[]> {
    const q = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    const res = await this.request(host, `/v2/${repo}/referrers/${digest}${q}`, {
      headers: { accept: MEDIA_TYPES.ociIndex },
      scopes: [`repository:${repo}:pull`],
    });
    let items: Descriptor[];
    if (res.ok && (res.headers.get('content-type') ?? '').includes(MEDIA_TYPES.ociIndex)) {
      items = ((await res.json()) as ImageIndex).manifests ?? [];
    } else {
      await res.body?.cancel();
      items = (await this.#fallbackIndex(host, repo, digest))?.manifests ?? [];
    }
    return artifactType ? items.filter((d) => d.artifactType === artifactType) : items;
  }

  async #fallbackIndex(host: string, repo: string, digest: string): Promise<ImageIndex | undefined> {
    try {
      const m = await this.getManifest(host, repo, fallbackTag(digest), MEDIA_TYPES.ociIndex);
      return m.json as ImageIndex;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * Pushes an artifact manifest that refers to `subject` (an OCI referrer). When the registry does not
   * answer with `OCI-Subject`, the tag-schema fallback index is updated so clients can still find it.
   */
  async pushReferrer(
    host: string,
    repo: string,
    manifest: ImageManifest,
  ): Promise<{ digest: Digest; descriptor: Descriptor }> {
    const bytes = Buffer.from(JSON.stringify(manifest));
    const mediaType = manifest.mediaType ?? MEDIA_TYPES.ociManifest;
    const { digest, subject } = await this.putManifest(host, repo, sha256Digest(bytes), bytes, mediaType);
    const descriptor: Descriptor = {
      mediaType,
      digest,
      size: bytes.length,
      ...(manifest.artifactType ? { artifactType: manifest.artifactType } : {}),
      ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
    };
    if (!subject && manifest.subject) {
      const existing = (await this.#fallbackIndex(host, repo, manifest.subject.digest)) ?? {
        schemaVersion: 2 as const,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: [],
      };
      if (!existing.manifests.some((d) => d.digest === digest)) {
        const index: ImageIndex = { ...existing, manifests: [...existing.manifests, descriptor] };
        await this.putManifest(
          host,
          repo,
          fallbackTag(manifest.subject.digest),
          Buffer.from(JSON.stringify(index)),
          MEDIA_TYPES.ociIndex,
        );
      }
    }
    return { digest, descriptor };
  }
}

/** The referrers tag-schema fallback tag for a digest: `sha256-<hex>`. */
export function fallbackTag(digest: string): string {
  return digest.replace(':', '-');
}

function withQuery(url: string, key: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u.toString();
}
