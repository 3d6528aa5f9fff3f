// The in-memory chart: Chart.yaml metadata, values, schema, templates, other files and sub-charts, loaded
// from a map of paths to bytes exactly as Helm's loader sorts them (pkg/chart/loader/load.go).
import { InputError } from '../core/index.ts';
import { parseGoYaml, parseGoYamlMap, YamlSyntaxError } from './go-yaml.ts';
import { readTarGz } from './tar.ts';

/** An in-memory chart tree: paths relative to the chart root (`Chart.yaml`, `templates/x.yaml`, `charts/y.tgz`). */
export interface ChartFiles {
  [path: string]: Uint8Array | string;
}

export interface ChartFile {
  name: string;
  data: Uint8Array;
}

export interface ChartMaintainer {
  Name: string;
  Email: string;
  URL: string;
}

/** A `dependencies:` entry (Chart.yaml v2 or requirements.yaml v1), with Helm's capitalised field names. */
export interface ChartDependency {
  Name: string;
  Version: string;
  Repository: string;
  Condition: string;
  Tags: string[];
  Enabled: boolean;
  ImportValues: unknown[];
  Alias: string;
}

/** Chart.yaml as templates see it under `.Chart` (Go struct field names). */
export interface ChartMetadata {
  Name: string;
  Home: string;
  Sources: string[];
  Version: string;
  Description: string;
  Keywords: string[];
  Maintainers: ChartMaintainer[];
  Icon: string;
  APIVersion: string;
  Condition: string;
  Tags: string;
  AppVersion: string;
  Deprecated: boolean;
  Annotations: Record<string, string>;
  KubeVersion: string;
  Dependencies: ChartDependency[];
  Type: string;
}

export interface Chart {
  metadata: ChartMetadata;
  /** values.yaml (float64 numbers), `{}` when absent. */
  values: Record<string, unknown>;
  /** values.schema.json, parsed; undefined when absent. */
  schema: unknown;
  /** The raw text of values.schema.json (for error messages and hashing). */
  schemaText: string | undefined;
  templates: ChartFile[];
  /** Everything `.Files` may serve (not Chart.yaml, values.yaml, templates/, charts/ ...), in load order. */
  files: ChartFile[];
  /** Sub-charts found under charts/ (directories and archives), sorted by directory or archive name. */
  dependencies: Chart[];
}

