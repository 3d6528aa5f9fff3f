// `.Files` in templates (Helm's pkg/engine/files.go): a map of path → bytes with the methods Get, GetBytes,
// Glob, Lines, AsConfig and AsSecrets. Paths are the entries; the methods are non-enumerable properties.
import { createRequire } from 'node:module';
import type picomatchModule from 'picomatch';
import type { ChartFile } from './chart.ts';
import { GO_TYPE } from '../template/index.ts';
import { stringifyGoYaml } from './go-yaml.ts';

let picomatch: typeof picomatchModule | undefined;

export interface TemplateFiles {
  [path: string]: unknown;
  Get(name: string): string;
  GetBytes(name: string): Uint8Array;
  Glob(pattern: string): TemplateFiles;
  Lines(name: string): string[];
  AsConfig(): string;
  AsSecrets(): string;
}

const decoder = new TextDecoder();

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function toYamlNoTrailingNewline(m: Record<string, string>): string {
  return stringifyGoYaml(m).replace(/\n$/, '');
}

/** Builds the `.Files` object for a chart's files (already excluding templates/, charts/, values.yaml, ...). */
export function newTemplateFiles(files: ChartFile[] | Map<string, Uint8Array>): TemplateFiles {
  const map = files instanceof Map ? files : new Map(files.map((f) => [f.name, f.data]));
  const obj = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of map) obj[k] = v;
  const methods = {
    Get(name: unknown): string {
      const d = map.get(String(name));
      return d ? decoder.decode(d) : '';
    },
    GetBytes(name: unknown): Uint8Array {
      return map.get(String(name)) ?? new Uint8Array();
    },
    Glob(pattern: unknown): TemplateFiles {
      let match: (s: string) => boolean;
      // picomatch loads on first use: it costs CLI start-up time and few charts glob.
      picomatch ??= createRequire(import.meta.url)('picomatch') as typeof picomatchModule;
      try {
        match = picomatch(String(pattern), { dot: true, bash: false, noextglob: true, nonegate: true });
      } catch {
        match = () => true;
      }
      const out = new Map<string, Uint8Array>();
      for (const [k, v] of map) if (match(k)) out.set(k, v);
      return newTemplateFiles(out);
    },
    Lines(name: unknown): string[] {
      const d = map.get(String(name));
      if (!d || d.length === 0) return [];
      let s = decoder.decode(d);
      if (s.endsWith('\n')) s = s.slice(0, -1);
      return s.split('\n');
    },
    AsConfig(): string {
      const m: Record<string, string> = {};
      for (const [k, v] of map) m[baseName(k)] = decoder.decode(v);
      return toYamlNoTrailingNewline(m);
    },
    AsSecrets(): string {
      const m: Record<string, string> = {};
      for (const [k, v] of map) m[baseName(k)] = Buffer.from(v).toString('base64');
      return toYamlNoTrailingNewline(m);
    },
  };
  Object.defineProperty(obj, GO_TYPE, { value: 'engine.files', enumerable: false });
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(obj, name, { value: fn, enumerable: false });
  }
  return obj as unknown as TemplateFiles;
}
