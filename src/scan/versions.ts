// Picks the version ordering of an OSV ecosystem.
import { compareApkVersions } from './version-apk.ts';
import { compareDpkgVersions } from './version-dpkg.ts';
import { compareGenericVersions, compareMavenVersions, comparePackagistVersions } from './version-other.ts';
import { compareSemver } from './version-semver.ts';

/** The ecosystem without its release suffix: `Debian:12` → `Debian`. */
export function ecosystemBase(ecosystem: string): string {
  const colon = ecosystem.indexOf(':');
  return colon < 0 ? ecosystem : ecosystem.slice(0, colon);
}

/** Compares two versions by the rules of `ecosystem` (an OSV ecosystem name). */
export function compareVersions(ecosystem: string, a: string, b: string): number {
  switch (ecosystemBase(ecosystem)) {
    case 'Debian':
    case 'Ubuntu':
      return compareDpkgVersions(a, b);
    case 'Alpine':
      return compareApkVersions(a, b);
    case 'npm':
    case 'Go':
    case 'crates.io':
    case 'Hex':
      return compareSemver(a, b);
    case 'Maven':
      return compareMavenVersions(a, b);
    case 'Packagist':
      return comparePackagistVersions(a, b);
    default:
      return compareGenericVersions(a, b);
  }
}
