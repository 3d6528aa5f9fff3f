// Rendering a chart like `helm template` (pkg/action/install.go, pkg/engine/engine.go): values, dependencies,
// schema, one template namespace for the chart and its sub-charts, `<no value>` removal, sorting, output.
import { InputError } from '../core/index.ts';
import {
  type FuncMap,
  GO_TYPE,
  sprigFunctions,
  TemplateError,
  TemplateSet,
  withSignature,
} from '../template/index.ts';
import { makeCapabilities } from './capabilities.ts';
import { type Chart, chartTypeIsInstallable, textOf } from './chart.ts';
import {
  buildChartTree,
  type ChartNode,
  chartFullPath,
  checkDependencies,
  processDependencies,
} from './dependencies.ts';
import { newTemplateFiles } from './files.ts';
import { parseGoYamlMap } from './go-yaml.ts';
import { helmFunctions, WARN_RE } from './helm-funcs.ts';
import { type CrdFile, formatTemplateOutput, type RenderedManifest, sortManifests } from './manifests.ts';
import { validateChartValues } from './schema.ts';
import { isCompatibleRange } from './semver-range.ts';
import {
  parseSet,
  parseSetFile,
  parseSetJson,
  parseSetLiteral,
  parseSetString,
  SetSyntaxError,
} from './strvals.ts';
import { coalesceValues, type Dict, deepCopy, mergeMaps, table } from './values.ts';

export interface RenderOptions {
  /** `helm template NAME`; Helm's default is `release-name`. */
  releaseName?: string;
  /** Default `default`. */
  namespace?: string;
  /** `-f` files in order: name (for errors) and YAML text. */
  valueFiles?: { name: string; text: string }[];
  /** Extra user values merged after the value files (like one more `-f`). */
  values?: Record<string, unknown>;
  set?: string[];
  setString?: string[];
  setJson?: string[];
  /** `--set-literal key=value`: the whole rest after `=` is one string. */
  setLiteral?: string[];
  /**
   * `--set-file key=path`: the expression and what the caller read (the renderer does no I/O): `files` maps
   * each path in the expression to its contents; `contents` serves any path not in `files`.
   */
  setFile?: { expr: string; contents?: string; files?: Record<string, string> }[];
  /** `--kube-version`, default v1.32.0 as Helm 3.17. */
  kubeVersion?: string;
  /** `--api-versions`, added to Helm's default set. */
  apiVersions?: string[];
  /** `--show-only` paths or globs relative to the chart (`templates/deployment.yaml`). */
  showOnly?: string[];
  /** `--include-crds`: print crds/ files first. */
  includeCrds?: boolean;
  /** `--skip-schema-validation`. */
  skipSchemaValidation?: boolean;
  /** A live `lookup`; without it lookup returns an empty map as in `helm template`. */
  lookup?: (apiVersion: string, kind: string, namespace: string, name: string) => unknown;
  isUpgrade?: boolean;
  /** `--render-subchart-notes`. */
  subchartNotes?: boolean;
}

export interface RenderResult {
  manifests: RenderedManifest[];
  hooks: RenderedManifest[];
  crds: CrdFile[];
  notes?: string;
  /** The coalesced values the templates saw as `.Values`. */
  values: Record<string, unknown>;
  /** Exactly what `helm template` prints. */
  output: string;
}

/** A template failed to parse or execute; message and location as Helm reports them. */
export class ChartRenderError extends InputError {}

