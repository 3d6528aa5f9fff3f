import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildResourceTree, type ResourceNode } from './tree.ts';
import { fixture, fixtureItems } from './testdata.ts';

function render(node: ResourceNode, depth = 0): string[] {
  const line = `${'  '.repeat(depth)}${node.ref.kind}/${node.ref.name}${node.health ? ` ${node.health.status}` : ''}`;
  return [line, ...node.children.flatMap((c) => render(c, depth + 1))];
}

test('buildResourceTree() builds the web application tree', () => {
  const objects = [
    fixture('ingress-web.json'),
    fixture('service-web.json'),
    fixture('deployment-web.json'),
    fixture('configmap-web-config.json'),
    ...fixtureItems('replicasets-of-web.json'),
    ...fixtureItems('pods-of-web.json'),
  ];
  const tree = buildResourceTree(objects);
  const text = tree.roots.flatMap((r) => render(r)).join('\n');
  assert.equal(
    text,
    [
      'ConfigMap/web-config',
      'Deployment/web Healthy',
      '  ReplicaSet/web-55d7855595 Healthy',
      '    Pod/web-55d7855595-4b7hs Healthy',
      '    Pod/web-55d7855595-zvsv2 Healthy',
      'Ingress/web Progressing',
      '  Service/web Healthy',
      '    Pod/web-55d7855595-4b7hs Healthy',
      '    Pod/web-55d7855595-zvsv2 Healthy',
    ].join('\n'),
  );
  const pod = tree.nodes.find((n) => n.ref.kind === 'Pod')!;
  assert.equal(pod.parents.length, 2);
  const svc = tree.roots[2]!.children[0]!;
  assert.equal(svc.relation, 'backend');
  assert.equal(svc.children[0]!.relation, 'selector');
});

test('buildResourceTree() links StatefulSet pods and survives an ownerReference cycle', () => {
  const sts = fixture('statefulset-db.json');
  const pods = fixtureItems('pods-of-db.json');
  const tree = buildResourceTree([sts, fixture('service-db-headless.json'), ...pods]);
  const stsNode = tree.roots.find((r) => r.ref.kind === 'StatefulSet')!;
  assert.equal(stsNode.children.length, 2);
  const a = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'a',
      uid: '1',
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'b', uid: '2' }],
    },
  };
  const b = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'b',
      uid: '2',
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'a', uid: '1' }],
    },
  };
  const cyc = buildResourceTree([a, b]);
  assert.equal(cyc.roots.length, 0);
  assert.equal(cyc.nodes.length, 2);
});
