// Health of live objects with Argo CD's statuses, decided the way kubectl/gitops-engine decide them. Pure.
import { groupOf, isRecord, type KubeObject } from './types.ts';

export type HealthStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';

export interface Health {
  status: HealthStatus;
  message?: string;
}

/** Worst last, as Argo CD orders them: an application is as healthy as its least healthy resource. */
const SEVERITY: Record<HealthStatus, number> = {
  Healthy: 0,
  Suspended: 1,
  Progressing: 2,
  Missing: 3,
  Degraded: 4,
  Unknown: 5,
};

/** True when `a` is worse than `b`. */
export function isWorseHealth(a: HealthStatus, b: HealthStatus): boolean {
  return SEVERITY[a] > SEVERITY[b];
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

function rec(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}
function num(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}
function conditions(obj: KubeObject): Condition[] {
  const c = rec(obj.status).conditions;
  return Array.isArray(c) ? (c.filter(isRecord) as Condition[]) : [];
}
function condition(obj: KubeObject, type: string): Condition | undefined {
  return conditions(obj).find((c) => c.type === type);
}
function generationObserved(obj: KubeObject): boolean {
  const observed = rec(obj.status).observedGeneration;
  return num(obj.metadata.generation) <= num(observed);
}
function h(status: HealthStatus, message?: string): Health {
  return message ? { status, message } : { status };
}

/** `kubectl rollout status` for a Deployment (gitops-engine health_deployment.go). */
function deploymentHealth(obj: KubeObject): Health {
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  const name = obj.metadata.name;
  if (spec.paused === true) return h('Suspended', 'Deployment is paused');
  if (!generationObserved(obj)) {
    return h(
      'Progressing',
      'Waiting for rollout to finish: observed deployment generation less than desired generation',
    );
  }
  const progressing = condition(obj, 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    const why = progressing.message ? `: ${progressing.message}` : '';
    return h('Degraded', `Deployment "${name}" exceeded its progress deadline${why}`);
  }
  const replicas = spec.replicas === undefined ? 1 : num(spec.replicas);
  const updated = num(status.updatedReplicas);
  if (updated < replicas) {
    return h(
      'Progressing',
      `Waiting for rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`,
    );
  }
  const total = num(status.replicas);
  if (total > updated) {
    return h(
      'Progressing',
      `Waiting for rollout to finish: ${total - updated} old replicas are pending termination...`,
    );
  }
  const available = num(status.availableReplicas);
  if (available < updated) {
    return h(
      'Progressing',
      `Waiting for rollout to finish: ${available} of ${updated} updated replicas are available...`,
    );
  }
  return h('Healthy');
}

function statefulSetHealth(obj: KubeObject): Health {
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  if (num(status.observedGeneration) === 0 || !generationObserved(obj)) {
    return h('Progressing', 'Waiting for statefulset spec update to be observed...');
  }
  const replicas = spec.replicas === undefined ? 1 : num(spec.replicas);
  const ready = num(status.readyReplicas);
  if (ready < replicas) return h('Progressing', `Waiting for ${replicas - ready} pods to be ready...`);
  const strategy = rec(spec.updateStrategy);
  if (strategy.type === 'OnDelete') return h('Healthy', `statefulset has ${ready} ready pods`);
  const partition = num(rec(strategy.rollingUpdate).partition);
  if (partition > 0) {
    const updated = num(status.updatedReplicas);
    if (updated < replicas - partition) {
      return h(
        'Progressing',
        `Waiting for partitioned roll out to finish: ${updated} out of ${replicas - partition} new pods have been updated...`,
      );
    }
    return h('Healthy', `partitioned roll out complete: ${updated} new pods have been updated...`);
  }
  if (status.updateRevision !== status.currentRevision) {
    return h(
      'Progressing',
      `waiting for statefulset rolling update to complete ${num(status.updatedReplicas)} pods at revision ${String(status.updateRevision)}...`,
    );
  }
  return h(
    'Healthy',
    `statefulset rolling update complete ${num(status.currentReplicas)} pods at revision ${String(status.currentRevision)}...`,
  );
}

function daemonSetHealth(obj: KubeObject): Health {
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  const name = obj.metadata.name;
  if (!generationObserved(obj))
    return h('Progressing', 'Waiting for daemon set spec update to be observed...');
  if (rec(spec.updateStrategy).type === 'OnDelete') return h('Healthy');
  const desired = num(status.desiredNumberScheduled);
  const updated = num(status.updatedNumberScheduled);
  if (updated < desired) {
    return h(
      'Progressing',
      `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`,
    );
  }
  const available = num(status.numberAvailable);
  if (available < desired) {
    return h(
      'Progressing',
      `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`,
    );
  }
  return h('Healthy');
}

function replicaSetHealth(obj: KubeObject): Health {
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  if (!generationObserved(obj)) {
    return h(
      'Progressing',
      'Waiting for rollout to finish: observed replica set generation less than desired generation',
    );
  }
  const failure = condition(obj, 'ReplicaFailure');
  if (failure?.status === 'True') return h('Degraded', failure.message);
  const replicas = spec.replicas === undefined ? 1 : num(spec.replicas);
  const available = num(status.availableReplicas);
  if (available < replicas) {
    return h(
      'Progressing',
      `Waiting for rollout to finish: ${available} out of ${replicas} new replicas are available...`,
    );
  }
  return h('Healthy');
}

const POD_FAILURE =
  /^(ErrImagePull|ImagePullBackOff|CrashLoopBackOff|CreateContainerConfigError|CreateContainerError|InvalidImageName|RunContainerError)$|BackOff$|^Err/;

function podHealth(obj: KubeObject): Health {
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  const statuses = [
    ...(Array.isArray(status.initContainerStatuses) ? status.initContainerStatuses : []),
    ...(Array.isArray(status.containerStatuses) ? status.containerStatuses : []),
  ].filter(isRecord);
  // A container stuck pulling its image or crash-looping makes the pod Degraded whatever its phase.
  for (const cs of statuses) {
    const waiting = rec(rec(cs.state).waiting);
    const reason = typeof waiting.reason === 'string' ? waiting.reason : '';
    if (reason && POD_FAILURE.test(reason)) {
      const message = typeof waiting.message === 'string' && waiting.message ? waiting.message : reason;
      return h('Degraded', `${String(cs.name)}: ${reason}: ${message}`);
    }
  }
  const phase = status.phase;
  const message = typeof status.message === 'string' ? status.message : undefined;
  switch (phase) {
    case 'Pending': {
      const scheduled = conditions(obj).find((c) => c.type === 'PodScheduled' && c.status === 'False');
      return h('Progressing', message ?? scheduled?.message);
    }
    case 'Succeeded':
      return h('Healthy', message);
    case 'Failed': {
      if (message) return h('Degraded', message);
      for (const cs of statuses) {
        const terminated = rec(rec(cs.state).terminated);
        if (num(terminated.exitCode) !== 0) {
          return h(
            'Degraded',
            `${String(cs.name)}: ${String(terminated.message ?? terminated.reason ?? 'failed')}`,
          );
        }
      }
      return h('Degraded', 'Pod failed');
    }
    case 'Running': {
      if (obj.metadata.deletionTimestamp) return h('Progressing', 'Pod is terminating');
      const restartPolicy = spec.restartPolicy ?? 'Always';
      const ready = condition(obj, 'Ready')?.status === 'True';
      if (restartPolicy === 'Always') {
        return ready
          ? h('Healthy', message)
          : h('Progressing', message ?? 'Waiting for the pod to become ready');
      }
      return h('Progressing', message);
    }
    default:
      return h('Unknown', message);
  }
}

function loadBalancerAssigned(obj: KubeObject): boolean {
  const ingress = rec(rec(rec(obj.status).loadBalancer)).ingress;
  return Array.isArray(ingress) && ingress.length > 0;
}

function serviceHealth(obj: KubeObject): Health {
  if (rec(obj.spec).type !== 'LoadBalancer') return h('Healthy');
  return loadBalancerAssigned(obj)
    ? h('Healthy')
    : h('Progressing', 'Waiting for the load balancer to be assigned');
}

function ingressHealth(obj: KubeObject): Health {
  return loadBalancerAssigned(obj)
    ? h('Healthy')
    : h('Progressing', 'Waiting for the ingress address to be assigned');
}

function pvcHealth(obj: KubeObject): Health {
  const phase = rec(obj.status).phase;
  if (phase === 'Bound') return h('Healthy');
  if (phase === 'Lost') return h('Degraded', 'The volume claim lost its volume');
  if (phase === 'Pending') return h('Progressing', 'Waiting for the volume claim to be bound');
  return h('Unknown');
}

function jobHealth(obj: KubeObject): Health {
  for (const c of conditions(obj)) {
    if (c.status !== 'True') continue;
    if (c.type === 'Failed') return h('Degraded', c.message ?? c.reason ?? 'Job failed');
    if (c.type === 'Complete') return h('Healthy', c.message);
    if (c.type === 'Suspended') return h('Suspended', c.message ?? 'Job is suspended');
  }
  if (rec(obj.spec).suspend === true) return h('Suspended', 'Job is suspended');
  return h('Progressing', 'Job is running');
}

function cronJobHealth(obj: KubeObject): Health {
  if (rec(obj.spec).suspend === true) return h('Suspended', 'CronJob is suspended');
  return h('Healthy');
}

function hpaHealth(obj: KubeObject): Health {
  const all = conditions(obj);
  if (all.length === 0) return h('Progressing', 'Waiting for the autoscaler to observe its target');
  for (const c of all) {
    if (c.type === 'AbleToScale' && c.status === 'False') return h('Degraded', c.message);
    if (c.type === 'ScalingActive' && c.status === 'False' && c.reason?.startsWith('Failed')) {
      return h('Degraded', c.message);
    }
  }
  return h('Healthy');
}

type Assessor = (obj: KubeObject) => Health;

const BY_KIND: Record<string, Assessor> = {
  'apps/Deployment': deploymentHealth,
  'apps/StatefulSet': statefulSetHealth,
  'apps/DaemonSet': daemonSetHealth,
  'apps/ReplicaSet': replicaSetHealth,
  '/Pod': podHealth,
  '/Service': serviceHealth,
  '/PersistentVolumeClaim': pvcHealth,
  'networking.k8s.io/Ingress': ingressHealth,
  'extensions/Ingress': ingressHealth,
  'batch/Job': jobHealth,
  'batch/CronJob': cronJobHealth,
  'autoscaling/HorizontalPodAutoscaler': hpaHealth,
};

/**
 * Assesses one live object. `undefined` (no live object) is `Missing`. Kinds without a health check
 * (ConfigMap, Secret, RBAC, most CRDs) return `undefined`: they do not count towards an application's health.
 */
export function assessHealth(obj: KubeObject | undefined): Health | undefined {
  if (!obj) return h('Missing');
  const assess = BY_KIND[`${groupOf(obj.apiVersion)}/${obj.kind}`];
  if (!assess) return undefined;
  try {
    return assess(obj);
  } catch (err) {
    return h('Unknown', `Cannot assess health: ${(err as Error).message}`);
  }
}

/** The worst of several healths (Healthy when there are none), with the message of the worst one. */
export function aggregateHealth(healths: (Health | undefined)[]): Health {
  let worst: Health = { status: 'Healthy' };
  for (const health of healths) if (health && isWorseHealth(health.status, worst.status)) worst = health;
  return worst;
}
