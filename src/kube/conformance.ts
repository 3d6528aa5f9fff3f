// The KubeClient conformance suite: every implementation (kubeconfig client against the embedded local cluster,
// a real cluster, the test fake) must pass it. Call it from a *.test.ts file.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ConflictError, NotFoundError } from '../core/index.ts';
import type { KubeClient, WatchEvent } from './client.ts';
import { diff } from './diff.ts';
import type { KubeObject } from './types.ts';

export interface ConformanceOptions {
  /** Prefix of every test name (e.g. the implementation's name). */
  name?: string;
  /** Skip the server-side-apply conflict test (servers without field ownership). */
  skipConflicts?: boolean;
  /** Skip the CustomResourceDefinition test (servers without CRDs). */
  skipCrds?: boolean;
  /** Skip the check that a just-applied Deployment diffs as Synced. */
  skipDeploymentDiff?: boolean;
}

function until(
  events: WatchEvent[],
  predicate: (events: WatchEvent[]) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (predicate(events)) resolve();
      else if (Date.now() - started > timeoutMs) {
        reject(new Error(`timed out waiting for ${what}; got ${events.map((e) => e.type).join(',')}`));
      } else setTimeout(tick, 20);
    };
    tick();
  });
}

function configMap(
  namespace: string,
  name: string,
  data: Record<string, string>,
  labels: Record<string, string> = {},
): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data };
}

const WEB_DEPLOYMENT = (namespace: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace, labels: { app: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'nginx:1.25',
            ports: [{ name: 'http', containerPort: 80 }],
            resources: { requests: { cpu: '100m', memory: '64Mi' } },
            readinessProbe: { httpGet: { path: '/healthz', port: 'http' } },
          },
        ],
      },
    },
  },
});

/**
 * Registers the conformance tests. `make` returns a fresh client for one test; the suite closes it.
 * Every test works in its own new namespace `slipway-conformance-<random>` and deletes it afterwards.
 */
