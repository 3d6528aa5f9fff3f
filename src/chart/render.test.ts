import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { InputError, isSlipwayError } from '../core/index.ts';
import { registerTemplateCommand } from '../cli/commands/template.ts';
import { type ChartFiles, loadChartFromFiles } from './chart.ts';
import { ChartRenderError, renderChart } from './render.ts';
import { SchemaValidationError } from './schema.ts';
import { GoInt64 } from '../template/index.ts';

function chart(templates: Record<string, string>, extra: ChartFiles = {}) {
  const files: ChartFiles = { 'Chart.yaml': 'apiVersion: v2\nname: app\nversion: 0.1.0\n', ...extra };
  for (const [k, v] of Object.entries(templates)) files[`templates/${k}`] = v;
  return loadChartFromFiles(files);
}

test('renderChart() returns manifests, hooks, notes and the values used', () => {
  const c = chart(
    {
      'cm.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  x: "{{ .Values.x }}"\n',
      'job.yaml': 'kind: Job\nmetadata:\n  name: j\n  annotations:\n    helm.sh/hook: pre-install\n',
      'NOTES.txt': 'installed {{ .Release.Name }}',
    },
    { 'values.yaml': 'x: 1\n' },
  );
  const r = renderChart(c, { releaseName: 'rel', set: ['x=2'] });
  assert.deepEqual(
    r.manifests.map((m) => [m.path, m.kind, m.name]),
    [['app/templates/cm.yaml', 'ConfigMap', 'rel']],
  );
  assert.equal(r.hooks[0]?.hook?.events[0], 'pre-install');
  assert.equal(r.notes, 'installed rel');
  assert.deepEqual(r.values, { x: new GoInt64(2n) });
  assert.match(r.output, /^---\n# Source: app\/templates\/cm.yaml\n/);
  assert.ok(!r.output.includes('installed'));
});

test('renderChart() reports template errors with Helm messages and file:line:column', () => {
  const c = chart({ 'a.yaml': 'a: 1\nb: {{ .Values.a.b }}\n' });
  assert.throws(
    () => renderChart(c, {}),
    (e: unknown) =>
      e instanceof ChartRenderError &&
      e instanceof InputError &&
      e.location?.file === 'app/templates/a.yaml' &&
      e.location.line === 2 &&
      e.location.column === 13 &&
      e.message.includes('nil pointer evaluating interface {}.b'),
  );
  const r = chart({ 'a.yaml': 'x: {{ required "x is required" .Values.x }}' });
  assert.throws(
    () => renderChart(r, {}),
    (e: unknown) =>
      e instanceof ChartRenderError &&
      e.message === 'execution error at (app/templates/a.yaml:1:6): x is required',
  );
  const p = chart({ 'a.yaml': '{{ if }}' });
  assert.throws(
    () => renderChart(p, {}),
    (e: unknown) => e instanceof ChartRenderError && e.location?.line === 1,
  );
});

test('renderChart() uses an injected lookup, else an empty map', () => {
  const c = chart({
    'a.yaml': '{{ $s := lookup "v1" "Secret" "ns" "s" }}n: {{ if $s }}{{ $s.data.k }}{{ else }}none{{ end }}',
  });
  assert.match(renderChart(c, {}).output, /n: none/);
  const live = renderChart(c, { lookup: (_a, kind, ns, name) => ({ data: { k: `${kind}/${ns}/${name}` } }) });
  assert.match(live.output, /n: Secret\/ns\/s/);
});

test('renderChart() validates values against values.schema.json', () => {
  const c = chart({ 'a.yaml': 'a: 1' }, { 'values.schema.json': '{"required":["name"]}' });
  assert.throws(() => renderChart(c, {}), SchemaValidationError);
  assert.doesNotThrow(() => renderChart(c, { skipSchemaValidation: true }));
  assert.doesNotThrow(() => renderChart(c, { values: { name: 'n' } }));
});

test('renderChart() checks the chart kubeVersion constraint', () => {
  const c = loadChartFromFiles({
    'Chart.yaml': 'apiVersion: v2\nname: app\nversion: 0.1.0\nkubeVersion: ">=1.30.0-0"\n',
    'templates/a.yaml': 'a: 1',
  });
  assert.doesNotThrow(() => renderChart(c, {}));
  assert.throws(() => renderChart(c, { kubeVersion: '1.29.0' }), /chart requires kubeVersion: >=1.30.0-0/);
});

test('slipway template prints Error: and exits 1 on a bad flag value', async () => {
  let stderr = '';
  let code = 0;
  const program = new Command().exitOverride();
  registerTemplateCommand(program, {
    stdout: () => {},
    stderr: (t) => (stderr += t),
    exit: (c) => (code = c),
  });
  await program.parseAsync(['template', 'x', '/nonexistent/chart'], { from: 'user' });
  assert.equal(code, 1);
  assert.match(stderr, /^Error: path "\/nonexistent\/chart" not found\n$/);
});

test('slipway template without io throws a located error with exit code 1 (for the main CLI)', async () => {
  const program = new Command().exitOverride();
  registerTemplateCommand(program);
  await assert.rejects(
    program.parseAsync(['template', 'x', '/nonexistent/chart'], { from: 'user' }),
    (e: unknown) => isSlipwayError(e) && e.exitCode === 1 && /not found/.test(e.message),
  );
});
