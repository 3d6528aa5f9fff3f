import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aggregateHealth, assessHealth, type HealthStatus } from './health.ts';
import { fixture, fixtureItems, lines } from './testdata.ts';
import type { KubeObject } from './types.ts';

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
function withStatus(obj: KubeObject, patch: (o: KubeObject) => void): KubeObject {
  const out = clone(obj);
  patch(out);
  return out;
}
const webPod = () => fixtureItems('pods-of-web.json')[0]!;
function waitingPod(reason: string, message: string): KubeObject {
  return withStatus(webPod(), (p) => {
    const st = p.status as {
      phase: string;
      containerStatuses: { state: unknown; ready: boolean }[];
      conditions: unknown[];
    };
    st.phase = 'Pending';
    st.containerStatuses[0]!.state = { waiting: { reason, message } };
    st.containerStatuses[0]!.ready = false;
  });
}

const table: [string, () => KubeObject | undefined, HealthStatus, RegExp?][] = [
  ['a rolled-out Deployment', () => fixture('deployment-web.json'), 'Healthy'],
  [
    'a Deployment past its progress deadline',
    () => fixture('deployment-stuck-progress-deadline-exceeded.json'),
    'Degraded',
    /exceeded its progress deadline/,
  ],
  [
    'a paused Deployment',
    () => withStatus(fixture('deployment-web.json'), (d) => ((d.spec as { paused: boolean }).paused = true)),
    'Suspended',
  ],
  [
    'a Deployment whose generation is not observed yet',
    () => withStatus(fixture('deployment-web.json'), (d) => (d.metadata.generation = 2)),
    'Progressing',
    /observed deployment generation/,
  ],
  ['a ReplicaSet with its replicas available', () => fixtureItems('replicasets-of-web.json')[0], 'Healthy'],
  [
    'a ReplicaSet of an unschedulable Deployment',
    () => fixtureItems('replicasets-of-stuck.json')[0],
    'Progressing',
  ],
  ['a running, ready Pod', webPod, 'Healthy'],
  [
    'an unschedulable Pod',
    () => fixtureItems('pods-of-stuck-unschedulable.json')[0],
    'Progressing',
    /didn't match|node/,
  ],
  [
    'a Pod in ImagePullBackOff',
    () => waitingPod('ImagePullBackOff', 'Back-off pulling image "nginx:nope"'),
    'Degraded',
    /app: ImagePullBackOff: Back-off pulling image "nginx:nope"/,
  ],
  [
    'a Pod in ErrImagePull',
    () => waitingPod('ErrImagePull', 'rpc error: not found'),
    'Degraded',
    /ErrImagePull: rpc error/,
  ],
  [
    'a Pod in CrashLoopBackOff',
    () => waitingPod('CrashLoopBackOff', 'back-off 5m0s restarting failed container'),
    'Degraded',
    /CrashLoopBackOff/,
  ],
  ['a Pod in ContainerCreating', () => waitingPod('ContainerCreating', ''), 'Progressing'],
  ['a Succeeded Pod', () => fixtureItems('pod-of-job-pi-after-manual-status-patch.json')[0], 'Healthy'],
  ['a StatefulSet with all pods ready', () => fixture('statefulset-db.json'), 'Healthy'],
  ['a completed Job', () => fixture('job-pi-completed-after-manual-pod-status-patch.json'), 'Healthy'],
  ['a running Job', () => fixture('job-pi-running-under-kwok.json'), 'Progressing'],
  [
    'a failed Job',
    () =>
      withStatus(
        fixture('job-pi-running-under-kwok.json'),
        (j) =>
          ((j.status as { conditions: unknown[] }).conditions = [
            {
              type: 'Failed',
              status: 'True',
              reason: 'BackoffLimitExceeded',
              message: 'Job has reached the specified backoff limit',
            },
          ]),
      ),
    'Degraded',
    /backoff limit/,
  ],
  ['a ClusterIP Service', () => fixture('service-web.json'), 'Healthy'],
  [
    'a LoadBalancer Service without an address',
    () =>
      withStatus(fixture('service-web.json'), (s) => ((s.spec as { type: string }).type = 'LoadBalancer')),
    'Progressing',
  ],
  [
    'a LoadBalancer Service with an address',
    () =>
      withStatus(fixture('service-web.json'), (s) => {
        (s.spec as { type: string }).type = 'LoadBalancer';
        s.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } };
      }),
    'Healthy',
  ],
  ['an Ingress without an address (no controller)', () => fixture('ingress-web.json'), 'Progressing'],
  [
    'a Bound PVC',
    () => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'd' },
      status: { phase: 'Bound' },
    }),
    'Healthy',
  ],
  [
    'a Pending PVC',
    () => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'd' },
      status: { phase: 'Pending' },
    }),
    'Progressing',
  ],
  [
    'a suspended CronJob',
    () => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c' }, spec: { suspend: true } }),
    'Suspended',
  ],
  [
    'an HPA unable to scale',
    () => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'h' },
      status: {
        conditions: [{ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message: 'no scale' }],
      },
    }),
    'Degraded',
  ],
  [
    'an HPA scaling',
    () => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'h' },
      status: {
        conditions: [
          { type: 'AbleToScale', status: 'True' },
          { type: 'ScalingActive', status: 'True' },
        ],
      },
    }),
    'Healthy',
  ],
  [
    'a DaemonSet rolling out',
    () => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'd', generation: 1 },
      status: {
        observedGeneration: 1,
        desiredNumberScheduled: 3,
        updatedNumberScheduled: 1,
        numberAvailable: 1,
      },
    }),
    'Progressing',
    /1 out of 3/,
  ],
  [
    'a DaemonSet rolled out',
    () => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'd', generation: 1 },
      status: {
        observedGeneration: 1,
        desiredNumberScheduled: 3,
        updatedNumberScheduled: 3,
        numberAvailable: 3,
      },
    }),
    'Healthy',
  ],
  ['an absent object', () => undefined, 'Missing'],
];

