import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  selectorFromObject,
} from './selectors.ts';
import { KubeError } from './status.ts';

test('label selectors: equality, sets, existence', () => {
  const sel = parseLabelSelector('app=web,tier!=db,env in (prod, qa),!legacy,team');
  assert.equal(sel.length, 5);
  assert.ok(matchesLabels(sel, { app: 'web', env: 'qa', team: 'a' }));
  assert.ok(!matchesLabels(sel, { app: 'web', env: 'dev', team: 'a' }));
  assert.ok(!matchesLabels(sel, { app: 'web', env: 'qa', team: 'a', legacy: 'y' }));
  assert.ok(
    matchesLabels(parseLabelSelector('app.kubernetes.io/name==demo'), { 'app.kubernetes.io/name': 'demo' }),
  );
  assert.ok(matchesLabels(parseLabelSelector(''), {}));
  assert.throws(() => parseLabelSelector('a=b c'), KubeError);
  const fromObj = selectorFromObject({
    matchLabels: { a: 'b' },
    matchExpressions: [{ key: 'c', operator: 'DoesNotExist' }],
  });
  assert.ok(fromObj && matchesLabels(fromObj, { a: 'b' }));
});

test('field selectors', () => {
  const obj = { metadata: { name: 'x', namespace: 'ns' }, status: { phase: 'Running' } };
  assert.ok(matchesFields(parseFieldSelector('metadata.name=x,status.phase!=Pending'), obj));
  assert.ok(!matchesFields(parseFieldSelector('metadata.namespace==other'), obj));
  assert.throws(() => parseFieldSelector('nonsense'), KubeError);
});
