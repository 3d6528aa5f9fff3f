// Application sources that are packaged Helm charts rather than git directories: a chart in an OCI
// registry (`oci://host/project/name` + version, Slipway's own registry or any other) or in a classic Helm
// chart repository (`https://host/path/` with index.yaml + chart name + version), as Argo CD writes them.
// Pulled charts are cached on disk by the sha256 of their .tgz: a version resolves to that digest, and the
// digest is the "commit" the reconciler renders, so a re-pushed tag is noticed and an unchanged one is free.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isCompatibleRange, readTarGz } from '../chart/index.ts';
import {
  InputError,
  isSlipwayError,
  NotFoundError,
  UnavailableError,
  writeFileAtomic,
} from '../core/index.ts';
import { RegistryClient } from '../oci/index.ts';
import type { AppSource } from './app-spec.ts';
import type { FileTree } from './seams.ts';

const HELM_CHART_CONTENT = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const HELM_CHART_CONFIG = 'application/vnd.cncf.helm.config.v1+json';

/** Where a chart source's package comes from. */
export type ChartReference =
  | { kind: 'oci'; host: string; repository: string; version: string; display: string }
  | { kind: 'repo'; url: string; name: string; version: string; display: string };

/** True for sources that are packaged charts (OCI or a Helm repository) rather than a git directory. */
export function isChartSource(source: AppSource): boolean {
  return source.repoURL.startsWith('oci://') || (source.chart !== undefined && source.path === undefined);
}

/** A version that is a constraint (`1.2.*`, `^1.2`, `>=1 <2`) or absent: pick the highest that matches. */
function isConstraint(version: string): boolean {
  return version === '' || version === 'HEAD' || version === 'latest' || /[*xX^~<>=|, ]/.test(version);
}

/**
 * Where the chart of a source lives. Accepted forms: `chart: oci://host/project/name` (+ targetRevision);
 * Argo CD's `repoURL: oci://host/project` + `chart: name`; Argo CD 3's `repoURL: oci://host/project/name`
 * (path `.`); `repoURL: host/project` + `chart: name` (Argo CD's OCI Helm repository without a scheme); and
 * `repoURL: https://charts.example.com/` + `chart: name` (a classic repository with index.yaml). Pure.
 */
export function chartReference(source: AppSource): ChartReference {
  const version = source.targetRevision === 'HEAD' ? '' : source.targetRevision.trim();
  const chart = source.chart?.trim();
  let oci: string | undefined;
  if (chart?.startsWith('oci://')) oci = chart;
  else if (source.repoURL.startsWith('oci://'))
    oci = chart ? `${source.repoURL.replace(/\/+$/, '')}/${chart}` : source.repoURL;
  else if (/^https?:\/\//.test(source.repoURL)) {
    if (!chart || chart.includes('/')) {
      throw new InputError(
        `Source ${source.repoURL}: a Helm repository source needs a chart name, got ${JSON.stringify(chart ?? '')}`,
        { location: { field: 'chart' } },
      );
    }
    const url = source.repoURL.endsWith('/') ? source.repoURL : `${source.repoURL}/`;
    return {
      kind: 'repo',
      url,
      name: chart,
      version,
      display: `${url}${chart}${version ? `:${version}` : ''}`,
    };
  } else oci = `oci://${source.repoURL.replace(/\/+$/, '')}/${chart ?? ''}`;
  const rest = oci.slice('oci://'.length).replace(/\/+$/, '');
  const slash = rest.indexOf('/');
  let repository = slash > 0 ? rest.slice(slash + 1) : '';
  let tag = version;
  const colon = repository.lastIndexOf(':');
  if (colon > repository.lastIndexOf('/')) {
    tag ||= repository.slice(colon + 1);
    repository = repository.slice(0, colon);
  }
  if (slash <= 0 || !/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(repository)) {
    throw new InputError(`Chart reference ${JSON.stringify(oci)} is not oci://host/repository/name`, {
      location: { field: 'chart' },
    });
  }
  const host = rest.slice(0, slash);
  return {
    kind: 'oci',
    host,
    repository,
    version: tag,
    display: `oci://${host}/${repository}${tag ? `:${tag}` : ''}`,
  };
}

function versionKey(v: string): number[] | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?(?:\+.*)?$/.exec(v);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0), m[4] ? 0 : 1];
}

