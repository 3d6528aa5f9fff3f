// Sprig's date functions with Go's reference-time layouts ("2006-01-02 15:04:05") and durations.
// Times are JS Dates; Go's "Local" zone is taken to be UTC so output does not depend on the host.
import type { TemplateFunction } from '../signature.ts';
import { GoInt64 } from '../value.ts';
import { sig } from './strings.ts';

const LONG_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

type Chunk =
  | { lit: string }
  | {
      std: string;
      digits?: number;
    };

/** Splits a Go layout into literal text and std chunks (time.nextStdChunk). */
function layoutChunks(layout: string): Chunk[] {
  const out: Chunk[] = [];
  let lit = '';
  const push = (c: Chunk): void => {
    if (lit) out.push({ lit });
    lit = '';
    out.push(c);
  };
  for (let i = 0; i < layout.length; ) {
    const rest = layout.slice(i);
    const c = layout[i]!;
    let matched: [string, number, number?] | undefined;
    switch (c) {
      case 'J':
        if (rest.startsWith('January')) matched = ['January', 7];
        else if (rest.startsWith('Jan')) matched = ['Jan', 3];
        break;
      case 'M':
        if (rest.startsWith('Monday')) matched = ['Monday', 6];
        else if (rest.startsWith('Mon')) matched = ['Mon', 3];
        else if (rest.startsWith('MST')) matched = ['MST', 3];
        break;
      case '0':
        if (rest.startsWith('002')) matched = ['002', 3];
        else if (/^0[1-6]/.test(rest)) matched = [rest.slice(0, 2), 2];
        break;
      case '1':
        matched = rest.startsWith('15') ? ['15', 2] : ['1', 1];
        break;
      case '2':
        matched = rest.startsWith('2006') ? ['2006', 4] : ['2', 1];
        break;
      case '_':
        if (rest.startsWith('_2006')) {
          lit += '_';
          i++;
          continue;
        }
        if (rest.startsWith('__2')) matched = ['__2', 3];
        else if (rest.startsWith('_2')) matched = ['_2', 2];
        break;
      case '3':
      case '4':
      case '5':
        matched = [c, 1];
        break;
      case 'P':
        if (rest.startsWith('PM')) matched = ['PM', 2];
        break;
      case 'p':
        if (rest.startsWith('pm')) matched = ['pm', 2];
        break;
      case '-':
      case 'Z':
        for (const z of ['070000', '07:00:00', '0700', '07:00', '07']) {
          if (rest.startsWith(c + z)) {
            matched = [c + z, z.length + 1];
            break;
          }
        }
        break;
      case '.':
      case ',': {
        const m = /^[.,](0+|9+)/.exec(rest);
        if (m && !/[0-9]/.test(rest[m[0].length] ?? ''))
          matched = [`${c}${m[1]![0]}`, m[0].length, m[1]!.length];
        break;
      }
    }
    if (matched) {
      const chunk: Chunk =
        matched[2] === undefined ? { std: matched[0] } : { std: matched[0], digits: matched[2] };
      push(chunk);
      i += matched[1];
    } else {
      lit += c;
      i++;
    }
  }
  if (lit) out.push({ lit });
  return out;
}

interface ZoneInfo {
  offsetMinutes: number;
  abbrev: string;
}

/** Offset and abbreviation of a zone at an instant. "Local" and unknown zones are UTC. */
function zoneAt(zone: string, d: Date): ZoneInfo {
  if (zone === 'UTC' || zone === 'Local' || zone === '') return { offsetMinutes: 0, abbrev: 'UTC' };
  try {
    const fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      timeZoneName: 'longOffset',
      year: 'numeric',
    });
    const name = fmt.formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
    const offset = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
    const short =
      new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'short', year: 'numeric' })
        .formatToParts(d)
        .find((p) => p.type === 'timeZoneName')?.value ?? 'UTC';
    let abbrev = short;
    if (/^GMT/.test(short)) {
      const sign = offset < 0 ? '-' : '+';
      const a = Math.abs(offset);
      abbrev = offset === 0 ? 'GMT' : `${sign}${pad(Math.floor(a / 60), 2)}${a % 60 ? pad(a % 60, 2) : ''}`;
    }
    return { offsetMinutes: offset, abbrev };
  } catch {
    return { offsetMinutes: 0, abbrev: 'UTC' };
  }
}

