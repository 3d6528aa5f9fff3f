// The simulated kubelet (and scheduler): binds pods to the one node and moves them through
// Pending → ContainerCreating → Running → Ready. No container really runs.
import type { Cluster } from '../api.ts';
import { type ImageResolver, parseImageRef } from '../images.ts';
import type { PodLogs } from '../pod-logs.ts';
import type { KubeObject } from '../types.ts';
import {
  type ContainerSpec,
  type ContainerTiming,
  containerTiming,
  nextChange,
  type PodCondition,
  podConditions,
} from './probes.ts';

export const NODE_NAME = 'slipway-node';
export const SIMULATE_ANNOTATION = 'slipway.dev/simulate';

export interface KubeletOptions {
  /**
   * Cost of starting the containers once their images are resolved (ms): ContainerCreating → Running takes the
   * real image resolution time plus this.
   */
  startDelayMs: number;
  /**
   * Extra delay before every container is Ready (ms; a test knob, 0 by default). Readiness otherwise follows
   * Kubernetes: at once without a readinessProbe, after the probes' initialDelaySeconds/successThreshold.
   */
  readyDelayMs: number;
  /** How long run-to-completion pods (Jobs) run (ms). */
  runDurationMs: number;
  /** First back-off after an image pull failure or a crash (ms); doubles up to 10× this. */
  backoffMs: number;
  resolveImage: ImageResolver;
  /** Where containers' logs go (no process runs: the log is what the kubelet did for the container). */
  logs?: PodLogs;
}

interface PodState {
  busy: boolean;
  /** Date.now() when the containers last started. */
  startedAt?: number | undefined;
  timer?: NodeJS.Timeout | undefined;
  attempts: number;
}

type Status = Record<string, unknown>;

export class Kubelet {
  readonly #cluster: Cluster;
  readonly #opts: KubeletOptions;
  readonly #pods = new Map<string, PodState>();
  #nextIp = 2;
  #stopped = false;

  constructor(cluster: Cluster, opts: KubeletOptions) {
    this.#cluster = cluster;
    this.#opts = opts;
  }

