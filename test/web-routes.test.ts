// The UI's route parsing and first reads (web/src/routes.ts), shared by the inlined boot script and the app.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstReads, parseRoute } from '../web/src/routes.ts';

test('parseRoute reads the hash route; an empty hash is the app list', () => {
  assert.deepEqual(parseRoute(''), ['apps']);
  assert.deepEqual(parseRoute('#/'), ['apps']);
  assert.deepEqual(parseRoute('#/apps/web-dev'), ['apps', 'web-dev']);
  assert.deepEqual(parseRoute('#/registry/base%2Fapi/tags'), ['registry', 'base/api', 'tags']);
  // A malformed escape is kept as typed instead of throwing before the app has started.
  assert.deepEqual(parseRoute('#/apps/%E0%A4%A'), ['apps', '%E0%A4%A']);
});

test('firstReads: the app page reads the app and its tree, the lists their summary view', () => {
  assert.deepEqual(firstReads(['apps', 'web dev']), [
    '/api/v1/apps/web%20dev',
    '/api/v1/apps/web%20dev/tree',
  ]);
  assert.deepEqual(firstReads(['apps']), ['/api/v1/apps?view=summary']);
  assert.deepEqual(firstReads(['envs']), ['/api/v1/apps?view=summary', '/api/v1/envs']);
  assert.deepEqual(firstReads(['pipelines']), []);
});
