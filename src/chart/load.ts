// The thin I/O shell around the pure loader: a chart directory (honouring .helmignore), a .tgz file, or an
// OCI reference (`oci://host/repo/name` + version) fetched with the OCI distribution API.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeFetchFailure, InputError, NotFoundError, UnavailableError } from '../core/index.ts';
import {
  type Chart,
  type ChartFiles,
  loadArchiveFiles,
  loadChartFromFiles,
  parseHelmIgnore,
} from './chart.ts';

export const HELM_CHART_CONTENT_MEDIA_TYPE = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
export const HELM_CHART_CONFIG_MEDIA_TYPE = 'application/vnd.cncf.helm.config.v1+json';
export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

export interface RegistryAuth {
  username?: string;
  password?: string;
  /** A ready bearer token (skips the token service). */
  token?: string;
}

export interface LoadChartSourceOptions {
  /** Version (tag) for `oci://` references; may also be given as `oci://host/repo/name:1.2.3`. */
  version?: string;
  registryAuth?: RegistryAuth | ((host: string) => RegistryAuth | undefined);
  /** Use http:// instead of https:// for the registry (like `--plain-http`). */
  plainHttp?: boolean;
  fetch?: typeof fetch;
}

/** Reads a chart directory into ChartFiles, skipping what its .helmignore ignores (Helm's LoadDir). */
export async function readChartDir(dir: string): Promise<ChartFiles> {
  // Synchronous reads: a chart is many small files, and one blocking walk is much faster than many promises.
  // existsSync rather than a failing read: a thrown ENOENT costs a CLI start more than the check.
  const ignorePath = join(dir, '.helmignore');
  const ignoreText = existsSync(ignorePath) ? readFileSync(ignorePath, 'utf8') : '';
  const ignored = parseHelmIgnore(ignoreText);
  const files: ChartFiles = {};
  const walk = (d: string, prefix: string): void => {
    const entries = readdirSync(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = join(d, e.name);
      const rel = prefix + e.name;
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) isDir = statSync(full).isDirectory();
      if (ignored(rel, isDir)) continue;
      if (isDir) walk(full, `${rel}/`);
      else files[rel] = new Uint8Array(readFileSync(full));
    }
  };
  walk(dir, '');
  return files;
}

/**
 * Loads a chart from a directory, a packaged `.tgz`, or `oci://host/repository/name` (with `version`).
 * Errors: NotFoundError for a missing path or tag, InputError for a bad chart, UnavailableError for a
 * registry that cannot be reached.
 */
export async function loadChart(source: string, options: LoadChartSourceOptions = {}): Promise<Chart> {
  if (source.startsWith('oci://')) {
    const archive = await pullOciChart(source, options);
    return loadArchiveFiles(archive, source);
  }
  // Synchronous reads: loading one chart is a few small files, and a CLI start saves loading fs/promises.
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(source);
  } catch {
    throw new NotFoundError(`path "${source}" not found`, { location: { file: source } });
  }
  if (st.isDirectory()) {
    const files = await readChartDir(source);
    return loadChartFromFiles(files);
  }
  const data = new Uint8Array(readFileSync(source));
  return loadArchiveFiles(data, source);
}

interface OciRef {
  host: string;
  repository: string;
  tag: string;
}

/** Parses `oci://host[:port]/path/name[:tag]`. */
export function parseOciReference(ref: string, version?: string): OciRef {
  const rest = ref.slice('oci://'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) throw new InputError(`invalid OCI reference "${ref}"`, { location: { field: 'chart' } });
  const host = rest.slice(0, slash);
  let repository = rest.slice(slash + 1);
  let tag = version;
  const colon = repository.lastIndexOf(':');
  if (colon > repository.lastIndexOf('/')) {
    tag ??= repository.slice(colon + 1);
    repository = repository.slice(0, colon);
  }
  if (!tag)
    throw new InputError(`a version is required for "${ref}" (--version)`, {
      location: { field: 'version' },
    });
  // Helm stores chart versions with "+" as "_" in tags.
  return { host, repository, tag: tag.replace(/\+/g, '_') };
}

function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^(\w+)\s*(.*)$/.exec(header.trim());
  const params: Record<string, string> = {};
  if (!m) return { scheme: '', params };
  const re = /(\w+)="([^"]*)"/g;
  for (let x = re.exec(m[2] ?? ''); x; x = re.exec(m[2] ?? '')) params[x[1]!.toLowerCase()] = x[2]!;
  return { scheme: m[1]!.toLowerCase(), params };
}

