// Health assessment of live objects, after Argo CD's built-in checks (gitops-engine pkg/health). Pure.
import type { HealthResult, HealthStatus, KubeObject } from './seams.ts';

type Json = Record<string, unknown>;
const o = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const n = (v: unknown): number => (typeof v === 'number' ? v : 0);
const conds = (status: Json): Json[] =>
  Array.isArray(status.conditions) ? (status.conditions as Json[]) : [];

function deployment(obj: KubeObject): HealthResult {
  const spec = o(obj.spec);
  const status = o(obj.status);
  if (spec.paused === true) return { status: 'Suspended', message: 'Deployment is paused' };
  const generation = n(obj.metadata.generation);
  if (generation > n(status.observedGeneration) && obj.metadata.generation !== undefined) {
    return {
      status: 'Progressing',
      message: 'Waiting for rollout to finish: observed deployment generation less than desired generation',
    };
  }
  const progressing = conds(status).find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    const why =
      typeof progressing.message === 'string' && progressing.message ? `: ${progressing.message}` : '';
    return {
      status: 'Degraded',
      message: `Deployment "${obj.metadata.name}" exceeded its progress deadline${why}`,
    };
  }
  const replicas = spec.replicas === undefined ? 1 : n(spec.replicas);
  const updated = n(status.updatedReplicas);
  if (updated < replicas)
    return {
      status: 'Progressing',
      message: `Waiting for rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`,
    };
  if (n(status.replicas) > updated) {
    return {
      status: 'Progressing',
      message: `Waiting for rollout to finish: ${n(status.replicas) - updated} old replicas are pending termination...`,
    };
  }
  if (n(status.availableReplicas) < updated) {
    return {
      status: 'Progressing',
      message: `Waiting for rollout to finish: ${n(status.availableReplicas)} of ${updated} updated replicas are available...`,
    };
  }
  return { status: 'Healthy' };
}

function statefulSetOrDaemonSet(obj: KubeObject): HealthResult {
  const status = o(obj.status);
  const spec = o(obj.spec);
  if (obj.metadata.generation !== undefined && n(obj.metadata.generation) > n(status.observedGeneration)) {
    return { status: 'Progressing', message: 'Waiting for rollout: observed generation behind' };
  }
  if (obj.kind === 'DaemonSet') {
    const desired = n(status.desiredNumberScheduled);
    if (n(status.updatedNumberScheduled) < desired || n(status.numberAvailable) < desired) {
      return {
        status: 'Progressing',
        message: `${n(status.numberAvailable)} of ${desired} daemon pods available`,
      };
    }
    return { status: 'Healthy' };
  }
  const replicas = spec.replicas === undefined ? 1 : n(spec.replicas);
  if (n(status.readyReplicas) < replicas)
    return { status: 'Progressing', message: `${n(status.readyReplicas)} of ${replicas} pods ready` };
  return { status: 'Healthy' };
}

function pod(obj: KubeObject): HealthResult {
  const status = o(obj.status);
  const statuses = [
    ...(Array.isArray(status.initContainerStatuses) ? status.initContainerStatuses : []),
    ...(Array.isArray(status.containerStatuses) ? status.containerStatuses : []),
  ] as Json[];
  for (const cs of statuses) {
    const waiting = o(o(cs.state).waiting);
    const reason = String(waiting.reason ?? '');
    if (
      /ErrImagePull|ImagePullBackOff|CrashLoopBackOff|InvalidImageName|CreateContainerConfigError|ErrImageNeverPull/.test(
        reason,
      )
    ) {
      return {
        status: 'Degraded',
        message: `${reason}: ${String(waiting.message ?? cs.image ?? '')}`.trim(),
      };
    }
  }
  switch (status.phase) {
    case 'Succeeded':
      return { status: 'Healthy', message: String(status.message ?? '') || undefined } as HealthResult;
    case 'Failed':
      return { status: 'Degraded', message: String(status.message ?? status.reason ?? 'Pod failed') };
    case 'Running': {
      const ready = conds(status).find((c) => c.type === 'Ready');
      return ready?.status === 'True'
        ? { status: 'Healthy' }
        : { status: 'Progressing', message: 'Pod is not ready' };
    }
    default:
      return { status: 'Progressing', message: String(status.message ?? status.reason ?? 'Pod is pending') };
  }
}

function job(obj: KubeObject): HealthResult {
  const status = o(obj.status);
  for (const c of conds(status)) {
    if (c.type === 'Failed' && c.status === 'True')
      return { status: 'Degraded', message: String(c.message ?? 'Job failed') };
    if (c.type === 'Complete' && c.status === 'True')
      return { status: 'Healthy', message: String(c.message ?? 'Job completed') };
    if (c.type === 'Suspended' && c.status === 'True')
      return { status: 'Suspended', message: 'Job is suspended' };
  }
  return { status: 'Progressing', message: 'Job is running' };
}

/** Health of one live object; kinds without a check are Healthy once they exist. */
export function assessHealth(obj: KubeObject | undefined): HealthResult {
  if (!obj) return { status: 'Missing' };
  switch (obj.kind) {
    case 'Deployment':
      return deployment(obj);
    case 'StatefulSet':
    case 'DaemonSet':
      return statefulSetOrDaemonSet(obj);
    case 'ReplicaSet': {
      const replicas = o(obj.spec).replicas === undefined ? 1 : n(o(obj.spec).replicas);
      const avail = n(o(obj.status).availableReplicas);
      return avail < replicas
        ? { status: 'Progressing', message: `${avail} of ${replicas} available` }
        : { status: 'Healthy' };
    }
    case 'Pod':
      return pod(obj);
    case 'Job':
      return job(obj);
    case 'PersistentVolumeClaim':
      return o(obj.status).phase === 'Bound'
        ? { status: 'Healthy' }
        : { status: 'Progressing', message: 'Waiting for the claim to be bound' };
    case 'Service': {
      if (o(obj.spec).type !== 'LoadBalancer') return { status: 'Healthy' };
      const ing = o(o(obj.status).loadBalancer).ingress;
      return Array.isArray(ing) && ing.length > 0
        ? { status: 'Healthy' }
        : { status: 'Progressing', message: 'Waiting for a load balancer address' };
    }
    default:
      return { status: 'Healthy' };
  }
}

const ORDER: HealthStatus[] = ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown'];

/** The worst of several health statuses (Argo CD's order: Healthy < Suspended < Progressing < Missing < Degraded < Unknown). */
export function worstHealth(items: HealthStatus[]): HealthStatus {
  let worst: HealthStatus = 'Healthy';
  for (const h of items) if (ORDER.indexOf(h) > ORDER.indexOf(worst)) worst = h;
  return worst;
}
