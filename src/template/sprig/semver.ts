// Masterminds/semver v3 as Sprig uses it: semver parsing, comparison and constraint checks (semverCompare).
import { GO_TYPE } from '../value.ts';

const VERSION_RE =
  /^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$/;

/** A parsed semantic version; its methods are callable from templates (`(semver "1.2.3").Major`). */
export class SemverVersion {
  readonly [GO_TYPE] = '*semver.Version';
  constructor(
    readonly major: bigint,
    readonly minor: bigint,
    readonly patch: bigint,
    readonly pre: string,
    readonly metadata: string,
    readonly original: string,
  ) {}

  static parse(v: string): SemverVersion {
    const m = VERSION_RE.exec(v);
    if (!m) throw new Error('Invalid Semantic Version');
    const seg = (s: string | undefined): bigint => (s ? BigInt(s.replace(/^\./, '')) : 0n);
    const pre = m[5] ?? '';
    if (pre) {
      for (const id of pre.split('.')) {
        if (/^[0-9]+$/.test(id) && id.length > 1 && id.startsWith('0'))
          throw new Error('Invalid Prerelease string');
      }
    }
    return new SemverVersion(seg(m[1]), seg(m[2]), seg(m[3]), pre, m[8] ?? '', v);
  }

  Major(): bigint {
    return this.major;
  }
  Minor(): bigint {
    return this.minor;
  }
  Patch(): bigint {
    return this.patch;
  }
  Prerelease(): string {
    return this.pre;
  }
  Metadata(): string {
    return this.metadata;
  }
  Original(): string {
    return this.original;
  }
  String(): string {
    let s = `${this.major}.${this.minor}.${this.patch}`;
    if (this.pre) s += `-${this.pre}`;
    if (this.metadata) s += `+${this.metadata}`;
    return s;
  }
  Compare(o: unknown): bigint {
    return BigInt(compareVersions(this, asVersion(o)));
  }
  LessThan(o: unknown): boolean {
    return compareVersions(this, asVersion(o)) < 0;
  }
  GreaterThan(o: unknown): boolean {
    return compareVersions(this, asVersion(o)) > 0;
  }
  Equal(o: unknown): boolean {
    return compareVersions(this, asVersion(o)) === 0;
  }
}