class RegistryClient {
  private authHeader: string | undefined;
  constructor(
    private readonly base: string,
    private readonly repository: string,
    private readonly auth: RegistryAuth | undefined,
    private readonly doFetch: typeof fetch,
  ) {
    if (auth?.token) this.authHeader = `Bearer ${auth.token}`;
  }

  async get(path: string, accept: string): Promise<Response> {
    const url = `${this.base}/v2/${path}`;
    const headers: Record<string, string> = { Accept: accept };
    if (this.authHeader) headers.Authorization = this.authHeader;
    let res = await this.call(url, headers);
    if (res.status === 401 && !this.authHeader) {
      const challenge = res.headers.get('www-authenticate');
      await res.body?.cancel();
      if (!challenge) return res;
      await this.authenticate(challenge);
      if (this.authHeader) headers.Authorization = this.authHeader;
      res = await this.call(url, headers);
    }
    return res;
  }

  private async call(url: string, headers: Record<string, string>): Promise<Response> {
    try {
      return await this.doFetch(url, { headers, redirect: 'follow' });
    } catch (err) {
      throw new UnavailableError(`cannot reach registry ${this.base}: ${describeFetchFailure(err)}`, {
        cause: err,
      });
    }
  }

  private async authenticate(header: string): Promise<void> {
    const { scheme, params } = parseChallenge(header);
    const basic =
      this.auth?.username !== undefined
        ? `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password ?? ''}`).toString('base64')}`
        : undefined;
    if (scheme === 'basic') {
      this.authHeader = basic;
      return;
    }
    if (scheme !== 'bearer' || !params.realm) return;
    const u = new URL(params.realm);
    if (params.service) u.searchParams.set('service', params.service);
    u.searchParams.set('scope', params.scope ?? `repository:${this.repository}:pull`);
    const headers: Record<string, string> = {};
    if (basic) headers.Authorization = basic;
    let res: Response;
    try {
      res = await this.doFetch(u, { headers });
    } catch (err) {
      throw new UnavailableError(`cannot reach token service ${u.origin}: ${describeFetchFailure(err)}`, {
        cause: err,
      });
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new InputError(`registry token request failed: ${res.status} ${res.statusText}`, {
        location: { field: 'registryAuth' },
      });
    }
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (token) this.authHeader = `Bearer ${token}`;
  }
}

/** Fetches a chart package from an OCI registry: manifest, then the Helm chart content layer (digest checked). */
export async function pullOciChart(ref: string, options: LoadChartSourceOptions = {}): Promise<Uint8Array> {
  const { host, repository, tag } = parseOciReference(ref, options.version);
  const auth = typeof options.registryAuth === 'function' ? options.registryAuth(host) : options.registryAuth;
  const base = `${options.plainHttp ? 'http' : 'https'}://${host}`;
  const client = new RegistryClient(base, repository, auth, options.fetch ?? fetch);
  const res = await client.get(`${repository}/manifests/${encodeURIComponent(tag)}`, OCI_MANIFEST_MEDIA_TYPE);
  if (res.status === 404) {
    await res.body?.cancel();
    throw new NotFoundError(`${ref}:${tag}: not found`, { location: { field: 'version' } });
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw new InputError(`${ref}:${tag}: registry denied access (${res.status})`, {
      location: { field: 'registryAuth' },
    });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new UnavailableError(`${ref}:${tag}: registry answered ${res.status}`);
  }
  const manifest = (await res.json()) as { layers?: { mediaType?: string; digest?: string }[] };
  const layer = manifest.layers?.find((l) => l.mediaType === HELM_CHART_CONTENT_MEDIA_TYPE);
  if (!layer?.digest) {
    throw new InputError(`${ref}:${tag} is not a Helm chart (no ${HELM_CHART_CONTENT_MEDIA_TYPE} layer)`, {
      location: { field: 'chart' },
    });
  }
  const blob = await client.get(`${repository}/blobs/${layer.digest}`, '*/*');
  if (!blob.ok) {
    await blob.body?.cancel();
    throw new UnavailableError(`${ref}:${tag}: cannot fetch chart layer ${layer.digest}: ${blob.status}`);
  }
  const data = new Uint8Array(await blob.arrayBuffer());
  const [algo, hex] = layer.digest.split(':');
  if (algo === 'sha256') {
    const got = createHash('sha256').update(data).digest('hex');
    if (got !== hex) throw new InputError(`${ref}:${tag}: chart layer digest mismatch (got sha256:${got})`);
  }
  return data;
}
