// `meta.k8s.io/v1 Table` rendering for `kubectl get` (pure; the current time is passed in).
import type { KubeObject } from './types.ts';

interface Column {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority: number;
}

type Cell = string | number | boolean;

const col = (name: string, priority = 0, type = 'string', format = ''): Column => ({
  name,
  type,
  format,
  description: '',
  priority,
});

/** kubectl's HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 192)
    return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const years = Math.floor(hours / 24 / 365);
  if (years < 8) return `${years}y${Math.floor(hours / 24) % 365}d`;
  return `${years}y`;
}

function age(o: KubeObject, now: number): string {
  const t = Date.parse(o.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}

function sel(s: unknown): string {
  const m = (s as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
  if (!m) return '<none>';
  return Object.entries(m)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

// biome-ignore lint/suspicious/noExplicitAny: container shapes are read loosely for display.
function containersOf(template: any): { names: string; images: string } {
  const cs: { name?: string; image?: string }[] = template?.spec?.containers ?? [];
  return { names: cs.map((c) => c.name ?? '').join(','), images: cs.map((c) => c.image ?? '').join(',') };
}

export function podStatusReason(o: KubeObject): { ready: string; status: string; restarts: string } {
  const statuses: { ready?: boolean; restartCount?: number; state?: Record<string, { reason?: string }> }[] =
    o.status?.containerStatuses ?? [];
  const total = (o.spec?.containers ?? []).length;
  const ready = statuses.filter((s) => s.ready).length;
  let reason: string = o.status?.reason ?? o.status?.phase ?? 'Pending';
  for (const s of statuses) {
    const waiting = s.state?.waiting?.reason;
    const terminated = s.state?.terminated?.reason;
    if (waiting && waiting !== '') reason = waiting;
    else if (terminated && terminated !== '') reason = terminated;
  }
  if (o.metadata.deletionTimestamp) reason = 'Terminating';
  const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
  return { ready: `${ready}/${total}`, status: reason, restarts: String(restarts) };
}

function rowFor(resource: string, o: KubeObject, now: number): { columns: Column[]; cells: Cell[] } {
  const name = o.metadata.name ?? '';
  const s = o.spec ?? {};
  const st = o.status ?? {};
  switch (resource) {
    case '/pods': {
      const p = podStatusReason(o);
      return {
        columns: [
          col('Name', 0, 'string', 'name'),
          col('Ready'),
          col('Status'),
          col('Restarts'),
          col('Age'),
          col('IP', 1),
          col('Node', 1),
          col('Nominated Node', 1),
          col('Readiness Gates', 1),
        ],
        cells: [
          name,
          p.ready,
          p.status,
          p.restarts,
          age(o, now),
          st.podIP ?? '<none>',
          s.nodeName ?? '<none>',
          '<none>',
          '<none>',
        ],
      };
    }
    case 'apps/deployments': {
      const c = containersOf(s.template);
      return {
        columns: [
          col('Name', 0, 'string', 'name'),
          col('Ready'),
          col('Up-to-date'),
          col('Available'),
          col('Age'),
          col('Containers', 1),
          col('Images', 1),
          col('Selector', 1),
        ],
        cells: [
          name,
          `${st.readyReplicas ?? 0}/${s.replicas ?? 0}`,
          st.updatedReplicas ?? 0,
          st.availableReplicas ?? 0,
          age(o, now),
          c.names,
          c.images,
          sel(s.selector),
        ],
      };
    }
    case 'apps/replicasets': {
      const c = containersOf(s.template);
      return {
        columns: [
          col('Name', 0, 'string', 'name'),
          col('Desired', 0, 'integer'),
          col('Current', 0, 'integer'),
          col('Ready', 0, 'integer'),
          col('Age'),
          col('Containers', 1),
          col('Images', 1),
          col('Selector', 1),
        ],
        cells: [
          name,
          s.replicas ?? 0,
          st.replicas ?? 0,
          st.readyReplicas ?? 0,
          age(o, now),
          c.names,
          c.images,
          sel(s.selector),
        ],
      };
    }
    case 'apps/statefulsets': {
      const c = containersOf(s.template);
      return {
        columns: [
          col('Name', 0, 'string', 'name'),
          col('Ready'),
          col('Age'),
          col('Containers', 1),
          col('Images', 1),
        ],
        cells: [name, `${st.readyReplicas ?? 0}/${s.replicas ?? 0}`, age(o, now), c.names, c.images],
      };
    }
    case 'apps/daemonsets':
      return {
        columns: [
          col('Name', 0, 'string', 'name'),
          col('Desired', 0, 'integer'),
          col('Current', 0, 'integer'),
          col('Ready', 0, 'integer'),
          col('Up-to-date', 0, 'integer'),
          col('Available', 0, 'integer'),
          col('Node Selector'),
          col('Age'),
        ],
        cells: [
          name,
          st.desiredNumberScheduled ?? 0,
          st.currentNumberScheduled ?? 0,
          st.numberReady ?? 0,
          st.updatedNumberScheduled ?? 0,
          st.numberAvailable ?? 0,
          Object.entries(s.template?.spec?.nodeSelector ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(',') || '<none>',
          age(o, now),
        ],
      };
    case '/services': {
      const ports = (s.ports ?? []) as { port: number; protocol?: string; nodePort?: number }[];
      const portText =
        ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') ||
        '<none>';
      const ext = s.type === 'LoadBalancer' ? '<pending>' : (s.externalIPs ?? []).join(',') || '<none>';
      return {
        columns: [
          col('Name', 0, 'string', 'name'),
          col('Type'),
          col('Cluster-IP'),
          col('External-IP'),
          col('Port(s)'),
          col('Age'),
          col('Selector', 1),
        ],
        cells: [
          name,
          s.type ?? 'ClusterIP',
          s.clusterIP ?? '<none>',
          ext,
          portText,
          age(o, now),
          Object.entries(s.selector ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(',') || '<none>',
        ],
      };
    }
    case '/configmaps':
      return {
        columns: [col('Name', 0, 'string', 'name'), col('Data', 0, 'integer'), col('Age')],
        cells: [
          name,
          Object.keys((o.data as object) ?? {}).length + Object.keys((o.binaryData as object) ?? {}).length,
          age(o, now),
        ],
      };
    case '/secrets':
      return {
        columns: [col('Name', 0, 'string', 'name'), col('Type'), col('Data', 0, 'integer'), col('Age')],
        cells: [name, String(o.type ?? 'Opaque'), Object.keys((o.data as object) ?? {}).length, age(o, now)],
      };
    case '/namespaces':
      return {
        columns: [col('Name', 0, 'string', 'name'), col('Status'), col('Age')],
        cells: [name, st.phase ?? 'Active', age(o, now)],
      };
    case '/nodes': {
      const ready = (st.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
      return {
        columns: [col('Name', 0, 'string', 'name'), col('Status'), col('Roles'), col('Age'), col('Version')],
        cells: [
          name,
          ready?.status === 'True' ? 'Ready' : 'NotReady',
          '<none>',
          age(o, now),
          st.nodeInfo?.kubeletVersion ?? '',
        ],
      };
    }
    case 'batch/jobs': {
      const start = Date.parse(st.startTime ?? '');
      const end = Date.parse(st.completionTime ?? '') || now;
      return {
        columns: [col('Name', 0, 'string', 'name'), col('Completions'), col('Duration'), col('Age')],
        cells: [
          name,
          `${st.succeeded ?? 0}/${s.completions ?? 1}`,
          Number.isNaN(start) ? '' : humanDuration(end - start),
          age(o, now),
        ],
      };
    }
    case 'batch/cronjobs':
      return {
        columns: [
          col('Name', 0, 'string', 'name'),
          col('Schedule'),
          col('Suspend', 0, 'boolean'),
          col('Active', 0, 'integer'),
          col('Last Schedule'),
          col('Age'),
        ],
        cells: [
          name,
          s.schedule ?? '',
          Boolean(s.suspend),
          (st.active ?? []).length,
          st.lastScheduleTime ? humanDuration(now - Date.parse(st.lastScheduleTime)) : '<none>',
          age(o, now),
        ],
      };
    case 'networking.k8s.io/ingresses': {
      const hosts = (s.rules ?? []).map((r: { host?: string }) => r.host ?? '*').join(',') || '*';
      return {
        columns: [
          col('Name', 0, 'string', 'name'),
          col('Class'),
          col('Hosts'),
          col('Address'),
          col('Ports'),
          col('Age'),
        ],
        cells: [
          name,
          s.ingressClassName ?? '<none>',
          hosts,
          ((o.status?.loadBalancer?.ingress ?? []) as { ip?: string; hostname?: string }[])
            .map((i) => i.ip || i.hostname || '')
            .filter((x) => x)
            .join(','),
          s.tls ? '80, 443' : '80',
          age(o, now),
        ],
      };
    }
    case '/endpoints': {
      const eps: string[] = [];
      for (const sub of (o.subsets ?? []) as { addresses?: { ip: string }[]; ports?: { port: number }[] }[])
        for (const a of sub.addresses ?? []) for (const p of sub.ports ?? []) eps.push(`${a.ip}:${p.port}`);
      return {
        columns: [col('Name', 0, 'string', 'name'), col('Endpoints'), col('Age')],
        cells: [name, eps.join(',') || '<none>', age(o, now)],
      };
    }
    case '/events': {
      const io = (o.involvedObject ?? {}) as { kind?: string; name?: string };
      const last = Date.parse(String(o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp ?? ''));
      return {
        columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message')],
        cells: [
          Number.isNaN(last) ? '<unknown>' : humanDuration(now - last),
          String(o.type ?? ''),
          String(o.reason ?? ''),
          `${(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`,
          String(o.message ?? ''),
        ],
      };
    }
    case '/serviceaccounts':
      return {
        columns: [col('Name', 0, 'string', 'name'), col('Secrets', 0, 'integer'), col('Age')],
        cells: [name, ((o.secrets as unknown[]) ?? []).length, age(o, now)],
      };
    case '/persistentvolumeclaims':
      return {
        columns: [
          col('Name', 0, 'string', 'name'),
          col('Status'),
          col('Volume'),
          col('Capacity'),
          col('Access Modes'),
          col('StorageClass'),
          col('Age'),
        ],
        cells: [
          name,
          st.phase ?? 'Pending',
          s.volumeName ?? '',
          st.capacity?.storage ?? '',
          (s.accessModes ?? []).join(','),
          s.storageClassName ?? '',
          age(o, now),
        ],
      };
    default:
      return {
        columns: [col('Name', 0, 'string', 'name'), col('Created At', 0, 'date')],
        cells: [name, o.metadata.creationTimestamp ?? ''],
      };
  }
}

function partialMetadata(o: KubeObject): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

/** A Table of `objects`; `includeObject` is `None`, `Metadata` (default) or `Object`. */
export function toTable(
  resourceKey: string,
  objects: KubeObject[],
  now: number,
  listMeta: Record<string, unknown>,
  includeObject = 'Metadata',
): Record<string, unknown> {
  let columns = rowFor(resourceKey, { metadata: {} }, now).columns;
  const rows = objects.map((o) => {
    const r = rowFor(resourceKey, o, now);
    columns = r.columns;
    return {
      cells: r.cells,
      ...(includeObject === 'None' ? {} : { object: includeObject === 'Object' ? o : partialMetadata(o) }),
    };
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: columns,
    rows,
  };
}
