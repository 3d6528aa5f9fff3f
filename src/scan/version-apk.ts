// Alpine (apk-tools) version ordering: dotted numbers, an optional letter, suffixes
// (_alpha < _beta < _pre < _rc < none < _cvs < _svn < _git < _hg < _p), then the -rN release.

const SUFFIX_RANK: Record<string, number> = {
  alpha: 0,
  beta: 1,
  pre: 2,
  rc: 3,
  '': 4,
  cvs: 5,
  svn: 6,
  git: 7,
  hg: 8,
  p: 9,
};

interface ApkVersion {
  numbers: string[];
  letter: string;
  suffixes: { rank: number; num: number }[];
  release: number;
}

function parse(v: string): ApkVersion {
  let rest = v.trim();
  let release = 0;
  const r = /-r(\d+)$/.exec(rest);
  if (r) {
    release = Number(r[1]);
    rest = rest.slice(0, r.index);
  }
  const m = /^(\d+(?:\.\d+)*)([a-z]?)((?:_[a-z]+\d*)*)(?:~[0-9a-f]+)?$/.exec(rest);
  if (!m) return { numbers: [rest], letter: '', suffixes: [], release };
  const suffixes = (m[3] ?? '')
    .split('_')
    .filter(Boolean)
    .map((s) => {
      const sm = /^([a-z]+)(\d*)$/.exec(s)!;
      return { rank: SUFFIX_RANK[sm[1]!] ?? 4, num: Number(sm[2] || 0) };
    });
  return { numbers: m[1]!.split('.'), letter: m[2] ?? '', suffixes, release };
}

function compareComponent(a: string, b: string, first: boolean): number {
  // After the first component apk compares a component with a leading zero as a decimal fraction.
  if (!first && (a.startsWith('0') || b.startsWith('0'))) {
    const n = Math.max(a.length, b.length);
    return a.padEnd(n, '0') < b.padEnd(n, '0') ? -1 : a.padEnd(n, '0') > b.padEnd(n, '0') ? 1 : 0;
  }
  const x = BigInt(/^\d+$/.test(a) ? a : '0');
  const y = BigInt(/^\d+$/.test(b) ? b : '0');
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Compares two Alpine package versions: negative, zero or positive. */
export function compareApkVersions(a: string, b: string): number {
  const va = parse(a);
  const vb = parse(b);
  const n = Math.max(va.numbers.length, vb.numbers.length);
  for (let i = 0; i < n; i++) {
    const x = va.numbers[i];
    const y = vb.numbers[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const c = compareComponent(x, y, i === 0);
    if (c) return c;
  }
  if (va.letter !== vb.letter) return va.letter < vb.letter ? -1 : 1;
  const s = Math.max(va.suffixes.length, vb.suffixes.length);
  for (let i = 0; i < s; i++) {
    const x = va.suffixes[i] ?? { rank: 4, num: 0 };
    const y = vb.suffixes[i] ?? { rank: 4, num: 0 };
    if (x.rank !== y.rank) return x.rank - y.rank;
    if (x.num !== y.num) return x.num - y.num;
  }
  return va.release - vb.release;
}
