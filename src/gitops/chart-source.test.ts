// Chart sources: the reference forms (pure), and whole-system syncs of charts pushed with the real `helm push`
// to Slipway's own registry and served by a classic Helm repository (index.yaml made by `helm repo index`).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../server/index.ts';
import { parseApplications } from './app-spec.ts';
import { chartReference, isChartSource, pickVersion } from './chart-source.ts';

const HELM = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'slipway-tools', 'helm');
const run = promisify(execFile);

function source(yaml: string) {
  const [app] = parseApplications(
    `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: a}
spec:
  destination: {name: in-cluster, namespace: web}
${yaml}`,
  );
  return app!.sources;
}

test('chartReference() understands the OCI and Helm repository forms Argo CD and Slipway write', () => {
  const cases: [string, string][] = [
    [
      '  source: {chart: "oci://reg.example:5000/charts/web", targetRevision: 1.2.0}',
      'oci://reg.example:5000/charts/web:1.2.0',
    ],
    ['  source: {chart: "oci://reg.example/charts/web:1.0.0"}', 'oci://reg.example/charts/web:1.0.0'],
    [
      '  source: {repoURL: "oci://reg.example/charts", chart: web, targetRevision: 2.0.0}',
      'oci://reg.example/charts/web:2.0.0',
    ],
    [
      '  source: {repoURL: "oci://reg.example/charts/web", path: ., targetRevision: 3.0.0}',
      'oci://reg.example/charts/web:3.0.0',
    ],
    [
      '  source: {repoURL: reg.example/charts, chart: web, version: 1.0.0}',
      'oci://reg.example/charts/web:1.0.0',
    ],
    [
      '  source: {repoURL: "https://charts.example.com/stable", chart: web, targetRevision: 1.0.0}',
      'https://charts.example.com/stable/web:1.0.0',
    ],
  ];
  for (const [yaml, display] of cases) {
    const [s] = source(yaml);
    assert.ok(isChartSource(s!), yaml);
    assert.equal(chartReference(s!).display, display, yaml);
  }
  const [git] = source('  source: {repoURL: "https://git.example/x.git", path: charts/web}');
  assert.equal(isChartSource(git!), false, 'a git path is not a chart source');
  assert.throws(
    () => chartReference(source('  source: {chart: "oci://nohost"}')[0]!),
    /oci:\/\/host\/repository/,
  );
});

test('pickVersion() picks the highest release matching a constraint', () => {
  const versions = ['0.9.0', '1.0.0', '1.2.0', '1.10.1', '2.0.0-rc.1', 'latest'];
  assert.equal(pickVersion(versions, ''), '1.10.1');
  assert.equal(pickVersion(versions, '1.2.*'), '1.2.0');
  assert.equal(pickVersion(versions, '^1.0'), '1.10.1');
  assert.equal(pickVersion(versions, '>=3'), undefined);
});

test('parseApplications() accepts multi-source charts with $values refs, inline values and parameters', () => {
  const sources = source(`  sources:
    - repoURL: oci://reg.example/charts
      chart: web
      targetRevision: 1.0.0
      helm:
        valueFiles: [$values/dev/web.yaml]
        values: |
          greeting: hi
        parameters: [{name: replicas, value: "2"}]
    - repoURL: https://git.example/team/values.git
      targetRevision: main
      ref: values`);
  assert.equal(sources.length, 2);
  assert.deepEqual(sources[0]!.helm?.valueFiles, ['$values/dev/web.yaml']);
  assert.equal(sources[1]!.ref, 'values');
  assert.equal(isChartSource(sources[1]!), false);
});

// ---------------------------------------------------------------- whole system

const helmMissing = !existsSync(HELM) && 'helm is not extracted (npm ci)';
let server: TestServer;
let work: string;
let host: string;
let repoServer: Server | undefined;
let env: NodeJS.ProcessEnv;

function chartFiles(version: string, greeting: string): void {
  const dir = join(work, 'src', 'web');
  mkdirSync(join(dir, 'templates'), { recursive: true });
  writeFileSync(join(dir, 'Chart.yaml'), `apiVersion: v2\nname: web\nversion: ${version}\n`);
  writeFileSync(join(dir, 'values.yaml'), `greeting: ${greeting}\ncolour: blue\nsize: small\n`);
  writeFileSync(join(dir, 'values-big.yaml'), 'size: big\n');
  writeFileSync(
    join(dir, 'templates', 'web.yaml'),
    `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-web
data:
  greeting: {{ .Values.greeting | quote }}
  colour: {{ .Values.colour | quote }}
  size: {{ .Values.size | quote }}
  chart: {{ .Chart.Version | quote }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  ports: [{port: 80, targetPort: 8080}]
  selector: {app: web}
`,
  );
}

