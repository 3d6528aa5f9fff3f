// When a simulated container becomes started and ready, following Kubernetes' probe rules (pure: no clock).
//
// Kubernetes: a container without a readinessProbe is Ready as soon as it is started ("If a container does not
// provide a readiness probe, the default state is Success"); with one, it is Ready after its first
// `successThreshold` successful probes, the first at `initialDelaySeconds` after the container started, then one
// every `periodSeconds`. A `startupProbe` holds `started` (and readiness probing) back until it succeeds. The
// simulated probes always succeed (there is no process to probe) unless the pod asks for a failure.

export interface Probe {
  initialDelaySeconds?: number;
  periodSeconds?: number;
  successThreshold?: number;
}

export interface ContainerSpec {
  name: string;
  readinessProbe?: Probe;
  startupProbe?: Probe;
}

export interface ContainerTiming {
  /** Milliseconds after the container started at which `started` becomes true. */
  startedAfterMs: number;
  /** Milliseconds after the container started at which `ready` becomes true (Infinity: never). */
  readyAfterMs: number;
}

const seconds = (v: unknown, fallback: number, min: number): number => {
  const n = typeof v === 'number' && Number.isFinite(v) ? v : fallback;
  return Math.max(min, n);
};

/**
 * Times of one container, relative to its start. `readinessFails` makes every readiness probe fail (a container
 * without a readinessProbe is still Ready: Kubernetes' default is Success); `extraReadyMs` is added to the ready
 * time of every container (a test knob, 0 by default).
 */
export function containerTiming(
  container: ContainerSpec,
  options: { readinessFails?: boolean; extraReadyMs?: number } = {},
): ContainerTiming {
  const startup = container.startupProbe;
  // A startup probe's successThreshold must be 1: it passes at its first probe.
  const startedAfterMs = startup ? seconds(startup.initialDelaySeconds, 0, 0) * 1000 : 0;
  const readiness = container.readinessProbe;
  let readyAfterMs = startedAfterMs;
  if (readiness) {
    if (options.readinessFails) return { startedAfterMs, readyAfterMs: Number.POSITIVE_INFINITY };
    const period = seconds(readiness.periodSeconds, 10, 1) * 1000;
    const threshold = seconds(readiness.successThreshold, 1, 1);
    // Readiness probes are skipped until the container is started and initialDelaySeconds have passed.
    const first = Math.max(startedAfterMs, seconds(readiness.initialDelaySeconds, 0, 0) * 1000);
    readyAfterMs = first + (threshold - 1) * period;
  }
  return { startedAfterMs, readyAfterMs: readyAfterMs + Math.max(0, options.extraReadyMs ?? 0) };
}

/** The next moment (ms after the start) at which some container changes, after `elapsedMs`; undefined: none. */
export function nextChange(timings: ContainerTiming[], elapsedMs: number): number | undefined {
  let next: number | undefined;
  for (const t of timings) {
    for (const at of [t.startedAfterMs, t.readyAfterMs]) {
      if (at > elapsedMs && Number.isFinite(at) && (next === undefined || at < next)) next = at;
    }
  }
  return next;
}

export interface PodCondition {
  type: string;
  status: string;
  lastProbeTime: null;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

/**
 * The pod's four conditions in the order a kubelet writes them (Initialized, Ready, ContainersReady,
 * PodScheduled), keeping each one's lastTransitionTime while its status does not change.
 */
export function podConditions(
  previous: readonly PodCondition[] | undefined,
  now: string,
  state: { unready: string[]; reason?: string },
): PodCondition[] {
  const prev = new Map((previous ?? []).map((c) => [c.type, c]));
  const make = (type: string, status: string, reason?: string, message?: string): PodCondition => {
    const p = prev.get(type);
    return {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: p && p.status === status ? p.lastTransitionTime : now,
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
    };
  };
  const ready = state.unready.length === 0 && !state.reason;
  const notReadyReason = state.reason ?? 'ContainersNotReady';
  const notReadyMessage = state.reason
    ? undefined
    : `containers with unready status: [${state.unready.join(' ')}]`;
  return [
    make('Initialized', 'True', state.reason),
    ready ? make('Ready', 'True') : make('Ready', 'False', notReadyReason, notReadyMessage),
    ready
      ? make('ContainersReady', 'True')
      : make('ContainersReady', 'False', notReadyReason, notReadyMessage),
    make('PodScheduled', 'True'),
  ];
}
