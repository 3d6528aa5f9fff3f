// Endpoints, garbage collection, namespaces, service accounts, CRDs, Jobs, CronJobs, StatefulSets, DaemonSets.
import { type Cluster, randomSuffix } from '../api.ts';
import { matchesLabels, selectorFromObject } from '../selectors.ts';
import type { KubeObject } from '../types.ts';
import { NODE_NAME } from './kubelet.ts';
import { splitKey, type WorkQueue } from './queue.ts';
import {
  CONTROLLER,
  controllerOf,
  countAvailable,
  isPodActive,
  isPodReady,
  ownerRef,
  templateHash,
} from './workloads.ts';

function podsOwnedBy(cluster: Cluster, owner: KubeObject): KubeObject[] {
  const out: KubeObject[] = [];
  for (const d of cluster.store.dependents(owner.metadata.uid ?? '')) {
    if (d.key !== '/pods') continue;
    const o = cluster.store.get(d.key, d.namespace, d.name);
    if (o && controllerOf(o)?.uid === owner.metadata.uid) out.push(o);
  }
  return out;
}

function safeDelete(
  cluster: Cluster,
  apiVersion: string,
  resource: string,
  ns: string,
  name: string,
  policy?: 'Background' | 'Foreground' | 'Orphan',
): void {
  try {
    cluster.delete(cluster.info(apiVersion, resource), ns, name, { propagationPolicy: policy });
  } catch {
    // already gone
  }
}

/** Service → Endpoints. */
export function syncEndpoints(cluster: Cluster, key: string): void {
  const [ns, name] = splitKey(key);
  const svcInfo = cluster.info('v1', 'services');
  const epInfo = cluster.info('v1', 'endpoints');
  const svc = cluster.find(svcInfo, ns, name);
  const existing = cluster.find(epInfo, ns, name);
  if (!svc) {
    if (existing && existing.metadata.labels?.['endpoints.kubernetes.io/managed-by'] !== 'user')
      safeDelete(cluster, 'v1', 'endpoints', ns, name);
    return;
  }
  const selector: Record<string, string> | undefined = svc.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return;
  const pods = cluster.store
    .list('/pods', ns)
    .filter(
      (p) =>
        isPodActive(p) &&
        p.status?.podIP &&
        Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v),
    );
  const ports = (
    (svc.spec?.ports ?? []) as {
      name?: string;
      port: number;
      targetPort?: number | string;
      protocol?: string;
    }[]
  ).map((p) => {
    let port = typeof p.targetPort === 'number' ? p.targetPort : p.port;
    if (typeof p.targetPort === 'string') {
      for (const pod of pods)
        for (const c of pod.spec?.containers ?? [])
          for (const cp of c.ports ?? []) if (cp.name === p.targetPort) port = cp.containerPort;
    }
    return { ...(p.name ? { name: p.name } : {}), port, protocol: p.protocol ?? 'TCP' };
  });
  const addr = (p: KubeObject) => ({
    ip: p.status.podIP,
    nodeName: p.spec?.nodeName ?? NODE_NAME,
    targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid },
  });
  const ready = pods.filter(isPodReady).map(addr);
  const notReady = pods.filter((p) => !isPodReady(p)).map(addr);
  const subsets =
    pods.length === 0
      ? undefined
      : [
          {
            ...(ready.length ? { addresses: ready } : {}),
            ...(notReady.length ? { notReadyAddresses: notReady } : {}),
            ports,
          },
        ];
  const labels = {
    ...(svc.metadata.labels ?? {}),
    'endpoints.kubernetes.io/managed-by': 'endpoint-controller',
  };
  if (!existing) {
    const ep: KubeObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace: ns, labels },
      ...(subsets ? { subsets } : {}),
    };
    try {
      cluster.create(epInfo, ns, ep, { fieldManager: CONTROLLER });
    } catch {
      // namespace going away
    }
    return;
  }
  if (JSON.stringify(existing.subsets) === JSON.stringify(subsets)) return;
  const next: KubeObject = { ...existing, metadata: { ...existing.metadata, labels } };
  if (subsets) next.subsets = subsets;
  else delete next.subsets;
  cluster.write(epInfo, next, CONTROLLER);
}

