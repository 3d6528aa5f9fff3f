// values.schema.json validation with Helm's meaning (JSON Schema draft 7) and gojsonschema-style messages:
// `- image.tag: Invalid type. Expected: string, given: integer`.
import { createRequire } from 'node:module';
import type AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { InputError } from '../core/index.ts';
import { formatFloat, GoInt64 } from '../template/index.ts';
import type { ChartNode } from './dependencies.ts';
import { type Dict, isTable } from './values.ts';

type AjvInstance = InstanceType<typeof AjvModule.default>;
let ajvInstance: AjvInstance | undefined;

/** ajv is loaded on first use: most charts have no schema, and loading it costs CLI start-up time. */
function ajv(): AjvInstance {
  if (!ajvInstance) {
    const mod = createRequire(import.meta.url)('ajv') as { default?: typeof AjvModule.default };
    const Ajv = mod.default ?? (mod as unknown as typeof AjvModule.default);
    ajvInstance = new Ajv({ allErrors: true, strict: false, validateSchema: false, logger: false });
  }
  return ajvInstance;
}
const compiled = new WeakMap<object, ValidateFunction>();

/** Values failing a chart's values.schema.json; `details.errors` lists `field: description` lines. */
export class SchemaValidationError extends InputError {}

/** strconv.FormatFloat(n, 'g', -1, 64), the spelling gojsonschema's messages use (1e+06, 1e-05); -0 prints 0. */
export function formatGoFloat(n: number): string {
  return n === 0 ? '0' : formatFloat(n, 'g', -1);
}

function toSchemaModel(v: unknown): unknown {
  if (typeof v === 'bigint' || v instanceof GoInt64) return Number(v);
  if (Array.isArray(v)) return v.map(toSchemaModel);
  if (isTable(v)) {
    const out: Dict = {};
    for (const [k, val] of Object.entries(v)) out[k] = toSchemaModel(val);
    return out;
  }
  return v;
}

function goType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

function fieldOf(instancePath: string, extra?: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? '(root)' : parts.join('.');
}

function valueAt(root: unknown, instancePath: string): unknown {
  let cur = root;
  for (const p of instancePath.split('/').slice(1)) {
    const key = p.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) cur = cur[Number(key)];
    else if (isTable(cur)) cur = cur[key];
    else return undefined;
  }
  return cur;
}

function num(v: unknown): string {
  return typeof v === 'number' ? formatGoFloat(v) : String(v);
}

function describe(e: ErrorObject, root: unknown): string {
  const p = e.params as Record<string, unknown>;
  const field = fieldOf(e.instancePath);
  switch (e.keyword) {
    case 'required':
      return `${field}: ${String(p.missingProperty)} is required`;
    case 'type': {
      const expected = Array.isArray(p.type) ? p.type.join(', ') : String(p.type);
      return `${field}: Invalid type. Expected: ${expected}, given: ${goType(valueAt(root, e.instancePath))}`;
    }
    case 'enum': {
      const allowed = ((p.allowedValues as unknown[]) ?? []).map((x) => JSON.stringify(x)).join(', ');
      return `${field}: ${field} must be one of the following: ${allowed}`;
    }
    case 'const':
      return `${field}: ${field} does not match: ${JSON.stringify(p.allowedValue)}`;
    case 'minimum':
      return `${field}: Must be greater than or equal to ${num(p.limit)}`;
    case 'maximum':
      return `${field}: Must be less than or equal to ${num(p.limit)}`;
    case 'exclusiveMinimum':
      return `${field}: Must be greater than ${num(p.limit)}`;
    case 'exclusiveMaximum':
      return `${field}: Must be less than ${num(p.limit)}`;
    case 'minLength':
      return `${field}: String length must be greater than or equal to ${String(p.limit)}`;
    case 'maxLength':
      return `${field}: String length must be less than or equal to ${String(p.limit)}`;
    case 'pattern':
      return `${field}: Does not match pattern '${String(p.pattern)}'`;
    case 'format':
      return `${field}: Does not match format '${String(p.format)}'`;
    case 'additionalProperties':
      return `${field}: Additional property ${String(p.additionalProperty)} is not allowed`;
    case 'minItems':
      return `${field}: Array must have at least ${String(p.limit)} items`;
    case 'maxItems':
      return `${field}: Array must have at most ${String(p.limit)} items`;
    case 'uniqueItems':
      return `${field}: array items must be unique`;
    case 'multipleOf':
      return `${field}: Must be a multiple of ${num(p.multipleOf)}`;
    default:
      return `${field}: ${e.message ?? e.keyword}`;
  }
}

/** Validates `values` against one schema; returns Helm's `- field: description` lines (empty when valid). */
export function validateAgainstSchema(schema: unknown, values: Dict, file = 'values.schema.json'): string[] {
  if (typeof schema === 'boolean') return schema ? [] : ['(root): False always fails validation'];
  if (!isTable(schema)) return [];
  let validate = compiled.get(schema);
  if (!validate) {
    try {
      const { $schema: _ignored, ...rest } = schema;
      validate = ajv().compile(rest);
    } catch (err) {
      throw new InputError(`${file}: invalid JSON schema: ${(err as Error).message}`, { location: { file } });
    }
    compiled.set(schema, validate);
  }
  const model = toSchemaModel(values);
  if (validate(model)) return [];
  const lines: string[] = [];
  for (const e of validate.errors ?? []) {
    if (e.keyword === 'if' || e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'allOf')
      continue;
    const line = describe(e, model);
    if (!lines.includes(line)) lines.push(line);
  }
  return lines;
}

/** Helm's ValidateAgainstSchema over the chart tree (each sub-chart with its own part of the values). */
export function validateChartValues(node: ChartNode, values: Dict): void {
  const out = collect(node, values);
  if (out.length > 0) {
    throw new SchemaValidationError(
      `values don't meet the specifications of the schema(s) in the following chart(s):\n${out.join('')}`,
      { location: { file: `${node.metadata.Name}/values.schema.json` }, details: { errors: out } },
    );
  }
}

function collect(node: ChartNode, values: Dict): string[] {
  const out: string[] = [];
  if (node.chart.schema !== undefined) {
    const lines = validateAgainstSchema(
      node.chart.schema,
      values,
      `${node.metadata.Name}/values.schema.json`,
    );
    if (lines.length > 0) out.push(`${node.metadata.Name}:\n${lines.map((l) => `- ${l}\n`).join('')}`);
  }
  for (const sub of node.deps) {
    const sv = values[sub.metadata.Name];
    out.push(...collect(sub, isTable(sv) ? sv : {}));
  }
  return out;
}
