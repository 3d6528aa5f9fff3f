import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareByKind, formatTemplateOutput, sortManifests, splitManifests } from './manifests.ts';

test('splitManifests() splits on --- like Helm regexp (a doubled separator stays in the next document)', () => {
  assert.deepEqual(splitManifests('a: 1\n---\nb: 2\n--- \nc: 3'), ['a: 1', 'b: 2', 'c: 3']);
  assert.deepEqual(splitManifests('a: 1\n---\n---\nb: 2'), ['a: 1', '---\nb: 2']);
  assert.deepEqual(splitManifests('---\na: 1\n'), ['a: 1']);
});

test('compareByKind() follows the install order, unknown kinds last alphabetically', () => {
  const kinds = [
    'Deployment',
    'Widget',
    'Namespace',
    'Alpha',
    'Service',
    'ConfigMap',
    'CustomResourceDefinition',
  ];
  assert.deepEqual([...kinds].sort(compareByKind), [
    'Namespace',
    'ConfigMap',
    'CustomResourceDefinition',
    'Service',
    'Deployment',
    'Alpha',
    'Widget',
  ]);
});

test('sortManifests() sorts files by path, keeps file order within a kind, separates hooks', () => {
  const files = new Map([
    [
      'c/templates/b.yaml',
      'kind: Service\nmetadata:\n  name: s2\n---\nkind: ConfigMap\nmetadata:\n  name: cm',
    ],
    ['c/templates/a.yaml', 'kind: Service\nmetadata:\n  name: s1'],
    ['c/templates/_p.yaml', 'kind: Secret'],
    ['c/templates/empty.yaml', '  \n'],
    [
      'c/templates/hook.yaml',
      'kind: Job\nmetadata:\n  name: j\n  annotations:\n    helm.sh/hook: pre-install, post-upgrade\n    helm.sh/hook-weight: "-2"\n    helm.sh/hook-delete-policy: hook-succeeded',
    ],
    ['c/templates/bad-hook.yaml', 'kind: Job\nmetadata:\n  name: x\n  annotations:\n    helm.sh/hook: nope'],
  ]);
  const { manifests, hooks } = sortManifests(files);
  assert.deepEqual(
    manifests.map((m) => `${m.kind}/${m.name}`),
    ['ConfigMap/cm', 'Service/s1', 'Service/s2'],
  );
  assert.equal(hooks.length, 1);
  assert.deepEqual(hooks[0]!.hook, {
    events: ['pre-install', 'post-upgrade'],
    weight: -2,
    deletePolicies: ['hook-succeeded'],
  });
});

test('sortManifests() reports invalid YAML with the file', () => {
  assert.throws(
    () => sortManifests(new Map([['c/templates/x.yaml', 'a: b: c']])),
    /YAML parse error on c\/templates\/x.yaml/,
  );
  assert.throws(
    () => sortManifests(new Map([['c/templates/x.yaml', 'just text']])),
    /cannot unmarshal string/,
  );
});

test('formatTemplateOutput() prints CRDs, manifests then hooks, and filters with show-only', () => {
  const m = { path: 'c/templates/a.yaml', content: 'kind: A' };
  const h = { path: 'c/templates/h.yaml', content: 'kind: H' };
  const crd = { path: 'c/crds/x.yaml', content: 'kind: CustomResourceDefinition\n' };
  assert.equal(
    formatTemplateOutput({ crds: [crd], manifests: [m], hooks: [h] }),
    '---\n# Source: c/crds/x.yaml\nkind: CustomResourceDefinition\n\n---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/h.yaml\nkind: H\n',
  );
  assert.equal(
    formatTemplateOutput({ crds: [], manifests: [m], hooks: [h], showOnly: ['templates/h.yaml'] }),
    '---\n# Source: c/templates/h.yaml\nkind: H\n',
  );
  assert.throws(
    () => formatTemplateOutput({ crds: [], manifests: [m], hooks: [], showOnly: ['templates/z.yaml'] }),
    /could not find template/,
  );
});
