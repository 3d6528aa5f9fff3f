// OSV advisories (https://ossf.github.io/osv-schema/): the database, and matching packages against
// `affected[].versions` and `ranges` (ECOSYSTEM/SEMVER events introduced/fixed/last_affected/limit).
import type { InstalledPackage } from './packages.ts';
import { cvss3BaseScore, normalizeSeverity, type Severity, severityFromScore } from './severity.ts';
import { compareVersions, ecosystemBase } from './versions.ts';

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvRange {
  type: 'ECOSYSTEM' | 'SEMVER' | 'GIT' | string;
  events: OsvEvent[];
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  ranges?: OsvRange[];
  versions?: string[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
  severity?: { type: string; score: string }[];
}

export interface OsvAdvisory {
  id: string;
  modified?: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[];
  summary?: string;
  details?: string;
  severity?: { type: string; score: string }[];
  affected?: OsvAffected[];
  database_specific?: Record<string, unknown>;
  references?: { type: string; url: string }[];
}

/** One vulnerable package found in an image. */
export interface Finding {
  id: string;
  aliases: string[];
  summary?: string;
  severity: Severity;
  /** CVSS base score when the advisory has a CVSS v3 vector. */
  score?: number;
  ecosystem: string;
  package: string;
  /** The advisory's package name when it differs (the source package). */
  advisoryPackage?: string;
  installedVersion: string;
  /** The lowest fixed version above the installed one, when the advisory names one. */
  fixedVersion?: string;
  location: string;
}

/** Where an image's OS release matters: `Debian:12` only applies to Debian 12 images. */
export interface MatchContext {
  /** The image's release per ecosystem base, e.g. { Debian: '12', Alpine: 'v3.19' }. */
  releases?: Record<string, string>;
}

/** An in-memory advisory index, by ecosystem base and package name. */
export class OsvDatabase {
  readonly #byPackage = new Map<string, { advisory: OsvAdvisory; affected: OsvAffected }[]>();
  #count = 0;

  constructor(advisories: Iterable<OsvAdvisory> = []) {
    for (const a of advisories) this.add(a);
  }

  get size(): number {
    return this.#count;
  }

  add(advisory: OsvAdvisory): void {
    if (!advisory || typeof advisory.id !== 'string' || advisory.withdrawn) return;
    this.#count++;
    for (const affected of advisory.affected ?? []) {
      const pkg = affected.package;
      if (!pkg?.ecosystem || !pkg.name) continue;
      const key = `${ecosystemBase(pkg.ecosystem)}\0${normalizeName(pkg.ecosystem, pkg.name)}`;
      const list = this.#byPackage.get(key) ?? [];
      list.push({ advisory, affected });
      this.#byPackage.set(key, list);
    }
  }

  /** Every advisory that affects `pkg`, as findings. */
  match(pkg: InstalledPackage, context: MatchContext = {}): Finding[] {
    const name = pkg.sourceName ?? pkg.name;
    // OSV's Go entries write versions without the "v" modules use.
    const raw = pkg.sourceVersion ?? pkg.version;
    const version = pkg.ecosystem === 'Go' ? raw.replace(/^v/, '') : raw;
    const candidates = this.#byPackage.get(`${pkg.ecosystem}\0${normalizeName(pkg.ecosystem, name)}`) ?? [];
    const findings = new Map<string, Finding>();
    for (const { advisory, affected } of candidates) {
      const eco = affected.package!.ecosystem;
      const release = eco.includes(':') ? eco.slice(eco.indexOf(':') + 1) : undefined;
      const imageRelease = context.releases?.[pkg.ecosystem];
      if (release && imageRelease && !sameRelease(release, imageRelease)) continue;
      const hit = affectedBy(affected, eco, version);
      if (!hit.affected) continue;
      const prev = findings.get(advisory.id);
      const sev = advisorySeverity(advisory, affected);
      const finding: Finding = {
        id: advisory.id,
        aliases: advisory.aliases ?? [],
        ...(advisory.summary ? { summary: advisory.summary } : {}),
        severity: sev.severity,
        ...(sev.score !== undefined ? { score: sev.score } : {}),
        ecosystem: pkg.ecosystem,
        package: pkg.name,
        ...(name !== pkg.name ? { advisoryPackage: name } : {}),
        installedVersion: pkg.version,
        ...(hit.fixed ? { fixedVersion: hit.fixed } : {}),
        location: pkg.location,
      };
      if (!prev || (!prev.fixedVersion && finding.fixedVersion)) findings.set(advisory.id, finding);
    }
    return [...findings.values()];
  }
}

function sameRelease(advisoryRelease: string, imageRelease: string): boolean {
  const a = advisoryRelease.replace(/^v/, '');
  const b = imageRelease.replace(/^v/, '');
  return a === b || b.startsWith(`${a}.`);
}

/** npm and Packagist names are case-insensitive enough to fold; PyPI normalizes separators. */
function normalizeName(ecosystem: string, name: string): string {
  const base = ecosystemBase(ecosystem);
  if (base === 'PyPI') return name.toLowerCase().replace(/[-_.]+/g, '-');
  if (base === 'Packagist') return name.toLowerCase();
  return name;
}

/** Decides whether `version` is affected (OSV spec's evaluation) and which fixed version applies. */
export function affectedBy(
  affected: OsvAffected,
  ecosystem: string,
  version: string,
): { affected: boolean; fixed?: string } {
  const cmp = (a: string, b: string) => compareVersions(ecosystem, a, b);
  if (affected.versions?.includes(version)) {
    return { affected: true, ...nextFixed(affected, ecosystem, version) };
  }
  for (const range of affected.ranges ?? []) {
    if (range.type === 'GIT') continue;
    const rcmp = range.type === 'SEMVER' ? (a: string, b: string) => compareVersions('npm', a, b) : cmp;
    const events = [...range.events].sort((x, y) => {
      const vx = eventVersion(x);
      const vy = eventVersion(y);
      if (vx === '0' && x.introduced !== undefined) return -1;
      if (vy === '0' && y.introduced !== undefined) return 1;
      return rcmp(vx, vy);
    });
    let vulnerable = false;
    let fixed: string | undefined;
    for (const e of events) {
      if (e.introduced !== undefined) {
        if (e.introduced === '0' || rcmp(version, e.introduced) >= 0) vulnerable = true;
      } else if (e.fixed !== undefined) {
        if (rcmp(version, e.fixed) >= 0) vulnerable = false;
        else if (vulnerable && fixed === undefined) fixed = e.fixed;
      } else if (e.last_affected !== undefined) {
        if (rcmp(version, e.last_affected) > 0) vulnerable = false;
      } else if (e.limit !== undefined && e.limit !== '*') {
        if (rcmp(version, e.limit) >= 0) vulnerable = false;
      }
    }
    if (vulnerable) return { affected: true, ...(fixed !== undefined ? { fixed } : {}) };
  }
  return { affected: false };
}

function eventVersion(e: OsvEvent): string {
  return e.introduced ?? e.fixed ?? e.last_affected ?? e.limit ?? '0';
}

function nextFixed(affected: OsvAffected, ecosystem: string, version: string): { fixed?: string } {
  const fixes = (affected.ranges ?? [])
    .flatMap((r) => r.events.map((e) => e.fixed))
    .filter((f): f is string => f !== undefined && compareVersions(ecosystem, f, version) > 0)
    .sort((a, b) => compareVersions(ecosystem, a, b));
  return fixes[0] !== undefined ? { fixed: fixes[0] } : {};
}

/**
 * The severity of an advisory for one affected package: a CVSS v3 vector (advisory or affected
 * `severity[]`) gives the base score; else `database_specific.severity`; else
 * `ecosystem_specific.severity`/`urgency`; else UNKNOWN.
 */
export function advisorySeverity(
  advisory: OsvAdvisory,
  affected?: OsvAffected,
): { severity: Severity; score?: number } {
  for (const s of [...(affected?.severity ?? []), ...(advisory.severity ?? [])]) {
    if (typeof s?.score !== 'string') continue;
    const score = cvss3BaseScore(s.score);
    if (score !== undefined) return { severity: severityFromScore(score), score };
    const numeric = Number(s.score);
    if (s.score !== '' && Number.isFinite(numeric))
      return { severity: severityFromScore(numeric), score: numeric };
  }
  const vendor =
    normalizeSeverity(advisory.database_specific?.severity) ??
    normalizeSeverity(affected?.database_specific?.severity) ??
    normalizeSeverity(affected?.ecosystem_specific?.severity) ??
    normalizeSeverity(affected?.ecosystem_specific?.urgency);
  return { severity: vendor ?? 'UNKNOWN' };
}