/** Merges the user's values like Helm's values.Options.MergeValues. */
export function mergeUserValues(options: RenderOptions): Dict {
  let base: Dict = {};
  for (const f of options.valueFiles ?? []) {
    let m: Dict;
    try {
      m = parseGoYamlMap(f.text, f.name);
    } catch (err) {
      throw new InputError(`failed to parse ${f.name}: ${(err as Error).message}`, {
        location: { file: f.name, ...((err as InputError).location ?? {}) },
      });
    }
    base = mergeMaps(base, m);
  }
  if (options.values) base = mergeMaps(base, deepCopy(options.values));
  const wrap = (flag: string, expr: string, fn: () => void, generic = false) => {
    try {
      fn();
    } catch (err) {
      if (generic) throw new InputError(`failed parsing ${flag} data ${expr}`, { location: { field: flag } });
      const msg = err instanceof SetSyntaxError ? err.message : String((err as Error).message ?? err);
      throw new InputError(`failed parsing ${flag} data: ${msg}`, { location: { field: flag } });
    }
  };
  for (const e of options.setJson ?? []) wrap('--set-json', e, () => parseSetJson(e, base), true);
  for (const e of options.set ?? []) wrap('--set', e, () => parseSet(e, base));
  for (const e of options.setString ?? []) wrap('--set-string', e, () => parseSetString(e, base));
  for (const f of options.setFile ?? []) {
    wrap('--set-file', f.expr, () => parseSetFile(f.expr, base, (p) => f.files?.[p] ?? f.contents ?? ''));
  }
  for (const e of options.setLiteral ?? []) wrap('--set-literal', e, () => parseSetLiteral(e, base));
  return base;
}

interface Renderable {
  text: string;
  vals: Dict;
  basePath: string;
}

function sortTemplateNames(names: string[]): string[] {
  const depth = (s: string) => s.split('/').length - 1;
  // Helm parses deepest paths first (ties in reverse lexical order), so the top chart's defines win.
  return [...names].sort((a, b) => {
    const da = depth(a);
    const db = depth(b);
    if (da !== db) return db - da;
    return a < b ? 1 : a > b ? -1 : 0;
  });
}

function collectTemplates(node: ChartNode, parentVals: Dict, out: Map<string, Renderable>): Dict {
  const subcharts: Dict = {};
  const md = node.metadata;
  const chartMeta: Dict = { ...md, IsRoot: node.parent === undefined };
  const next: Dict = {
    Chart: chartMeta,
    Files: newTemplateFiles(node.chart.files),
    Release: parentVals.Release,
    Capabilities: parentVals.Capabilities,
    Values: {},
    Subcharts: subcharts,
  };
  if (node.parent === undefined) next.Values = parentVals.Values;
  else {
    const vs = table(parentVals, `Values.${md.Name}`);
    if (vs) next.Values = vs;
  }
  for (const child of node.deps) subcharts[child.metadata.Name] = collectTemplates(child, next, out);
  const full = chartFullPath(node);
  const library = md.Type === 'library';
  for (const t of node.chart.templates) {
    const base = t.name.slice(t.name.lastIndexOf('/') + 1);
    if (library && !base.startsWith('_')) continue;
    out.set(`${full}/${t.name}`, { text: textOf(t.data), vals: next, basePath: `${full}/templates` });
  }
  return next;
}

function collectCrds(node: ChartNode): CrdFile[] {
  const out: CrdFile[] = [];
  const full = chartFullPath(node);
  for (const f of node.chart.files) {
    if (f.name.startsWith('crds/') && /\.(ya?ml|json)$/.test(f.name)) {
      out.push({ path: `${full}/${f.name}`, content: textOf(f.data) });
    }
  }
  for (const d of node.deps) out.push(...collectCrds(d));
  return out;
}

function locationOf(loc: string): { file: string; line?: number; column?: number } {
  const m = /^(.*?):(\d+)(?::(\d+))?$/.exec(loc);
  if (!m) return { file: loc };
  const out: { file: string; line?: number; column?: number } = { file: m[1]!, line: Number(m[2]) };
  if (m[3] !== undefined) out.column = Number(m[3]);
  return out;
}

/** Helm's cleanupParseError: `parse error at (file:line): message`. */
function parseError(filename: string, err: unknown): ChartRenderError {
  const msg = err instanceof Error ? err.message : String(err);
  const tokens = msg.split(': ');
  if (tokens.length === 1) {
    return new ChartRenderError(`parse error in (${filename}): ${msg}`, {
      location: { file: filename },
      cause: err,
    });
  }
  const location = tokens[1]!;
  return new ChartRenderError(`parse error at (${location}): ${tokens[tokens.length - 1]}`, {
    location: locationOf(location),
    cause: err,
  });
}

