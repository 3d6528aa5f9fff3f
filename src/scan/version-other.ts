// Maven (ComparableVersion, simplified) and Packagist (Composer) version ordering, and a generic fallback.

const MAVEN_QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const MAVEN_ALIASES: Record<string, string> = {
  a: 'alpha',
  b: 'beta',
  m: 'milestone',
  cr: 'rc',
  ga: '',
  final: '',
  release: '',
};

type MavenItem = { n: bigint } | { q: string };

function mavenItems(v: string): MavenItem[] {
  const tokens = v
    .trim()
    .toLowerCase()
    .split(/[.-]|(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)/)
    .filter((t) => t !== '');
  const items: MavenItem[] = tokens.map((t) =>
    /^\d+$/.test(t) ? { n: BigInt(t) } : { q: MAVEN_ALIASES[t] ?? t },
  );
  // Trailing zeros and release qualifiers do not count: 1.0 == 1 == 1-ga.
  while (items.length > 0) {
    const last = items[items.length - 1]!;
    if (('n' in last && last.n === 0n) || ('q' in last && last.q === '')) items.pop();
    else break;
  }
  return items;
}

function qualifierRank(q: string): [number, string] {
  const i = MAVEN_QUALIFIERS.indexOf(q);
  return i >= 0 ? [i, ''] : [MAVEN_QUALIFIERS.length, q];
}

function compareMavenItem(a: MavenItem | undefined, b: MavenItem | undefined): number {
  if (a === undefined && b === undefined) return 0;
  if (a === undefined) return -compareMavenItem(b, undefined);
  if ('n' in a) {
    if (b === undefined) return a.n === 0n ? 0 : 1;
    if ('n' in b) return a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
    return 1; // a number is newer than a qualifier
  }
  if (b === undefined) {
    const [r] = qualifierRank(a.q);
    return r < MAVEN_QUALIFIERS.indexOf('') ? -1 : r === MAVEN_QUALIFIERS.indexOf('') ? 0 : 1;
  }
  if ('n' in b) return -1;
  const [ra, sa] = qualifierRank(a.q);
  const [rb, sb] = qualifierRank(b.q);
  if (ra !== rb) return ra - rb;
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Compares Maven versions (1.0-alpha < 1.0-beta < 1.0-rc < 1.0-SNAPSHOT < 1.0 < 1.0-sp < 1.0.1). */
export function compareMavenVersions(a: string, b: string): number {
  const x = mavenItems(a);
  const y = mavenItems(b);
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const c = compareMavenItem(x[i], y[i]);
    if (c) return c;
  }
  return 0;
}

const COMPOSER_STABILITY: Record<string, number> = {
  dev: 0,
  alpha: 1,
  a: 1,
  beta: 2,
  b: 2,
  rc: 3,
  '': 4,
  patch: 5,
  pl: 5,
  p: 5,
};

function composerParse(v: string): { nums: bigint[]; stability: number; n: number } {
  const clean = v.trim().replace(/^v/i, '');
  const m = /^(\d+(?:\.\d+)*)(?:[-._]?(dev|alpha|a|beta|b|rc|patch|pl|p)[-._]?(\d+)?)?/i.exec(clean);
  if (!m) return { nums: [], stability: 0, n: 0 };
  const nums = m[1]!.split('.').map((p) => BigInt(p));
  while (nums.length < 4) nums.push(0n);
  return { nums, stability: COMPOSER_STABILITY[(m[2] ?? '').toLowerCase()] ?? 4, n: Number(m[3] ?? 0) };
}

/** Compares Composer versions: numbers, then dev < alpha < beta < RC < stable < patch. */
export function comparePackagistVersions(a: string, b: string): number {
  const x = composerParse(a);
  const y = composerParse(b);
  for (let i = 0; i < Math.max(x.nums.length, y.nums.length); i++) {
    const p = x.nums[i] ?? 0n;
    const q = y.nums[i] ?? 0n;
    if (p !== q) return p < q ? -1 : 1;
  }
  return x.stability - y.stability || x.n - y.n;
}

/** A generic ordering for ecosystems without their own: digit runs numerically, other runs as text. */
export function compareGenericVersions(a: string, b: string): number {
  const ta = a.match(/\d+|[^\d.\-_+]+/g) ?? [];
  const tb = b.match(/\d+|[^\d.\-_+]+/g) ?? [];
  for (let i = 0; i < Math.max(ta.length, tb.length); i++) {
    const x = ta[i];
    const y = tb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) {
      const d = BigInt(x) - BigInt(y);
      if (d !== 0n) return d < 0n ? -1 : 1;
    } else if (x !== y) return xn ? 1 : yn ? -1 : x < y ? -1 : 1;
  }
  return 0;
}
