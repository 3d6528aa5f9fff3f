// Wires store events to the controllers' work queues.
import type { Cluster } from '../api.ts';
import type { Logger } from '../../core/index.ts';
import type { StoreEvent } from '../store.ts';
import type { KubeObject } from '../types.ts';
import { Kubelet, type KubeletOptions } from './kubelet.ts';
import {
  collectGarbage,
  servicesSelecting,
  syncCronJob,
  syncCrd,
  syncDaemonSet,
  syncEndpoints,
  syncIngress,
  syncJob,
  syncNamespace,
  syncStatefulSet,
} from './others.ts';
import { splitKey, WorkQueue } from './queue.ts';
import { controllerOf, syncDeployment, syncReplicaSet } from './workloads.ts';

export interface ControllerManager {
  /** Queues every object once (after a restart). */
  resyncAll(): void;
  stop(): void;
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

export function startControllers(
  cluster: Cluster,
  kubeletOptions: KubeletOptions,
  logger: Logger,
): ControllerManager {
  const onError = (name: string) => (err: unknown, key: string) =>
    logger.warn({ err, key }, `${name} controller failed`);
  const queues: WorkQueue[] = [];
  const q = (name: string, fn: (key: string) => void) => {
    const wq = new WorkQueue(fn, onError(name));
    queues.push(wq);
    return wq;
  };
  const deployments: WorkQueue = q('deployment', (k) =>
    syncDeployment({ cluster, deployments, replicasets }, k),
  );
  const replicasets: WorkQueue = q('replicaset', (k) =>
    syncReplicaSet({ cluster, deployments, replicasets }, k),
  );
  const endpoints = q('endpoints', (k) => syncEndpoints(cluster, k));
  const namespaces = q('namespace', (k) => syncNamespace(cluster, k));
  const crds = q('crd', (k) => syncCrd(cluster, k));
  const jobs = q('job', (k) => syncJob(cluster, k));
  const cronjobs: WorkQueue = q('cronjob', (k) => syncCronJob(cluster, cronjobs, k));
  const statefulsets: WorkQueue = q('statefulset', (k) => syncStatefulSet(cluster, k, statefulsets));
  const ingresses = q('ingress', (k) => syncIngress(cluster, k));
  const daemonsets: WorkQueue = q('daemonset', (k) => syncDaemonSet(cluster, k, daemonsets));
  const gcQueue: { obj: KubeObject; gone: boolean }[] = [];
  let gcScheduled = false;
  const gc = (obj: KubeObject, gone: boolean) => {
    gcQueue.push({ obj, gone });
    if (gcScheduled) return;
    gcScheduled = true;
    setImmediate(() => {
      gcScheduled = false;
      const batch = gcQueue.splice(0);
      for (const item of batch) {
        try {
          collectGarbage(cluster, item.obj, item.gone);
        } catch (err) {
          logger.warn({ err }, 'garbage collector failed');
        }
      }
    });
  };
  const kubelet = new Kubelet(cluster, kubeletOptions);
  const pods = q('kubelet', (k) => {
    const [ns, name] = splitKey(k);
    const pod = cluster.store.get('/pods', ns, name);
    if (pod) kubelet.sync(pod);
  });
  const ownerQueue: Record<string, WorkQueue> = {
    ReplicaSet: replicasets,
    Deployment: deployments,
    StatefulSet: statefulsets,
    DaemonSet: daemonsets,
    Job: jobs,
    CronJob: cronjobs,
  };

  const route = (e: StoreEvent) => {
    const o = e.object;
    const owner = controllerOf(o);
    if (owner) {
      const oq = ownerQueue[owner.kind];
      if (oq) oq.add(`${o.metadata.namespace ?? ''}/${owner.name}`);
    }
    if (e.type === 'DELETED') {
      gc(o, true);
      // An owner waiting in foreground deletion re-checks its remaining dependents.
      for (const ref of o.metadata.ownerReferences ?? []) {
        const info = cluster.registry.byKind(ref.apiVersion, ref.kind);
        const owner = info
          ? cluster.store.get(info.key, info.namespaced ? (o.metadata.namespace ?? '') : '', ref.name)
          : undefined;
        if (owner?.metadata.uid === ref.uid && owner.metadata.finalizers?.includes('foregroundDeletion'))
          gc(owner, false);
      }
    } else if (
      o.metadata.deletionTimestamp &&
      (o.metadata.finalizers ?? []).some((f) => f === 'orphan' || f === 'foregroundDeletion')
    )
      gc(o, false);
    switch (e.key) {
      case 'apps/deployments':
        deployments.add(keyOf(o));
        break;
      case 'apps/replicasets':
        replicasets.add(keyOf(o));
        break;
      case 'apps/statefulsets':
        statefulsets.add(keyOf(o));
        break;
      case 'apps/daemonsets':
        daemonsets.add(keyOf(o));
        break;
      case 'batch/jobs':
        jobs.add(keyOf(o));
        break;
      case 'batch/cronjobs':
        cronjobs.add(keyOf(o));
        break;
      case '/services':
        endpoints.add(keyOf(o));
        break;
      case 'networking.k8s.io/ingresses':
        if (e.type !== 'DELETED') ingresses.add(keyOf(o));
        break;
      case 'networking.k8s.io/ingressclasses':
        // A class changed (default, controller): every Ingress is checked again.
        for (const ing of cluster.store.list('networking.k8s.io/ingresses')) ingresses.add(keyOf(ing));
        break;
      case '/pods': {
        const ns = o.metadata.namespace ?? '';
        const labels = new Set([
          ...servicesSelecting(cluster, ns, o.metadata.labels),
          ...(e.old ? servicesSelecting(cluster, ns, e.old.metadata.labels) : []),
        ]);
        for (const k of labels) endpoints.add(k);
        if (e.type === 'DELETED') kubelet.forget(o.metadata.uid ?? '');
        else pods.add(keyOf(o));
        break;
      }
      case '/namespaces':
        namespaces.add(o.metadata.name ?? '');
        break;
      case 'apiextensions.k8s.io/customresourcedefinitions':
        if (e.type === 'DELETED') cluster.registry.unregisterCrd(o.metadata.name ?? '');
        else crds.add(o.metadata.name ?? '');
        break;
      default:
        break;
    }
    if (o.metadata.namespace) {
      const ns = cluster.store.get('/namespaces', '', o.metadata.namespace);
      if (ns?.metadata.deletionTimestamp && e.type === 'DELETED') namespaces.add(o.metadata.namespace);
    }
  };
  const unsubscribe = cluster.store.subscribe(route);

  return {
    resyncAll() {
      for (const info of cluster.registry.all()) {
        for (const o of cluster.store.list(info.key))
          route({ type: 'MODIFIED', key: info.key, rv: 0, object: o });
      }
    },
    stop() {
      unsubscribe();
      for (const wq of queues) wq.stop();
      kubelet.stop();
    },
  };
}
