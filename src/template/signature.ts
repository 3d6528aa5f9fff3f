// Go parameter types of template functions: text/template checks and converts arguments by them.
import { GoInt64, isGoMap } from './value.ts';

/**
 * A Go parameter type. `any` is interface{} (nil arrives as null); `value` is reflect.Value as the
 * built-ins take it (a missing value arrives as undefined, a nil interface as null).
 */
export type GoParamType = 'any' | 'value' | 'string' | 'int' | 'int64' | 'float64' | 'bool' | 'slice' | 'map';

export interface GoSignature {
  params: GoParamType[];
  variadic?: GoParamType;
}

export const GO_SIGNATURE: unique symbol = Symbol.for('slipway.template.signature');

export type TemplateFunction = (...args: unknown[]) => unknown;

/** Attaches Go parameter types to a function, so templates check arguments as Go would. */
export function withSignature<F extends TemplateFunction>(
  fn: F,
  params: GoParamType[],
  variadic?: GoParamType,
): F {
  const sig: GoSignature = variadic === undefined ? { params } : { params, variadic };
  Object.defineProperty(fn, GO_SIGNATURE, {
    value: sig,
    enumerable: false,
    configurable: true,
    writable: true,
  });
  return fn;
}

const DEFAULT_SIGNATURE: GoSignature = { params: [], variadic: 'any' };

export function signatureOf(fn: TemplateFunction): GoSignature {
  return (fn as { [GO_SIGNATURE]?: GoSignature })[GO_SIGNATURE] ?? DEFAULT_SIGNATURE;
}

export function goTypeDisplay(t: GoParamType): string {
  switch (t) {
    case 'any':
      return 'interface {}';
    case 'value':
      return 'reflect.Value';
    case 'slice':
      return '[]interface {}';
    case 'map':
      return 'map[string]interface {}';
    default:
      return t;
  }
}

export function canBeNil(t: GoParamType): boolean {
  return t === 'any' || t === 'value' || t === 'slice' || t === 'map';
}

/** Whether a non-nil value is assignable to a parameter of type t. */
export function assignable(v: unknown, t: GoParamType): boolean {
  switch (t) {
    case 'any':
    case 'value':
      return true;
    case 'string':
      return typeof v === 'string';
    case 'int':
      return typeof v === 'bigint';
    case 'int64':
      return v instanceof GoInt64;
    case 'float64':
      return typeof v === 'number';
    case 'bool':
      return typeof v === 'boolean';
    case 'slice':
      return Array.isArray(v);
    case 'map':
      return isGoMap(v);
  }
}
