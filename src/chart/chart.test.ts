import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../core/index.ts';
import { type ChartFiles, loadArchiveFiles, loadChartFromFiles, parseHelmIgnore } from './chart.ts';
import { buildChartTree, chartFullPath, processDependencies } from './dependencies.ts';
import { newTemplateFiles } from './files.ts';
import { validateAgainstSchema, validateChartValues } from './schema.ts';
import { writeTarGz } from './tar.ts';
import { coalesceValues } from './values.ts';

const enc = new TextEncoder();

function sub(prefix: string, name: string, extra = '', values = ''): ChartFiles {
  return {
    [`${prefix}Chart.yaml`]: `apiVersion: v2\nname: ${name}\nversion: 0.1.0\n${extra}`,
    [`${prefix}values.yaml`]: values,
    [`${prefix}templates/cm.yaml`]: 'kind: ConfigMap',
  };
}

test('loadChartFromFiles() sorts files into metadata, values, templates, files and sub-charts', () => {
  const chart = loadChartFromFiles({
    'Chart.yaml': 'apiVersion: v2\nname: app\nversion: 1.0.0\nappVersion: "2"\n',
    'values.yaml': 'replicas: 3\n',
    'values.schema.json': '{"type":"object"}',
    'templates/a.yaml': 'kind: A',
    'templates/_h.tpl': '{{ define "x" }}{{ end }}',
    'files/x.txt': 'x',
    'crds/c.yaml': 'kind: CustomResourceDefinition',
    ...sub('charts/db/', 'db'),
  });
  assert.equal(chart.metadata.Name, 'app');
  assert.equal(chart.metadata.AppVersion, '2');
  assert.deepEqual(chart.values, { replicas: 3 });
  assert.deepEqual(chart.schema, { type: 'object' });
  assert.deepEqual(
    chart.templates.map((t) => t.name),
    ['templates/_h.tpl', 'templates/a.yaml'],
  );
  assert.deepEqual(
    chart.files.map((f) => f.name),
    ['crds/c.yaml', 'files/x.txt'],
  );
  assert.deepEqual(
    chart.dependencies.map((d) => d.metadata.Name),
    ['db'],
  );
});

test('loadChartFromFiles() names the file in errors', () => {
  assert.throws(() => loadChartFromFiles({ 'values.yaml': '' }), /Chart.yaml file is missing/);
  assert.throws(
    () => loadChartFromFiles({ 'Chart.yaml': 'apiVersion: v2\nname: a\n' }),
    (e: unknown) => e instanceof InputError && /version is required/.test(e.message),
  );
  assert.throws(
    () =>
      loadChartFromFiles({
        'Chart.yaml': 'apiVersion: v2\nname: a\nversion: 1.0.0\n',
        'values.yaml': 'a: [',
      }),
    (e: unknown) => e instanceof InputError && e.location?.file === 'values.yaml',
  );
});

test('loadChartFromFiles() reads v1 requirements.yaml and packaged sub-charts', () => {
  const packed = writeTarGz([
    {
      path: 'lib/Chart.yaml',
      data: enc.encode('apiVersion: v2\nname: lib\nversion: 1.0.0\ntype: library\n'),
    },
    { path: 'lib/templates/_l.tpl', data: enc.encode('{{ define "l" }}l{{ end }}') },
  ]);
  const chart = loadChartFromFiles({
    'Chart.yaml': 'apiVersion: v1\nname: old\nversion: 0.1.0\n',
    'requirements.yaml': 'dependencies:\n  - name: lib\n    version: 1.0.0\n',
    'charts/lib-1.0.0.tgz': packed,
  });
  assert.equal(chart.metadata.Dependencies[0]?.Name, 'lib');
  assert.equal(chart.dependencies[0]?.metadata.Type, 'library');
  const again = loadArchiveFiles(packed);
  assert.equal(again.metadata.Name, 'lib');
});

test('parseHelmIgnore() ignores like Helm', () => {
  const ignored = parseHelmIgnore('# comment\n*.bak\nsecret/\n/top.txt\ndocs/*.md\n');
  assert.equal(ignored('a/b.bak', false), true);
  assert.equal(ignored('secret', true), true);
  assert.equal(ignored('secret', false), false);
  assert.equal(ignored('top.txt', false), true);
  assert.equal(ignored('docs/a.md', false), true);
  assert.equal(ignored('keep.txt', false), false);
  assert.equal(ignored('templates/.hidden', false), true);
});

