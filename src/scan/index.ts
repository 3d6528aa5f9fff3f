// scan: SBOM extraction from image layers (dpkg, apk, npm, composer, Maven) and OSV advisory matching,
// with ecosystem-specific version ordering, severity levels, a deploy policy and the scan module.
export { Scanner, matchPackages, countBySeverity, matchContextFor } from './scanner.ts';
export type { ScanReport, ScanTarget, ScannerOptions } from './scanner.ts';
export { checkPolicy } from './policy.ts';
export type { ScanPolicy, PolicyResult } from './policy.ts';
export { OsvDatabase, affectedBy, advisorySeverity } from './osv.ts';
export type { OsvAdvisory, OsvAffected, OsvRange, OsvEvent, Finding, MatchContext } from './osv.ts';
export { importOsvDatabase, loadOsvDatabase, readOsvSource } from './osv-store.ts';
export type { OsvImportResult } from './osv-store.ts';
export { buildCycloneDx, packageUrl, CYCLONEDX_MEDIA_TYPE } from './sbom.ts';
export type { CycloneDxBom, CycloneDxComponent } from './sbom.ts';
export {
  parseDpkgStatus,
  parseApkInstalled,
  parsePackageLock,
  parsePackageJson,
  parseComposerLock,
  parsePomProperties,
  parseOsRelease,
} from './packages.ts';
export type { InstalledPackage, OsRelease } from './packages.ts';
export {
  packagesFromFs,
  extractImagePackages,
  resolveImage,
  isPackageDatabasePath,
  isScannedEntry,
  scannedData,
} from './extract.ts';
export { readGoBuildInfo, goBinaryPackages } from './go-buildinfo.ts';
export type { GoBuildInfo } from './go-buildinfo.ts';
export { compareVersions, ecosystemBase } from './versions.ts';
export { compareDpkgVersions } from './version-dpkg.ts';
export { compareApkVersions } from './version-apk.ts';
export { compareSemver } from './version-semver.ts';
export { compareMavenVersions, comparePackagistVersions } from './version-other.ts';
export { cvss3BaseScore, severityFromScore, normalizeSeverity, SEVERITIES } from './severity.ts';
export type { Severity } from './severity.ts';
export { createScan } from './module.ts';
export type { ScanDeps, ScanModule, RegistryPushNotice } from './module.ts';
