// Sync windows (Argo CD's): cron schedule + duration, allow or deny; a deny that is active wins. Pure.
import { InputError } from '../core/index.ts';
import type { SyncWindow } from './app-store.ts';

const RANGES: [number, number][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 6],
];

function parseField(text: string, [min, max]: [number, number], where: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(part);
    if (!m)
      throw new InputError(`${where}: cannot read cron field ${JSON.stringify(part)}`, {
        location: { field: 'schedule' },
      });
    let lo = min;
    let hi = max;
    if (m[1] !== '*') {
      const [a, b] = m[1]!.split('-').map(Number);
      lo = a!;
      hi = b ?? (m[2] ? max : a!);
    }
    const step = m[2] ? Number(m[2]) : 1;
    if (lo < min || hi > max || lo > hi || step < 1) {
      throw new InputError(`${where}: cron field ${JSON.stringify(part)} is out of range ${min}-${max}`, {
        location: { field: 'schedule' },
      });
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/** Parses `30m`, `1h`, `1h30m`, `2d` into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  if (!m || text.trim() === '')
    throw new InputError(`Invalid duration ${JSON.stringify(text)}: use e.g. 30m, 1h, 1h30m`, {
      location: { field: 'duration' },
    });
  return (
    (((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60 + Number(m[4] ?? 0)) * 1000
  );
}

/** Validates a window (throws InputError naming the field). */
export function checkWindow(w: SyncWindow, where = 'syncWindows'): SyncWindow {
  if (w.kind !== 'allow' && w.kind !== 'deny')
    throw new InputError(`${where}: kind must be allow or deny`, { location: { field: 'kind' } });
  const fields = String(w.schedule ?? '')
    .trim()
    .split(/\s+/);
  if (fields.length !== 5)
    throw new InputError(`${where}: schedule must have 5 cron fields, got ${JSON.stringify(w.schedule)}`, {
      location: { field: 'schedule' },
    });
  for (const [i, f] of fields.entries()) parseField(f, RANGES[i]!, where);
  parseDuration(w.duration);
  return {
    kind: w.kind,
    schedule: fields.join(' '),
    duration: w.duration,
    manualSync: w.manualSync === true,
  };
}

function cronMatches(schedule: string, t: Date): boolean {
  const f = schedule.split(/\s+/).map((x, i) => parseField(x, RANGES[i]!, 'schedule'));
  return (
    f[0]!.has(t.getUTCMinutes()) &&
    f[1]!.has(t.getUTCHours()) &&
    f[2]!.has(t.getUTCDate()) &&
    f[3]!.has(t.getUTCMonth() + 1) &&
    f[4]!.has(t.getUTCDay())
  );
}

/** True when a window started (by its schedule) within its duration before `now`. */
export function windowActive(w: SyncWindow, now: number): boolean {
  const dur = parseDuration(w.duration);
  const start = Math.floor(now / 60_000) * 60_000;
  for (let t = start; t > now - dur - 60_000; t -= 60_000) {
    if (t + dur > now && cronMatches(w.schedule, new Date(t))) return true;
    if (start - t > 8 * 86400_000) break;
  }
  return false;
}

/**
 * Whether a sync may run now. With no windows, always. An active deny blocks (manual syncs pass when
 * that window says manualSync); when allow windows exist, one must be active.
 */
export function syncAllowed(
  windows: SyncWindow[],
  now: number,
  manual: boolean,
): { allowed: boolean; reason?: string } {
  if (windows.length === 0) return { allowed: true };
  for (const w of windows) {
    if (w.kind === 'deny' && windowActive(w, now) && !(manual && w.manualSync)) {
      return { allowed: false, reason: `a deny sync window is active (${w.schedule} for ${w.duration})` };
    }
  }
  const allows = windows.filter((w) => w.kind === 'allow');
  if (allows.length === 0) return { allowed: true };
  if (allows.some((w) => windowActive(w, now))) return { allowed: true };
  if (manual && allows.some((w) => w.manualSync)) return { allowed: true };
  return { allowed: false, reason: 'no allow sync window is active' };
}
