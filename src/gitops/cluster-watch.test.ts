// ClusterWatch routing: which app is re-evaluated, and how urgently, for each kind of watch event.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterWatch } from './cluster-watch.ts';
import { createMemoryCluster, staticClusters } from './memory-cluster.ts';
import type { ClusterClient, ClusterWatchEvent, KubeObject } from './seams.ts';

const cm = (name: string, ns: string, rv: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, resourceVersion: rv },
});

test('ClusterWatch routes changes to the owning apps, ignores our echoes and polls what it cannot watch', async () => {
  const sinks: { onEvent(e: ClusterWatchEvent): void; onError?(err: Error): void }[] = [];
  const fake = {
    ...createMemoryCluster(),
    watch(_kind: unknown, handlers: (typeof sinks)[number]) {
      sinks.push(handlers);
      return { stop() {} };
    },
  } as ClusterClient;
  const { watch: _none, ...blind } = createMemoryCluster();
  const calls: [string, boolean][] = [];
  const w = new ClusterWatch({
    clusters: staticClusters({ a: fake, b: blind }),
    debounceMs: 1,
    onChange: (app, force) => calls.push([app, force]),
  });
  const flush = () => new Promise((r) => setTimeout(r, 20));
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', namespace: 'n1' };
  w.track('app1', 'a', [ref]);
  w.track('app2', 'a', [{ ...ref, name: 'y' }]);
  w.track('app3', 'b', [ref]);
  assert.equal(sinks.length, 1, 'one watch per (cluster, kind)');
  assert.equal(w.isLive('a'), false);
  assert.equal(w.isLive('b'), false, 'a cluster without watch support is polled');

  sinks[0]!.onEvent({ type: 'SYNC', objects: [] });
  await flush();
  assert.equal(w.isLive('a'), true);
  assert.deepEqual(calls.splice(0).sort(), [
    ['app1', false],
    ['app2', false],
  ]);

  sinks[0]!.onEvent({ type: 'MODIFIED', object: cm('x', 'n1', '5') });
  sinks[0]!.onEvent({ type: 'MODIFIED', object: cm('x', 'n1', '6') });
  sinks[0]!.onEvent({ type: 'MODIFIED', object: cm('other', 'n1', '7') });
  await flush();
  assert.deepEqual(calls.splice(0), [['app1', true]], 'debounced into one, only the owner');

  w.ownWrite('a', cm('y', 'n1', '9'));
  sinks[0]!.onEvent({ type: 'MODIFIED', object: cm('y', 'n1', '9') });
  await flush();
  assert.deepEqual(calls.splice(0), [['app2', false]], 'the echo of our own write is not drift');

  sinks[0]!.onError?.(new Error('connection refused'));
  assert.equal(w.isLive('a'), false, 'a failing watch makes the cluster polled again');
  sinks[0]!.onEvent({ type: 'SYNC', objects: [] });
  await flush();
  assert.deepEqual(calls.splice(0).sort(), [
    ['app1', true],
    ['app2', true],
  ]);

  w.untrack('app1');
  sinks[0]!.onEvent({ type: 'DELETED', object: cm('x', 'n1', '10') });
  await flush();
  assert.deepEqual(calls, []);
  assert.deepEqual(w.stats(), { clusters: 2, watches: 2, objects: 2, apps: 2 });
  w.stop();
});
