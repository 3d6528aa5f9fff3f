// Installed-package parsers (pure): dpkg status, apk installed db, npm lock files and package.json,
// composer.lock, Maven pom.properties, os-release. Each returns packages with their OSV ecosystem.

export interface InstalledPackage {
  /** OSV ecosystem base: Debian, Ubuntu, Alpine, npm, Packagist, Maven, Go. */
  ecosystem: string;
  /** The installed (binary) package name. */
  name: string;
  version: string;
  /** The name OSV advisories use (the source package for Debian and Alpine). */
  sourceName?: string;
  /** The version to match advisories against (the source version for Debian, when it differs). */
  sourceVersion?: string;
  /** Where it was found in the image. */
  location: string;
  arch?: string;
  license?: string;
}

export interface OsRelease {
  id: string;
  versionId?: string;
  prettyName?: string;
}

/** Parses /etc/os-release. */
export function parseOsRelease(text: string): OsRelease | undefined {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]!] = m[2]!.replace(/^["']|["']$/g, '');
  }
  if (!vars.ID) return undefined;
  return {
    id: vars.ID,
    ...(vars.VERSION_ID ? { versionId: vars.VERSION_ID } : {}),
    ...(vars.PRETTY_NAME ? { prettyName: vars.PRETTY_NAME } : {}),
  };
}

const DPKG_FIELDS = new Set(['package', 'status', 'source', 'version', 'architecture']);

/** Parses a dpkg status file (or a status.d entry): installed packages only. */
export function parseDpkgStatus(text: string, location: string, ecosystem = 'Debian'): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  let fields: Record<string, string> = {};
  const flush = () => {
    if (fields.package && fields.version) {
      // status.d files have no Status field; elsewhere only "install ok installed" counts.
      if (fields.status === undefined || /\binstalled$/.test(fields.status)) {
        const pkg: InstalledPackage = { ecosystem, name: fields.package, version: fields.version, location };
        if (fields.source) {
          const sm = /^(\S+)(?:\s+\(([^)]+)\))?/.exec(fields.source);
          if (sm) {
            pkg.sourceName = sm[1]!;
            if (sm[2]) pkg.sourceVersion = sm[2];
          }
        }
        if (fields.architecture) pkg.arch = fields.architecture;
        out.push(pkg);
      }
    }
    fields = {};
  };
  // One pass over the lines; only the single-line fields used here are kept.
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      flush();
      continue;
    }
    const c = line.charCodeAt(0);
    if (c === 32 || c === 9) continue; // continuation of a multi-line field
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).toLowerCase();
    if (DPKG_FIELDS.has(key)) fields[key] = line.slice(colon + 1).trim();
  }
  flush();
  return out;
}

/** Parses Alpine's /lib/apk/db/installed. */
export function parseApkInstalled(text: string, location: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const f: Record<string, string> = {};
    for (const line of para.split('\n')) {
      const m = /^([A-Za-z]):(.*)$/.exec(line);
      if (m && f[m[1]!] === undefined) f[m[1]!] = m[2]!;
    }
    if (!f.P || !f.V) continue;
    const pkg: InstalledPackage = { ecosystem: 'Alpine', name: f.P, version: f.V, location };
    if (f.o) pkg.sourceName = f.o;
    if (f.A) pkg.arch = f.A;
    if (f.L) pkg.license = f.L;
    out.push(pkg);
  }
  return out;
}

interface LockDependency {
  version?: string;
  dependencies?: Record<string, LockDependency>;
}

/** Parses package-lock.json (lockfileVersion 1, 2 and 3) and npm-shrinkwrap.json. */
export function parsePackageLock(text: string, location: string): InstalledPackage[] {
  let lock: {
    lockfileVersion?: number;
    packages?: Record<string, { version?: string; name?: string; link?: boolean }>;
    dependencies?: Record<string, LockDependency>;
  };
  try {
    lock = JSON.parse(text);
  } catch {
    return [];
  }
  const out: InstalledPackage[] = [];
  if (lock.packages && typeof lock.packages === 'object') {
    for (const [path, info] of Object.entries(lock.packages)) {
      if (path === '' || !info || info.link || typeof info.version !== 'string') continue;
      const idx = path.lastIndexOf('node_modules/');
      if (idx < 0) continue;
      const name = info.name ?? path.slice(idx + 'node_modules/'.length);
      out.push({ ecosystem: 'npm', name, version: info.version, location });
    }
    return out;
  }
  const walk = (deps: Record<string, LockDependency> | undefined) => {
    for (const [name, info] of Object.entries(deps ?? {})) {
      if (typeof info?.version === 'string' && !/^(file|git|link|https?):/.test(info.version)) {
        out.push({ ecosystem: 'npm', name, version: info.version, location });
      }
      walk(info?.dependencies);
    }
  };
  walk(lock.dependencies);
  return out;
}

/** Parses an installed `node_modules/<name>/package.json`. */
export function parsePackageJson(text: string, location: string): InstalledPackage[] {
  try {
    const p = JSON.parse(text) as { name?: unknown; version?: unknown; license?: unknown };
    if (typeof p.name !== 'string' || typeof p.version !== 'string') return [];
    return [
      {
        ecosystem: 'npm',
        name: p.name,
        version: p.version,
        location,
        ...(typeof p.license === 'string' ? { license: p.license } : {}),
      },
    ];
  } catch {
    return [];
  }
}

/** Parses composer.lock (packages and packages-dev). */
export function parseComposerLock(text: string, location: string): InstalledPackage[] {
  try {
    const lock = JSON.parse(text) as {
      packages?: { name?: string; version?: string }[];
      'packages-dev'?: unknown;
    };
    const all = [...(lock.packages ?? []), ...((lock['packages-dev'] as typeof lock.packages) ?? [])];
    return all
      .filter((p) => typeof p?.name === 'string' && typeof p.version === 'string')
      .map((p) => ({
        ecosystem: 'Packagist',
        name: p.name!,
        version: p.version!.replace(/^v/, ''),
        location,
      }));
  } catch {
    return [];
  }
}

/** Parses a Maven `pom.properties` (inside a jar). */
export function parsePomProperties(text: string, location: string): InstalledPackage[] {
  const f: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([\w.]+)\s*[=:]\s*(.*?)\s*$/.exec(line);
    if (m) f[m[1]!] = m[2]!;
  }
  if (!f.groupId || !f.artifactId || !f.version) return [];
  return [{ ecosystem: 'Maven', name: `${f.groupId}:${f.artifactId}`, version: f.version, location }];
}

/** True for `node_modules/<name>/package.json` or `node_modules/@scope/<name>/package.json`. */
export function isInstalledPackageJson(path: string): boolean {
  return /(^|\/)node_modules\/(@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(path);
}

/** Removes duplicates (same ecosystem, name and version), keeping the first location. */
export function dedupePackages(packages: InstalledPackage[]): InstalledPackage[] {
  const seen = new Set<string>();
  return packages.filter((p) => {
    const key = `${p.ecosystem}\0${p.name}\0${p.version}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
