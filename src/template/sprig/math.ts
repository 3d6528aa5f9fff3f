// Sprig's math functions: int64 arithmetic through cast.ToInt64, float ops through exact decimals like shopspring/decimal.
import type { TemplateFunction } from '../signature.ts';
import { GoInt64 } from '../value.ts';
import { toFloat64, toInt64, wrapInt64 } from './convert.ts';
import { sig } from './strings.ts';

/** A Go int64 result (with Go's wrap-around): Sprig's integer arithmetic returns int64, not int. */
const int64 = (v: bigint): GoInt64 => new GoInt64(wrapInt64(v));

interface Decimal {
  m: bigint;
  /** value = m × 10^-e */
  e: number;
}

function decFromFloat(f: number): Decimal {
  if (!Number.isFinite(f))
    throw new Error(`Cannot create a Decimal from ${Number.isNaN(f) ? 'NaN' : f > 0 ? '+Inf' : '-Inf'}`);
  const s = String(f);
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(s);
  if (!m) return { m: 0n, e: 0 };
  const frac = m[3] ?? '';
  let e = frac.length - Number(m[4] ?? 0);
  let mant = BigInt(m[2]! + frac);
  if (e < 0) {
    mant *= 10n ** BigInt(-e);
    e = 0;
  }
  return { m: m[1] === '-' ? -mant : mant, e };
}

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const e = Math.max(a.e, b.e);
  return [a.m * 10n ** BigInt(e - a.e), b.m * 10n ** BigInt(e - b.e), e];
}

const decAdd = (a: Decimal, b: Decimal): Decimal => {
  const [x, y, e] = align(a, b);
  return { m: x + y, e };
};
const decSub = (a: Decimal, b: Decimal): Decimal => {
  const [x, y, e] = align(a, b);
  return { m: x - y, e };
};
const decMul = (a: Decimal, b: Decimal): Decimal => ({ m: a.m * b.m, e: a.e + b.e });
const DIVISION_PRECISION = 16;
function decDiv(a: Decimal, b: Decimal): Decimal {
  if (b.m === 0n) throw new Error('decimal division by 0');
  // a/b = (a.m / b.m) × 10^(b.e - a.e); keep DIVISION_PRECISION fractional digits, rounding half away from zero.
  const shift = DIVISION_PRECISION + b.e - a.e;
  let num = a.m;
  let den = b.m;
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den *= 10n ** BigInt(-shift);
  const neg = num < 0n !== den < 0n;
  const an = num < 0n ? -num : num;
  const ad = den < 0n ? -den : den;
  let q = an / ad;
  if ((an % ad) * 2n >= ad) q += 1n;
  return { m: neg ? -q : q, e: DIVISION_PRECISION };
}
const decToFloat = (d: Decimal): number => Number(`${d.m}e-${d.e}`);

function decimalOp(a: unknown, rest: unknown[], op: (x: Decimal, y: Decimal) => Decimal): number {
  let acc = decFromFloat(toFloat64(a));
  for (const x of rest) acc = op(acc, decFromFloat(toFloat64(x)));
  return decToFloat(acc);
}

function goRound(a: unknown, places: unknown, roundOn: number): number {
  const val = toFloat64(a);
  const pow = 10 ** Number(places as bigint);
  const digit = pow * val;
  const frac = digit - Math.trunc(digit);
  const r = frac >= roundOn ? Math.ceil(digit) : Math.floor(digit);
  return r / pow;
}

function atoi(s: string): bigint {
  if (!/^[+-]?[0-9]+$/.test(s)) return 0n;
  const v = BigInt(s);
  if (v > 2n ** 63n - 1n || v < -(2n ** 63n)) return 0n;
  return v;
}

