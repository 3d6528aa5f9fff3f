// Status badges with one colour language: green good, blue moving, amber attention, red broken, grey unknown.
const TONES: Record<string, string> = {
  healthy: 'ok',
  synced: 'ok',
  success: 'ok',
  succeeded: 'ok',
  running: 'busy',
  progressing: 'busy',
  syncing: 'busy',
  queued: 'wait',
  pending: 'wait',
  waiting: 'wait',
  outofsync: 'warn',
  suspended: 'warn',
  skipped: 'muted',
  cancelled: 'muted',
  interrupted: 'warn',
  degraded: 'bad',
  failed: 'bad',
  failure: 'bad',
  error: 'bad',
  comparisonerror: 'bad',
  missing: 'warn',
  unknown: 'muted',
  critical: 'bad',
  high: 'bad',
  medium: 'warn',
  low: 'muted',
};

export function toneOf(status: string | undefined): string {
  return TONES[(status ?? 'unknown').toLowerCase().replace(/[^a-z]/g, '')] ?? 'muted';
}

export function Badge({ status, title }: { status: string | undefined; title?: string }) {
  return (
    <span className={`badge tone-${toneOf(status)}`} title={title ?? status}>
      {status ?? 'Unknown'}
    </span>
  );
}

export function Duration({ ms }: { ms: number | null | undefined }) {
  if (ms === null || ms === undefined) return null;
  const s = ms / 1000;
  const text =
    s < 1
      ? `${Math.round(ms)} ms`
      : s < 60
        ? `${s.toFixed(1)} s`
        : `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
  return <span className="muted">{text}</span>;
}

export function Ago({ time }: { time: string | null | undefined }) {
  if (!time) return null;
  const d = (Date.now() - Date.parse(time)) / 1000;
  const text =
    d < 60
      ? `${Math.max(0, Math.round(d))}s ago`
      : d < 3600
        ? `${Math.round(d / 60)}m ago`
        : d < 86400
          ? `${Math.round(d / 3600)}h ago`
          : `${Math.round(d / 86400)}d ago`;
  return (
    <time dateTime={time} title={time} className="muted">
      {text}
    </time>
  );
}

export function ErrorNote({ error }: { error: Error | undefined }) {
  if (!error) return null;
  return <div className="error-note">{error.message}</div>;
}
