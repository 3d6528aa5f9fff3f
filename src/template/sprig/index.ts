// Sprig v3's TxtFuncMap as Helm registers it (without env/expandenv), with injectable randomness and clock.
import type { TemplateFunction } from '../signature.ts';
import type { FuncMap } from '../template-set.ts';
import { typeName } from '../value.ts';
import { certificateFunctions } from './certs.ts';
import { collectionFunctions } from './collections.ts';
import { isEmpty, kindName } from './convert.ts';
import { dateFunctions } from './dates.ts';
import { encodingFunctions } from './encoding.ts';
import { marshalJson, unmarshalJson } from './json.ts';
import { mathFunctions } from './math.ts';
import { pathFunctions } from './paths.ts';
import { regexFunctions } from './regex.ts';
import { SemverVersion, semverCompare } from './semver.ts';
import { sig, stringFunctions } from './strings.ts';

export interface SprigOptions {
  /** Random source in [0, 1) for rand*, shuffle, uuidv4 and randBytes. Defaults to Math.random. */
  random?: () => number;
  /** Clock for now, ago, date defaults. Defaults to the system clock. */
  now?: () => Date;
}

function generalFunctions(): Record<string, TemplateFunction> {
  const toJson = (v: unknown): string => marshalJson(v, { escapeHtml: true });
  const toPretty = (v: unknown): string => marshalJson(v, { escapeHtml: true, indent: '  ' });
  const toRaw = (v: unknown): string => marshalJson(v, { escapeHtml: false });
  const soft =
    (f: (v: unknown) => string) =>
    (v: unknown): string => {
      try {
        return f(v);
      } catch {
        return '';
      }
    };
  return {
    default: sig(
      ['any'],
      'any',
    )((d: unknown, ...given: unknown[]) => (given.length === 0 || isEmpty(given[0]) ? d : given[0])),
    empty: sig(['any'])((v: unknown) => isEmpty(v)),
    coalesce: sig([], 'any')((...v: unknown[]) => v.find((x) => !isEmpty(x)) ?? null),
    all: sig([], 'any')((...v: unknown[]) => v.every((x) => !isEmpty(x))),
    any: sig([], 'any')((...v: unknown[]) => v.some((x) => !isEmpty(x))),
    ternary: sig(['any', 'any', 'bool'])((vt: unknown, vf: unknown, v: boolean) => (v ? vt : vf)),
    fail: sig(['string'])((msg: string) => {
      throw new Error(msg);
    }),
    toJson: sig(['any'])(soft(toJson)),
    mustToJson: sig(['any'])(toJson),
    toPrettyJson: sig(['any'])(soft(toPretty)),
    mustToPrettyJson: sig(['any'])(toPretty),
    toRawJson: sig(['any'])(soft(toRaw)),
    mustToRawJson: sig(['any'])(toRaw),
    fromJson: sig(['string'])((s: string) => {
      try {
        return unmarshalJson(s);
      } catch {
        return null;
      }
    }),
    mustFromJson: sig(['string'])((s: string) => unmarshalJson(s)),
    typeOf: sig(['any'])((v: unknown) => typeName(v)),
    typeIs: sig(['string', 'any'])((t: string, v: unknown) => t === typeName(v)),
    typeIsLike: sig(['string', 'any'])((t: string, v: unknown) => {
      const n = typeName(v);
      return t === n || `*${t}` === n;
    }),
    kindOf: sig(['any'])((v: unknown) => kindName(v)),
    kindIs: sig(['string', 'any'])((t: string, v: unknown) => t === kindName(v)),
    semver: sig(['string'])((v: string) => SemverVersion.parse(v)),
    semverCompare: sig(['string', 'string'])(semverCompare),
  };
}

/** Sprig's functions as Helm registers them (sprig.TxtFuncMap minus env/expandenv). */
export function sprigFunctions(options: SprigOptions = {}): FuncMap {
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => new Date());
  return {
    ...stringFunctions(random),
    ...collectionFunctions(),
    ...mathFunctions(random),
    ...encodingFunctions(random),
    ...certificateFunctions(now),
    ...regexFunctions(),
    ...dateFunctions(now),
    ...pathFunctions(),
    ...generalFunctions(),
  };
}