export function mathFunctions(random: () => number): Record<string, TemplateFunction> {
  const maxFn = sig(
    ['any'],
    'any',
  )((a: unknown, ...rest: unknown[]) => {
    let aa = toInt64(a);
    for (const b of rest) {
      const bb = toInt64(b);
      if (bb > aa) aa = bb;
    }
    return int64(aa);
  });
  return {
    add1: sig(['any'])((i: unknown) => int64(toInt64(i) + 1n)),
    add: sig([], 'any')((...i: unknown[]) => int64(i.reduce<bigint>((s, b) => s + toInt64(b), 0n))),
    sub: sig(['any', 'any'])((a: unknown, b: unknown) => int64(toInt64(a) - toInt64(b))),
    div: sig(['any', 'any'])((a: unknown, b: unknown) => {
      const d = toInt64(b);
      if (d === 0n) throw new Error('runtime error: integer divide by zero');
      return int64(toInt64(a) / d);
    }),
    mod: sig(['any', 'any'])((a: unknown, b: unknown) => {
      const d = toInt64(b);
      if (d === 0n) throw new Error('runtime error: integer divide by zero');
      return int64(toInt64(a) % d);
    }),
    mul: sig(
      ['any'],
      'any',
    )((a: unknown, ...v: unknown[]) => int64(v.reduce<bigint>((p, b) => p * toInt64(b), toInt64(a)))),
    randInt: sig(['int', 'int'])((min: unknown, max: unknown) => {
      const lo = min as bigint;
      const span = (max as bigint) - lo;
      if (span <= 0n) throw new Error('invalid argument to Intn');
      return lo + BigInt(Math.floor(random() * Number(span)));
    }),
    add1f: sig(['any'])((i: unknown) => decimalOp(i, [1], decAdd)),
    addf: sig([], 'any')((...i: unknown[]) => decimalOp(0, i, decAdd)),
    subf: sig(['any'], 'any')((a: unknown, ...v: unknown[]) => decimalOp(a, v, decSub)),
    divf: sig(['any'], 'any')((a: unknown, ...v: unknown[]) => decimalOp(a, v, decDiv)),
    mulf: sig(['any'], 'any')((a: unknown, ...v: unknown[]) => decimalOp(a, v, decMul)),
    biggest: maxFn,
    max: maxFn,
    min: sig(
      ['any'],
      'any',
    )((a: unknown, ...rest: unknown[]) => {
      let aa = toInt64(a);
      for (const b of rest) {
        const bb = toInt64(b);
        if (bb < aa) aa = bb;
      }
      return int64(aa);
    }),
    maxf: sig(
      ['any'],
      'any',
    )((a: unknown, ...rest: unknown[]) =>
      rest.reduce<number>((m, b) => Math.max(m, toFloat64(b)), toFloat64(a)),
    ),
    minf: sig(
      ['any'],
      'any',
    )((a: unknown, ...rest: unknown[]) =>
      rest.reduce<number>((m, b) => Math.min(m, toFloat64(b)), toFloat64(a)),
    ),
    ceil: sig(['any'])((a: unknown) => Math.ceil(toFloat64(a))),
    floor: sig(['any'])((a: unknown) => Math.floor(toFloat64(a))),
    round: sig(
      ['any', 'int'],
      'float64',
    )((a: unknown, p: unknown, ...r: unknown[]) => goRound(a, p, r.length > 0 ? (r[0] as number) : 0.5)),
    int64: sig(['any'])((v: unknown) => int64(toInt64(v))),
    int: sig(['any'])((v: unknown) => toInt64(v)),
    float64: sig(['any'])((v: unknown) => toFloat64(v)),
    atoi: sig(['string'])((s: string) => atoi(s)),
    toDecimal: sig(['any'])((v: unknown) => {
      const s = typeof v === 'string' ? v : String(v ?? '<nil>');
      if (!/^[+-]?[0-7]+$/.test(s)) return int64(0n);
      return int64(BigInt(s.startsWith('-') ? '-0o' + s.slice(1) : '0o' + s.replace(/^\+/, '')));
    }),
  };
}
