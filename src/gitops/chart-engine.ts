// chart/'s Helm engine as the renderer's ChartEngine: renders in-process exactly like `helm template`.
import { InputError, isSlipwayError } from '../core/index.ts';
import { loadChartFromFiles, renderChart } from '../chart/index.ts';
import { parseManifestFile } from './manifests.ts';
import type { ChartEngine } from './renderer.ts';
import type { RenderedManifest } from './seams.ts';

function stripChart(path: string, chart: string): string {
  return path.startsWith(`${chart}/`) ? path.slice(chart.length + 1) : path;
}

/** Renders Helm sources with chart/ (no helm binary, no temp files). */
export function chartEngine(): ChartEngine {
  return async (input) => {
    let name = 'chart';
    try {
      const chart = loadChartFromFiles(input.files);
      name = chart.metadata.Name;
      const result = renderChart(chart, {
        releaseName: input.releaseName,
        namespace: input.namespace,
        valueFiles: [
          ...input.valueFiles,
          ...(input.values ? [{ name: 'inline values', text: input.values }] : []),
        ],
        set: input.set.filter((p) => !p.forceString).map((p) => `${p.name}=${p.value}`),
        setString: input.set.filter((p) => p.forceString).map((p) => `${p.name}=${p.value}`),
      });
      const out: RenderedManifest[] = [];
      for (const m of [...result.manifests, ...result.hooks])
        out.push(...parseManifestFile(m.content, stripChart(m.path, name)));
      return out;
    } catch (err) {
      if (isSlipwayError(err) && err.location?.file) {
        const file = stripChart(err.location.file, name);
        throw new InputError(err.message.replaceAll(`${name}/${file}`, file), {
          location: { ...err.location, file },
          cause: err,
        });
      }
      throw err;
    }
  };
}
