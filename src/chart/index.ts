// chart: Helm 3 charts — loading (directory, .tgz, OCI), values and dependencies, and rendering exactly like
// `helm template`. The loader and renderer are pure; load.ts is the I/O shell.
export {
  loadChartFromFiles,
  loadArchiveFiles,
  parseChartMetadata,
  parseHelmIgnore,
  goPathMatch,
} from './chart.ts';
export type {
  Chart,
  ChartFiles,
  ChartFile,
  ChartMetadata,
  ChartDependency,
  ChartMaintainer,
  LoadChartOptions,
} from './chart.ts';
export {
  loadChart,
  readChartDir,
  pullOciChart,
  parseOciReference,
  HELM_CHART_CONTENT_MEDIA_TYPE,
  HELM_CHART_CONFIG_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
} from './load.ts';
export type { LoadChartSourceOptions, RegistryAuth } from './load.ts';
export { renderChart, mergeUserValues, ChartRenderError } from './render.ts';
export type { RenderOptions, RenderResult } from './render.ts';
export {
  INSTALL_ORDER,
  splitManifests,
  sortManifests,
  compareByKind,
  formatTemplateOutput,
} from './manifests.ts';
export type { RenderedManifest, HookInfo, CrdFile } from './manifests.ts';
export {
  parseSet,
  parseSetString,
  parseSetJson,
  parseSetFile,
  parseSetLiteral,
  typedValue,
  SetSyntaxError,
} from './strvals.ts';
export { coalesceValues, mergeValues, coalesceTables, mergeMaps } from './values.ts';
export { SchemaValidationError, validateAgainstSchema } from './schema.ts';
export {
  makeCapabilities,
  parseKubeVersion,
  DEFAULT_KUBE_VERSION,
  DEFAULT_API_VERSIONS,
} from './capabilities.ts';
export type { Capabilities, KubeVersion } from './capabilities.ts';
export { parseGoYaml, stringifyGoYaml } from './go-yaml.ts';
export { readTarGz, writeTarGz } from './tar.ts';
export type { TarEntry } from './tar.ts';
export { isCompatibleRange } from './semver-range.ts';