export function isKnownZone(zone: string): boolean {
  if (zone === 'UTC' || zone === 'Local' || zone === '') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/** time.Time.Format(layout) in a zone. */
export function formatGoLayout(d: Date, layout: string, zone = 'UTC'): string {
  const z = zoneAt(zone, d);
  const t = new Date(d.getTime() + z.offsetMinutes * 60000);
  const year = t.getUTCFullYear();
  const month = t.getUTCMonth();
  const day = t.getUTCDate();
  const hour = t.getUTCHours();
  const min = t.getUTCMinutes();
  const sec = t.getUTCSeconds();
  const nanos = t.getUTCMilliseconds() * 1e6;
  const yday = Math.floor((Date.UTC(year, month, day) - Date.UTC(year, 0, 1)) / 86400000) + 1;
  let out = '';
  for (const c of layoutChunks(layout)) {
    if ('lit' in c) {
      out += c.lit;
      continue;
    }
    switch (c.std) {
      case 'January':
        out += LONG_MONTHS[month];
        break;
      case 'Jan':
        out += LONG_MONTHS[month]!.slice(0, 3);
        break;
      case 'Monday':
        out += LONG_DAYS[t.getUTCDay()];
        break;
      case 'Mon':
        out += LONG_DAYS[t.getUTCDay()]!.slice(0, 3);
        break;
      case 'MST':
        out += z.abbrev;
        break;
      case '01':
        out += pad(month + 1, 2);
        break;
      case '1':
        out += String(month + 1);
        break;
      case '02':
        out += pad(day, 2);
        break;
      case '2':
        out += String(day);
        break;
      case '_2':
        out += String(day).padStart(2, ' ');
        break;
      case '002':
        out += pad(yday, 3);
        break;
      case '__2':
        out += String(yday).padStart(3, ' ');
        break;
      case '03':
        out += pad(hour % 12 === 0 ? 12 : hour % 12, 2);
        break;
      case '3':
        out += String(hour % 12 === 0 ? 12 : hour % 12);
        break;
      case '15':
        out += pad(hour, 2);
        break;
      case '04':
        out += pad(min, 2);
        break;
      case '4':
        out += String(min);
        break;
      case '05':
        out += pad(sec, 2);
        break;
      case '5':
        out += String(sec);
        break;
      case '06':
        out += pad(year % 100, 2);
        break;
      case '2006':
        out += pad(year, 4);
        break;
      case 'PM':
        out += hour >= 12 ? 'PM' : 'AM';
        break;
      case 'pm':
        out += hour >= 12 ? 'pm' : 'am';
        break;
      case '.0':
      case ',0':
        out += c.std[0] + pad(nanos, 9).slice(0, c.digits);
        break;
      case '.9':
      case ',9': {
        const f = pad(nanos, 9).slice(0, c.digits).replace(/0+$/, '');
        if (f) out += c.std[0] + f;
        break;
      }
      default: {
        // zones
        const isZ = c.std[0] === 'Z';
        if (isZ && z.offsetMinutes === 0) {
          out += 'Z';
          break;
        }
        const sign = z.offsetMinutes < 0 ? '-' : '+';
        const a = Math.abs(z.offsetMinutes);
        const hh = pad(Math.floor(a / 60), 2);
        const mm = pad(a % 60, 2);
        const body = c.std.slice(1);
        if (body === '07') out += sign + hh;
        else if (body === '0700') out += sign + hh + mm;
        else if (body === '07:00') out += `${sign}${hh}:${mm}`;
        else if (body === '070000') out += sign + hh + mm + '00';
        else out += `${sign}${hh}:${mm}:00`;
      }
    }
  }
  return out;
}

/** Go's zero time.Time (0001-01-01 UTC). */
export function zeroTime(): Date {
  const d = new Date(0);
  d.setUTCFullYear(1, 0, 1);
  d.setUTCHours(0, 0, 0, 0);
  return d;
}

/** time.ParseInLocation(layout, value, UTC). Throws Go-like errors. */
export function parseGoLayout(layout: string, value: string): Date {
  let year = 1;
  let month = 1;
  let day = 1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let ms = 0;
  let pm: boolean | undefined;
  let offset = 0;
  let v = value;
  const bad = (): never => {
    throw new Error(
      `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(v)} as ${JSON.stringify(layout)}`,
    );
  };
  const takeNum = (min: number, max: number): number => {
    const m = new RegExp(`^[0-9]{${min},${max}}`).exec(v);
    if (!m) bad();
    v = v.slice(m![0].length);
    return Number(m![0]);
  };
  const takeWord = (words: string[], len?: number): number => {
    for (let i = 0; i < words.length; i++) {
      const w = len ? words[i]!.slice(0, len) : words[i]!;
      if (v.toLowerCase().startsWith(w.toLowerCase())) {
        v = v.slice(w.length);
        return i;
      }
    }
    return bad();
  };
  for (const c of layoutChunks(layout)) {
    if ('lit' in c) {
      if (!v.startsWith(c.lit)) bad();
      v = v.slice(c.lit.length);
      continue;
    }
    switch (c.std) {
      case 'January':
        month = takeWord(LONG_MONTHS) + 1;
        break;
      case 'Jan':
        month = takeWord(LONG_MONTHS, 3) + 1;
        break;
      case 'Monday':
        takeWord(LONG_DAYS);
        break;
      case 'Mon':
        takeWord(LONG_DAYS, 3);
        break;
      case 'MST': {
        const m = /^[A-Z]{3,5}|^[+-][0-9]{2,4}/.exec(v);
        if (!m) bad();
        v = v.slice(m![0].length);
        break;
      }
      case '01':
        month = takeNum(2, 2);
        break;
      case '1':
        month = takeNum(1, 2);
        break;
      case '02':
        day = takeNum(2, 2);
        break;
      case '2':
        day = takeNum(1, 2);
        break;
      case '_2':
        if (v.startsWith(' ')) v = v.slice(1);
        day = takeNum(1, 2);
        break;
      case '002':
      case '__2':
        takeNum(1, 3);
        break;
      case '03':
        hour = takeNum(2, 2);
        break;
      case '3':
        hour = takeNum(1, 2);
        break;
      case '15':
        hour = takeNum(1, 2);
        break;
      case '04':
        min = takeNum(2, 2);
        break;
      case '4':
        min = takeNum(1, 2);
        break;
      case '05':
        sec = takeNum(2, 2);
        break;
      case '5':
        sec = takeNum(1, 2);
        break;
      case '06':
        year = 2000 + takeNum(2, 2);
        if (year >= 2069) year -= 100;
        break;
      case '2006':
        year = takeNum(4, 4);
        break;
      case 'PM':
      case 'pm': {
        const w = v.slice(0, 2).toUpperCase();
        if (w !== 'AM' && w !== 'PM') bad();
        pm = w === 'PM';
        v = v.slice(2);
        break;
      }
      case '.0':
      case ',0':
      case '.9':
      case ',9': {
        const m = /^[.,]([0-9]+)/.exec(v);
        if (!m) {
          if (c.std[1] === '0') bad();
          break;
        }
        ms = Math.floor(Number(`0.${m[1]}`) * 1000);
        v = v.slice(m[0].length);
        break;
      }
      default: {
        if (c.std[0] === 'Z' && v.startsWith('Z')) {
          v = v.slice(1);
          offset = 0;
          break;
        }
        const m = /^([+-])([0-9]{2})(?::?([0-9]{2}))?(?::?([0-9]{2}))?/.exec(v);
        if (!m) bad();
        offset = (m![1] === '-' ? -1 : 1) * (Number(m![2]) * 60 + Number(m![3] ?? 0));
        v = v.slice(m![0].length);
      }
    }
  }
  // Fractional seconds after a seconds field are accepted even when the layout has none.
  const frac = /^[.,]([0-9]+)/.exec(v);
  if (frac) {
    ms = Math.floor(Number(`0.${frac[1]}`) * 1000);
    v = v.slice(frac[0].length);
  }
  if (v !== '') throw new Error(`parsing time ${JSON.stringify(value)}: extra text: ${JSON.stringify(v)}`);
  if (pm !== undefined) {
    if (hour > 12) throw new Error(`parsing time ${JSON.stringify(value)}: hour out of range`);
    if (pm && hour < 12) hour += 12;
    if (!pm && hour === 12) hour = 0;
  }
  if (month < 1 || month > 12) throw new Error(`parsing time ${JSON.stringify(value)}: month out of range`);
  if (day < 1 || day > 31) throw new Error(`parsing time ${JSON.stringify(value)}: day out of range`);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, min, sec, ms);
  return new Date(d.getTime() - offset * 60000);
}

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60000,
  h: 3600000,
};

