// Deployment and ReplicaSet controllers (event-driven; one sync per changed object).
import { createHash } from 'node:crypto';
import { type Cluster, randomSuffix } from '../api.ts';
import type { ResourceInfo } from '../resources.ts';
import type { KubeObject, OwnerReference } from '../types.ts';
import { splitKey, type WorkQueue } from './queue.ts';

export const CONTROLLER = 'kube-controller-manager';
const REVISION = 'deployment.kubernetes.io/revision';

export function ownerRef(o: KubeObject, controller = true): OwnerReference {
  return {
    apiVersion: o.apiVersion ?? '',
    kind: o.kind ?? '',
    name: o.metadata.name ?? '',
    uid: o.metadata.uid ?? '',
    controller,
    blockOwnerDeletion: true,
  };
}

export function controllerOf(o: KubeObject): OwnerReference | undefined {
  return (o.metadata.ownerReferences ?? []).find((r) => r.controller);
}

/** A short, stable hash of a pod template (like the pod-template-hash label). */
export function templateHash(template: unknown): string {
  const digest = createHash('sha256')
    .update(canonicalJson(stripHash(template)))
    .digest();
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  for (let i = 0; i < 10; i++) out += alphabet[(digest[i] as number) % alphabet.length];
  return out;
}

/** JSON with object keys sorted, so equal templates hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function stripHash(template: unknown): unknown {
  const t = structuredClone(template) as {
    metadata?: { labels?: Record<string, string>; creationTimestamp?: unknown };
  };
  if (t?.metadata?.labels) delete t.metadata.labels['pod-template-hash'];
  if (t?.metadata) delete t.metadata.creationTimestamp;
  return t;
}

export function isPodReady(p: KubeObject): boolean {
  return (p.status?.conditions ?? []).some(
    (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
  );
}

/**
 * Available as the workload controllers count it: Ready for at least `minReadySeconds` (by the Ready condition's
 * lastTransitionTime, as Kubernetes does). `waitMs` is how long until a ready pod becomes available.
 */