/** Helm's cleanupExecError: `required`/`fail` become `execution error at (file:line:col): message`. */
function execError(filename: string, err: unknown): InputError {
  const msg = err instanceof Error ? err.message : String(err);
  if (!(err instanceof TemplateError)) {
    if (err instanceof InputError) return err;
    return new ChartRenderError(`execution error in (${filename}): ${msg}`, {
      location: { file: filename },
      cause: err,
    });
  }
  const first = msg.indexOf(': ');
  const second = first < 0 ? -1 : msg.indexOf(': ', first + 2);
  if (first < 0 || second < 0) {
    return new ChartRenderError(`execution error in (${filename}): ${msg}`, {
      location: { file: filename },
      cause: err,
    });
  }
  const location = msg.slice(first + 2, second);
  const rest = msg.slice(second + 2);
  const warn = WARN_RE.exec(rest);
  if (warn) {
    return new ChartRenderError(`execution error at (${location}): ${warn[1]}`, {
      location: locationOf(location),
      cause: err,
    });
  }
  return new ChartRenderError(msg, { location: locationOf(location), cause: err });
}

const RECURSION_MAX = 1000;

let baseSet: TemplateSet | undefined;

const HELM_SIGNATURES: Record<string, Parameters<typeof withSignature>[1]> = {
  required: ['string', 'any'],
  fail: ['string'],
  fromYaml: ['string'],
  fromYamlArray: ['string'],
  fromJson: ['string'],
  fromJsonArray: ['string'],
  toYaml: ['any'],
  toYamlPretty: ['any'],
  toJson: ['any'],
  toToml: ['any'],
  lookup: ['string', 'string', 'string', 'string'],
};

function helmFuncMap(options: RenderOptions): FuncMap {
  const funcs: FuncMap = {};
  for (const [name, fn] of Object.entries(helmFunctions(options.lookup ? { lookup: options.lookup } : {}))) {
    const s = HELM_SIGNATURES[name];
    funcs[name] = s ? withSignature(fn, s) : fn;
  }
  return funcs;
}

/**
 * An empty template set holding Sprig (minus env/expandenv) and Helm's functions; each render clones it, which
 * is much cheaper than registering ~200 functions again (Sprig's map is stateless).
 */
function newTemplateSet(options: RenderOptions): TemplateSet {
  if (!baseSet) {
    const funcs: FuncMap = { ...sprigFunctions(), ...helmFuncMap({}) };
    delete funcs.env;
    delete funcs.expandenv;
    baseSet = new TemplateSet({ funcs });
  }
  const set = baseSet.clone();
  if (options.lookup) set.addFuncs({ lookup: helmFuncMap(options).lookup! });
  return set;
}

function bindIncludeTpl(set: TemplateSet, included: Map<string, number>): FuncMap {
  const include = withSignature(
    (name: unknown, data: unknown) => {
      const n = String(name);
      const count = included.get(n) ?? 0;
      if (count > RECURSION_MAX) {
        throw new Error(`rendering template has a nested reference name: ${n}: unable to execute template`);
      }
      included.set(n, count + 1);
      try {
        return set.execute(n, data, { missingKey: 'zero' });
      } finally {
        included.set(n, (included.get(n) ?? 1) - 1);
      }
    },
    ['string', 'any'],
  );
  const tpl = withSignature(
    (text: unknown, vals: unknown) => {
      const t = set.clone();
      t.addFuncs(bindIncludeTpl(t, included));
      try {
        t.parse(t.name, String(text));
      } catch (err) {
        throw new Error(`cannot parse template ${JSON.stringify(String(text))}: ${(err as Error).message}`);
      }
      let out: string;
      try {
        out = t.execute(t.name, vals, { missingKey: 'zero' });
      } catch (err) {
        throw new Error(
          `error during tpl function execution for ${JSON.stringify(String(text))}: ${(err as Error).message}`,
        );
      }
      return out.replaceAll('<no value>', '');
    },
    ['string', 'any'],
  );
  return { include, tpl };
}