  get #info() {
    return this.#cluster.info('v1', 'pods');
  }

  stop(): void {
    this.#stopped = true;
    for (const s of this.#pods.values()) if (s.timer) clearTimeout(s.timer);
    this.#pods.clear();
  }

  forget(uid: string): void {
    const s = this.#pods.get(uid);
    if (s?.timer) clearTimeout(s.timer);
    this.#pods.delete(uid);
    this.#opts.logs?.remove(uid, (c) => `Stopping container ${c}: the pod was deleted`);
  }

  #say(pod: KubeObject, container: string, text: string): void {
    this.#opts.logs?.append(pod.metadata.uid ?? '', container, text);
  }

  #state(uid: string): PodState {
    let s = this.#pods.get(uid);
    if (!s) this.#pods.set(uid, (s = { busy: false, attempts: 0 }));
    return s;
  }

  #current(pod: KubeObject): KubeObject | undefined {
    const cur = this.#cluster.find(this.#info, pod.metadata.namespace ?? '', pod.metadata.name ?? '');
    return cur && cur.metadata.uid === pod.metadata.uid ? cur : undefined;
  }

  #later(pod: KubeObject, ms: number, fn: (cur: KubeObject) => void): void {
    const s = this.#state(pod.metadata.uid ?? '');
    s.busy = true;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      s.busy = false;
      if (this.#stopped) return;
      const cur = this.#current(pod);
      if (!cur || cur.metadata.deletionTimestamp) return;
      fn(cur);
    }, ms);
    s.timer.unref?.();
  }

  /** Records (or counts again) a Warning event about a pod, as `kubectl describe` shows them. */
  #event(pod: KubeObject, reason: string, message: string): void {
    const info = this.#cluster.info('v1', 'events');
    const ns = pod.metadata.namespace ?? '';
    const name = `${pod.metadata.name}.${reason.toLowerCase()}`;
    const now = this.#cluster.now();
    try {
      const existing = this.#cluster.find(info, ns, name);
      if (existing) {
        this.#cluster.write(
          info,
          { ...existing, count: Number(existing.count ?? 1) + 1, lastTimestamp: now, message },
          'kubelet',
        );
        return;
      }
      this.#cluster.create(
        info,
        ns,
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace: ns },
          involvedObject: {
            kind: 'Pod',
            namespace: ns,
            name: pod.metadata.name,
            uid: pod.metadata.uid,
            apiVersion: 'v1',
            fieldPath: 'spec.containers{' + (pod.spec?.containers?.[0]?.name ?? '') + '}',
          },
          reason,
          message,
          source: { component: 'kubelet', host: NODE_NAME },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          type: 'Warning',
          reportingComponent: 'kubelet',
          reportingInstance: NODE_NAME,
        },
        { fieldManager: 'kubelet' },
      );
    } catch {
      // events are best effort
    }
  }

  #writeStatus(pod: KubeObject, status: Status): KubeObject | undefined {
    return this.#cluster.write(this.#info, { ...pod, status }, 'kubelet', 'status');
  }

  /** Reacts to a pod's current state by scheduling its next transition. */
  sync(pod: KubeObject): void {
    if (this.#stopped || pod.metadata.deletionTimestamp) return;
    const uid = pod.metadata.uid ?? '';
    const state = this.#state(uid);
    if (state.busy) return;
    const now = this.#cluster.now();
    const info = this.#info;
    const st: Status = pod.status ?? {};
    if (!pod.spec?.nodeName) {
      // The scheduler's binding: spec.nodeName and the PodScheduled condition (as the binding subresource does).
      const bound = this.#cluster.write(
        info,
        { ...pod, spec: { ...pod.spec, nodeName: NODE_NAME } },
        'kube-scheduler',
      );
      if (bound) {
        const others = ((bound.status?.conditions ?? []) as PodCondition[]).filter(
          (c) => c.type !== 'PodScheduled',
        );
        this.#writeStatus(bound, {
          ...(bound.status ?? {}),
          phase: 'Pending',
          conditions: [
            ...others,
            { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now },
          ],
        });
      }
      return;
    }
    const containers: (ContainerSpec & { image: string })[] = pod.spec?.containers ?? [];
    const statuses = (st.containerStatuses as Record<string, unknown>[] | undefined) ?? [];
    if (st.phase === 'Succeeded' || st.phase === 'Failed') return;
    if (statuses.length === 0) {
      const status: Status = {
        ...st,
        phase: 'Pending',
        conditions: podConditions(st.conditions as PodCondition[] | undefined, now, {
          unready: containers.map((c) => c.name),
        }),
        hostIP: '127.0.0.1',
        startTime: now,
        containerStatuses: containers.map((c) => ({
          name: c.name,
          state: { waiting: { reason: 'ContainerCreating' } },
          lastState: {},
          ready: false,
          restartCount: 0,
          image: c.image,
          imageID: '',
          started: false,
        })),
        qosClass: st.qosClass ?? 'BestEffort',
      };
      const written = this.#writeStatus(pod, status);
      if (written) this.#pull(written);
      return;
    }
    const waiting = statuses
      .map((c) => (c.state as { waiting?: { reason?: string } })?.waiting?.reason)
      .find((r) => r);
    if (waiting === 'ContainerCreating' || waiting === 'ErrImagePull' || waiting === 'ImagePullBackOff') {
      this.#pull(pod);
      return;
    }
    const simulate = pod.metadata.annotations?.[SIMULATE_ANNOTATION];
    if (waiting === 'CrashLoopBackOff') {
      const restarts = Number(statuses[0]?.restartCount ?? 1);
      this.#later(
        pod,
        Math.min(this.#opts.backoffMs * 2 ** (restarts - 1), this.#opts.backoffMs * 10),
        (cur) => this.#run(cur),
      );
      return;
    }
    if (st.phase !== 'Running') return;
    const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
    if (simulate === 'crash') {
      this.#later(pod, this.#opts.readyDelayMs + 100, (cur) => this.#crash(cur));
      return;
    }
    if (restartPolicy !== 'Always') {
      const runMs = Number(pod.metadata.annotations?.['slipway.dev/run-seconds'] ?? Number.NaN) * 1000;
      this.#later(pod, Number.isFinite(runMs) ? runMs : this.#opts.runDurationMs, (cur) =>
        this.#finish(cur, simulate !== 'fail'),
      );
      return;
    }
    this.#scheduleProbe(pod);
  }

  /** Per-container probe timings of a pod (Kubernetes' rules; see probes.ts). */
  #timings(pod: KubeObject): ContainerTiming[] {
    const containers: ContainerSpec[] = pod.spec?.containers ?? [];
    const readinessFails = pod.metadata.annotations?.[SIMULATE_ANNOTATION] === 'unready';
    return containers.map((c) =>
      containerTiming(c, { readinessFails, extraReadyMs: this.#opts.readyDelayMs }),
    );
  }

  /** Milliseconds since the pod's containers started (kept in memory; after a restart, from the status). */
  #elapsed(pod: KubeObject): number {
    const state = this.#state(pod.metadata.uid ?? '');
    if (state.startedAt === undefined) {
      const first = (
        (pod.status?.containerStatuses ?? []) as { state?: { running?: { startedAt?: string } } }[]
      )
        .map((c) => Date.parse(c.state?.running?.startedAt ?? ''))
        .filter((t) => Number.isFinite(t));
      state.startedAt = first.length > 0 ? Math.min(...first) : Date.now();
    }
    return Date.now() - state.startedAt;
  }

  /** Brings the containers' started/ready flags up to date, or schedules their next change. */
  #scheduleProbe(pod: KubeObject): void {
    if (this.#probe(pod)) return; // the write's watch event brings the pod back here
    const next = nextChange(this.#timings(pod), this.#elapsed(pod));
    // A timer may fire a millisecond early: the callback checks again and re-arms if needed.
    if (next !== undefined)
      this.#later(pod, next - this.#elapsed(pod) + 1, (cur) => this.#scheduleProbe(cur));
  }

  /** Writes the containers' started/ready flags and the pod conditions as of now, if they changed. */
  #probe(pod: KubeObject): boolean {
    const now = this.#cluster.now();
    const st: Status = pod.status ?? {};
    const timings = this.#timings(pod);
    const elapsed = this.#elapsed(pod);
    const containers: ContainerSpec[] = pod.spec?.containers ?? [];
    const prev = (st.containerStatuses as Record<string, unknown>[] | undefined) ?? [];
    let changed = false;
    const statuses = prev.map((c) => {
      const t = timings[containers.findIndex((x) => x.name === c.name)];
      if (!t || !(c.state as { running?: unknown } | undefined)?.running) return c;
      const started = t.startedAfterMs <= elapsed;
      const ready = t.readyAfterMs <= elapsed;
      if (c.started === started && c.ready === ready) return c;
      changed = true;
      return { ...c, started, ready };
    });
    if (!changed) return false;
    const unready = statuses.filter((c) => c.ready !== true).map((c) => String(c.name));
    const written = this.#writeStatus(pod, {
      ...st,
      conditions: podConditions(st.conditions as PodCondition[] | undefined, now, { unready }),
      containerStatuses: statuses,
    });
    if (!written) return false;
    for (const c of statuses) {
      const p = prev.find((x) => x.name === c.name);
      if (c.ready === true && p?.ready !== true) this.#sayReady(written, String(c.name));
    }
    return true;
  }

  #sayReady(pod: KubeObject, name: string): void {
    const probe = (pod.spec?.containers ?? []).find((c: { name: string }) => c.name === name)?.readinessProbe;
    this.#say(
      pod,
      name,
      probe
        ? `Readiness probe passed: container ${name} is ready`
        : `Container ${name} is ready (no readiness probe: ready once started)`,
    );
  }

  /** Credentials for `image` from the pod's imagePullSecrets (kubernetes.io/dockerconfigjson or .dockercfg). */
  #pullCredentials(pod: KubeObject, image: string): { username: string; password: string }[] {
    const host = parseImageRef(image).host;
    const hosts =
      host === 'registry-1.docker.io'
        ? [host, 'docker.io', 'index.docker.io', 'https://index.docker.io/v1/']
        : [host];
    const out: { username: string; password: string }[] = [];
    const secretInfo = this.#cluster.info('v1', 'secrets');
    for (const ref of (pod.spec?.imagePullSecrets ?? []) as { name?: string }[]) {
      const secret = this.#cluster.find(secretInfo, pod.metadata.namespace ?? '', ref.name ?? '');
      const data = (secret?.data ?? {}) as Record<string, string>;
      const raw = data['.dockerconfigjson'] ?? data['.dockercfg'];
      if (!raw) continue;
      try {
        const parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as Record<string, unknown>;
        const auths = (parsed.auths ?? parsed) as Record<
          string,
          { username?: string; password?: string; auth?: string }
        >;
        for (const [key, entry] of Object.entries(auths)) {
          const k = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
          if (!hosts.includes(k) && !hosts.includes(key)) continue;
          let { username, password } = entry;
          if ((!username || !password) && entry.auth) {
            const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
            username = decoded.slice(0, decoded.indexOf(':'));
            password = decoded.slice(decoded.indexOf(':') + 1);
          }
          if (username && password) out.push({ username, password });
        }
      } catch {
        // an unreadable pull secret is ignored, like kubelet does
      }
    }
    return out;
  }

  #pull(pod: KubeObject): void {
    const state = this.#state(pod.metadata.uid ?? '');
    state.busy = true;
    const containers: { name: string; image: string }[] = pod.spec?.containers ?? [];
    for (const c of containers) this.#say(pod, c.name, `Pulling image "${c.image}"`);
    void Promise.all(
      containers.map((c) =>
        this.#opts.resolveImage(c.image, this.#pullCredentials(pod, c.image)).then((r) => ({ c, r })),
      ),
    ).then(
      (results) => {
        const failed = results.find((x) => !x.r.ok);
        // The image is resolved (the real time that took); starting the containers costs startDelayMs more.
        const wait = this.#opts.startDelayMs;
        if (!failed) {
          state.attempts = 0;
          const digests = new Map(results.map((x) => [x.c.name, x.r.ok ? x.r.digest : undefined]));
          for (const { c, r } of results)
            this.#say(
              pod,
              c.name,
              `Successfully pulled image "${c.image}"${r.ok && r.digest ? ` (digest ${r.digest})` : ''}`,
            );
          state.busy = false;
          this.#later(pod, wait, (cur) => this.#run(cur, digests));
          return;
        }
        state.busy = false;
        this.#later(pod, 0, (cur) =>
          this.#pullFailed(cur, failed.c.name, failed.c.image, failed.r.ok ? '' : failed.r.message),
        );
      },
      () => {
        state.busy = false;
      },
    );
  }

  #pullFailed(pod: KubeObject, name: string, image: string, message: string): void {
    const state = this.#state(pod.metadata.uid ?? '');
    state.attempts++;
    state.busy = true;
    const st: Status = pod.status ?? {};
    const statuses = ((st.containerStatuses as Record<string, unknown>[]) ?? []).map((c) =>
      c.name === name
        ? {
            ...c,
            ready: false,
            started: false,
            state: {
              waiting: {
                reason: 'ErrImagePull',
                message: `failed to pull and unpack image "${image}": ${message}`,
              },
            },
          }
        : c,
    );
    const written = this.#writeStatus(pod, { ...st, containerStatuses: statuses });
    if (!written) return;
    this.#event(written, 'Failed', `Failed to pull image "${image}": ${message}`);
    this.#say(written, name, `Failed to pull image "${image}": ${message}`);
    this.#later(written, Math.min(this.#opts.backoffMs, 1000), (cur) => {
      state.busy = true;
      const cs = ((cur.status?.containerStatuses as Record<string, unknown>[]) ?? []).map((c) =>
        c.name === name
          ? {
              ...c,
              state: {
                waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` },
              },
            }
          : c,
      );
      const w = this.#writeStatus(cur, { ...cur.status, containerStatuses: cs });
      if (!w) return;
      const delay = Math.min(this.#opts.backoffMs * 2 ** state.attempts, this.#opts.backoffMs * 10);
      this.#say(w, name, `Back-off pulling image "${image}": next attempt in ${Math.round(delay / 1000)}s`);
      this.#later(w, delay, (again) => this.#pull(again));
    });
  }

  #ip(): string {
    const n = this.#nextIp++;
    return `10.244.${(n >> 8) & 255}.${n & 255 || 1}`;
  }

  /** Starts the pod's containers: Running, with started/ready as the probes say at time 0. */
  #run(pod: KubeObject, digests?: Map<string, string | undefined>): void {
    const now = this.#cluster.now();
    const st: Status = pod.status ?? {};
    const containers: (ContainerSpec & { image: string })[] = pod.spec?.containers ?? [];
    const prev = new Map(
      ((st.containerStatuses as Record<string, unknown>[]) ?? []).map((c) => [c.name as string, c]),
    );
    const crash = pod.metadata.annotations?.[SIMULATE_ANNOTATION] === 'crash';
    const state = this.#state(pod.metadata.uid ?? '');
    state.startedAt = Date.now();
    const timings = this.#timings(pod);
    const ip = (st.podIP as string | undefined) ?? this.#ip();
    const containerStatuses = containers.map((c, i) => {
      const p = prev.get(c.name) ?? {};
      const digest = digests?.get(c.name);
      const imageID = digest
        ? `${c.image.split('@')[0]?.replace(/:[^/:]+$/, '')}@${digest}`
        : ((p.imageID as string) ?? '');
      const t = timings[i];
      return {
        name: c.name,
        state: { running: { startedAt: now } },
        lastState: p.lastState ?? {},
        ready: !crash && t?.readyAfterMs === 0,
        restartCount: p.restartCount ?? 0,
        image: c.image,
        imageID,
        containerID: `simulated://${(pod.metadata.uid ?? '').slice(0, 8)}-${c.name}`,
        started: t?.startedAfterMs === 0,
      };
    });
    const unready = containerStatuses.filter((c) => !c.ready).map((c) => c.name);
    const status: Status = {
      ...st,
      phase: 'Running',
      conditions: podConditions(st.conditions as PodCondition[] | undefined, now, { unready }),
      podIP: ip,
      podIPs: [{ ip }],
      containerStatuses,
    };
    const written = this.#writeStatus(pod, status);
    if (!written) return;
    for (const c of containerStatuses) {
      const p = prev.get(c.name) as { state?: { running?: unknown }; ready?: boolean } | undefined;
      if (!p?.state?.running) {
        const digest = digests?.get(c.name);
        const image = containers.find((x) => x.name === c.name)?.image ?? '';
        this.#say(
          pod,
          c.name,
          `Started container ${c.name} (image ${image}${digest ? `@${digest}` : ''}; simulated: no process runs)`,
        );
      }
      if (c.ready && p?.ready !== true) this.#sayReady(written, c.name);
      if (crash && !p?.state?.running)
        this.#say(pod, c.name, `Container ${c.name} is not ready (simulated crash)`);
    }
  }

  #crash(pod: KubeObject): void {
    const now = this.#cluster.now();
    const st: Status = pod.status ?? {};
    const statuses = ((st.containerStatuses as Record<string, unknown>[]) ?? []).map((c, i) =>
      i === 0
        ? {
            ...c,
            ready: false,
            started: false,
            restartCount: Number(c.restartCount ?? 0) + 1,
            lastState: {
              terminated: {
                exitCode: 1,
                reason: 'Error',
                startedAt: (c.state as { running?: { startedAt?: string } })?.running?.startedAt ?? now,
                finishedAt: now,
              },
            },
            state: {
              waiting: {
                reason: 'CrashLoopBackOff',
                message: `back-off restarting failed container ${c.name} in pod ${pod.metadata.name}`,
              },
            },
          }
        : c,
    );
    this.#writeStatus(pod, {
      ...st,
      conditions: podConditions(st.conditions as PodCondition[] | undefined, now, {
        unready: statuses.filter((c) => c.ready !== true).map((c) => String(c.name)),
      }),
      containerStatuses: statuses,
    });
    const first = pod.spec?.containers?.[0]?.name;
    if (first) {
      this.#say(pod, first, `Container ${first} exited with code 1 (simulated crash); back-off restarting`);
      this.#opts.logs?.end(pod.metadata.uid ?? '', first);
    }
    this.#event(
      pod,
      'BackOff',
      `Back-off restarting failed container ${pod.spec?.containers?.[0]?.name ?? ''} in pod ${pod.metadata.name}`,
    );
  }

  #finish(pod: KubeObject, success: boolean): void {
    const now = this.#cluster.now();
    const st: Status = pod.status ?? {};
    const statuses = ((st.containerStatuses as Record<string, unknown>[]) ?? []).map((c) => ({
      ...c,
      ready: false,
      started: false,
      state: {
        terminated: {
          exitCode: success ? 0 : 1,
          reason: success ? 'Completed' : 'Error',
          startedAt: (c.state as { running?: { startedAt?: string } })?.running?.startedAt ?? now,
          finishedAt: now,
        },
      },
    }));
    const reason = success ? 'PodCompleted' : 'PodFailed';
    for (const c of pod.spec?.containers ?? []) {
      this.#say(
        pod,
        c.name,
        `Container ${c.name} ${success ? 'completed' : 'failed'} (exit code ${success ? 0 : 1})`,
      );
    }
    this.#opts.logs?.end(pod.metadata.uid ?? '');
    this.#writeStatus(pod, {
      ...st,
      phase: success ? 'Succeeded' : 'Failed',
      conditions: podConditions(st.conditions as PodCondition[] | undefined, now, {
        unready: (pod.spec?.containers ?? []).map((c: { name: string }) => c.name),
        reason,
      }),
      containerStatuses: statuses,
    });
  }
}

/** The one Node object of the local cluster. */
export function nodeObject(now: string): KubeObject {
  const conditions = [
    [
      'Ready',
      'True',
      'KubeletReady',
      'kubelet is posting ready status (simulated: no container really runs)',
    ],
    ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
    ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
  ].map(([type, status, reason, message]) => ({
    type,
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
    reason,
    message,
  }));
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: NODE_NAME,
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': NODE_NAME,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/simulated': 'true',
      },
    },
    spec: {},
    status: {
      capacity: { cpu: '32', memory: '256Gi', pods: '10000' },
      allocatable: { cpu: '32', memory: '256Gi', pods: '10000' },
      phase: 'Running',
      conditions,
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: NODE_NAME },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: '',
        osImage: 'Slipway simulated node',
        containerRuntimeVersion: 'simulated://0',
        kubeletVersion: 'v1.32.0-slipway',
        kubeProxyVersion: 'v1.32.0-slipway',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}
