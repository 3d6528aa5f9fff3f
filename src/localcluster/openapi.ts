// OpenAPI documents: the recorded kube-apiserver v2 document and the v3 documents of the core groups.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const DIR = join(import.meta.dirname, 'data', 'openapi');

export interface OpenApiDoc {
  body: Buffer;
  etag: string;
}

function load(file: string): OpenApiDoc | undefined {
  const path = join(DIR, file);
  if (!existsSync(path)) return undefined;
  const body = gunzipSync(readFileSync(path));
  return { body, etag: createHash('sha512').update(body).digest('hex').toUpperCase() };
}

const cache = new Map<string, OpenApiDoc | undefined>();

function cached(file: string): OpenApiDoc | undefined {
  if (!cache.has(file)) cache.set(file, load(file));
  return cache.get(file);
}

/** v3 group-version paths (`api/v1`, `apis/apps/v1`) that have a document. */
const V3_PATHS = ['api/v1', 'apis/apps/v1', 'apis/batch/v1', 'apis/networking.k8s.io/v1'];

export function openApiV2(): OpenApiDoc | undefined {
  return cached('openapi_v2.json.gz');
}

export function openApiV3(path: string): OpenApiDoc | undefined {
  if (!V3_PATHS.includes(path)) return undefined;
  return cached(`openapi_v3_${path.replace(/\//g, '_')}.json.gz`);
}

export function openApiV3Index(): OpenApiDoc {
  const existing = cache.get('index');
  if (existing) return existing;
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const p of V3_PATHS) {
    const doc = openApiV3(p);
    if (doc) paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${doc.etag}` };
  }
  const body = Buffer.from(JSON.stringify({ paths }));
  const doc = { body, etag: createHash('sha512').update(body).digest('hex').toUpperCase() };
  cache.set('index', doc);
  return doc;
}

interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

let definitions: Record<string, Schema> | undefined;
const gvkIndex = new Map<string, string>();

function defs(): Record<string, Schema> {
  if (definitions) return definitions;
  const doc = openApiV2();
  const parsed = doc
    ? (JSON.parse(doc.body.toString('utf8')) as {
        definitions: Record<
          string,
          Schema & { 'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[] }
        >;
      })
    : { definitions: {} };
  definitions = parsed.definitions;
  for (const [name, d] of Object.entries(parsed.definitions)) {
    for (const gvk of d['x-kubernetes-group-version-kind'] ?? [])
      gvkIndex.set(`${gvk.group}/${gvk.version}/${gvk.kind}`, name);
  }
  return definitions;
}

/** Unknown fields of `obj` per the built-in schema of group/version/kind (empty when no schema is known). */
export function unknownFields(group: string, version: string, kind: string, obj: unknown): string[] {
  const d = defs();
  const name = gvkIndex.get(`${group}/${version}/${kind}`);
  if (!name) return [];
  const out: string[] = [];
  const resolve = (s: Schema | undefined): Schema | undefined => {
    let cur = s;
    while (cur?.$ref) cur = d[cur.$ref.replace('#/definitions/', '')];
    return cur;
  };
  const walk = (value: unknown, schema: Schema | undefined, path: string) => {
    const s = resolve(schema);
    if (!s || s['x-kubernetes-preserve-unknown-fields']) return;
    if (Array.isArray(value)) {
      if (s.items) for (const [i, v] of value.entries()) walk(v, s.items, `${path}[${i}]`);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    if (s.properties) {
      for (const [k, v] of Object.entries(value)) {
        const p = path ? `${path}.${k}` : k;
        const child = s.properties[k];
        if (!child) {
          if (path === '' && (k === 'apiVersion' || k === 'kind')) continue;
          out.push(p);
        } else walk(v, child, p);
      }
    } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
      const ap = s.additionalProperties;
      for (const [k, v] of Object.entries(value)) walk(v, ap, path ? `${path}.${k}` : k);
    }
  };
  walk(obj, { $ref: `#/definitions/${name}` }, '');
  return out;
}