function asVersion(o: unknown): SemverVersion {
  if (o instanceof SemverVersion) return o;
  if (typeof o === 'string') return SemverVersion.parse(o);
  throw new Error('expected a *semver.Version');
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePrerelease(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const pa = a.split('.');
  const pb = b.split('.');
  const n = Math.max(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^[0-9]+$/.test(x);
    const yn = /^[0-9]+$/.test(y);
    if (xn && yn) {
      const c = cmpBig(BigInt(x), BigInt(y));
      if (c !== 0) return c;
    } else if (xn) return -1;
    else if (yn) return 1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function compareVersions(a: SemverVersion, b: SemverVersion): number {
  return (
    cmpBig(a.major, b.major) ||
    cmpBig(a.minor, b.minor) ||
    cmpBig(a.patch, b.patch) ||
    comparePrerelease(a.pre, b.pre)
  );
}

interface Constraint {
  op: string;
  con: SemverVersion;
  dirty: boolean;
  minorDirty: boolean;
  patchDirty: boolean;
}

const OPS = ['!=', '>=', '=>', '<=', '=<', '~>', '>', '<', '~', '^', '='];
const OPS_RE = OPS.map((o) => o.replace(/[\^$.*+?()[\]{}|]/g, '\\$&')).join('|') + '|';
const CV = String.raw`v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`;
const CV_NOGROUPS = CV.replace(/\((?!\?)/g, '(?:');
const CONSTRAINT_RE = new RegExp(`^\\s*(${OPS_RE})\\s*(${CV})\\s*$`);
const FIND_RE = new RegExp(`(${OPS_RE})\\s*(${CV_NOGROUPS})`, 'g');
const VALID_RE = new RegExp(
  `^(\\s*(?:${OPS_RE})\\s*(?:${CV_NOGROUPS})\\s*)((?:\\s+|,\\s*)(?:${OPS_RE})\\s*(?:${CV_NOGROUPS})\\s*)*$`,
);
const RANGE_RE = new RegExp(`\\s*(${CV_NOGROUPS})\\s+-\\s+(${CV_NOGROUPS})\\s*`, 'g');

const isX = (s: string): boolean => s === 'x' || s === 'X' || s === '*';

function parseConstraint(c: string): Constraint {
  if (c.length === 0) {
    return { op: '', con: SemverVersion.parse('0.0.0'), dirty: true, minorDirty: false, patchDirty: false };
  }
  const m = CONSTRAINT_RE.exec(c);
  if (!m) throw new Error(`improper constraint: ${c}`);
  const major = m[3] ?? '';
  const minor = (m[4] ?? '').replace(/^\./, '');
  const patch = (m[5] ?? '').replace(/^\./, '');
  const pre = m[6] ?? '';
  let ver = m[2]!;
  let dirty = false;
  let minorDirty = false;
  let patchDirty = false;
  if (isX(major) || major === '') {
    ver = `0.0.0${pre}`;
    dirty = true;
  } else if (isX(minor) || minor === '') {
    minorDirty = true;
    dirty = true;
    ver = `${major}.0.0${pre}`;
  } else if (isX(patch) || patch === '') {
    dirty = true;
    patchDirty = true;
    ver = `${major}.${minor}.0${pre}`;
  }
  let con: SemverVersion;
  try {
    con = SemverVersion.parse(ver);
  } catch {
    throw new Error('constraint Parser Error');
  }
  return { op: m[1] ?? '', con, dirty, minorDirty, patchDirty };
}

/** Parsed `||`-separated groups of `,`-joined constraints. */
export function parseConstraints(text: string): Constraint[][] {
  const c = text.replace(RANGE_RE, (_all, a: string, b: string) => `>= ${a}, <= ${b} `);
  return c.split('||').map((group) => {
    if (!VALID_RE.test(group)) throw new Error(`improper constraint: ${group}`);
    const found = group.match(FIND_RE) ?? [group];
    return found.map(parseConstraint);
  });
}

function checkOne(v: SemverVersion, c: Constraint): boolean {
  // A pre-release version only satisfies constraints that themselves name a pre-release.
  if (v.pre !== '' && c.con.pre === '' && (c.op !== '!=' || c.dirty)) return false;
  const cmp = compareVersions(v, c.con);
  switch (c.op) {
    case '':
    case '=':
      return c.dirty ? tilde(v, c) : cmp === 0;
    case '!=':
      if (c.dirty) {
        if (c.con.major !== v.major) return true;
        if (c.con.minor !== v.minor && !c.minorDirty) return true;
        if (c.minorDirty) return false;
        if (c.con.patch !== v.patch && !c.patchDirty) return true;
        if (c.patchDirty) {
          if (v.pre !== '' || c.con.pre !== '') return comparePrerelease(v.pre, c.con.pre) !== 0;
          return false;
        }
      }
      return cmp !== 0;
    case '>':
      if (!c.dirty) return cmp > 0;
      if (v.major > c.con.major) return true;
      if (v.major < c.con.major) return false;
      if (c.minorDirty) return false;
      if (c.patchDirty) return v.minor > c.con.minor;
      return cmp > 0;
    case '<':
      return cmp < 0;
    case '>=':
    case '=>':
      return cmp >= 0;
    case '<=':
    case '=<':
      if (!c.dirty) return cmp <= 0;
      if (v.major > c.con.major) return false;
      if (v.major === c.con.major && v.minor > c.con.minor && !c.minorDirty) return false;
      return true;
    case '~':
    case '~>':
      return tilde(v, c);
    case '^':
      return caret(v, c);
    default:
      return false;
  }
}

function tilde(v: SemverVersion, c: Constraint): boolean {
  if (compareVersions(v, c.con) < 0) return false;
  if (c.con.major === 0n && c.con.minor === 0n && c.con.patch === 0n && !c.minorDirty && !c.patchDirty)
    return true;
  if (v.major !== c.con.major) return false;
  if (v.minor !== c.con.minor && !c.minorDirty) return false;
  return true;
}

function caret(v: SemverVersion, c: Constraint): boolean {
  if (compareVersions(v, c.con) < 0) return false;
  if (c.con.major > 0n || c.minorDirty) return v.major === c.con.major;
  if (c.con.major === 0n && v.major > 0n) return false;
  if (c.con.minor > 0n || c.patchDirty) return v.minor === c.con.minor;
  if (c.con.minor === 0n && v.minor > 0n) return false;
  return c.con.patch === v.patch;
}

/** Sprig's semverCompare: whether `version` satisfies `constraint`. Throws on bad input. */
const constraintCache = new Map<string, Constraint[][]>();

export function semverCompare(constraint: string, version: string): boolean {
  let groups = constraintCache.get(constraint);
  if (!groups) {
    groups = parseConstraints(constraint);
    if (constraintCache.size > 1000) constraintCache.clear();
    constraintCache.set(constraint, groups);
  }
  const v = SemverVersion.parse(version);
  return groups.some((g) => g.every((c) => checkOne(v, c)));
}