/** The highest version matching `constraint` (empty: any release), or undefined. Pure. */
export function pickVersion(versions: string[], constraint: string): string | undefined {
  const any = constraint === '' || constraint === 'HEAD' || constraint === 'latest';
  const candidates = versions.filter((v) => {
    const key = versionKey(v);
    if (!key) return false;
    return any ? key[3] === 1 : isCompatibleRange(constraint, v);
  });
  candidates.sort((a, b) => {
    const x = versionKey(a)!;
    const y = versionKey(b)!;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return 0;
  });
  return candidates.at(-1);
}

/** Unpacks a chart .tgz into the chart's files (the archive's top folder is the chart root). Pure. */
export function chartArchiveFiles(archive: Uint8Array, name: string): FileTree {
  const files: FileTree = {};
  for (const e of readTarGz(archive, name)) {
    const p = e.path.replace(/\\/g, '/');
    const slash = p.indexOf('/');
    if (p === 'pax_global_header' || slash < 0) continue;
    const inner = p.slice(slash + 1);
    if (inner === '' || inner.split('/').includes('..')) continue;
    files[inner] = e.data;
  }
  if (!files['Chart.yaml']) {
    throw new InputError(`${name}: the package has no Chart.yaml`, { location: { file: 'Chart.yaml' } });
  }
  return files;
}

/** Fetches packaged charts for the reconciler. */
export interface ChartRepositories {
  /** Resolves a chart source's version to the sha256 (hex) of its package: the revision rendered. */
  resolve(source: AppSource): Promise<string>;
  /** The chart's files for a resolved digest (from the cache, or pulled again and verified). */
  files(source: AppSource, digest: string): Promise<FileTree>;
}

export interface ChartRepositoriesOptions {
  /** Where packages are cached, as `sha256/<hex>.tgz`. */
  cacheDir: string;
  /** OCI registry client (credentials for Slipway's own registry are configured on it). */
  registry?: Pick<RegistryClient, 'getManifest' | 'getBlob' | 'listTags'>;
  /** For Helm repositories (index.yaml and packages); default: global fetch. */
  fetch?: typeof fetch;
  /** Unpacked charts kept in memory (default 32). */
  memoryEntries?: number;
  /** How long a version's resolution is reused before asking the registry again (default 5 s). */
  resolveTtlMs?: number;
  now?: () => number;
  /** Credentials registered for a URL (`https://…` Helm repositories, `oci://host/repository`). */
  credentials?: (url: string) => { username: string; password: string } | undefined;
  /** An OCI client that logs in with these credentials (Basic, or the Bearer token flow); default RegistryClient. */
  registryWith?: (creds: {
    username: string;
    password: string;
  }) => Pick<RegistryClient, 'getManifest' | 'getBlob' | 'listTags'>;
}

/** Wraps a registry/network failure so that the ComparisonError names the chart reference. */
function named(ref: ChartReference, err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err);
  if (isSlipwayError(err) && err instanceof UnavailableError)
    return new UnavailableError(`Cannot fetch chart ${ref.display}: ${msg}`, { cause: err });
  if (isSlipwayError(err) && err instanceof NotFoundError)
    return new InputError(`Chart ${ref.display} not found: ${msg}`, {
      location: { field: 'targetRevision' },
      cause: err,
    });
  return new InputError(`Cannot fetch chart ${ref.display}: ${msg}`, {
    location: { field: 'chart' },
    cause: err,
  });
}