/** Services in `ns` whose selector matches `labels`. */
export function servicesSelecting(
  cluster: Cluster,
  ns: string,
  labels: Record<string, string> | undefined,
): string[] {
  const out: string[] = [];
  for (const svc of cluster.store.list('/services', ns)) {
    const sel: Record<string, string> | undefined = svc.spec?.selector;
    if (sel && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels?.[k] === v))
      out.push(`${ns}/${svc.metadata.name}`);
  }
  return out;
}

/** Garbage collection of dependents after an owner is gone, and the orphan/foreground finalizers. */
export function collectGarbage(cluster: Cluster, owner: KubeObject, gone: boolean): void {
  const uid = owner.metadata.uid ?? '';
  const dependents = cluster.store.dependents(uid);
  const infoOf = (key: string) => cluster.registry.all().find((i) => i.key === key);
  const finalizers = owner.metadata.finalizers ?? [];
  if (!gone && owner.metadata.deletionTimestamp && finalizers.includes('orphan')) {
    for (const d of dependents) {
      const o = cluster.store.get(d.key, d.namespace, d.name);
      const info = infoOf(d.key);
      if (!o || !info) continue;
      const refs = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
      const next: KubeObject = { ...o, metadata: { ...o.metadata, ownerReferences: refs } };
      if (refs.length === 0) delete next.metadata.ownerReferences;
      cluster.write(info, next, 'garbage-collector');
    }
    const info = cluster.registry.byKind(owner.apiVersion ?? '', owner.kind ?? '');
    if (info) cluster.removeFinalizer(info, owner, 'orphan', 'garbage-collector');
    return;
  }
  if (!gone && owner.metadata.deletionTimestamp && finalizers.includes('foregroundDeletion')) {
    const info = cluster.registry.byKind(owner.apiVersion ?? '', owner.kind ?? '');
    if (dependents.length === 0) {
      if (info) cluster.removeFinalizer(info, owner, 'foregroundDeletion', 'garbage-collector');
      return;
    }
    for (const d of dependents) {
      const o = cluster.store.get(d.key, d.namespace, d.name);
      const di = infoOf(d.key);
      if (!o || !di || o.metadata.deletionTimestamp) continue;
      try {
        cluster.delete(di, d.namespace, d.name, { propagationPolicy: 'Foreground' });
      } catch {
        // gone
      }
    }
    return;
  }
  if (!gone) return;
  for (const d of dependents) {
    const o = cluster.store.get(d.key, d.namespace, d.name);
    const info = infoOf(d.key);
    if (!o || !info) continue;
    const others = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
    const alive = others.filter((r) => {
      const oi = cluster.registry.byKind(r.apiVersion, r.kind);
      const owner2 = oi ? cluster.store.get(oi.key, oi.namespaced ? d.namespace : '', r.name) : undefined;
      return owner2?.metadata.uid === r.uid;
    });
    if (alive.length > 0) {
      cluster.write(info, { ...o, metadata: { ...o.metadata, ownerReferences: alive } }, 'garbage-collector');
      continue;
    }
    try {
      cluster.delete(info, d.namespace, d.name, { propagationPolicy: 'Background' });
    } catch {
      // gone
    }
  }
}

/** Namespace deletion: deletes every object in it, then removes the `kubernetes` finalizer. */
export function syncNamespace(cluster: Cluster, name: string): void {
  const nsInfo = cluster.info('v1', 'namespaces');
  const ns = cluster.find(nsInfo, '', name);
  if (!ns) return;
  if (!ns.metadata.deletionTimestamp) {
    const saInfo = cluster.info('v1', 'serviceaccounts');
    if (!cluster.find(saInfo, name, 'default')) {
      try {
        cluster.create(
          saInfo,
          name,
          { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } },
          { fieldManager: CONTROLLER },
        );
      } catch {
        // exists
      }
    }
    return;
  }
  const keys = cluster.store.keysInNamespace(name);
  if (keys.length > 0) {
    for (const key of keys) {
      const info = cluster.registry.all().find((i) => i.key === key);
      if (!info) continue;
      for (const o of cluster.store.list(key, name)) {
        if (o.metadata.deletionTimestamp) {
          // Finalizers of contents cannot block the namespace forever in a simulated cluster.
          if ((o.metadata.finalizers ?? []).length > 0)
            cluster.write(
              info,
              { ...o, metadata: { ...o.metadata, finalizers: [] } },
              'namespace-controller',
            );
          continue;
        }
        try {
          cluster.delete(info, name, o.metadata.name ?? '', { propagationPolicy: 'Background' });
        } catch {
          // gone
        }
      }
    }
    return;
  }
  const next: KubeObject = { ...ns, spec: { ...ns.spec, finalizers: [] } };
  cluster.write(nsInfo, next, 'namespace-controller');
}

