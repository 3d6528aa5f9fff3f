// Semantic version ranges as Helm checks them (Masterminds/semver v3 constraints): dependency versions
// against a sub-chart's version, and Chart.yaml kubeVersion against the target cluster.

interface Version {
  major: number;
  minor: number;
  patch: number;
  pre: string;
}

const versionRe = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

export function parseVersion(s: string): Version | undefined {
  const m = versionRe.exec(s.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0), pre: m[4] ?? '' };
}

function comparePre(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const ap = a.split('.');
  const bp = b.split('.');
  for (let i = 0; i < Math.max(ap.length, bp.length); i++) {
    const x = ap[i];
    const y = bp[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d < 0 ? -1 : 1;
    } else if (xn) return -1;
    else if (yn) return 1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function compareVersions(a: Version, b: Version): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1;
  return comparePre(a.pre, b.pre);
}

type Check = (v: Version) => boolean;

const wild = (s: string | undefined) => s === undefined || s === 'x' || s === 'X' || s === '*';

function parseTerm(op: string, ver: string): Check | undefined {
  const m =
    /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(
      ver,
    );
  if (!m) return undefined;
  const [, ma, mi, pa, pre = ''] = m;
  const base: Version = {
    major: wild(ma) ? 0 : Number(ma),
    minor: wild(mi) ? 0 : Number(mi),
    patch: wild(pa) ? 0 : Number(pa),
    pre,
  };
  const cmp = (v: Version) => compareVersions(v, base);
  const preOk = (v: Version) => v.pre === '' || pre !== '';
  const upper = (): Version | undefined => {
    if (wild(ma)) return undefined;
    if (wild(mi)) return { major: base.major + 1, minor: 0, patch: 0, pre: '' };
    if (wild(pa)) return { major: base.major, minor: base.minor + 1, patch: 0, pre: '' };
    return undefined;
  };
  switch (op) {
    case '':
    case '=': {
      const up = upper();
      if (wild(ma)) return (v) => preOk(v);
      if (up) return (v) => preOk(v) && cmp(v) >= 0 && compareVersions(v, up) < 0;
      return (v) => cmp(v) === 0;
    }
    case '!=': {
      const up = upper();
      if (up) return (v) => preOk(v) && !(cmp(v) >= 0 && compareVersions(v, up) < 0);
      return (v) => preOk(v) && cmp(v) !== 0;
    }
    case '>':
      if (wild(mi) && !wild(ma)) return (v) => preOk(v) && v.major > base.major;
      if (wild(pa) && !wild(mi))
        return (v) => preOk(v) && (v.major > base.major || (v.major === base.major && v.minor > base.minor));
      return (v) => preOk(v) && cmp(v) > 0;
    case '>=':
    case '=>':
      return (v) => preOk(v) && cmp(v) >= 0;
    case '<':
      return (v) => preOk(v) && cmp(v) < 0;
    case '<=':
    case '=<': {
      const up = upper();
      if (up) return (v) => preOk(v) && compareVersions(v, up) < 0;
      return (v) => preOk(v) && cmp(v) <= 0;
    }
    case '~':
    case '~>': {
      const up: Version =
        wild(mi) && !wild(ma)
          ? { major: base.major + 1, minor: 0, patch: 0, pre: '' }
          : { major: base.major, minor: base.minor + 1, patch: 0, pre: '' };
      return (v) => preOk(v) && cmp(v) >= 0 && compareVersions(v, up) < 0;
    }
    case '^': {
      let up: Version;
      if (base.major > 0 || wild(mi)) up = { major: base.major + 1, minor: 0, patch: 0, pre: '' };
      else if (base.minor > 0 || wild(pa)) up = { major: 0, minor: base.minor + 1, patch: 0, pre: '' };
      else up = { major: 0, minor: 0, patch: base.patch + 1, pre: '' };
      return (v) => preOk(v) && cmp(v) >= 0 && compareVersions(v, up) < 0;
    }
    default:
      return undefined;
  }
}

/** Parses a constraint such as `^1.2`, `>=1.20.0-0`, `1.2 - 1.4`, `~1 || 2.x`; undefined when invalid. */
export function parseConstraint(text: string): Check | undefined {
  const ors = text.split('||').map((s) => s.trim());
  const groups: Check[][] = [];
  for (const or of ors) {
    if (or === '') return undefined;
    const checks: Check[] = [];
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(or);
    if (hyphen) {
      const lo = parseTerm('>=', hyphen[1]!);
      const hi = parseTerm('<=', hyphen[2]!);
      if (!lo || !hi) return undefined;
      groups.push([lo, hi]);
      continue;
    }
    const tokens = or
      .replace(/(>=|<=|=>|=<|!=|~>|[><=~^])\s+/g, '$1')
      .split(/[\s,]+/)
      .filter((t) => t !== '');
    for (const tok of tokens) {
      const m = /^(>=|<=|=>|=<|!=|~>|[><=~^])?(.*)$/.exec(tok)!;
      const c = parseTerm(m[1] ?? '', m[2] ?? '');
      if (!c) return undefined;
      checks.push(c);
    }
    if (checks.length === 0) return undefined;
    groups.push(checks);
  }
  return (v) => groups.some((g) => g.every((c) => c(v)));
}

/** Helm's IsCompatibleRange: false when either the constraint or the version does not parse. */
export function isCompatibleRange(constraint: string, version: string): boolean {
  const v = parseVersion(version);
  const c = parseConstraint(constraint);
  if (!v || !c) return false;
  return c(v);
}
