// gitops' view of kube/'s health assessment. Two reconciler-specific rules on top: kinds kube/ has no check
// for count as Healthy once they exist, and an Ingress still waiting for an address is Healthy — clusters
// without an ingress controller (the embedded one, kind, bare metal) never assign one, and Argo CD users
// add exactly this override as a custom health check so that rollouts can finish.
import { aggregateHealth, assessHealth as assessKubeHealth } from '../kube/index.ts';
import type { HealthResult, HealthStatus, KubeObject } from './seams.ts';

/** Health of one live object (`Missing` when absent); kinds without a check are Healthy. */
export function assessHealth(obj: KubeObject | undefined): HealthResult {
  const health = assessKubeHealth(obj) ?? { status: 'Healthy' };
  if (obj?.kind === 'Ingress' && health.status === 'Progressing')
    return { status: 'Healthy', message: 'No ingress address assigned (no ingress controller)' };
  return health;
}

/** The worst of several health statuses, in Argo CD's order (Healthy < Suspended < Progressing < Missing < Degraded < Unknown). */
export function worstHealth(items: HealthStatus[]): HealthStatus {
  return aggregateHealth(items.map((status) => ({ status }))).status;
}
