// The scanner: image → installed packages → findings against the OSV database, and SBOM referrers.
import { type Clock, systemClock, VERSION } from '../core/index.ts';
import { MEDIA_TYPES, parseImageReference, RegistryClient, sha256Digest } from '../oci/index.ts';
import { extractImagePackages, type ImagePackages, resolveImage } from './extract.ts';
import type { Finding, MatchContext, OsvDatabase } from './osv.ts';
import type { InstalledPackage, OsRelease } from './packages.ts';
import { buildCycloneDx, CYCLONEDX_MEDIA_TYPE, type CycloneDxBom } from './sbom.ts';
import { SEVERITIES, type Severity, severityRank } from './severity.ts';

export interface ScanReport {
  image: { registry: string; repository: string; digest: string };
  scannedAt: string;
  os?: OsRelease;
  packageCount: number;
  counts: Record<Severity, number>;
  findings: Finding[];
  database: { advisories: number };
}

/** An image to scan: a reference (`host/repo:tag` or `@digest`), or a client, repository and digest. */
export type ScanTarget =
  | string
  | { client?: RegistryClient; registry: string; repository: string; digest: string };

export interface ScannerOptions {
  /** The advisory database, or a function that returns the current one (reloaded after imports). */
  database: OsvDatabase | (() => Promise<OsvDatabase> | OsvDatabase);
  /** The client for string references (default: a plain client). */
  client?: RegistryClient;
  clock?: Clock;
}

/** The OS release key OSV uses for an image: Debian `12`, Alpine `v3.19`, Ubuntu `22.04`. */
export function matchContextFor(os: OsRelease | undefined): MatchContext {
  if (!os?.versionId) return {};
  if (os.id === 'alpine') {
    const [maj, min] = os.versionId.split('.');
    return { releases: { Alpine: `v${maj}.${min ?? '0'}` } };
  }
  if (os.id === 'debian') return { releases: { Debian: os.versionId.split('.')[0]! } };
  if (os.id === 'ubuntu') return { releases: { Ubuntu: os.versionId } };
  return {};
}

/** Matches packages against the database (pure); findings sorted by severity, then package. */
export function matchPackages(db: OsvDatabase, packages: InstalledPackage[], os?: OsRelease): Finding[] {
  const ctx = matchContextFor(os);
  const findings = packages.flatMap((p) => db.match(p, ctx));
  return findings.sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      (a.package < b.package ? -1 : a.package > b.package ? 1 : 0) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

export function countBySeverity(findings: Finding[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) counts[f.severity]++;
  return counts;
}

export class Scanner {
  readonly #options: ScannerOptions;
  readonly #client: RegistryClient;
  readonly #clock: Clock;

  constructor(options: ScannerOptions) {
    this.#options = options;
    this.#client = options.client ?? new RegistryClient();
    this.#clock = options.clock ?? systemClock;
  }

  async #database(): Promise<OsvDatabase> {
    const d = this.#options.database;
    return typeof d === 'function' ? await d() : d;
  }

  async #resolve(target: ScanTarget) {
    if (typeof target === 'string') {
      const ref = parseImageReference(target);
      const image = await resolveImage(
        this.#client,
        ref.registry,
        ref.repository,
        ref.digest ?? ref.tag ?? 'latest',
      );
      return { client: this.#client, registry: ref.registry, repository: ref.repository, image };
    }
    const client = target.client ?? this.#client;
    const image = await resolveImage(client, target.registry, target.repository, target.digest);
    return { client, registry: target.registry, repository: target.repository, image };
  }

  /** Reads an image's packages. */
  async packages(
    target: ScanTarget,
  ): Promise<ImagePackages & { registry: string; repository: string; digest: string }> {
    const r = await this.#resolve(target);
    const found = await extractImagePackages(r.client, r.registry, r.repository, r.image.manifest);
    return { ...found, registry: r.registry, repository: r.repository, digest: r.image.digest };
  }

  /** Scans an image: its packages matched against the advisory database. */
  async scanImage(target: ScanTarget): Promise<ScanReport & { packages: InstalledPackage[] }> {
    const found = await this.packages(target);
    const db = await this.#database();
    const findings = matchPackages(db, found.packages, found.os);
    return {
      image: { registry: found.registry, repository: found.repository, digest: found.digest },
      scannedAt: new Date(this.#clock.now()).toISOString(),
      ...(found.os ? { os: found.os } : {}),
      packageCount: found.packages.length,
      counts: countBySeverity(findings),
      findings,
      database: { advisories: db.size },
      packages: found.packages,
    };
  }

  /** The image's CycloneDX SBOM. */
  async sbom(target: ScanTarget): Promise<CycloneDxBom> {
    const found = await this.packages(target);
    return buildCycloneDx({
      image: { name: `${found.registry}/${found.repository}`, digest: found.digest },
      ...(found.os ? { os: found.os } : {}),
      packages: found.packages,
      timestamp: new Date(this.#clock.now()).toISOString(),
      toolVersion: VERSION,
    });
  }

  /**
   * Pushes an SBOM as an OCI referrer of the image (artifactType application/vnd.cyclonedx+json,
   * `subject` = the image manifest). Returns the referrer manifest's digest.
   */
  async pushSbom(target: ScanTarget, bom?: CycloneDxBom): Promise<{ digest: string; bom: CycloneDxBom }> {
    const r = await this.#resolve(target);
    const doc =
      bom ??
      (await (async () => {
        const found = await extractImagePackages(r.client, r.registry, r.repository, r.image.manifest);
        return buildCycloneDx({
          image: { name: `${r.registry}/${r.repository}`, digest: r.image.digest },
          ...(found.os ? { os: found.os } : {}),
          packages: found.packages,
          timestamp: new Date(this.#clock.now()).toISOString(),
          toolVersion: VERSION,
        });
      })());
    const bytes = Buffer.from(JSON.stringify(doc));
    const empty = Buffer.from('{}');
    await r.client.pushBlob(r.registry, r.repository, empty);
    const layerDigest = await r.client.pushBlob(r.registry, r.repository, bytes);
    const { digest } = await r.client.pushReferrer(r.registry, r.repository, {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: CYCLONEDX_MEDIA_TYPE,
      config: { mediaType: MEDIA_TYPES.ociEmpty, digest: sha256Digest(empty), size: 2 },
      layers: [
        {
          mediaType: CYCLONEDX_MEDIA_TYPE,
          digest: layerDigest,
          size: bytes.length,
          annotations: { 'org.opencontainers.image.title': 'sbom.cdx.json' },
        },
      ],
      subject: { mediaType: r.image.mediaType, digest: r.image.digest, size: r.image.size },
      annotations: { 'org.opencontainers.image.created': doc.metadata.timestamp },
    });
    return { digest, bom: doc };
  }
}