/** CustomResourceDefinition → served resources, and its status. */
export function syncCrd(cluster: Cluster, name: string): void {
  const info = cluster.info('apiextensions.k8s.io/v1', 'customresourcedefinitions');
  const crd = cluster.find(info, '', name);
  if (!crd) return;
  if (crd.metadata.deletionTimestamp) {
    const spec = crd.spec ?? {};
    const version = (spec.versions ?? [])[0]?.name;
    const cr = version ? cluster.registry.get(`${spec.group}/${version}`, spec.names?.plural) : undefined;
    if (cr)
      for (const o of cluster.store.list(cr.key))
        safeDelete(
          cluster,
          `${spec.group}/${version}`,
          spec.names.plural,
          o.metadata.namespace ?? '',
          o.metadata.name ?? '',
        );
    cluster.registry.unregisterCrd(name);
    cluster.removeFinalizer(
      info,
      crd,
      'customresourcecleanup.apiextensions.k8s.io',
      'apiextensions-controller',
    );
    return;
  }
  cluster.registry.registerCrd(crd);
  const now = cluster.now();
  const status = {
    conditions: [
      {
        type: 'NamesAccepted',
        status: 'True',
        lastTransitionTime: now,
        reason: 'NoConflicts',
        message: 'no conflicts found',
      },
      {
        type: 'Established',
        status: 'True',
        lastTransitionTime: now,
        reason: 'InitialNamesAccepted',
        message: 'the initial names have been accepted',
      },
    ],
    acceptedNames: crd.spec?.names ?? {},
    storedVersions: (crd.spec?.versions ?? [])
      .filter((v: { storage?: boolean }) => v.storage)
      .map((v: { name: string }) => v.name),
  };
  const finalizers = crd.metadata.finalizers ?? [];
  let cur = crd;
  if (!finalizers.includes('customresourcecleanup.apiextensions.k8s.io')) {
    cur =
      cluster.write(
        info,
        {
          ...crd,
          metadata: {
            ...crd.metadata,
            finalizers: [...finalizers, 'customresourcecleanup.apiextensions.k8s.io'],
          },
        },
        'apiextensions-controller',
      ) ?? crd;
  }
  if (
    JSON.stringify(cur.status?.acceptedNames) !== JSON.stringify(status.acceptedNames) ||
    !cur.status?.conditions
  ) {
    cluster.write(info, { ...cur, status }, 'apiextensions-controller', 'status');
  }
}

function podFromTemplate(
  owner: KubeObject,
  template: KubeObject,
  name: string | undefined,
  extraLabels: Record<string, string> = {},
): KubeObject {
  const ownerName = owner.metadata.name ?? '';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(name ? { name } : { name: `${ownerName}-${randomSuffix()}`, generateName: `${ownerName}-` }),
      namespace: owner.metadata.namespace ?? '',
      labels: { ...(template.metadata?.labels ?? {}), ...extraLabels },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [ownerRef(owner)],
    },
    spec: structuredClone(template.spec ?? {}),
  };
}