/** time.ParseDuration, in milliseconds. */
export function parseGoDuration(s: string): number {
  const orig = s;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new Error(`time: invalid duration ${JSON.stringify(orig)}`);
  let total = 0;
  while (s !== '') {
    const m = /^([0-9]*(?:\.[0-9]*)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/.exec(s);
    if (!m || m[1] === '' || m[1] === '.') {
      if (m && (m[1] === '' || m[1] === '.'))
        throw new Error(`time: invalid duration ${JSON.stringify(orig)}`);
      const unit = /^[0-9.]+([^0-9.]*)/.exec(s);
      if (unit && unit[1] === '') throw new Error(`time: missing unit in duration ${JSON.stringify(orig)}`);
      if (unit)
        throw new Error(`time: unknown unit ${JSON.stringify(unit[1])} in duration ${JSON.stringify(orig)}`);
      throw new Error(`time: invalid duration ${JSON.stringify(orig)}`);
    }
    total += Number(m[1]) * UNITS[m[2]!]!;
    s = s.slice(m[0].length);
  }
  return neg ? -total : total;
}

/** time.Duration.String() for a duration in nanoseconds. */
export function formatGoDuration(nanos: bigint): string {
  if (nanos === 0n) return '0s';
  const neg = nanos < 0n;
  let u = neg ? -nanos : nanos;
  let out: string;
  if (u < 1000000000n) {
    let unit: string;
    let prec: bigint;
    if (u < 1000n) return (neg ? '-' : '') + `${u}ns`;
    if (u < 1000000n) {
      unit = 'µs';
      prec = 1000n;
    } else {
      unit = 'ms';
      prec = 1000000n;
    }
    out = fracString(u, prec) + unit;
  } else {
    const h = u / 3600000000000n;
    u -= h * 3600000000000n;
    const m = u / 60000000000n;
    u -= m * 60000000000n;
    out = `${fracString(u, 1000000000n)}s`;
    if (h > 0n) out = `${h}h${m}m${out}`;
    else if (m > 0n) out = `${m}m${out}`;
  }
  return (neg ? '-' : '') + out;
}

function fracString(v: bigint, unit: bigint): string {
  const whole = v / unit;
  const rem = v % unit;
  if (rem === 0n) return String(whole);
  const digits = unit.toString().length - 1;
  return `${whole}.${rem.toString().padStart(digits, '0').replace(/0+$/, '')}`;
}

function toTime(date: unknown, now: () => Date): Date {
  if (date instanceof Date) return date;
  if (typeof date === 'bigint' || date instanceof GoInt64) return new Date(Number(date) * 1000);
  return now();
}

function durationRound(d: bigint): string {
  let u = d < 0n ? -d : d;
  const second = 1000000000n;
  const minute = 60n * second;
  const hour = 60n * minute;
  const day = 24n * hour;
  const month = 30n * day;
  const year = 365n * day;
  if (u > year) return `${u / year}y`;
  if (u > month) return `${u / month}mo`;
  if (u > day) return `${u / day}d`;
  if (u > hour) return `${u / hour}h`;
  if (u > minute) return `${u / minute}m`;
  if (u > second) return `${u / second}s`;
  u = 0n;
  return '0s';
}

export function dateFunctions(now: () => Date): Record<string, TemplateFunction> {
  const dateInZone = sig(['string', 'any', 'string'])((fmt: string, date: unknown, zone: string) =>
    formatGoLayout(toTime(date, now), fmt, isKnownZone(zone) ? zone : 'UTC'),
  );
  const dateModify = (fmt: string, date: unknown): Date => {
    const t = date instanceof Date ? date : zeroTime();
    return new Date(t.getTime() + parseGoDuration(fmt));
  };
  const toDateFn = (fmt: string, str: string): Date => parseGoLayout(fmt, str);
  return {
    now: sig([])(() => now()),
    date: sig(['string', 'any'])((fmt: string, date: unknown) =>
      formatGoLayout(toTime(date, now), fmt, 'Local'),
    ),
    dateInZone,
    date_in_zone: dateInZone,
    htmlDate: sig(['any'])((date: unknown) => formatGoLayout(toTime(date, now), '2006-01-02', 'Local')),
    htmlDateInZone: sig(['any', 'string'])((date: unknown, zone: string) =>
      formatGoLayout(toTime(date, now), '2006-01-02', isKnownZone(zone) ? zone : 'UTC'),
    ),
    dateModify: sig(['string', 'any'])((fmt: string, date: unknown) => {
      try {
        return dateModify(fmt, date);
      } catch {
        return date instanceof Date ? date : zeroTime();
      }
    }),
    date_modify: sig(['string', 'any'])((fmt: string, date: unknown) => {
      try {
        return dateModify(fmt, date);
      } catch {
        return date instanceof Date ? date : zeroTime();
      }
    }),
    mustDateModify: sig(['string', 'any'])(dateModify),
    toDate: sig(['string', 'string'])((fmt: string, str: string) => {
      try {
        return toDateFn(fmt, str);
      } catch {
        return zeroTime();
      }
    }),
    mustToDate: sig(['string', 'string'])(toDateFn),
    unixEpoch: sig(['any'])((date: unknown) => {
      const t = date instanceof Date ? date : zeroTime();
      return String(Math.floor(t.getTime() / 1000));
    }),
    ago: sig(['any'])((date: unknown) => {
      const t = toTime(date, now);
      const ms = now().getTime() - t.getTime();
      return formatGoDuration(BigInt(Math.round(ms / 1000)) * 1000000000n);
    }),
    duration: sig(['any'])((sec: unknown) => {
      let n = 0n;
      if (typeof sec === 'string') n = /^[+-]?[0-9]+$/.test(sec) ? BigInt(sec) : 0n;
      // Sprig's type switch takes int64 only: an int (a constant, len) counts as 0.
      else if (sec instanceof GoInt64) n = sec.value;
      return formatGoDuration(n * 1000000000n);
    }),
    durationRound: sig(['any'])((d: unknown) => {
      let nanos = 0n;
      if (typeof d === 'string') {
        try {
          nanos = BigInt(Math.round(parseGoDuration(d) * 1e6));
        } catch {
          nanos = 0n;
        }
      } else if (d instanceof GoInt64) nanos = d.value;
      else if (d instanceof Date) nanos = BigInt(now().getTime() - d.getTime()) * 1000000n;
      return durationRound(nanos);
    }),
  };
}