/**
 * Renders a chart exactly like `helm template`. Pure: no I/O (a `lookup` may be injected).
 * Throws InputError subclasses: ChartRenderError (template parse/exec, with file:line:col),
 * SchemaValidationError, and InputError for bad values, `--set` syntax or missing dependencies.
 */
export function renderChart(chart: Chart, options: RenderOptions = {}): RenderResult {
  if (!chartTypeIsInstallable(chart.metadata)) {
    throw new InputError(`${chart.metadata.Type} charts are not installable`, {
      location: { file: `${chart.metadata.Name}/Chart.yaml`, field: 'type' },
    });
  }
  const userValues = mergeUserValues(options);
  const root = buildChartTree(chart);
  checkDependencies(root);
  const caps = makeCapabilities({
    ...(options.kubeVersion !== undefined ? { kubeVersion: options.kubeVersion } : {}),
    ...(options.apiVersions ? { apiVersions: options.apiVersions } : {}),
  });
  if (
    chart.metadata.KubeVersion !== '' &&
    !isCompatibleRange(chart.metadata.KubeVersion, caps.KubeVersion.Version)
  ) {
    throw new InputError(
      `chart requires kubeVersion: ${chart.metadata.KubeVersion} which is incompatible with Kubernetes ${caps.KubeVersion.Version}`,
      { location: { file: `${chart.metadata.Name}/Chart.yaml`, field: 'kubeVersion' } },
    );
  }
  try {
    processDependencies(root, userValues);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError((err as Error).message, {
      location: { file: `${chart.metadata.Name}/values.yaml` },
    });
  }
  let values: Dict;
  try {
    values = coalesceValues(root, userValues);
  } catch (err) {
    throw new InputError((err as Error).message, {
      location: { file: `${chart.metadata.Name}/values.yaml` },
    });
  }
  if (!options.skipSchemaValidation) validateChartValues(root, values);
  const top: Dict = {
    Capabilities: caps,
    Release: {
      Name: options.releaseName ?? 'release-name',
      Namespace: options.namespace ?? 'default',
      IsUpgrade: options.isUpgrade === true,
      IsInstall: options.isUpgrade !== true,
      Revision: 1n,
      Service: 'Helm',
    },
    Values: values,
  };
  const templates = new Map<string, Renderable>();
  collectTemplates(root, top, templates);

  const set = newTemplateSet(options);
  const included = new Map<string, number>();
  set.addFuncs(bindIncludeTpl(set, included));
  const order = sortTemplateNames([...templates.keys()]);
  for (const name of order) {
    try {
      set.parse(name, templates.get(name)!.text);
    } catch (err) {
      throw parseError(name, err);
    }
  }
  const rendered = new Map<string, string>();
  for (const name of order) {
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (base.startsWith('_')) continue;
    const r = templates.get(name)!;
    const template = { Name: name, BasePath: r.basePath };
    Object.defineProperty(template, GO_TYPE, { value: 'chartutil.Values', enumerable: false });
    const data = { ...r.vals, Template: template };
    let out: string;
    try {
      out = set.execute(name, data, { missingKey: 'zero' });
    } catch (err) {
      throw execError(name, err);
    }
    rendered.set(name, out.replaceAll('<no value>', ''));
  }
  let notes: string | undefined;
  const rootNotes = `${root.metadata.Name}/templates/NOTES.txt`;
  for (const k of [...rendered.keys()].sort()) {
    if (!k.endsWith('NOTES.txt')) continue;
    if (options.subchartNotes || k === rootNotes)
      notes = notes === undefined ? rendered.get(k)! : `${notes}\n${rendered.get(k)!}`;
    rendered.delete(k);
  }
  const { manifests, hooks } = sortManifests(rendered);
  const crds = options.includeCrds ? collectCrds(root) : [];
  const output = formatTemplateOutput({
    crds,
    manifests,
    hooks,
    ...(options.showOnly ? { showOnly: options.showOnly } : {}),
  });
  const result: RenderResult = { manifests, hooks, crds, values, output };
  if (notes !== undefined) result.notes = notes;
  return result;
}
