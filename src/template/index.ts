// template: Go's text/template (parser, executor, fmt) and the Sprig function library as Helm registers it.
export { TemplateSet, TemplateError } from './template-set.ts';
export type { FuncMap, ParseOptions, ExecuteOptions } from './template-set.ts';
export { isTrue, typeName, kindOf, GO_TYPE } from './value.ts';
export type { GoValue, GoKind } from './value.ts';
export { formatValue, sprintf, sprint, sprintln, quoteGo } from './fmt.ts';
export { withSignature, GO_SIGNATURE } from './signature.ts';
export type { TemplateFunction, GoParamType, GoSignature } from './signature.ts';
export { sprigFunctions } from './sprig/index.ts';
export type { SprigOptions } from './sprig/index.ts';
export { marshalJson, unmarshalJson } from './sprig/json.ts';
export type { JsonOptions } from './sprig/json.ts';
export { formatFloat } from './fmt.ts';
export { semverCompare, SemverVersion } from './sprig/semver.ts';
export { formatGoLayout, parseGoDuration, formatGoDuration } from './sprig/dates.ts';
export { isGoMap, typedSlice, GoInt64, intValue, isGoInt } from './value.ts';