test('.Files serves Get, Lines, Glob, AsConfig and AsSecrets', () => {
  const files = newTemplateFiles([
    { name: 'conf/a.yaml', data: enc.encode('a: 1\n') },
    { name: 'conf/b.txt', data: enc.encode('b') },
    { name: 'lines.txt', data: enc.encode('x\ny\n') },
  ]);
  assert.equal(files.Get('conf/b.txt'), 'b');
  assert.equal(files.Get('missing'), '');
  assert.deepEqual(files.Lines('lines.txt'), ['x', 'y']);
  assert.deepEqual(Object.keys(files.Glob('conf/*')), ['conf/a.yaml', 'conf/b.txt']);
  assert.deepEqual(Object.keys(files.Glob('**.txt')), ['conf/b.txt', 'lines.txt']);
  assert.equal(files.Glob('conf/*').AsConfig(), 'a.yaml: |\n  a: 1\nb.txt: b');
  assert.equal(files.Glob('conf/b.txt').AsSecrets(), 'b.txt: Yg==');
  assert.equal(files.Glob('none/*').AsConfig(), '{}');
});

function depChart(): ChartFiles {
  return {
    'Chart.yaml': `apiVersion: v2
name: app
version: 0.1.0
dependencies:
  - name: db
    version: 0.1.0
    condition: db.enabled
  - name: cache
    version: 0.1.0
    tags: [backend]
  - name: worker
    version: ^0.1.0
    alias: fast
    import-values:
      - data
      - child: settings
        parent: imported
`,
    'values.yaml': 'db:\n  enabled: false\nimported:\n  keep: parent\n',
    ...sub('charts/db/', 'db'),
    ...sub('charts/cache/', 'cache'),
    ...sub(
      'charts/worker/',
      'worker',
      '',
      'exports:\n  data:\n    exported: 1\nsettings:\n  keep: child\n  port: 80\n',
    ),
  };
}

test('processDependencies() applies conditions, tags, aliases and import-values', () => {
  const root = buildChartTree(loadChartFromFiles(depChart()));
  processDependencies(root, { tags: { backend: false } });
  assert.deepEqual(
    root.deps.map((d) => d.metadata.Name),
    ['fast'],
  );
  assert.equal(chartFullPath(root.deps[0]!), 'app/charts/fast');
  const values = coalesceValues(root, {});
  assert.equal(values.exported, 1);
  assert.deepEqual(values.imported, { keep: 'parent', port: 80 });
});

test('processDependencies() lets a condition beat tags', () => {
  const root = buildChartTree(loadChartFromFiles(depChart()));
  processDependencies(root, { db: { enabled: true }, tags: { backend: true } });
  assert.deepEqual(root.deps.map((d) => d.metadata.Name).sort(), ['cache', 'db', 'fast']);
});

test('validateAgainstSchema() reports errors like Helm (gojsonschema wording)', () => {
  const schema = {
    type: 'object',
    required: ['image'],
    properties: {
      replicas: { type: 'integer', minimum: 1 },
      big: { type: 'number', maximum: 1000000 },
      env: { enum: ['dev', 'prod'] },
      name: { type: 'string' },
    },
  };
  const lines = validateAgainstSchema(schema, { replicas: 0, big: 2e6, env: 'qa', name: 5n });
  assert.deepEqual(lines.sort(), [
    '(root): image is required',
    'big: Must be less than or equal to 1e+06',
    'env: env must be one of the following: "dev", "prod"',
    'name: Invalid type. Expected: string, given: integer',
    'replicas: Must be greater than or equal to 1',
  ]);
});

test('validateChartValues() checks each sub-chart with its own values', () => {
  const chart = loadChartFromFiles({
    'Chart.yaml': 'apiVersion: v2\nname: app\nversion: 0.1.0\n',
    ...sub('charts/db/', 'db', '', 'port: 5432\n'),
    'charts/db/values.schema.json': '{"properties":{"port":{"type":"string"}}}',
  });
  const root = buildChartTree(chart);
  processDependencies(root, {});
  assert.throws(
    () => validateChartValues(root, coalesceValues(root, {})),
    /following chart\(s\):\ndb:\n- port: Invalid type. Expected: string, given: integer\n/,
  );
});
