// Severity levels and the CVSS v3.x base score (FIRST CVSS v3.1 specification, section 7).

export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'UNKNOWN';

export const SEVERITIES: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];

const RANK: Record<Severity, number> = { CRITICAL: 4, HIGH: 3, MEDIUM: 2, LOW: 1, UNKNOWN: 0 };

export function severityRank(s: Severity): number {
  return RANK[s];
}

/** Normalizes vendor words (MODERATE, important, urgency "medium*"...) to a level. */
export function normalizeSeverity(value: unknown): Severity | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toUpperCase();
  if (v === 'CRITICAL') return 'CRITICAL';
  if (v === 'HIGH' || v === 'IMPORTANT') return 'HIGH';
  if (v === 'MEDIUM' || v === 'MODERATE' || v.startsWith('MEDIUM')) return 'MEDIUM';
  if (v === 'LOW' || v === 'NEGLIGIBLE' || v === 'UNIMPORTANT' || v.startsWith('LOW')) return 'LOW';
  return undefined;
}

/** Level of a CVSS score: 0.1-3.9 LOW, 4.0-6.9 MEDIUM, 7.0-8.9 HIGH, 9.0-10 CRITICAL. */
export function severityFromScore(score: number): Severity {
  if (score >= 9) return 'CRITICAL';
  if (score >= 7) return 'HIGH';
  if (score >= 4) return 'MEDIUM';
  if (score > 0) return 'LOW';
  return 'UNKNOWN';
}

function roundUp(x: number): number {
  const i = Math.round(x * 100000);
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10;
}

/** The base score of a CVSS v3.0/v3.1 vector (`CVSS:3.1/AV:N/...`); undefined when it is not one. */
export function cvss3BaseScore(vector: string): number | undefined {
  if (!/^CVSS:3\.[01]\//.test(vector)) return undefined;
  const m: Record<string, string> = {};
  for (const part of vector.split('/').slice(1)) {
    const [k, v] = part.split(':');
    if (k && v) m[k] = v;
  }
  const AV = { N: 0.85, A: 0.62, L: 0.55, P: 0.2 }[m.AV ?? ''];
  const AC = { L: 0.77, H: 0.44 }[m.AC ?? ''];
  const UI = { N: 0.85, R: 0.62 }[m.UI ?? ''];
  const scope = m.S;
  const PR =
    scope === 'C' ? { N: 0.85, L: 0.68, H: 0.5 }[m.PR ?? ''] : { N: 0.85, L: 0.62, H: 0.27 }[m.PR ?? ''];
  const cia = (x: string | undefined) => ({ H: 0.56, L: 0.22, N: 0 })[x ?? ''];
  const C = cia(m.C);
  const I = cia(m.I);
  const A = cia(m.A);
  if (
    AV === undefined ||
    AC === undefined ||
    UI === undefined ||
    PR === undefined ||
    C === undefined ||
    I === undefined ||
    A === undefined ||
    (scope !== 'U' && scope !== 'C')
  ) {
    return undefined;
  }
  const iss = 1 - (1 - C) * (1 - I) * (1 - A);
  const impact = scope === 'U' ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15;
  const exploitability = 8.22 * AV * AC * PR * UI;
  if (impact <= 0) return 0;
  return scope === 'U'
    ? roundUp(Math.min(impact + exploitability, 10))
    : roundUp(Math.min(1.08 * (impact + exploitability), 10));
}
