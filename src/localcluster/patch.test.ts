import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './patch.ts';
import { KubeError } from './status.ts';

test('strategic merge patch merges containers, env and ports by key and honours directives', () => {
  const live = {
    spec: {
      containers: [
        {
          name: 'app',
          image: 'a:1',
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
          ports: [{ containerPort: 80, protocol: 'TCP' }],
        },
        { name: 'side', image: 's:1' },
      ],
    },
    metadata: { finalizers: ['x'] },
  };
  const out = applyStrategicMergePatch(live, {
    $setElementOrder: 'ignored',
    spec: {
      '$setElementOrder/containers': [{ name: 'app' }, { name: 'side' }],
      containers: [
        {
          name: 'app',
          image: 'a:2',
          env: [
            { name: 'B', $patch: 'delete' },
            { name: 'C', value: '3' },
          ],
          ports: [{ containerPort: 8080 }],
        },
      ],
    },
    metadata: { finalizers: ['y'] },
  }) as {
    spec: { containers: { name: string; image: string; env: { name: string }[]; ports: unknown[] }[] };
    metadata: { finalizers: string[] };
  };
  assert.equal(out.spec.containers.length, 2);
  assert.equal(out.spec.containers[0]?.image, 'a:2');
  assert.deepEqual(
    out.spec.containers[0]?.env.map((e) => e.name),
    ['A', 'C'],
  );
  assert.equal(out.spec.containers[0]?.ports.length, 2);
  assert.equal(out.spec.containers[1]?.image, 's:1');
  assert.deepEqual(out.metadata.finalizers, ['x', 'y']);
  const replaced = applyStrategicMergePatch({ a: { b: 1, c: 2 } }, { a: { $patch: 'replace', d: 3 } });
  assert.deepEqual(replaced, { a: { d: 3 } });
  assert.deepEqual(applyStrategicMergePatch({ a: 1, b: 2 }, { a: null }), { b: 2 });
});

test('merge patch and JSON patch', () => {
  assert.deepEqual(applyMergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 4 }, l: [3] }), {
    a: { c: 2, d: 4 },
    l: [3],
  });
  const doc = {
    spec: { template: { spec: { containers: [{ image: 'a' }] } } },
    metadata: { labels: { 'a/b': 'x' } },
  };
  const out = applyJsonPatch(doc, [
    { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'b' },
    { op: 'add', path: '/spec/template/spec/containers/-', value: { image: 'c' } },
    { op: 'remove', path: '/metadata/labels/a~1b' },
    { op: 'test', path: '/spec/template/spec/containers/1/image', value: 'c' },
  ]) as typeof doc;
  assert.deepEqual(out.spec.template.spec.containers, [{ image: 'b' }, { image: 'c' }]);
  assert.deepEqual(out.metadata.labels, {});
  assert.equal(doc.spec.template.spec.containers[0]?.image, 'a', 'input untouched');
  assert.throws(() => applyJsonPatch(doc, [{ op: 'remove', path: '/nope' }]), KubeError);
  assert.throws(() => applyJsonPatch(doc, { op: 'add' }), KubeError);
});