export function podAvailability(
  p: KubeObject,
  minReadySeconds: number,
  nowMs: number,
): { available: boolean; waitMs: number } {
  const ready = (p.status?.conditions ?? []).find(
    (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
  ) as { lastTransitionTime?: string } | undefined;
  if (!ready) return { available: false, waitMs: 0 };
  if (!(minReadySeconds > 0)) return { available: true, waitMs: 0 };
  const since = Date.parse(ready.lastTransitionTime ?? '');
  if (!Number.isFinite(since)) return { available: true, waitMs: 0 };
  const waitMs = since + minReadySeconds * 1000 - nowMs;
  return waitMs <= 0 ? { available: true, waitMs: 0 } : { available: false, waitMs };
}

/** Counts the available pods among `pods`; `retryMs` is the soonest a ready one becomes available (if any). */
export function countAvailable(
  pods: KubeObject[],
  minReadySeconds: number,
  nowMs: number,
): { available: number; retryMs: number | undefined } {
  let available = 0;
  let retryMs: number | undefined;
  for (const p of pods) {
    const a = podAvailability(p, minReadySeconds, nowMs);
    if (a.available) available++;
    else if (a.waitMs > 0) retryMs = retryMs === undefined ? a.waitMs : Math.min(retryMs, a.waitMs);
  }
  return { available, retryMs };
}

export function isPodActive(p: KubeObject): boolean {
  return !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
}

function resolveIntOrPercent(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.endsWith('%')) {
    const x = (Number(v.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

export interface WorkloadDeps {
  cluster: Cluster;
  deployments: WorkQueue;
  replicasets: WorkQueue;
}

function dependentsOf(cluster: Cluster, owner: KubeObject, key: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const d of cluster.store.dependents(owner.metadata.uid ?? '')) {
    if (d.key !== key) continue;
    const o = cluster.store.get(d.key, d.namespace, d.name);
    if (o && controllerOf(o)?.uid === owner.metadata.uid) out.push(o);
  }
  return out;
}

/**
 * Live (non-terminating) and available pods of a ReplicaSet, read from the store (never stale). `ready` counts
 * pods available as the Deployment controller counts them (Ready for the Deployment's minReadySeconds).
 */
function podCounts(cluster: Cluster, rs: KubeObject, minReadySeconds = 0): { live: number; ready: number } {
  let live = 0;
  let ready = 0;
  const nowMs = cluster.clock.now();
  for (const d of cluster.store.dependents(rs.metadata.uid ?? '')) {
    if (d.key !== '/pods') continue;
    const p = cluster.store.get(d.key, d.namespace, d.name);
    if (!p || !isPodActive(p) || controllerOf(p)?.uid !== rs.metadata.uid) continue;
    live++;
    if (podAvailability(p, minReadySeconds, nowMs).available) ready++;
  }
  return { live, ready };
}

function revisionOf(rs: KubeObject): number {
  return Number(rs.metadata.annotations?.[REVISION] ?? 0);
}

function condition(
  type: string,
  status: string,
  reason: string,
  message: string,
  now: string,
  prev?: Record<string, string>,
) {
  const same = prev && prev.status === status;
  return {
    type,
    status,
    lastUpdateTime: now,
    lastTransitionTime: same ? (prev?.lastTransitionTime ?? now) : now,
    reason,
    message,
  };
}

/** Syncs one Deployment: creates/scales ReplicaSets per strategy and writes status. */
export function syncDeployment(deps: WorkloadDeps, key: string): void {
  const { cluster } = deps;
  const [ns, name] = splitKey(key);
  const dInfo = cluster.info('apps/v1', 'deployments');
  const rsInfo = cluster.info('apps/v1', 'replicasets');
  const d = cluster.find(dInfo, ns, name);
  if (!d || d.metadata.deletionTimestamp) return;
  const spec = d.spec ?? {};
  const replicas: number = spec.replicas ?? 1;
  const minReady = Number(spec.minReadySeconds ?? 0);
  const hash = templateHash(spec.template);
  const all = dependentsOf(cluster, d, rsInfo.key).sort((a, b) =>
    (a.metadata.creationTimestamp ?? '') < (b.metadata.creationTimestamp ?? '') ? -1 : 1,
  );
  let newRs = all.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
  const olds = all.filter((rs) => rs !== newRs);
  const maxOldRevision = olds.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
  let createdNew = false;
  const maxSurge =
    spec.strategy?.type === 'Recreate'
      ? 0
      : resolveIntOrPercent(spec.strategy?.rollingUpdate?.maxSurge ?? '25%', replicas, true);
  let maxUnavailable =
    spec.strategy?.type === 'Recreate'
      ? replicas
      : resolveIntOrPercent(spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', replicas, false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  if (spec.paused) {
    writeDeploymentStatus(deps, d, newRs, all, maxUnavailable, false);
    return;
  }

  if (!newRs) {
    const template = structuredClone(spec.template ?? {});
    template.metadata = {
      ...(template.metadata ?? {}),
      labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash },
    };
    const allCount = all.reduce(
      (n, rs) => n + Math.max(rs.spec?.replicas ?? 0, podCounts(cluster, rs).live),
      0,
    );
    let initial = replicas;
    if (spec.strategy?.type === 'Recreate')
      initial = olds.some((rs) => (rs.status?.replicas ?? 0) > 0 || (rs.spec?.replicas ?? 0) > 0)
        ? 0
        : replicas;
    else if (olds.length > 0) initial = Math.max(0, Math.min(replicas, replicas + maxSurge - allCount));
    const rs: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${name}-${hash}`,
        namespace: ns,
        labels: { ...(spec.template?.metadata?.labels ?? {}), 'pod-template-hash': hash },
        annotations: {
          'deployment.kubernetes.io/desired-replicas': String(replicas),
          'deployment.kubernetes.io/max-replicas': String(replicas + maxSurge),
          [REVISION]: String(maxOldRevision + 1),
        },
        ownerReferences: [ownerRef(d)],
      },
      spec: {
        replicas: initial,
        selector: {
          ...(spec.selector ?? {}),
          matchLabels: { ...(spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash },
        },
        template,
        ...(spec.minReadySeconds ? { minReadySeconds: spec.minReadySeconds } : {}),
      },
    };
    try {
      newRs = cluster.create(rsInfo, ns, rs, { fieldManager: CONTROLLER });
      createdNew = true;
    } catch {
      newRs = cluster.find(rsInfo, ns, `${name}-${hash}`);
      if (!newRs) return;
    }
    all.push(newRs);
  } else if ((newRs.spec?.minReadySeconds ?? 0) !== minReady) {
    // The new ReplicaSet follows the Deployment's minReadySeconds (as the Deployment controller syncs it).
    const rsSpec = { ...newRs.spec, minReadySeconds: minReady };
    if (!minReady) delete rsSpec.minReadySeconds;
    newRs = cluster.write(rsInfo, { ...newRs, spec: rsSpec }, CONTROLLER) ?? newRs;
  }
  if (
    !createdNew &&
    (revisionOf(newRs) <= maxOldRevision ||
      newRs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'] !== String(replicas))
  ) {
    // Rollback to an older template (or a replicas change): the ReplicaSet gets the next revision.
    const annotations: Record<string, string> = {
      ...(newRs.metadata.annotations ?? {}),
      'deployment.kubernetes.io/desired-replicas': String(replicas),
      'deployment.kubernetes.io/max-replicas': String(replicas + maxSurge),
    };
    if (revisionOf(newRs) <= maxOldRevision) annotations[REVISION] = String(maxOldRevision + 1);
    newRs =
      cluster.write(rsInfo, { ...newRs, metadata: { ...newRs.metadata, annotations } }, CONTROLLER) ?? newRs;
  }
  const scale = (rs: KubeObject, n: number): KubeObject => {
    if ((rs.spec?.replicas ?? 0) === n) return rs;
    return cluster.write(rsInfo, { ...rs, spec: { ...rs.spec, replicas: n } }, CONTROLLER) ?? rs;
  };
  const current = () => [
    newRs as KubeObject,
    ...olds.map((o) => cluster.find(rsInfo, ns, o.metadata.name ?? '') ?? o),
  ];
  if (spec.strategy?.type === 'Recreate') {
    for (const rs of olds) scale(rs, 0);
    const oldRunning = olds.some((rs) => {
      const cur = cluster.find(rsInfo, ns, rs.metadata.name ?? '');
      return (cur?.status?.replicas ?? 0) > 0;
    });
    if (!oldRunning) newRs = scale(newRs, replicas);
  } else if (olds.every((rs) => (rs.spec?.replicas ?? 0) === 0)) {
    newRs = scale(newRs, replicas);
  } else {
    // Rolling update: scale up the new ReplicaSet within maxSurge.
    const allCount = current().reduce(
      (n, rs) => n + Math.max(rs.spec?.replicas ?? 0, podCounts(cluster, rs).live),
      0,
    );
    const maxTotal = replicas + maxSurge;
    const newReplicas = newRs.spec?.replicas ?? 0;
    if (newReplicas > replicas) newRs = scale(newRs, replicas);
    else if (allCount < maxTotal && newReplicas < replicas)
      newRs = scale(newRs, Math.min(replicas, newReplicas + (maxTotal - allCount)));
    // Scale down old ReplicaSets within maxUnavailable.
    const minAvailable = replicas - maxUnavailable;
    const rsList = current();
    const allPods = rsList.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
    const newUnavailable = (newRs.spec?.replicas ?? 0) - podCounts(cluster, newRs, minReady).ready;
    let maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown > 0) {
      // First remove unhealthy old replicas.
      for (const rs of olds) {
        if (maxScaledDown <= 0) break;
        const cur = cluster.find(rsInfo, ns, rs.metadata.name ?? '') ?? rs;
        const unhealthy = (cur.spec?.replicas ?? 0) - podCounts(cluster, cur, minReady).ready;
        if (unhealthy <= 0) continue;
        const n = Math.min(maxScaledDown, unhealthy);
        scale(cur, (cur.spec?.replicas ?? 0) - n);
        maxScaledDown -= n;
      }
      const available = current().reduce(
        (n, rs) => n + Math.min(podCounts(cluster, rs, minReady).ready, rs.spec?.replicas ?? 0),
        0,
      );
      let budget = available - minAvailable;
      for (const rs of olds) {
        if (budget <= 0) break;
        const cur = cluster.find(rsInfo, ns, rs.metadata.name ?? '') ?? rs;
        const r = cur.spec?.replicas ?? 0;
        if (r === 0) continue;
        const n = Math.min(r, budget);
        scale(cur, r - n);
        budget -= n;
      }
    }
  }
  // Revision history cleanup.
  const limit: number = spec.revisionHistoryLimit ?? 10;
  const idle = olds
    .map((rs) => cluster.find(rsInfo, ns, rs.metadata.name ?? ''))
    .filter(
      (rs): rs is KubeObject => !!rs && (rs.spec?.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0,
    )
    .sort((a, b) => revisionOf(a) - revisionOf(b));
  for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
    try {
      cluster.delete(rsInfo, ns, rs.metadata.name ?? '', { propagationPolicy: 'Background' });
    } catch {
      // already gone
    }
  }
  writeDeploymentStatus(deps, d, newRs, current(), maxUnavailable, createdNew);
}

function writeDeploymentStatus(
  deps: WorkloadDeps,
  d: KubeObject,
  newRs: KubeObject | undefined,
  all: KubeObject[],
  maxUnavailable: number,
  createdNew: boolean,
): void {
  const { cluster } = deps;
  const dInfo: ResourceInfo = cluster.info('apps/v1', 'deployments');
  const cur = cluster.find(dInfo, d.metadata.namespace ?? '', d.metadata.name ?? '');
  if (!cur) return;
  const replicas: number = cur.spec?.replicas ?? 1;
  const sum = (f: (rs: KubeObject) => number) => all.reduce((n, rs) => n + f(rs), 0);
  const statusReplicas = sum((rs) => rs.status?.replicas ?? 0);
  const updated = newRs?.status?.replicas ?? 0;
  const ready = sum((rs) => rs.status?.readyReplicas ?? 0);
  const available = sum((rs) => rs.status?.availableReplicas ?? 0);
  const specTotal = sum((rs) => rs.spec?.replicas ?? 0);
  const now = cluster.now();
  const prevConds: Record<string, string>[] = cur.status?.conditions ?? [];
  const prevAvail = prevConds.find((c) => c.type === 'Available');
  const prevProg = prevConds.find((c) => c.type === 'Progressing');
  const availableOk = available >= replicas - maxUnavailable;
  const availCond = availableOk
    ? condition(
        'Available',
        'True',
        'MinimumReplicasAvailable',
        'Deployment has minimum availability.',
        now,
        prevAvail,
      )
    : condition(
        'Available',
        'False',
        'MinimumReplicasUnavailable',
        'Deployment does not have minimum availability.',
        now,
        prevAvail,
      );
  if (prevAvail && prevAvail.status === availCond.status && prevAvail.reason === availCond.reason)
    availCond.lastUpdateTime = prevAvail.lastUpdateTime ?? now;
  const rsName = newRs?.metadata.name ?? '';
  const complete =
    updated === replicas &&
    available === replicas &&
    statusReplicas === replicas &&
    (newRs?.status?.availableReplicas ?? 0) === replicas;
  const prevStatus = cur.status ?? {};
  const progressed =
    createdNew ||
    prevStatus.updatedReplicas !== updated ||
    prevStatus.availableReplicas !== available ||
    prevStatus.readyReplicas !== ready ||
    prevStatus.replicas !== statusReplicas ||
    (prevStatus.observedGeneration ?? 0) !== cur.metadata.generation;
  let progCond: Record<string, string>;
  const deadline: number | undefined = cur.spec?.progressDeadlineSeconds;
  if (complete) {
    progCond =
      prevProg?.reason === 'NewReplicaSetAvailable' && prevProg.message?.includes(`"${rsName}"`)
        ? (prevProg as Record<string, string>)
        : condition(
            'Progressing',
            'True',
            'NewReplicaSetAvailable',
            `ReplicaSet "${rsName}" has successfully progressed.`,
            now,
            prevProg,
          );
  } else if (createdNew) {
    progCond = condition(
      'Progressing',
      'True',
      'NewReplicaSetCreated',
      `Created new replica set "${rsName}"`,
      now,
      prevProg,
    );
  } else if (progressed || !prevProg || prevProg.reason === 'NewReplicaSetAvailable') {
    progCond = condition(
      'Progressing',
      'True',
      'ReplicaSetUpdated',
      `ReplicaSet "${rsName}" is progressing.`,
      now,
      prevProg,
    );
  } else if (prevProg.reason === 'ProgressDeadlineExceeded') {
    progCond = prevProg as Record<string, string>;
  } else {
    const since = Date.parse(prevProg.lastUpdateTime ?? now);
    if (deadline !== undefined && cluster.clock.now() - since >= deadline * 1000) {
      progCond = condition(
        'Progressing',
        'False',
        'ProgressDeadlineExceeded',
        `ReplicaSet "${rsName}" has timed out progressing.`,
        now,
        prevProg,
      );
    } else {
      progCond = prevProg as Record<string, string>;
      if (deadline !== undefined)
        deps.deployments.addAfter(
          `${cur.metadata.namespace}/${cur.metadata.name}`,
          since + deadline * 1000 - cluster.clock.now() + 50,
        );
    }
  }
  if (!complete && deadline !== undefined && progCond.reason !== 'ProgressDeadlineExceeded') {
    deps.deployments.addAfter(`${cur.metadata.namespace}/${cur.metadata.name}`, deadline * 1000 + 50);
  }
  const status: Record<string, unknown> = {
    observedGeneration: cur.metadata.generation,
    replicas: statusReplicas,
    updatedReplicas: updated,
    readyReplicas: ready,
    availableReplicas: available,
    unavailableReplicas: Math.max(0, specTotal - available),
    conditions: [availCond, progCond],
  };
  for (const k of [
    'replicas',
    'updatedReplicas',
    'readyReplicas',
    'availableReplicas',
    'unavailableReplicas',
  ])
    if (status[k] === 0) delete status[k];
  const annotations = { ...(cur.metadata.annotations ?? {}) };
  const rev = newRs?.metadata.annotations?.[REVISION];
  let next: KubeObject = cur;
  if (rev && annotations[REVISION] !== rev) {
    annotations[REVISION] = rev;
    next = cluster.write(dInfo, { ...cur, metadata: { ...cur.metadata, annotations } }, CONTROLLER) ?? cur;
  }
  const strip = (s: Record<string, unknown>) =>
    JSON.stringify({
      ...s,
      conditions: (s.conditions as Record<string, string>[] | undefined)?.map((c) => ({
        ...c,
        lastUpdateTime: '',
        lastTransitionTime: '',
      })),
    });
  if (strip(status) === strip(next.status ?? {}) && !progressed) return;
  cluster.write(dInfo, { ...next, status }, CONTROLLER, 'status');
}

/** Syncs one ReplicaSet: creates or deletes pods toward spec.replicas and writes status. */
export function syncReplicaSet(deps: WorkloadDeps, key: string): void {
  const { cluster } = deps;
  const [ns, name] = splitKey(key);
  const rsInfo = cluster.info('apps/v1', 'replicasets');
  const podInfo = cluster.info('v1', 'pods');
  const rs = cluster.find(rsInfo, ns, name);
  if (!rs || rs.metadata.deletionTimestamp) return;
  const pods = dependentsOf(cluster, rs, podInfo.key).filter(isPodActive);
  const want: number = rs.spec?.replicas ?? 1;
  if (pods.length < want) {
    for (let i = pods.length; i < want; i++) {
      const template = rs.spec?.template ?? {};
      const pod: KubeObject = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${name}-${randomSuffix()}`,
          generateName: `${name}-`,
          namespace: ns,
          labels: { ...(template.metadata?.labels ?? {}) },
          ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
          ownerReferences: [ownerRef(rs)],
        },
        spec: structuredClone(template.spec ?? {}),
      };
      try {
        pods.push(cluster.create(podInfo, ns, pod, { fieldManager: CONTROLLER }));
      } catch {
        // name clash or namespace terminating: retried on the next event
      }
    }
  } else if (pods.length > want) {
    const rank = (p: KubeObject) =>
      (p.spec?.nodeName ? 1 : 0) + (p.status?.phase === 'Running' ? 2 : 0) + (isPodReady(p) ? 4 : 0);
    const victims = [...pods]
      .sort(
        (a, b) =>
          rank(a) - rank(b) ||
          ((a.metadata.creationTimestamp ?? '') > (b.metadata.creationTimestamp ?? '') ? -1 : 1),
      )
      .slice(0, pods.length - want);
    for (const p of victims) {
      try {
        cluster.delete(podInfo, ns, p.metadata.name ?? '', {});
      } catch {
        // already gone
      }
    }
  }
  const live = dependentsOf(cluster, rs, podInfo.key).filter(isPodActive);
  const ready = live.filter(isPodReady).length;
  const { available, retryMs } = countAvailable(
    live,
    Number(rs.spec?.minReadySeconds ?? 0),
    cluster.clock.now(),
  );
  if (retryMs !== undefined) deps.replicasets.addAfter(key, retryMs + 10);
  const selectorLabels = rs.spec?.template?.metadata?.labels ?? {};
  const status: Record<string, unknown> = {
    replicas: live.length,
    fullyLabeledReplicas: live.filter((p) =>
      Object.entries(selectorLabels).every(([k, v]) => p.metadata.labels?.[k] === v),
    ).length,
    readyReplicas: ready,
    availableReplicas: available,
    observedGeneration: rs.metadata.generation,
  };
  for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'])
    if (status[k] === 0) delete status[k];
  if (JSON.stringify(status) !== JSON.stringify(rs.status ?? {}))
    cluster.write(rsInfo, { ...rs, status }, CONTROLLER, 'status');
}
