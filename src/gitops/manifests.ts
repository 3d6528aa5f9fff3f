// Plain manifest directories: YAML/JSON files holding Kubernetes objects. Pure; errors carry file:line.
import { LineCounter, parseAllDocuments } from 'yaml';
import { InputError } from '../core/index.ts';
import type { FileTree, KubeObject, RenderedManifest } from './seams.ts';

const decoder = new TextDecoder();

/** Parses one manifest file (multi-document YAML or JSON); `List` kinds are flattened. */
export function parseManifestFile(text: string, file: string): RenderedManifest[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const out: RenderedManifest[] = [];
  for (const doc of Array.isArray(docs) ? docs : []) {
    const err = doc.errors[0];
    if (err) {
      const pos = lines.linePos(err.pos[0]);
      throw new InputError(`Cannot parse ${file}:${pos.line}:${pos.col}: ${err.message.split('\n')[0]}`, {
        location: { file, line: pos.line, column: pos.col },
      });
    }
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const start = doc.contents?.range ? lines.linePos(doc.contents.range[0]).line : 1;
    const check = (v: unknown): KubeObject => {
      const o = v as Partial<KubeObject> | null;
      if (!o || typeof o !== 'object' || Array.isArray(o)) {
        throw new InputError(`${file}:${start}: a manifest must be a mapping`, {
          location: { file, line: start },
        });
      }
      for (const f of ['apiVersion', 'kind'] as const) {
        if (typeof o[f] !== 'string' || !o[f]) {
          throw new InputError(`${file}:${start}: object has no ${f}`, {
            location: { file, line: start, field: f },
          });
        }
      }
      if (
        !o.metadata ||
        typeof o.metadata !== 'object' ||
        typeof o.metadata.name !== 'string' ||
        !o.metadata.name
      ) {
        throw new InputError(`${file}:${start}: ${o.kind} has no metadata.name`, {
          location: { file, line: start, field: 'metadata.name' },
        });
      }
      return o as KubeObject;
    };
    const obj = check(value);
    if (obj.kind.endsWith('List') && Array.isArray(obj.items)) {
      for (const item of obj.items as unknown[]) out.push({ object: check(item), source: file });
    } else {
      out.push({ object: obj, source: file });
    }
  }
  return out;
}

/** Every manifest of a directory source: `*.yaml`, `*.yml`, `*.json` at the top (or everywhere with `recurse`). */
export function parseManifestDirectory(files: FileTree, recurse = false): RenderedManifest[] {
  const out: RenderedManifest[] = [];
  for (const name of Object.keys(files).sort()) {
    if (!/\.(ya?ml|json)$/i.test(name)) continue;
    if (!recurse && name.includes('/')) continue;
    out.push(...parseManifestFile(decoder.decode(files[name]), name));
  }
  return out;
}
