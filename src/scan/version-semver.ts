// Semantic Versioning 2.0.0 precedence (semver.org §11), lenient about a leading "v" and missing parts.

interface SemVer {
  core: bigint[];
  pre: string[];
}

function parse(v: string): SemVer {
  const clean = v.trim().replace(/^[v=]/, '');
  const plus = clean.indexOf('+');
  const noBuild = plus >= 0 ? clean.slice(0, plus) : clean;
  const dash = noBuild.indexOf('-');
  const core = dash >= 0 ? noBuild.slice(0, dash) : noBuild;
  const pre = dash >= 0 ? noBuild.slice(dash + 1).split('.') : [];
  const parts = core.split('.').map((p) => BigInt(/^\d+$/.test(p) ? p : '0'));
  while (parts.length < 3) parts.push(0n);
  return { core: parts, pre };
}

/** Compares two semantic versions (build metadata ignored): negative, zero or positive. */
export function compareSemver(a: string, b: string): number {
  const va = parse(a);
  const vb = parse(b);
  const n = Math.max(va.core.length, vb.core.length);
  for (let i = 0; i < n; i++) {
    const x = va.core[i] ?? 0n;
    const y = vb.core[i] ?? 0n;
    if (x !== y) return x < y ? -1 : 1;
  }
  // A version without prerelease has higher precedence.
  if (va.pre.length === 0 || vb.pre.length === 0) return vb.pre.length - va.pre.length;
  const m = Math.max(va.pre.length, vb.pre.length);
  for (let i = 0; i < m; i++) {
    const x = va.pre[i];
    const y = vb.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) {
      const d = BigInt(x) - BigInt(y);
      if (d !== 0n) return d < 0n ? -1 : 1;
    } else if (xn !== yn) return xn ? -1 : 1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