export function runKubeClientConformance(
  make: () => Promise<KubeClient>,
  options: ConformanceOptions = {},
): void {
  const prefix = options.name ? `${options.name}: ` : '';

  const withClient = (
    name: string,
    body: (client: KubeClient, ns: string) => Promise<void>,
    skip?: boolean,
  ) =>
    test(`${prefix}${name}`, { skip: skip ? 'not supported by this implementation' : false }, async () => {
      const client = await make();
      const ns = `slipway-conformance-${randomBytes(4).toString('hex')}`;
      try {
        await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
        await body(client, ns);
      } finally {
        await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns }).catch(() => false);
        client.close();
      }
    });

  withClient('serverVersion() answers a version', async (client) => {
    const v = await client.serverVersion();
    assert.match(v.gitVersion, /^v\d+\.\d+/);
  });

  withClient('resourceFor() finds namespaced and cluster-scoped kinds', async (client) => {
    assert.deepEqual(
      { ...(await client.resourceFor('apps/v1', 'Deployment')), verbs: [] },
      {
        group: 'apps',
        version: 'v1',
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        resource: 'deployments',
        namespaced: true,
        verbs: [],
      },
    );
    const ns = await client.resourceFor('v1', 'Namespace');
    assert.equal(ns.resource, 'namespaces');
    assert.equal(ns.namespaced, false);
    assert.equal((await client.resourceFor('v1', 'ConfigMap')).resource, 'configmaps');
    await assert.rejects(client.resourceFor('v1', 'NoSuchKind'), NotFoundError);
    await assert.rejects(client.resourceFor('nosuch.example.com/v1', 'Thing'), NotFoundError);
  });

  withClient('apply() creates with field manager slipway and get() reads it back', async (client, ns) => {
    const live = await client.apply(configMap(ns, 'one', { a: '1' }, { app: 'conf' }));
    assert.equal(live.metadata.name, 'one');
    assert.equal(live.metadata.namespace, ns);
    assert.ok(live.metadata.uid);
    assert.ok(live.metadata.resourceVersion);
    assert.ok(live.metadata.managedFields?.some((m) => m.manager === 'slipway' && m.operation === 'Apply'));
    const got = await client.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'one', namespace: ns });
    assert.deepEqual(got?.data, { a: '1' });
    assert.equal(got?.metadata.uid, live.metadata.uid);
  });

  withClient('apply() again updates and drops fields no longer applied', async (client, ns) => {
    const first = await client.apply(configMap(ns, 'two', { a: '1', b: '2' }));
    const second = await client.apply(configMap(ns, 'two', { a: '10' }));
    assert.deepEqual(second.data, { a: '10' });
    assert.notEqual(second.metadata.resourceVersion, first.metadata.resourceVersion);
    assert.equal(second.metadata.uid, first.metadata.uid);
  });

  withClient('apply({dryRun}) answers the object without storing it', async (client, ns) => {
    const dry = await client.apply(configMap(ns, 'dry', { a: '1' }), { dryRun: true });
    assert.deepEqual(dry.data, { a: '1' });
    assert.equal(await client.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'dry', namespace: ns }), null);
  });

  withClient(
    'apply() by another manager conflicts unless forced',
    async (client, ns) => {
      await client.apply(configMap(ns, 'owned', { key: 'a' }));
      await assert.rejects(
        client.apply(configMap(ns, 'owned', { key: 'b' }), { fieldManager: 'other' }),
        (err: unknown) => {
          assert.ok(err instanceof ConflictError);
          return true;
        },
      );
      const forced = await client.apply(configMap(ns, 'owned', { key: 'b' }), {
        fieldManager: 'other',
        force: true,
      });
      assert.equal((forced.data as Record<string, string>).key, 'b');
    },
    options.skipConflicts,
  );

  withClient('get() answers null for a missing object', async (client, ns) => {
    assert.equal(
      await client.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'missing', namespace: ns }),
      null,
    );
  });

  withClient('list() filters by label selector and fills apiVersion and kind', async (client, ns) => {
    await client.apply(configMap(ns, 'l1', { a: '1' }, { app: 'x', tier: 'web' }));
    await client.apply(configMap(ns, 'l2', { a: '2' }, { app: 'x', tier: 'db' }));
    await client.apply(configMap(ns, 'l3', { a: '3' }, { app: 'y' }));
    const all = await client.list('v1', 'ConfigMap', { namespace: ns, labelSelector: 'app=x' });
    assert.deepEqual(all.items.map((i) => i.metadata.name).sort(), ['l1', 'l2']);
    assert.ok(all.items.every((i) => i.apiVersion === 'v1' && i.kind === 'ConfigMap'));
    assert.ok(all.resourceVersion);
    const web = await client.list('v1', 'ConfigMap', { namespace: ns, labelSelector: 'app=x,tier!=db' });
    assert.deepEqual(
      web.items.map((i) => i.metadata.name),
      ['l1'],
    );
  });

  withClient('delete() removes an object and answers false for a missing one', async (client, ns) => {
    await client.apply(configMap(ns, 'gone', { a: '1' }));
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'gone', namespace: ns };
    assert.equal(await client.delete(ref, { propagationPolicy: 'Background' }), true);
    assert.equal(await client.get(ref), null);
    assert.equal(await client.delete(ref), false);
  });

  withClient('watch() delivers SYNC, then ADDED, MODIFIED and DELETED', async (client, ns) => {
    await client.apply(configMap(ns, 'before', { a: '1' }));
    const events: WatchEvent[] = [];
    const errors: Error[] = [];
    const handle = client.watch('v1', 'ConfigMap', { namespace: ns, onError: (e) => errors.push(e) }, (e) =>
      events.push(e),
    );
    try {
      await until(events, (es) => es.some((e) => e.type === 'SYNC'), 'SYNC');
      const sync = events.find((e) => e.type === 'SYNC');
      assert.ok(sync?.type === 'SYNC' && sync.objects.some((o) => o.metadata.name === 'before'));
      await client.apply(configMap(ns, 'w', { a: '1' }));
      await client.apply(configMap(ns, 'w', { a: '2' }));
      await client.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'w', namespace: ns });
      const named = (es: WatchEvent[]) =>
        es.filter((e) => e.type !== 'SYNC' && e.object.metadata.name === 'w');
      await until(events, (es) => named(es).some((e) => e.type === 'DELETED'), 'DELETED of w');
      assert.deepEqual(
        named(events).map((e) => e.type),
        ['ADDED', 'MODIFIED', 'DELETED'],
      );
      const modified = named(events)[1];
      assert.ok(modified?.type === 'MODIFIED' && modified.object.kind === 'ConfigMap');
      assert.deepEqual(modified.object.data, { a: '2' });
    } finally {
      await handle.stop();
    }
  });

  withClient(
    'diff() reports a Deployment just applied as Synced',
    async (client, ns) => {
      const desired = WEB_DEPLOYMENT(ns);
      const live = await client.apply(desired);
      const result = diff(desired, live);
      assert.deepEqual(result.changes, []);
      const changed = WEB_DEPLOYMENT(ns);
      ((changed.spec as { replicas: number }).replicas as number) = 3;
      assert.deepEqual(
        diff(changed, live).changes.map((c) => c.path),
        ['spec.replicas'],
      );
    },
    options.skipDeploymentDiff,
  );

  withClient(
    'a CustomResourceDefinition makes its kind usable like any other',
    async (client, ns) => {
      const group = `${randomBytes(3).toString('hex')}.conformance.slipway.dev`;
      const crd: KubeObject = {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `widgets.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            },
          ],
        },
      };
      const apiVersion = `${group}/v1`;
      // Discovery is asked before the CRD exists: the cached miss must not hide the new kind.
      await assert.rejects(client.resourceFor(apiVersion, 'Widget'), NotFoundError);
      await client.apply(crd);
      try {
        let resource: Awaited<ReturnType<KubeClient['resourceFor']>> | undefined;
        for (let i = 0; i < 100 && !resource; i++) {
          resource = await client.resourceFor(apiVersion, 'Widget').catch(() => undefined);
          if (!resource) await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(resource?.resource, 'widgets');
        assert.equal(resource?.namespaced, true);
        const widget: KubeObject = {
          apiVersion,
          kind: 'Widget',
          metadata: { name: 'w1', namespace: ns },
          spec: { size: 3 },
        };
        const live = await client.apply(widget);
        assert.deepEqual(live.spec, { size: 3 });
        const listed = await client.list(apiVersion, 'Widget', { namespace: ns });
        assert.deepEqual(
          listed.items.map((i) => [i.kind, i.metadata.name]),
          [['Widget', 'w1']],
        );
        assert.equal(await client.delete({ apiVersion, kind: 'Widget', name: 'w1', namespace: ns }), true);
      } finally {
        await client.delete({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          name: `widgets.${group}`,
        });
      }
    },
    options.skipCrds,
  );
}
