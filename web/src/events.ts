// One shared EventSource on /api/v1/events; components subscribe by event-type prefix.
type Listener = (type: string, data: unknown) => void;
const listeners = new Set<{ prefixes: string[]; fn: Listener }>();
let source: EventSource | undefined;
let status: 'connecting' | 'live' | 'offline' = 'connecting';
const statusListeners = new Set<(s: typeof status) => void>();

function setStatus(s: typeof status) {
  status = s;
  for (const l of statusListeners) l(s);
}

function connect() {
  if (source) return;
  source = new EventSource('/api/v1/events');
  source.onopen = () => setStatus('live');
  source.onerror = () => setStatus(source?.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
  source.onmessage = () => {};
  const dispatch = (e: MessageEvent) => {
    let parsed: { type?: string; data?: unknown } = {};
    try {
      parsed = JSON.parse(e.data);
    } catch {
      return;
    }
    const type = parsed.type ?? e.type;
    for (const l of listeners) {
      if (l.prefixes.length === 0 || l.prefixes.some((p) => type.startsWith(p))) l.fn(type, parsed.data);
    }
  };
  // Named events: EventSource only delivers types it was told about, so listen to the known families.
  for (const t of KNOWN_TYPES) source.addEventListener(t, dispatch as EventListener);
}

const KNOWN_TYPES = [
  'git.push',
  'build.status',
  'build.stage',
  'build.step',
  'build.log',
  'build.queued',
  'registry.push',
  'registry.delete',
  'scan.completed',
  'app.status',
  'app.sync',
  'app.created',
  'app.deleted',
  'promotion.created',
  'promotion.approved',
  'kube.change',
];

export function subscribe(prefixes: string[], fn: Listener): () => void {
  connect();
  const entry = { prefixes, fn };
  listeners.add(entry);
  return () => listeners.delete(entry);
}

export function onStatus(fn: (s: typeof status) => void): () => void {
  statusListeners.add(fn);
  fn(status);
  return () => statusListeners.delete(fn);
}

export function disconnect() {
  source?.close();
  source = undefined;
}
