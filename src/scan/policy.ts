// The deploy policy: block images with findings at or above a severity (pure).
import type { ScanReport } from './scanner.ts';
import { type Severity, severityRank } from './severity.ts';

export interface ScanPolicy {
  /** Block when any finding is at or above this level; undefined or 'NONE' never blocks. */
  blockAtOrAbove?: Severity | 'NONE';
}

export type PolicyResult = { ok: true } | { ok: false; blocked: true; message: string; count: number };

/** Decides whether an image's scan report allows deploying it. */
export function checkPolicy(
  report: Pick<ScanReport, 'findings' | 'image'>,
  policy: ScanPolicy,
): PolicyResult {
  const level = policy.blockAtOrAbove;
  if (!level || level === 'NONE') return { ok: true };
  const min = severityRank(level);
  const hits = report.findings.filter((f) => f.severity !== 'UNKNOWN' && severityRank(f.severity) >= min);
  if (level === 'UNKNOWN') hits.push(...report.findings.filter((f) => f.severity === 'UNKNOWN'));
  if (hits.length === 0) return { ok: true };
  const worst = [...hits].sort((a, b) => severityRank(b.severity) - severityRank(a.severity)).slice(0, 3);
  const image = `${report.image.repository}@${report.image.digest}`;
  return {
    ok: false,
    blocked: true,
    count: hits.length,
    message: `Image ${image} has ${hits.length} finding(s) at or above ${level}: ${worst
      .map(
        (f) =>
          `${f.id} in ${f.package} ${f.installedVersion} (${f.severity}${f.fixedVersion ? `, fixed in ${f.fixedVersion}` : ''})`,
      )
      .join('; ')}${hits.length > 3 ? '; ...' : ''}`,
  };
}