async function packageChart(version: string, greeting: string, out: string): Promise<string> {
  chartFiles(version, greeting);
  mkdirSync(out, { recursive: true });
  await run(HELM, ['package', join(work, 'src', 'web'), '-d', out], { env });
  return join(out, `web-${version}.tgz`);
}

async function pushChart(version: string, greeting: string): Promise<void> {
  const tgz = await packageChart(version, greeting, join(work, 'pkg'));
  const r = await run(
    HELM,
    [
      'push',
      tgz,
      `oci://${host}/charts`,
      '--plain-http',
      '--username',
      'admin',
      '--password',
      server.adminToken,
    ],
    { env },
  );
  assert.match(r.stdout + r.stderr, /Digest: sha256:/);
}

async function api<T>(method: string, path: string, json?: unknown): Promise<T> {
  const res = await server.request(path, { method, ...(json !== undefined ? { json } : {}) });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

interface View {
  status: {
    sync: string;
    health: string;
    message: string;
    revision?: string;
    comparisonError?: { message: string };
  };
}

function appYaml(name: string, sourceYaml: string, automated: boolean): string {
  return `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: ${name}
spec:
  project: default
${sourceYaml}
  destination:
    name: in-cluster
    namespace: charts-${name}
  syncPolicy:
${automated ? '    automated: {prune: true, selfHeal: true}\n' : ''}    syncOptions: [CreateNamespace=true]
`;
}

async function configMap(name: string): Promise<Record<string, string> | undefined> {
  const res = await server.request(`/kube/api/v1/namespaces/charts-${name}/configmaps/${name}-web`);
  if (res.status === 404) return undefined;
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { data: Record<string, string> }).data;
}

before(async () => {
  if (helmMissing) return;
  work = mkdtempSync(join(tmpdir(), 'slipway-chart-src-'));
  env = {
    PATH: process.env.PATH ?? '',
    HOME: work,
    HELM_REGISTRY_CONFIG: join(work, 'helm-registry.json'),
    HELM_CACHE_HOME: join(work, 'helm-cache'),
    HELM_CONFIG_HOME: join(work, 'helm-config'),
    HELM_DATA_HOME: join(work, 'helm-data'),
  };
  server = await startTestServer();
  host = new URL(server.url).host;
  // A private project: only the internal credentials let the reconciler pull from it.
  await api('POST', '/api/v1/registry/projects', { name: 'charts', public: false });
});

after(async () => {
  await server?.stop();
  await new Promise<void>((res) => (repoServer ? repoServer.close(() => res()) : res()));
  if (work) rmSync(work, { recursive: true, force: true });
});

test("an app from oci:// in Slipway's registry with $values from a second repo syncs; a version bump goes OutOfSync", {
  skip: helmMissing,
}, async () => {
  await pushChart('0.1.0', 'hello');
  // The values repository (the multi-source `ref`).
  await api('POST', '/api/v1/repos', { name: 'team/chart-values' });
  const dir = join(work, 'values');
  mkdirSync(join(dir, 'dev'), { recursive: true });
  writeFileSync(join(dir, 'dev', 'web.yaml'), 'greeting: from-git\ncolour: green\n');
  const git = (args: string[]) =>
    run('git', args, {
      cwd: dir,
      env: {
        ...env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@x',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@x',
      },
    });
  await git(['init', '-q', '-b', 'main']);
  await git(['add', '-A']);
  await git(['commit', '-q', '-m', 'values']);
  const u = new URL(server.url);
  await git([
    'push',
    '-q',
    `${u.protocol}//admin:${server.adminToken}@${u.host}/git/team/chart-values.git`,
    'main',
  ]);

  const sources = (version: string) => `  sources:
    - repoURL: oci://${host}/charts
      chart: web
      targetRevision: ${version}
      helm:
        valueFiles: [values-big.yaml, $values/dev/web.yaml]
        parameters: [{name: colour, value: red}]
        values: |
          greeting: inline
    - repoURL: ${server.url}/git/team/chart-values.git
      targetRevision: main
      ref: values`;
  await api('POST', '/api/v1/apps', {
    yaml: appYaml('web-oci', sources('0.1.0'), false),
    file: 'web-oci.yaml',
  });
  let view = await api<View>('POST', '/api/v1/apps/web-oci/refresh');
  assert.equal(view.status.sync, 'OutOfSync', JSON.stringify(view.status));
  await api('POST', '/api/v1/apps/web-oci/sync', {});
  view = await api<View>('POST', '/api/v1/apps/web-oci/refresh');
  assert.equal(view.status.sync, 'Synced', JSON.stringify(view.status));
  assert.equal(view.status.health, 'Healthy', JSON.stringify(view.status));
  // values.yaml < values-big.yaml (in the chart) < $values/dev/web.yaml (git) < inline values < parameters.
  assert.deepEqual(await configMap('web-oci'), {
    greeting: 'inline',
    colour: 'red',
    size: 'big',
    chart: '0.1.0',
  });
  // Pulled once, cached by digest.
  const cached = readdirSync(join(server.dataDir, 'gitops', 'charts', 'sha256'));
  assert.equal(cached.length, 1);
  assert.equal(view.status.revision, cached[0]!.replace(/\.tgz$/, ''));

  await pushChart('0.2.0', 'hello');
  await api('PUT', '/api/v1/apps/web-oci', {
    yaml: appYaml('web-oci', sources('0.2.0'), false),
    file: 'web-oci.yaml',
  });
  view = await api<View>('POST', '/api/v1/apps/web-oci/refresh');
  assert.equal(view.status.sync, 'OutOfSync', JSON.stringify(view.status));
  assert.equal((await configMap('web-oci'))?.chart, '0.1.0', 'a manual app only reports the change');
  await api('POST', '/api/v1/apps/web-oci/sync', {});
  view = await api<View>('POST', '/api/v1/apps/web-oci/refresh');
  assert.equal(view.status.sync, 'Synced', JSON.stringify(view.status));
  assert.equal((await configMap('web-oci'))?.chart, '0.2.0');
});