/** Job: runs pods to completion. */
export function syncJob(cluster: Cluster, key: string): void {
  const [ns, name] = splitKey(key);
  const info = cluster.info('batch/v1', 'jobs');
  const podInfo = cluster.info('v1', 'pods');
  const job = cluster.find(info, ns, name);
  if (!job || job.metadata.deletionTimestamp) return;
  const spec = job.spec ?? {};
  const conds: { type: string; status: string }[] = job.status?.conditions ?? [];
  const finished = conds.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  const pods = podsOwnedBy(cluster, job);
  const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded').length;
  const failed = pods.filter((p) => p.status?.phase === 'Failed').length;
  const active = pods.filter(isPodActive);
  const completions: number = spec.completions ?? 1;
  const now = cluster.now();
  const status: Record<string, unknown> = { ...(job.status ?? {}) };
  status.startTime = status.startTime ?? now;
  if (!finished && !spec.suspend) {
    if (succeeded >= completions) {
      status.completionTime = now;
      status.conditions = [{ type: 'Complete', status: 'True', lastProbeTime: now, lastTransitionTime: now }];
    } else if (failed > (spec.backoffLimit ?? 6)) {
      status.conditions = [
        {
          type: 'Failed',
          status: 'True',
          lastProbeTime: now,
          lastTransitionTime: now,
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        },
      ];
      for (const p of active) safeDelete(cluster, 'v1', 'pods', ns, p.metadata.name ?? '');
    } else {
      const want = Math.min(spec.parallelism ?? 1, completions - succeeded) - active.length;
      for (let i = 0; i < want; i++) {
        try {
          cluster.create(
            podInfo,
            ns,
            podFromTemplate(job, spec.template ?? { metadata: {} }, undefined, {
              'controller-uid': job.metadata.uid ?? '',
              'job-name': name,
            }),
            { fieldManager: CONTROLLER },
          );
        } catch {
          // retried on next event
        }
      }
    }
  }
  const nowActive = podsOwnedBy(cluster, job).filter(isPodActive);
  if (nowActive.length) status.active = nowActive.length;
  else delete status.active;
  if (succeeded) status.succeeded = succeeded;
  if (failed) status.failed = failed;
  status.ready = nowActive.filter(isPodReady).length;
  status.uncountedTerminatedPods = {};
  if (JSON.stringify(status) !== JSON.stringify(job.status ?? {}))
    cluster.write(info, { ...job, status }, CONTROLLER, 'status');
}

/** Minimal cron: `m h dom mon dow` with *, lists, ranges and steps. Returns the next time after `from` (ms). */
export function nextCron(schedule: string, from: number): number | undefined {
  const alias: Record<string, string> = {
    '@hourly': '0 * * * *',
    '@daily': '0 0 * * *',
    '@midnight': '0 0 * * *',
    '@weekly': '0 0 * * 0',
    '@monthly': '0 0 1 * *',
    '@yearly': '0 0 1 1 *',
    '@annually': '0 0 1 1 *',
  };
  const parts = (alias[schedule.trim()] ?? schedule).trim().split(/\s+/);
  if (parts.length !== 5) return undefined;
  const ranges: [number, number][] = [
    [0, 59],
    [0, 23],
    [1, 31],
    [1, 12],
    [0, 6],
  ];
  const sets = parts.map((p, i) => {
    const [lo, hi] = ranges[i] as [number, number];
    const s = new Set<number>();
    for (const item of p.split(',')) {
      const [range = '*', stepText] = item.split('/');
      const step = Number(stepText ?? 1);
      let a = lo;
      let b = hi;
      if (range !== '*') {
        const [x, y] = range.split('-');
        a = Number(x);
        b = y === undefined ? (stepText ? hi : a) : Number(y);
      }
      for (let v = a; v <= b; v += step || 1) s.add(v);
    }
    return s;
  });
  const t = new Date(Math.floor(from / 60000) * 60000 + 60000);
  for (let i = 0; i < 60 * 24 * 366; i++) {
    if (
      sets[0]?.has(t.getUTCMinutes()) &&
      sets[1]?.has(t.getUTCHours()) &&
      sets[2]?.has(t.getUTCDate()) &&
      sets[3]?.has(t.getUTCMonth() + 1) &&
      sets[4]?.has(t.getUTCDay())
    )
      return t.getTime();
    t.setTime(t.getTime() + 60000);
  }
  return undefined;
}

