// Which sub-charts take part in a render (pkg/chartutil/dependencies.go): `condition` paths and `tags` read from
// the top-level values, `alias` renaming, and `import-values` (both the string and the child/parent forms).
import { InputError } from '../core/index.ts';
import type { Chart, ChartDependency, ChartMetadata } from './chart.ts';
import { isCompatibleRange } from './semver-range.ts';
import {
  coalesceTables,
  coalesceValues,
  type Dict,
  deepCopy,
  isTable,
  mergeValues,
  pathToMap,
  pathValue,
  table,
  type ValuesNode,
} from './values.ts';

/** A chart in the render tree: metadata copied (aliases applied), values replaced by import processing. */
export interface ChartNode extends ValuesNode {
  chart: Chart;
  deps: ChartNode[];
  parent: ChartNode | undefined;
}

function copyMetadata(md: ChartMetadata): ChartMetadata {
  return {
    ...md,
    Dependencies: md.Dependencies.map((d) => ({
      ...d,
      Tags: [...d.Tags],
      ImportValues: [...d.ImportValues],
    })),
  };
}

/** Builds the mutable render tree of a loaded chart (nothing in `chart` is changed later). */
export function buildChartTree(chart: Chart, parent?: ChartNode): ChartNode {
  const node: ChartNode = {
    chart,
    metadata: copyMetadata(chart.metadata),
    values: deepCopy(chart.values),
    deps: [],
    parent,
  };
  node.deps = chart.dependencies.map((d) => buildChartTree(d, node));
  return node;
}

/** Full path Helm uses in `# Source:` lines and template names: `root/charts/sub`. */
export function chartFullPath(node: ChartNode): string {
  return node.parent ? `${chartFullPath(node.parent)}/charts/${node.metadata.Name}` : node.metadata.Name;
}

/** Helm's CheckDependencies: every declared dependency must be present under charts/. */
export function checkDependencies(node: ChartNode): void {
  const missing = node.metadata.Dependencies.filter(
    (r) => !node.deps.some((d) => d.metadata.Name === r.Name),
  ).map((r) => r.Name);
  if (missing.length > 0) {
    throw new InputError(
      `An error occurred while checking for chart dependencies. You may need to run \`helm dependency build\` to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: ${missing.join(', ')}`,
      { location: { file: `${node.metadata.Name}/Chart.yaml`, field: 'dependencies' } },
    );
  }
}

function aliasDependency(charts: ChartNode[], dep: ChartDependency): ChartNode | undefined {
  for (const c of charts) {
    if (c.metadata.Name !== dep.Name) continue;
    if (!isCompatibleRange(dep.Version, c.metadata.Version)) continue;
    const out: ChartNode = { ...c, metadata: copyMetadata(c.metadata), values: c.values, deps: c.deps };
    if (dep.Alias !== '') out.metadata.Name = dep.Alias;
    // children keep pointing at the copy so that full paths use the alias
    out.deps = c.deps.map((d) => reparent(d, out));
    return out;
  }
  return undefined;
}

function reparent(node: ChartNode, parent: ChartNode): ChartNode {
  const out: ChartNode = { ...node, parent };
  out.deps = node.deps.map((d) => reparent(d, out));
  return out;
}

function processTags(reqs: ChartDependency[], cvals: Dict): void {
  const tags = table(cvals, 'tags');
  if (!tags) return;
  for (const r of reqs) {
    let hasTrue = false;
    let hasFalse = false;
    for (const k of r.Tags) {
      const b = tags[k];
      if (typeof b === 'boolean') {
        if (b) hasTrue = true;
        else hasFalse = true;
      }
    }
    if (!hasTrue && hasFalse) r.Enabled = false;
    else r.Enabled = true;
  }
}

function processConditions(reqs: ChartDependency[], cvals: Dict, cpath: string): void {
  for (const r of reqs) {
    for (const c of r.Condition.trim().split(',')) {
      if (c.length === 0) continue;
      const { found, value } = pathValue(cvals, cpath + c);
      if (found && typeof value === 'boolean') {
        r.Enabled = value;
        break;
      }
    }
  }
}

function processEnabled(node: ChartNode, v: Dict, path: string): void {
  if (node.metadata.Dependencies.length === 0 && node.chart.metadata.Dependencies.length === 0) return;
  const reqs = node.metadata.Dependencies;
  const chartDeps: ChartNode[] = [];
  outer: for (const existing of node.deps) {
    for (const req of reqs) {
      if (existing.metadata.Name === req.Name && isCompatibleRange(req.Version, existing.metadata.Version))
        continue outer;
    }
    chartDeps.push(existing);
  }
  for (const req of reqs) {
    const dep = aliasDependency(node.deps, req);
    if (dep) chartDeps.push(dep);
    if (req.Alias !== '') req.Name = req.Alias;
  }
  node.deps = chartDeps.map((d) => (d.parent === node ? d : reparent(d, node)));
  for (const r of reqs) r.Enabled = true;
  const cvals = coalesceValues(node, v);
  processTags(reqs, cvals);
  processConditions(reqs, cvals, path);
  const rm = new Set(reqs.filter((r) => !r.Enabled).map((r) => r.Name));
  const kept = node.deps.filter((d) => !rm.has(d.metadata.Name));
  for (const t of kept) processEnabled(t, cvals, `${path}${t.metadata.Name}.`);
  node.metadata.Dependencies = reqs.filter((r) => !rm.has(r.Name));
  node.deps = kept;
}

function processImportValues(node: ChartNode): void {
  for (const d of node.deps) processImportValues(d);
  if (node.metadata.Dependencies.length === 0 && node.chart.metadata.Dependencies.length === 0) return;
  const cvals = mergeValues(node, undefined);
  let b: Dict = {};
  for (const r of node.metadata.Dependencies) {
    const out: unknown[] = [];
    for (const riv of r.ImportValues) {
      if (isTable(riv)) {
        const child = typeof riv.child === 'string' ? riv.child : String(riv.child ?? '');
        const parent = typeof riv.parent === 'string' ? riv.parent : String(riv.parent ?? '');
        out.push({ child, parent });
        const vv = table(cvals, `${r.Name}.${child}`);
        if (!vv) continue;
        b = coalesceTables(b, pathToMap(parent, deepCopy(vv)), true);
      } else if (typeof riv === 'string') {
        out.push({ child: `exports.${riv}`, parent: '.' });
        const vm = table(cvals, `${r.Name}.exports.${riv}`);
        if (!vm) continue;
        b = coalesceTables(b, deepCopy(vm), true);
      }
    }
    r.ImportValues = out;
  }
  node.values = coalesceTables(deepCopy(cvals), b, true);
}

/**
 * Helm's ProcessDependenciesWithMerge: drops disabled sub-charts, applies aliases, imports values.
 * `userValues` are the merged `-f`/`--set` values (before coalescing).
 */
export function processDependencies(root: ChartNode, userValues: Dict): void {
  processEnabled(root, userValues, '');
  processImportValues(root);
}