for (const [name, obj, status, message] of table) {
  test(`assessHealth() says ${status} for ${name}`, () => {
    const health = assessHealth(obj());
    assert.equal(health?.status, status, health?.message);
    if (message) assert.match(health?.message ?? '', message);
  });
}

test('assessHealth() has no opinion on a ConfigMap', () => {
  assert.equal(assessHealth(fixture('configmap-web-config.json')), undefined);
});

test('assessHealth() follows the recorded rolling update: Progressing, then Healthy', () => {
  const events = lines('rolling-update/watch-deployments.jsonl').map(
    (l) => JSON.parse(l) as { type: string; object: KubeObject },
  );
  const statuses = events.map((e) => assessHealth(e.object)?.status);
  assert.equal(statuses[0], 'Progressing');
  assert.equal(statuses[statuses.length - 1], 'Healthy');
  const firstHealthy = statuses.indexOf('Healthy');
  assert.equal(firstHealthy, statuses.length - 1, `statuses: ${statuses.join(',')}`);
  assert.equal(assessHealth(fixture('rolling-update/deployment-roll-after.json'))?.status, 'Healthy');
});

test('aggregateHealth() takes the worst', () => {
  assert.deepEqual(aggregateHealth([]), { status: 'Healthy' });
  assert.equal(
    aggregateHealth([{ status: 'Healthy' }, undefined, { status: 'Suspended' }]).status,
    'Suspended',
  );
  assert.equal(aggregateHealth([{ status: 'Progressing' }, { status: 'Suspended' }]).status, 'Progressing');
  assert.equal(aggregateHealth([{ status: 'Missing' }, { status: 'Progressing' }]).status, 'Missing');
  assert.deepEqual(aggregateHealth([{ status: 'Degraded', message: 'x' }, { status: 'Missing' }]), {
    status: 'Degraded',
    message: 'x',
  });
});