/** CronJob: creates Jobs on schedule. */
export function syncCronJob(cluster: Cluster, queue: WorkQueue, key: string): void {
  const [ns, name] = splitKey(key);
  const info = cluster.info('batch/v1', 'cronjobs');
  const jobInfo = cluster.info('batch/v1', 'jobs');
  const cj = cluster.find(info, ns, name);
  if (!cj || cj.metadata.deletionTimestamp) return;
  const now = cluster.clock.now();
  const last = Date.parse(cj.status?.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '') || now;
  const due = nextCron(String(cj.spec?.schedule ?? ''), last - 1);
  const jobs = cluster.store
    .dependents(cj.metadata.uid ?? '')
    .filter((d) => d.key === jobInfo.key)
    .map((d) => cluster.store.get(d.key, d.namespace, d.name))
    .filter((j): j is KubeObject => !!j);
  const activeJobs = jobs.filter(
    (j) =>
      !(j.status?.conditions ?? []).some(
        (c: { type: string; status: string }) =>
          (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      ),
  );
  const status: Record<string, unknown> = { ...(cj.status ?? {}) };
  if (
    due !== undefined &&
    due <= now &&
    !cj.spec?.suspend &&
    due > last - 1 &&
    !(cj.spec?.concurrencyPolicy === 'Forbid' && activeJobs.length > 0)
  ) {
    const jobName = `${name}-${Math.floor(due / 60000)}`;
    if (!cluster.find(jobInfo, ns, jobName)) {
      const tpl = cj.spec?.jobTemplate ?? {};
      try {
        cluster.create(
          jobInfo,
          ns,
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            metadata: {
              name: jobName,
              namespace: ns,
              labels: { ...(tpl.metadata?.labels ?? {}) },
              annotations: { 'batch.kubernetes.io/cronjob-scheduled-timestamp': new Date(due).toISOString() },
              ownerReferences: [ownerRef(cj)],
            },
            spec: structuredClone(tpl.spec ?? {}),
          },
          { fieldManager: CONTROLLER },
        );
      } catch {
        // exists
      }
    }
    status.lastScheduleTime = new Date(due).toISOString().replace(/\.\d+Z$/, 'Z');
  }
  const all = cluster.store
    .dependents(cj.metadata.uid ?? '')
    .filter((d) => d.key === jobInfo.key)
    .map((d) => cluster.store.get(d.key, d.namespace, d.name))
    .filter((j): j is KubeObject => !!j);
  const active = all.filter(
    (j) => !(j.status?.conditions ?? []).some((c: { status: string }) => c.status === 'True'),
  );
  if (active.length)
    status.active = active.map((j) => ({
      kind: 'Job',
      namespace: ns,
      name: j.metadata.name,
      uid: j.metadata.uid,
      apiVersion: 'batch/v1',
      resourceVersion: j.metadata.resourceVersion,
    }));
  else delete status.active;
  const done = all
    .filter((j) =>
      (j.status?.conditions ?? []).some(
        (c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True',
      ),
    )
    .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  for (const j of done.slice(0, Math.max(0, done.length - (cj.spec?.successfulJobsHistoryLimit ?? 3))))
    safeDelete(cluster, 'batch/v1', 'jobs', ns, j.metadata.name ?? '', 'Background');
  if (JSON.stringify(status) !== JSON.stringify(cj.status ?? {}))
    cluster.write(info, { ...cj, status }, CONTROLLER, 'status');
  const next = nextCron(String(cj.spec?.schedule ?? ''), now);
  if (next !== undefined) queue.addAfter(key, Math.min(next - now + 50, 2 ** 31 - 1));
}

/** StatefulSet: ordered pods `<name>-<i>`, PVCs from volumeClaimTemplates, ControllerRevisions. */
export function syncStatefulSet(cluster: Cluster, key: string, queue?: WorkQueue): void {
  const [ns, name] = splitKey(key);
  const info = cluster.info('apps/v1', 'statefulsets');
  const podInfo = cluster.info('v1', 'pods');
  const crInfo = cluster.info('apps/v1', 'controllerrevisions');
  const pvcInfo = cluster.info('v1', 'persistentvolumeclaims');
  const sts = cluster.find(info, ns, name);
  if (!sts || sts.metadata.deletionTimestamp) return;
  const spec = sts.spec ?? {};
  const replicas: number = spec.replicas ?? 1;
  const hash = templateHash(spec.template);
  const revision = `${name}-${hash}`;
  if (!cluster.find(crInfo, ns, revision)) {
    const existing = cluster.store
      .dependents(sts.metadata.uid ?? '')
      .filter((d) => d.key === crInfo.key).length;
    try {
      cluster.create(
        crInfo,
        ns,
        {
          apiVersion: 'apps/v1',
          kind: 'ControllerRevision',
          metadata: {
            name: revision,
            namespace: ns,
            labels: { ...(spec.selector?.matchLabels ?? {}), 'controller.kubernetes.io/hash': hash },
            ownerReferences: [ownerRef(sts)],
          },
          data: { spec: { template: { ...spec.template, $patch: 'replace' } } },
          revision: existing + 1,
        },
        { fieldManager: CONTROLLER },
      );
    } catch {
      // exists
    }
  }
  const pods = new Map(podsOwnedBy(cluster, sts).map((p) => [p.metadata.name ?? '', p]));
  const parallel = spec.podManagementPolicy === 'Parallel';
  for (let i = 0; i < replicas; i++) {
    const podName = `${name}-${i}`;
    const p = pods.get(podName);
    if (!p) {
      for (const tpl of spec.volumeClaimTemplates ?? []) {
        const pvcName = `${tpl.metadata?.name}-${podName}`;
        if (!cluster.find(pvcInfo, ns, pvcName)) {
          try {
            cluster.create(
              pvcInfo,
              ns,
              {
                apiVersion: 'v1',
                kind: 'PersistentVolumeClaim',
                metadata: { name: pvcName, namespace: ns, labels: { ...(spec.selector?.matchLabels ?? {}) } },
                spec: structuredClone(tpl.spec ?? {}),
                status: { phase: 'Bound' },
              },
              { fieldManager: CONTROLLER },
            );
          } catch {
            // exists
          }
        }
      }
      const template = structuredClone(spec.template ?? {});
      template.spec = {
        ...template.spec,
        hostname: podName,
        ...(spec.serviceName ? { subdomain: spec.serviceName } : {}),
      };
      try {
        cluster.create(
          podInfo,
          ns,
          {
            ...podFromTemplate(sts, template, podName, {
              'controller-revision-hash': revision,
              'statefulset.kubernetes.io/pod-name': podName,
            }),
          },
          { fieldManager: CONTROLLER },
        );
      } catch {
        // exists
      }
      if (!parallel) break;
      continue;
    }
    if (!parallel && !isPodReady(p)) break;
  }
  // Scale down from the highest ordinal; update one pod at a time from the highest ordinal.
  for (const [podName, p] of pods) {
    const ord = Number(podName.slice(name.length + 1));
    if (ord >= replicas) safeDelete(cluster, 'v1', 'pods', ns, podName);
    else if (p.metadata.labels?.['controller-revision-hash'] !== revision) {
      const allReady = [...pods.values()].every(isPodReady);
      const highest = Math.max(
        ...[...pods.values()]
          .filter((x) => x.metadata.labels?.['controller-revision-hash'] !== revision)
          .map((x) => Number((x.metadata.name ?? '').slice(name.length + 1))),
      );
      if (allReady && ord === highest) safeDelete(cluster, 'v1', 'pods', ns, podName);
    }
  }
  const live = podsOwnedBy(cluster, sts).filter(isPodActive);
  const updated = live.filter((p) => p.metadata.labels?.['controller-revision-hash'] === revision).length;
  const ready = live.filter(isPodReady).length;
  const avail = countAvailable(live, Number(spec.minReadySeconds ?? 0), cluster.clock.now());
  if (avail.retryMs !== undefined) queue?.addAfter(key, avail.retryMs + 10);
  const status: Record<string, unknown> = {
    observedGeneration: sts.metadata.generation,
    replicas: live.length,
    readyReplicas: ready,
    currentReplicas: updated,
    updatedReplicas: updated,
    currentRevision: revision,
    updateRevision: revision,
    collisionCount: 0,
    availableReplicas: avail.available,
  };
  for (const k of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'])
    if (status[k] === 0) delete status[k];
  if (JSON.stringify(status) !== JSON.stringify(sts.status ?? {}))
    cluster.write(info, { ...sts, status }, CONTROLLER, 'status');
}

/** DaemonSet: one pod on the one node. */
export function syncDaemonSet(cluster: Cluster, key: string, queue?: WorkQueue): void {
  const [ns, name] = splitKey(key);
  const info = cluster.info('apps/v1', 'daemonsets');
  const podInfo = cluster.info('v1', 'pods');
  const ds = cluster.find(info, ns, name);
  if (!ds || ds.metadata.deletionTimestamp) return;
  const hash = templateHash(ds.spec?.template);
  const pods = podsOwnedBy(cluster, ds).filter(isPodActive);
  const current = pods.filter((p) => p.metadata.labels?.['controller-revision-hash'] === hash);
  for (const p of pods)
    if (!current.includes(p)) safeDelete(cluster, 'v1', 'pods', ns, p.metadata.name ?? '');
  const nodeSel: Record<string, string> = ds.spec?.template?.spec?.nodeSelector ?? {};
  const node = cluster.store.get('/nodes', '', NODE_NAME);
  const fits = !!node && Object.entries(nodeSel).every(([k, v]) => node.metadata.labels?.[k] === v);
  if (fits && current.length === 0 && pods.length - current.length === 0) {
    const template = structuredClone(ds.spec?.template ?? {});
    template.spec = { ...template.spec, nodeName: NODE_NAME };
    try {
      cluster.create(
        podInfo,
        ns,
        podFromTemplate(ds, template, undefined, {
          'controller-revision-hash': hash,
          'pod-template-generation': String(ds.metadata.generation ?? 1),
        }),
        { fieldManager: CONTROLLER },
      );
    } catch {
      // retried
    }
  }
  const live = podsOwnedBy(cluster, ds).filter(isPodActive);
  const ready = live.filter(isPodReady).length;
  const avail = countAvailable(live, Number(ds.spec?.minReadySeconds ?? 0), cluster.clock.now());
  if (avail.retryMs !== undefined) queue?.addAfter(key, avail.retryMs + 10);
  const upd = live.filter((p) => p.metadata.labels?.['controller-revision-hash'] === hash).length;
  const desired = fits ? 1 : 0;
  const status: Record<string, unknown> = {
    currentNumberScheduled: live.length,
    numberMisscheduled: 0,
    desiredNumberScheduled: desired,
    numberReady: ready,
    observedGeneration: ds.metadata.generation,
    updatedNumberScheduled: upd,
    numberAvailable: avail.available,
    ...(desired - avail.available > 0 ? { numberUnavailable: desired - avail.available } : {}),
  };
  if (JSON.stringify(status) !== JSON.stringify(ds.status ?? {}))
    cluster.write(info, { ...ds, status }, CONTROLLER, 'status');
}

export { matchesLabels, selectorFromObject };

/** The controller name of the local cluster's built-in ingress controller (IngressClass `spec.controller`). */
export const INGRESS_CONTROLLER = 'slipway.dev/ingress-controller';
export const DEFAULT_INGRESS_CLASS = 'slipway';
const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** The address the built-in ingress controller publishes (the node's InternalIP: Slipway serves on the host). */
export const INGRESS_ADDRESS = '127.0.0.1';

/** Registers the IngressClass `slipway` (default unless another class is) when it does not exist. */
export function ensureIngressClass(cluster: Cluster): void {
  const info = cluster.info('networking.k8s.io/v1', 'ingressclasses');
  if (cluster.find(info, '', DEFAULT_INGRESS_CLASS)) return;
  const otherDefault = cluster.store
    .list(info.key)
    .some((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
  cluster.create(
    info,
    '',
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: {
        name: DEFAULT_INGRESS_CLASS,
        ...(otherDefault ? {} : { annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } }),
      },
      spec: { controller: INGRESS_CONTROLLER },
    },
    { fieldManager: 'kube-apiserver' },
  );
}

/** Whether the built-in ingress controller serves `ing`: its class (or the default class) is one of ours. */
function servedIngress(cluster: Cluster, ing: KubeObject): boolean {
  const info = cluster.info('networking.k8s.io/v1', 'ingressclasses');
  const name: string | undefined =
    ing.spec?.ingressClassName ?? ing.metadata.annotations?.['kubernetes.io/ingress.class'];
  if (name) return cluster.find(info, '', name)?.spec?.controller === INGRESS_CONTROLLER;
  const defaults = cluster.store
    .list(info.key)
    .filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
  // Several default classes: Kubernetes refuses new class-less Ingresses; ours only answers when it is the one.
  return defaults.length === 1 && defaults[0]?.spec?.controller === INGRESS_CONTROLLER;
}

/** Ingress: the built-in controller publishes the node's address in status.loadBalancer for its classes. */
export function syncIngress(cluster: Cluster, key: string): void {
  const [ns, name] = splitKey(key);
  const info = cluster.info('networking.k8s.io/v1', 'ingresses');
  const ing = cluster.find(info, ns, name);
  if (!ing || ing.metadata.deletionTimestamp) return;
  const current = (ing.status?.loadBalancer?.ingress ?? []) as { ip?: string; hostname?: string }[];
  const ours = current.length === 1 && current[0]?.ip === INGRESS_ADDRESS && !current[0]?.hostname;
  if (servedIngress(cluster, ing)) {
    if (ours) return;
    cluster.write(
      info,
      { ...ing, status: { ...ing.status, loadBalancer: { ingress: [{ ip: INGRESS_ADDRESS }] } } },
      INGRESS_CONTROLLER,
      'status',
    );
  } else if (ours) {
    // The Ingress moved to another class: withdraw the address we published.
    cluster.write(
      info,
      { ...ing, status: { ...ing.status, loadBalancer: {} } },
      INGRESS_CONTROLLER,
      'status',
    );
  }
}
