import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldSet, serverSideApply, toFieldsV1, trackUpdate } from './fields.ts';
import { KubeError } from './status.ts';
import type { KubeObject } from './types.ts';

const cm = (data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c' },
  data,
});

test('FieldsV1 of a Deployment template uses merge keys', () => {
  const f = toFieldsV1(
    fieldSet({
      metadata: { labels: { a: 'b' } },
      spec: { template: { spec: { containers: [{ name: 'web', image: 'x' }] } } },
    }),
  );
  assert.deepEqual(f, {
    'f:metadata': { 'f:labels': { '.': {}, 'f:a': {} } },
    'f:spec': {
      'f:template': {
        'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
      },
    },
  });
});

test('server-side apply: ownership, conflicts, force, removal of fields no longer applied', () => {
  const a = serverSideApply(undefined, cm({ key: 'a', other: '1' }), 'team-a', false, 'v1', 't');
  const live: KubeObject = {
    ...a.object,
    metadata: { ...a.object.metadata, managedFields: a.managedFields },
  };
  assert.deepEqual(a.managedFields[0]?.fieldsV1, { 'f:data': { 'f:key': {}, 'f:other': {} } });
  assert.throws(
    () => serverSideApply(live, cm({ key: 'b' }), 'team-b', false, 'v1', 't'),
    (e: unknown) =>
      e instanceof KubeError &&
      e.code === 409 &&
      e.message === 'Apply failed with 1 conflict: conflict with "team-a": .data.key',
  );
  // Same value: shared ownership, no conflict.
  assert.doesNotThrow(() => serverSideApply(live, cm({ key: 'a' }), 'team-b', false, 'v1', 't'));
  const forced = serverSideApply(live, cm({ key: 'b' }), 'team-b', true, 'v1', 't');
  assert.equal((forced.object.data as Record<string, string>).key, 'b');
  assert.deepEqual(
    forced.managedFields.map((m) => [m.manager, m.fieldsV1]),
    [
      ['team-a', { 'f:data': { 'f:other': {} } }],
      ['team-b', { 'f:data': { 'f:key': {} } }],
    ],
  );
  const shrunk = serverSideApply(live, cm({ key: 'a' }), 'team-a', false, 'v1', 't');
  assert.deepEqual(shrunk.object.data, { key: 'a' });
});

test('updates take ownership of changed fields', () => {
  const old: KubeObject = {
    ...cm({ k: 'v' }),
    metadata: {
      name: 'c',
      managedFields: [
        {
          manager: 'a',
          operation: 'Apply',
          apiVersion: 'v1',
          time: 't',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:data': { 'f:k': {} } },
        },
      ],
    },
  };
  const mf = trackUpdate(old, cm({ k: 'w' }), 'kubectl-edit', 'v1', 't');
  assert.deepEqual(
    mf.map((m) => m.manager),
    ['kubectl-edit'],
  );
});

test('server-side apply takes over fields from client-side apply without conflicts', () => {
  const live: KubeObject = {
    ...cm({ key: 'old' }),
    metadata: {
      name: 'c',
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: 'v1',
          time: 't',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:data': { 'f:key': {} } },
        },
      ],
    },
  };
  const out = serverSideApply(live, cm({ key: 'new' }), 'kubectl', false, 'v1', 't');
  assert.deepEqual(out.object.data, { key: 'new' });
  assert.deepEqual(
    out.managedFields.map((m) => m.manager),
    ['kubectl'],
  );
});