/** Chart repositories backed by an OCI registry client, plain HTTP for Helm repositories and a disk cache. */
export function createChartRepositories(options: ChartRepositoriesOptions): ChartRepositories {
  const doFetch = options.fetch ?? fetch;
  const memory = new Map<string, FileTree>();
  const maxMemory = options.memoryEntries ?? 32;
  /** Where each digest can be downloaded from (learnt while resolving). */
  const locations = new Map<string, { url?: string; oci?: { host: string; repository: string } }>();

  const cachePath = (hex: string) => join(options.cacheDir, 'sha256', `${hex}.tgz`);
  const withCreds = new Map<string, Pick<RegistryClient, 'getManifest' | 'getBlob' | 'listTags'>>();
  /** The client for `oci://host/repository`: one logging in with registered credentials, else the default. */
  const registry = (host?: string, repository?: string) => {
    const creds = host ? options.credentials?.(`oci://${host}/${repository ?? ''}`) : undefined;
    if (creds) {
      const key = `${host}\0${creds.username}\0${createHash('sha256').update(creds.password).digest('hex')}`;
      let client = withCreds.get(key);
      if (!client) {
        client = options.registryWith
          ? options.registryWith(creds)
          : new RegistryClient({ credentials: { username: creds.username, password: creds.password } });
        withCreds.set(key, client);
      }
      return client;
    }
    if (!options.registry) throw new UnavailableError('no OCI registry client is configured for charts');
    return options.registry;
  };

  const readCached = (hex: string): Uint8Array | undefined => {
    try {
      const data = new Uint8Array(readFileSync(cachePath(hex)));
      return createHash('sha256').update(data).digest('hex') === hex ? data : undefined;
    } catch {
      return undefined;
    }
  };
  const store = (hex: string, data: Uint8Array, ref: ChartReference): void => {
    const got = createHash('sha256').update(data).digest('hex');
    if (got !== hex) {
      throw new InputError(`Chart ${ref.display}: package digest is sha256:${got}, expected sha256:${hex}`, {
        location: { field: 'chart' },
      });
    }
    mkdirSync(join(options.cacheDir, 'sha256'), { recursive: true });
    writeFileAtomic(cachePath(hex), data);
  };

  const httpGet = async (url: string, ref: ChartReference): Promise<Response> => {
    let res: Response;
    try {
      const creds = options.credentials?.(url);
      const headers: Record<string, string> = creds
        ? {
            authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`,
          }
        : {};
      res = await doFetch(url, { redirect: 'follow', headers });
    } catch (err) {
      throw new UnavailableError(`Cannot fetch chart ${ref.display}: ${url}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (res.ok) return res;
    await res.body?.cancel();
    if (res.status === 404)
      throw new InputError(`Chart ${ref.display}: ${url} not found (HTTP 404)`, {
        location: { field: 'repoURL' },
      });
    if (res.status >= 500)
      throw new UnavailableError(`Cannot fetch chart ${ref.display}: ${url} answered HTTP ${res.status}`);
    throw new InputError(`Cannot fetch chart ${ref.display}: ${url} answered HTTP ${res.status}`, {
      location: { field: 'repoURL' },
    });
  };

  const resolveOci = async (ref: Extract<ChartReference, { kind: 'oci' }>): Promise<string> => {
    const client = registry(ref.host, ref.repository);
    let tag = ref.version;
    try {
      if (isConstraint(tag)) {
        const tags = await client.listTags(ref.host, ref.repository);
        // Helm stores "+" in versions as "_" in tags.
        const picked = pickVersion(
          tags.map((t) => t.replace(/_/g, '+')),
          tag,
        );
        if (!picked)
          throw new InputError(
            `Chart ${ref.display}: no version matches ${JSON.stringify(tag || '*')} (tags: ${tags.join(', ') || 'none'})`,
            { location: { field: 'targetRevision' } },
          );
        tag = picked;
      }
      const m = await client.getManifest(
        ref.host,
        ref.repository,
        tag.replace(/\+/g, '_'),
        'application/vnd.oci.image.manifest.v1+json',
      );
      const manifest = m.json as {
        config?: { mediaType?: string };
        layers?: { mediaType?: string; digest?: string }[];
      };
      const layer = manifest.layers?.find((l) => l.mediaType === HELM_CHART_CONTENT);
      if (!layer?.digest?.startsWith('sha256:') || manifest.config?.mediaType !== HELM_CHART_CONFIG) {
        throw new InputError(`${ref.display} is not a Helm chart (no ${HELM_CHART_CONTENT} layer)`, {
          location: { field: 'chart' },
        });
      }
      const hex = layer.digest.slice('sha256:'.length);
      locations.set(hex, { oci: { host: ref.host, repository: ref.repository } });
      return hex;
    } catch (err) {
      if (isSlipwayError(err) && err instanceof InputError && err.message.includes(ref.display)) throw err;
      throw named({ ...ref, display: `oci://${ref.host}/${ref.repository}:${tag || '*'}` }, err);
    }
  };

  const resolveRepo = async (ref: Extract<ChartReference, { kind: 'repo' }>): Promise<string> => {
    const res = await httpGet(new URL('index.yaml', ref.url).href, ref);
    let index: { entries?: Record<string, { version?: string; urls?: string[]; digest?: string }[]> };
    try {
      index = (parseYaml(await res.text()) ?? {}) as typeof index;
    } catch (err) {
      throw new InputError(`Cannot parse ${ref.url}index.yaml: ${(err as Error).message}`, {
        location: { file: 'index.yaml' },
      });
    }
    const entries = (index.entries?.[ref.name] ?? []).filter((e) => typeof e?.version === 'string');
    if (entries.length === 0)
      throw new InputError(
        `Chart ${ref.display} not found: ${ref.url}index.yaml has no chart "${ref.name}"`,
        {
          location: { field: 'chart' },
        },
      );
    const version = isConstraint(ref.version)
      ? pickVersion(
          entries.map((e) => e.version!),
          ref.version,
        )
      : entries.find((e) => e.version === ref.version)?.version;
    const entry = entries.find((e) => e.version === version);
    if (!entry)
      throw new InputError(
        `Chart ${ref.display} not found: ${ref.url}index.yaml has versions ${entries
          .map((e) => e.version)
          .slice(0, 10)
          .join(', ')}`,
        { location: { field: 'targetRevision' } },
      );
    const first = entry.urls?.[0];
    if (!first)
      throw new InputError(`Chart ${ref.display}: index.yaml lists no URL for version ${version}`, {
        location: { file: 'index.yaml' },
      });
    const url = new URL(first, ref.url).href;
    if (entry.digest && /^[0-9a-f]{64}$/.test(entry.digest)) {
      locations.set(entry.digest, { url });
      return entry.digest;
    }
    // No digest in the index: download to learn it (and keep it).
    const data = new Uint8Array(await (await httpGet(url, ref)).arrayBuffer());
    const hex = createHash('sha256').update(data).digest('hex');
    store(hex, data, ref);
    locations.set(hex, { url });
    return hex;
  };

  const download = async (source: AppSource, hex: string): Promise<Uint8Array> => {
    const ref = chartReference(source);
    let where = locations.get(hex);
    if (!where) {
      // After a restart: resolving again tells where the digest lives (when the version still points there).
      await (ref.kind === 'oci' ? resolveOci(ref) : resolveRepo(ref));
      where = locations.get(hex);
    }
    if (!where)
      throw new InputError(`Chart ${ref.display}: sha256:${hex} is no longer available there`, {
        location: { field: 'targetRevision' },
      });
    let data: Uint8Array;
    if (where.oci) {
      try {
        data = new Uint8Array(
          await registry(where.oci.host, where.oci.repository).getBlob(
            where.oci.host,
            where.oci.repository,
            `sha256:${hex}`,
          ),
        );
      } catch (err) {
        throw named(ref, err);
      }
    } else {
      data = new Uint8Array(await (await httpGet(where.url!, ref)).arrayBuffer());
    }
    store(hex, data, ref);
    return data;
  };

  const resolved = new Map<string, { hex: string; at: number }>();
  const now = options.now ?? Date.now;
  const ttl = options.resolveTtlMs ?? 5_000;
  return {
    async resolve(source) {
      const ref = chartReference(source);
      const hit = resolved.get(ref.display);
      if (hit && now() - hit.at < ttl) return hit.hex;
      const hex = await (ref.kind === 'oci' ? resolveOci(ref) : resolveRepo(ref));
      resolved.set(ref.display, { hex, at: now() });
      if (resolved.size > 1000) resolved.delete(resolved.keys().next().value!);
      return hex;
    },
    async files(source, hex) {
      const sub = (source.path ?? '').replace(/^\.\/?/, '').replace(/\/+$/, '');
      const key = `${hex}:${sub}`;
      const hit = memory.get(key);
      if (hit) {
        memory.delete(key);
        memory.set(key, hit);
        return hit;
      }
      const data = readCached(hex) ?? (await download(source, hex));
      const ref = chartReference(source);
      let files = chartArchiveFiles(data, ref.display);
      if (sub) {
        const prefix = `${sub}/`;
        files = Object.fromEntries(
          Object.entries(files)
            .filter(([k]) => k.startsWith(prefix))
            .map(([k, v]) => [k.slice(prefix.length), v]),
        );
      }
      memory.set(key, files);
      while (memory.size > maxMemory) memory.delete(memory.keys().next().value!);
      return files;
    },
  };
}

/** Used when no chart repositories are configured: chart sources fail with a clear ComparisonError. */
export const NO_CHART_REPOSITORIES: ChartRepositories = {
  resolve: async (source) => {
    throw new UnavailableError(
      `Cannot fetch chart ${chartReference(source).display}: no chart repositories are configured`,
    );
  },
  files: async (source) => {
    throw new UnavailableError(
      `Cannot fetch chart ${chartReference(source).display}: no chart repositories are configured`,
    );
  },
};