export interface LoadChartOptions {
  /** A name used in error messages for the whole chart (e.g. the directory or archive path). */
  source?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(v: Uint8Array | string): Uint8Array {
  return typeof v === 'string' ? encoder.encode(v) : v;
}

export function textOf(data: Uint8Array): string {
  return decoder.decode(data);
}

function asString(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return String(v);
}

function asStringList(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.map(asString);
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function parseDependency(v: unknown): ChartDependency {
  const d = asRecord(v);
  return {
    Name: asString(d.name),
    Version: asString(d.version),
    Repository: asString(d.repository),
    Condition: asString(d.condition),
    Tags: asStringList(d.tags),
    Enabled: d.enabled === true,
    ImportValues: Array.isArray(d['import-values']) ? (d['import-values'] as unknown[]) : [],
    Alias: asString(d.alias),
  };
}

/** Parses Chart.yaml text into Helm's Metadata shape (missing fields are Go zero values). */
export function parseChartMetadata(text: string, file = 'Chart.yaml'): ChartMetadata {
  const raw = asRecord(parseGoYaml(text, file));
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(asRecord(raw.annotations))) annotations[k] = asString(v);
  return {
    Name: asString(raw.name),
    Home: asString(raw.home),
    Sources: asStringList(raw.sources),
    Version: asString(raw.version),
    Description: asString(raw.description),
    Keywords: asStringList(raw.keywords),
    Maintainers: Array.isArray(raw.maintainers)
      ? raw.maintainers.map((m) => {
          const r = asRecord(m);
          return { Name: asString(r.name), Email: asString(r.email), URL: asString(r.url) };
        })
      : [],
    Icon: asString(raw.icon),
    APIVersion: asString(raw.apiVersion),
    Condition: asString(raw.condition),
    Tags: asString(raw.tags),
    AppVersion: asString(raw.appVersion),
    Deprecated: raw.deprecated === true,
    Annotations: annotations,
    KubeVersion: asString(raw.kubeVersion),
    Dependencies: Array.isArray(raw.dependencies) ? raw.dependencies.map(parseDependency) : [],
    Type: asString(raw.type),
  };
}

const semverRe =
  /^v?(0|[1-9]\d*)(\.(0|[1-9]\d*))?(\.(0|[1-9]\d*))?(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
const aliasRe = /^[a-zA-Z0-9_-]+$/;

function validateMetadata(md: ChartMetadata, where: string): void {
  const err = (msg: string) =>
    new InputError(`validation: ${msg}`, { location: { file: `${where}Chart.yaml` } });
  if (md.APIVersion === '') throw err('chart.metadata.apiVersion is required');
  if (md.Name === '') throw err('chart.metadata.name is required');
  if (md.Name.includes('/') || md.Name.includes('\\') || md.Name === '.' || md.Name === '..') {
    throw err(`chart.metadata.name "${md.Name}" is invalid`);
  }
  if (md.Version === '') throw err('chart.metadata.version is required');
  if (!semverRe.test(md.Version)) throw err(`chart.metadata.version "${md.Version}" is invalid`);
  if (md.Type !== '' && md.Type !== 'application' && md.Type !== 'library') {
    throw new InputError('chart.metadata.type must be application or library', {
      location: { file: `${where}Chart.yaml` },
    });
  }
  for (const d of md.Dependencies) {
    if (d.Name === '' || d.Name.includes('/')) throw err(`dependency name "${d.Name}" is invalid`);
    if (d.Alias !== '' && !aliasRe.test(d.Alias))
      throw err(`dependency "${d.Name}" has disallowed characters in the alias`);
  }
}

/**
 * Builds a chart from its files (paths relative to the chart root). Pure: archives under charts/ are unpacked
 * in memory. Throws InputError naming the file for a missing or invalid Chart.yaml, values.yaml or schema.
 */
export function loadChartFromFiles(files: ChartFiles, options: LoadChartOptions = {}): Chart {
  return loadTree(files, options.source ? `${options.source}/` : '');
}

/** A YAML file of a chart, parsed as Helm's loader does: its errors read `cannot load values.yaml: ...`. */
function loadYamlFile<T>(
  name: string,
  where: string,
  data: Uint8Array,
  parse: (text: string, file: string) => T,
): T {
  try {
    return parse(textOf(data), `${where}${name}`);
  } catch (err) {
    if (!(err instanceof YamlSyntaxError)) throw err;
    throw new YamlSyntaxError(`cannot load ${name}: ${err.message}`, { location: err.location ?? {} });
  }
}

function loadTree(files: ChartFiles, where: string): Chart {
  const names = Object.keys(files)
    .map((n) => n.replace(/^\.\//, ''))
    .sort();
  const get = (n: string): Uint8Array | undefined => {
    const v = files[n] ?? files[`./${n}`];
    return v === undefined ? undefined : bytes(v);
  };
  const chartYaml = get('Chart.yaml');
  if (!chartYaml)
    throw new InputError(`${where}Chart.yaml file is missing`, { location: { file: `${where}Chart.yaml` } });
  const metadata = loadYamlFile('Chart.yaml', where, chartYaml, parseChartMetadata);
  if (metadata.APIVersion === '') metadata.APIVersion = 'v1';
  let values: Record<string, unknown> = {};
  let schema: unknown;
  let schemaText: string | undefined;
  const templates: ChartFile[] = [];
  const other: ChartFile[] = [];
  const subcharts = new Map<string, ChartFiles>();
  for (const name of names) {
    const data = get(name)!;
    if (name === 'Chart.yaml' || name === 'Chart.lock' || name === 'requirements.lock') continue;
    if (name === 'values.yaml') {
      values = loadYamlFile('values.yaml', where, data, parseGoYamlMap);
    } else if (name === 'values.schema.json') {
      schemaText = textOf(data);
      try {
        schema = JSON.parse(schemaText);
      } catch (e) {
        throw new InputError(`${where}values.schema.json: invalid JSON: ${(e as Error).message}`, {
          location: { file: `${where}values.schema.json` },
        });
      }
    } else if (name === 'requirements.yaml') {
      if (metadata.APIVersion === 'v1') {
        const req = asRecord(loadYamlFile('requirements.yaml', where, data, parseGoYaml));
        if (Array.isArray(req.dependencies)) metadata.Dependencies = req.dependencies.map(parseDependency);
      }
      other.push({ name, data });
    } else if (name.startsWith('templates/')) {
      templates.push({ name, data });
    } else if (name.startsWith('charts/')) {
      if (name.endsWith('.prov')) {
        other.push({ name, data });
        continue;
      }
      const rest = name.slice('charts/'.length);
      const slash = rest.indexOf('/');
      const cname = slash < 0 ? rest : rest.slice(0, slash);
      const inner = slash < 0 ? rest : rest.slice(slash + 1);
      let m = subcharts.get(cname);
      if (!m) subcharts.set(cname, (m = {}));
      m[inner] = data;
    } else {
      other.push({ name, data });
    }
  }
  validateMetadata(metadata, where);
  const dependencies: Chart[] = [];
  for (const [cname, sub] of [...subcharts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const subWhere = `${where}charts/${cname}/`;
    if (cname.endsWith('.tgz') || cname.endsWith('.tar.gz')) {
      const archive = sub[cname];
      if (archive === undefined) continue;
      dependencies.push(loadArchiveFiles(bytes(archive), `${where}charts/${cname}`));
    } else {
      if (!('Chart.yaml' in sub)) {
        throw new InputError(
          `error unpacking subchart ${cname} in ${metadata.Name}: Chart.yaml file is missing`,
          {
            location: { file: `${subWhere}Chart.yaml` },
          },
        );
      }
      try {
        dependencies.push(loadTree(sub, subWhere));
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        throw new InputError(`error unpacking subchart ${cname} in ${metadata.Name}: ${err.message}`, {
          location: err.location ?? {},
        });
      }
    }
  }
  return { metadata, values, schema, schemaText, templates, files: other, dependencies };
}

/** Loads a packaged chart (`.tgz`): the archive's top folder is the chart root. */
export function loadArchiveFiles(archive: Uint8Array, name = 'chart.tgz'): Chart {
  const entries = readTarGz(archive, name);
  const files: ChartFiles = {};
  for (const e of entries) {
    const p = e.path.replace(/\\/g, '/');
    if (p === 'pax_global_header') continue;
    const slash = p.indexOf('/');
    if (slash < 0) continue;
    const inner = p.slice(slash + 1);
    if (inner === '' || inner.split('/').includes('..')) continue;
    files[inner] = e.data;
  }
  if (Object.keys(files).length === 0) {
    throw new InputError(`${name}: no files in chart archive`, { location: { file: name } });
  }
  return loadTree(files, `${name}/`);
}

// ---------------------------------------------------------------- .helmignore

interface IgnoreRule {
  negate: boolean;
  mustDir: boolean;
  match: (path: string) => boolean;
}

/** Go's path.Match (`*`, `?`, `[...]`, `\` escapes; `*` does not cross `/`). Returns false for a bad pattern. */
export function goPathMatch(pattern: string, name: string): boolean {
  const re = goPatternRegExp(pattern);
  return re ? re.test(name) : false;
}

const patternCache = new Map<string, RegExp | null>();

function goPatternRegExp(pattern: string): RegExp | null {
  const cached = patternCache.get(pattern);
  if (cached !== undefined) return cached;
  let re = '^';
  let ok = true;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      i++;
      if (i >= pattern.length) ok = false;
      else re += escapeRe(pattern[i]!);
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        ok = false;
        break;
      }
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `!${cls.slice(1)}`;
      re += cls.startsWith('!')
        ? `[^/${cls.slice(1).replace(/\\/g, '\\\\')}]`
        : `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += escapeRe(c);
  }
  let result: RegExp | null = null;
  if (ok) {
    try {
      result = new RegExp(`${re}$`, 's');
    } catch {
      result = null;
    }
  }
  patternCache.set(pattern, result);
  return result;
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Parses `.helmignore` (Helm's pkg/ignore): gitignore-like lines, `!` negation, trailing `/` for directories. */
export function parseHelmIgnore(text: string): (path: string, isDir: boolean) => boolean {
  const rules: IgnoreRule[] = [];
  const add = (line: string) => {
    let rule = line.trim();
    if (rule === '' || rule.startsWith('#')) return;
    if (rule.includes('**')) return;
    let negate = false;
    if (rule.startsWith('!')) {
      negate = true;
      rule = rule.slice(1);
    }
    let mustDir = false;
    if (rule.endsWith('/')) {
      mustDir = true;
      rule = rule.slice(0, -1);
    }
    if (rule.startsWith('/')) {
      const r = rule.slice(1);
      rules.push({ negate, mustDir, match: (p) => goPathMatch(r, p) });
    } else if (rule.includes('/')) {
      rules.push({ negate, mustDir, match: (p) => goPathMatch(rule, p) });
    } else {
      rules.push({ negate, mustDir, match: (p) => goPathMatch(rule, p.slice(p.lastIndexOf('/') + 1)) });
    }
  };
  for (const line of text.split(/\r?\n/)) add(line);
  // Helm's default: hidden files inside templates/ are never templates.
  add('templates/.?*');
  return (path, isDir) => {
    if (path === '' || path === '.' || path === './') return false;
    for (const r of rules) {
      if (r.negate) {
        if (r.mustDir && !isDir) return true;
        if (!r.match(path)) return true;
        continue;
      }
      if (r.mustDir && !isDir) continue;
      if (r.match(path)) return true;
    }
    return false;
  };
}

/** Helm's CheckIfInstallable: only application charts (type empty or `application`) can be rendered. */
export function chartTypeIsInstallable(md: ChartMetadata): boolean {
  return md.Type === '' || md.Type === 'application';
}
