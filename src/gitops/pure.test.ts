import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseApplications } from './app-spec.ts';
import { diffObject } from './diff.ts';
import { groupByWave, planSync } from './sync-plan.ts';
import { syncAllowed } from './sync-windows.ts';

test('parseApplications() reads an Argo CD Application with multiple sources', () => {
  const [app] = parseApplications(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web-prod, labels: {slipway.dev/service: web}}
spec:
  sources:
    - {repoURL: https://git.example.com/charts.git, targetRevision: v1, path: charts/web, helm: {valueFiles: [$values/prod/web/values.yaml]}}
    - {repoURL: team/helm-values, ref: values}
  destination: {server: https://kubernetes.default.svc, namespace: web}
  syncPolicy: {syncOptions: [PruneLast=true]}
`);
  assert.equal(app!.environment, 'prod');
  assert.equal(app!.destination.name, 'in-cluster');
  assert.equal(app!.sources[1]!.ref, 'values');
  assert.equal(app!.syncPolicy.automated, null);
  assert.equal(app!.syncPolicy.syncOptions.pruneLast, true);
});

test('parseApplications() names file, line and field of a bad value', () => {
  assert.throws(
    () =>
      parseApplications(
        'metadata: {name: a}\nspec:\n  source: {repoURL: x/y, path: p}\n  destination: {namespace: n}\n  syncPolicy:\n    syncOptions: [Nope=true]\n',
        'a.yaml',
      ),
    (e: Error & { location?: { file?: string; line?: number; field?: string } }) =>
      e.location?.file === 'a.yaml' &&
      e.location.line === 6 &&
      e.location.field === 'spec.syncPolicy.syncOptions.0',
  );
  assert.throws(
    () => parseApplications('metadata: {name: Bad_Name}\n', 'b.yaml'),
    /b\.yaml:1:.*metadata\.name/,
  );
  assert.throws(() => parseApplications('a: [\n', 'c.yaml'), /Cannot parse c\.yaml:2/);
  assert.throws(
    () =>
      parseApplications(
        'metadata: {name: a}\nspec:\n  sources:\n    - {repoURL: x/y, path: p, helm: {valueFiles: [$nope/v.yaml]}}\n  destination: {}\n',
      ),
    /no source has ref: nope/,
  );
});

const cm = (name: string, ann: Record<string, string> = {}) => ({
  object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, annotations: ann } },
  source: `templates/${name}.yaml`,
});

test('planSync() orders by wave then kind, splits hooks and adds tracking', () => {
  const plan = planSync('app', 'ns', [
    { object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } }, source: 'd.yaml' },
    cm('late', { 'argocd.argoproj.io/sync-wave': '5' }),
    cm('early', { 'slipway.dev/sync-wave': '-1' }),
    cm('cfg'),
    {
      object: {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {
          name: 'migrate',
          annotations: { 'helm.sh/hook': 'pre-upgrade', 'helm.sh/hook-delete-policy': 'hook-succeeded' },
        },
      },
      source: 'job.yaml',
    },
    cm('skip', { 'argocd.argoproj.io/hook': 'Skip' }),
    { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }, source: 'ns.yaml' },
  ]);
  assert.deepEqual(
    plan.resources.map((r) => r.object.metadata.name),
    ['early', 'x', 'cfg', 'd', 'late'],
  );
  assert.deepEqual(
    groupByWave(plan.resources).map((w) => w.wave),
    [-1, 0, 5],
  );
  assert.deepEqual(
    plan.hooks.PreSync.map((h) => [h.object.metadata.name, h.deletePolicies]),
    [['migrate', ['HookSucceeded']]],
  );
  assert.equal(plan.skipped.length, 1);
  const d = plan.resources.find((r) => r.object.kind === 'Deployment')!.object;
  assert.equal(d.metadata.namespace, 'ns');
  assert.equal(d.metadata.annotations?.['slipway.dev/app'], 'app');
  assert.equal(
    plan.resources.find((r) => r.object.kind === 'Namespace')!.object.metadata.namespace,
    undefined,
  );
  assert.throws(
    () => planSync('app', 'ns', [cm('a', { 'argocd.argoproj.io/sync-wave': 'x' })]),
    /sync wave must be a whole number/,
  );
  assert.throws(() => planSync('app', 'ns', [cm('a'), cm('a')]), /also defined/);
});

test('diffObject() ignores server-added fields and honours ignoreDifferences', () => {
  const desired = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd' },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image: 'a:1' }] } } },
  };
  const live = structuredClone(desired) as typeof desired & { status?: unknown };
  (live.metadata as Record<string, unknown>).uid = 'u';
  (live.spec.template.spec.containers[0] as Record<string, unknown>).imagePullPolicy = 'IfNotPresent';
  live.status = { replicas: 2 };
  assert.equal(diffObject(desired, live).modified, false);
  live.spec.replicas = 5;
  assert.deepEqual(
    diffObject(desired, live).changes.map((c) => c.path),
    ['spec.replicas'],
  );
  const ignoreReplicas = [{ group: 'apps', kind: 'Deployment', jsonPointers: ['/spec/replicas'] }];
  assert.equal(diffObject(desired, live, ignoreReplicas).modified, false);
  live.spec.template.spec.containers[0]!.image = 'a:0';
  assert.deepEqual(
    diffObject(desired, live, ignoreReplicas).changes.map((c) => c.path),
    ['spec.template.spec.containers[0].image'],
  );
});

test('syncAllowed() applies deny windows, allow windows and manualSync', () => {
  const at = Date.UTC(2026, 0, 5, 23, 0); // Monday 23:00 UTC
  const deny = { kind: 'deny' as const, schedule: '0 22 * * *', duration: '8h', manualSync: false };
  assert.equal(syncAllowed([deny], at, false).allowed, false);
  assert.equal(syncAllowed([{ ...deny, manualSync: true }], at, true).allowed, true);
  assert.equal(syncAllowed([deny], Date.UTC(2026, 0, 5, 12, 0), false).allowed, true);
  const allow = { kind: 'allow' as const, schedule: '0 9 * * 1-5', duration: '8h', manualSync: false };
  assert.equal(syncAllowed([allow], Date.UTC(2026, 0, 5, 10, 0), false).allowed, true);
  assert.equal(syncAllowed([allow], Date.UTC(2026, 0, 4, 10, 0), false).allowed, false);
});

test('ignoreDifferences with jqPathExpressions are parsed and honoured by the diff', () => {
  const [app] = parseApplications(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: jq}
spec:
  source: {repoURL: team/x, path: .}
  destination: {namespace: jq}
  ignoreDifferences:
    - kind: Deployment
      jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "app") | .image']
`);
  const desired = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', namespace: 'jq' },
    spec: { template: { spec: { containers: [{ name: 'app', image: 'a:1' }] } } },
  };
  const live = structuredClone(desired);
  live.spec.template.spec.containers[0]!.image = 'a:2';
  assert.equal(diffObject(desired, live).modified, true);
  assert.equal(diffObject(desired, live, app!.ignoreDifferences).modified, false);
});
