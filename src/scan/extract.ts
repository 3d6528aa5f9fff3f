// Reads an image's installed packages from its layers (only the files that list packages are kept).
import { posix } from 'node:path';
import {
  applyLayer,
  type ImageManifest,
  type LayerFs,
  lookupPath,
  type RegistryClient,
} from '../oci/index.ts';
import {
  dedupePackages,
  type InstalledPackage,
  isInstalledPackageJson,
  type OsRelease,
  parseApkInstalled,
  parseComposerLock,
  parseDpkgStatus,
  parseOsRelease,
  parsePackageJson,
  parsePackageLock,
  parsePomProperties,
} from './packages.ts';
import { GO_SUMMARY_PREFIX, type GoBuildInfo, goBinaryPackages, summarizeGoBinary } from './go-buildinfo.ts';
import { readZip } from './zip-reader.ts';

const MAX_JAR = 64 * 1024 * 1024;
const MAX_BINARY = 512 * 1024 * 1024;

/** True for entries the scanner keeps: package databases, and executables that may be Go binaries. */
export function isScannedEntry(path: string, info: { mode: number; size: number; type: string }): boolean {
  if (isPackageDatabasePath(path)) return true;
  return (
    (info.type === 'file' || info.type === 'contiguous-file') &&
    (info.mode & 0o111) !== 0 &&
    info.size > 1024 &&
    info.size <= MAX_BINARY
  );
}

/** Keeps package databases as they are, and Go binaries as a small build-info summary (others are dropped). */
export function scannedData(path: string, data: Buffer): Buffer | undefined {
  if (isPackageDatabasePath(path)) return data;
  return summarizeGoBinary(data);
}

/** True for files the scanner reads. */
export function isPackageDatabasePath(path: string): boolean {
  if (
    path === 'etc/os-release' ||
    path === 'usr/lib/os-release' ||
    path === 'etc/alpine-release' ||
    path === 'var/lib/dpkg/status' ||
    path === 'lib/apk/db/installed' ||
    path === 'usr/lib/apk/db/installed'
  ) {
    return true;
  }
  if (path.startsWith('var/lib/dpkg/status.d/')) return true;
  const base = posix.basename(path);
  if (base === 'package-lock.json' || base === '.package-lock.json' || base === 'npm-shrinkwrap.json')
    return true;
  if (base === 'composer.lock') return true;
  if (base.endsWith('.jar') || base.endsWith('.war')) return true;
  return isInstalledPackageJson(path);
}

export interface ImagePackages {
  os?: OsRelease;
  packages: InstalledPackage[];
}

/** Reads the package lists out of an image filesystem (pure over the in-memory fs). */
export function packagesFromFs(fs: LayerFs): ImagePackages {
  const text = (p: string) => lookupPath(fs, p)?.node.data?.toString('utf8');
  const osText = text('etc/os-release') ?? text('usr/lib/os-release');
  let os = osText ? parseOsRelease(osText) : undefined;
  if (!os && fs.has('etc/alpine-release'))
    os = { id: 'alpine', versionId: text('etc/alpine-release')?.trim() ?? '' };
  const debEco = os?.id === 'ubuntu' ? 'Ubuntu' : 'Debian';
  const packages: InstalledPackage[] = [];
  for (const [path, node] of [...fs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (node.type !== 'file' || !node.data) continue;
    const body = () => node.data!.toString('utf8');
    const where = `/${path}`;
    if (node.data.subarray(0, GO_SUMMARY_PREFIX.length).toString('latin1') === GO_SUMMARY_PREFIX) {
      try {
        const info = JSON.parse(node.data.subarray(GO_SUMMARY_PREFIX.length).toString('utf8')) as GoBuildInfo;
        packages.push(...goBinaryPackages(info, where));
      } catch {
        // a damaged summary: nothing to report
      }
    } else if (path === 'var/lib/dpkg/status' || path.startsWith('var/lib/dpkg/status.d/')) {
      if (path.endsWith('.md5sums')) continue;
      packages.push(...parseDpkgStatus(body(), where, debEco));
    } else if (path === 'lib/apk/db/installed' || path === 'usr/lib/apk/db/installed') {
      packages.push(...parseApkInstalled(body(), where));
    } else if (/(^|\/)(\.?package-lock|npm-shrinkwrap)\.json$/.test(path)) {
      packages.push(...parsePackageLock(body(), where));
    } else if (isInstalledPackageJson(path)) {
      packages.push(...parsePackageJson(body(), where));
    } else if (path.endsWith('composer.lock')) {
      packages.push(...parseComposerLock(body(), where));
    } else if ((path.endsWith('.jar') || path.endsWith('.war')) && node.data.length <= MAX_JAR) {
      try {
        for (const e of readZip(node.data)) {
          if (/^META-INF\/maven\/.+\/pom\.properties$/.test(e.name)) {
            packages.push(...parsePomProperties(e.read().toString('utf8'), `${where}!/${e.name}`));
          }
        }
      } catch {
        // not a readable jar: nothing to report
      }
    }
  }
  return { ...(os ? { os } : {}), packages: dedupePackages(packages) };
}

export interface ResolvedImage {
  digest: string;
  manifest: ImageManifest;
  mediaType: string;
  size: number;
}

/** Resolves a tag or digest to an image manifest (for an index: this machine's linux platform, or the first real image). */
export async function resolveImage(
  client: RegistryClient,
  host: string,
  repo: string,
  reference: string,
): Promise<ResolvedImage> {
  const m = await client.getImageManifest(host, repo, reference);
  return {
    digest: m.digest,
    manifest: m.manifest,
    mediaType: m.mediaType,
    size: m.bytes.length,
  };
}

/** Downloads an image's layers and reads its packages. */
export async function extractImagePackages(
  client: RegistryClient,
  host: string,
  repo: string,
  manifest: ImageManifest,
): Promise<ImagePackages> {
  const fs: LayerFs = new Map();
  for (const layer of manifest.layers) {
    const res = await client.getBlobResponse(host, repo, layer.digest);
    const { Readable } = await import('node:stream');
    const body = res.body
      ? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>)
      : Readable.from([]);
    await applyLayer(fs, body, { keepEntry: isScannedEntry, transformData: scannedData });
  }
  return packagesFromFs(fs);
}