test('a missing chart version is a ComparisonError naming the reference, and nothing is applied', {
  skip: helmMissing,
}, async () => {
  const yaml = appYaml(
    'web-missing',
    `  source:\n    chart: oci://${host}/charts/web\n    targetRevision: 9.9.9`,
    true,
  );
  await api('POST', '/api/v1/apps', { yaml, file: 'web-missing.yaml' });
  const view = await api<View>('POST', '/api/v1/apps/web-missing/refresh');
  assert.equal(view.status.sync, 'Unknown');
  assert.match(view.status.comparisonError?.message ?? '', new RegExp(`oci://${host}/charts/web:9\\.9\\.9`));
  assert.equal(await configMap('web-missing'), undefined);
});

test('an app from a classic Helm repository (index.yaml + .tgz) syncs automatically', {
  skip: helmMissing,
}, async () => {
  const repoDir = join(work, 'repo');
  await packageChart('1.0.0', 'classic', repoDir);
  await packageChart('1.1.0', 'classic-newer', repoDir);
  repoServer = createServer((req, res) => {
    const file = join(repoDir, (req.url ?? '/').replace(/^\/charts\//, '').replace(/[^\w.-]/g, ''));
    if (!req.url?.startsWith('/charts/') || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(readFileSync(file));
  });
  await new Promise<void>((res) => repoServer!.listen(0, '127.0.0.1', () => res()));
  const url = `http://127.0.0.1:${(repoServer.address() as AddressInfo).port}/charts/`;
  await run(HELM, ['repo', 'index', repoDir, '--url', url], { env });

  const yaml = appYaml(
    'web-classic',
    `  source:\n    repoURL: ${url}\n    chart: web\n    targetRevision: 1.0.*`,
    true,
  );
  await api('POST', '/api/v1/apps', { yaml, file: 'web-classic.yaml' });
  const view = await api<View>('POST', '/api/v1/apps/web-classic/refresh');
  assert.equal(view.status.sync, 'Synced', JSON.stringify(view.status));
  assert.equal(view.status.health, 'Healthy');
  assert.deepEqual(await configMap('web-classic'), {
    greeting: 'classic',
    colour: 'blue',
    size: 'small',
    chart: '1.0.0',
  });

  const bad = appYaml(
    'web-nochart',
    `  source:\n    repoURL: ${url}\n    chart: nothere\n    targetRevision: 1.0.0`,
    true,
  );
  await api('POST', '/api/v1/apps', { yaml: bad, file: 'web-nochart.yaml' });
  const v2 = await api<View>('POST', '/api/v1/apps/web-nochart/refresh');
  assert.match(v2.status.comparisonError?.message ?? '', /nothere/);
});

test('a Helm repository behind basic auth: ComparisonError names URL and status until /repo-creds has the right password', {
  skip: helmMissing,
}, async () => {
  const repoDir = join(work, 'private-repo');
  await packageChart('2.0.0', 'private', repoDir);
  const expected = `Basic ${Buffer.from('reader:s3cret-pw').toString('base64')}`;
  const privateServer = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="charts"' }).end();
      return;
    }
    const file = join(repoDir, (req.url ?? '/').replace(/^\/private\//, '').replace(/[^\w.-]/g, ''));
    if (!req.url?.startsWith('/private/') || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(readFileSync(file));
  });
  await new Promise<void>((res) => privateServer.listen(0, '127.0.0.1', () => res()));
  try {
    const url = `http://127.0.0.1:${(privateServer.address() as AddressInfo).port}/private/`;
    await run(HELM, ['repo', 'index', repoDir, '--url', url], { env });
    const yaml = appYaml(
      'web-private',
      `  source:\n    repoURL: ${url}\n    chart: web\n    targetRevision: 2.x`,
      true,
    );
    await api('POST', '/api/v1/apps', { yaml, file: 'web-private.yaml' });
    let view = await api<View>('POST', '/api/v1/apps/web-private/refresh');
    assert.equal(view.status.sync, 'Unknown');
    assert.match(view.status.comparisonError?.message ?? '', new RegExp(`${url}index\\.yaml.*HTTP 401`));

    // Credentials are admin-only; a developer gets 403.
    const dev = await server.createUser('dev-creds', 'developer', []);
    const denied = await server.request('/api/v1/repo-creds', {
      method: 'POST',
      token: dev,
      json: { url, username: 'reader', password: 'x' },
    });
    assert.equal(denied.status, 403);

    await api('POST', '/api/v1/repo-creds', { url, username: 'reader', password: 'wrong' });
    view = await api<View>('POST', '/api/v1/apps/web-private/refresh');
    assert.match(view.status.comparisonError?.message ?? '', /HTTP 401/);

    const added = await api<{ id: number; url: string }>('POST', '/api/v1/repo-creds', {
      url: url.replace(/\/private\/$/, ''),
      username: 'reader',
      password: 's3cret-pw',
    });
    // The longest prefix wins: remove the wrong one (by id) so the host-wide credential applies.
    const list = await api<{ items: { id: number; url: string; username: string }[] }>(
      'GET',
      '/api/v1/repo-creds',
    );
    assert.equal(list.items.length, 2);
    assert.ok(!JSON.stringify(list).includes('s3cret-pw'), 'secrets are never returned');
    const wrong = list.items.find((c) => c.id !== added.id)!;
    const del = await server.request(`/api/v1/repo-creds/${wrong.id}`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    view = await api<View>('POST', '/api/v1/apps/web-private/refresh');
    assert.equal(view.status.sync, 'Synced', JSON.stringify(view.status));
    assert.equal((await configMap('web-private'))?.greeting, 'private');
  } finally {
    await new Promise<void>((res) => privateServer.close(() => res()));
  }
});

test('a private chart in a second Slipway registry: a ComparisonError until oci:// credentials are registered', {
  skip: helmMissing,
}, async () => {
  const other = await startTestServer();
  try {
    const otherHost = new URL(other.url).host;
    const created = await other.request('/api/v1/registry/projects', {
      method: 'POST',
      json: { name: 'private', public: false },
    });
    assert.equal(created.status, 201, await created.text());
    const tgz = await packageChart('3.0.0', 'elsewhere', join(work, 'pkg-other'));
    await run(
      HELM,
      [
        'push',
        tgz,
        `oci://${otherHost}/private`,
        '--plain-http',
        '--username',
        'admin',
        '--password',
        other.adminToken,
      ],
      { env },
    );
    const yaml = appYaml(
      'web-other',
      `  source:\n    repoURL: oci://${otherHost}/private\n    chart: web\n    targetRevision: 3.0.0`,
      true,
    );
    await api('POST', '/api/v1/apps', { yaml, file: 'web-other.yaml' });
    let view = await api<View>('POST', '/api/v1/apps/web-other/refresh');
    assert.equal(view.status.sync, 'Unknown');
    assert.match(view.status.comparisonError?.message ?? '', new RegExp(`oci://${otherHost}/private/web`));
    await api('POST', '/api/v1/repo-creds', {
      url: `oci://${otherHost}`,
      username: 'admin',
      password: other.adminToken,
    });
    view = await api<View>('POST', '/api/v1/apps/web-other/refresh');
    assert.equal(view.status.sync, 'Synced', JSON.stringify(view.status));
    assert.equal((await configMap('web-other'))?.greeting, 'elsewhere');
  } finally {
    await other.stop();
  }
});
