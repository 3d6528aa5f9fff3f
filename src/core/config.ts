// Configuration: defaults < `<data>/config.yaml` < `SLIPWAY_*` environment variables < command-line flags.
// Every value is validated, and a bad one is reported with the key and where it came from.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { InputError } from './errors.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface SlipwayConfig {
  /** TCP port of the one HTTP server. */
  port: number;
  /** Address to listen on. */
  host: string;
  /** Data directory (absolute). */
  data: string;
  logLevel: LogLevel;
  /** The URL users and clients reach Slipway at; defaults to `http://host:port`. */
  publicUrl: string;
  /** Seconds between polls of git repositories for GitOps and CI (0 disables polling). */
  pollIntervalSeconds: number;
  /** Seconds the registry's bearer tokens stay valid. */
  tokenTtlSeconds: number;
  /** Seconds a UI session lasts. */
  sessionTtlSeconds: number;
  /**
   * Registry blob uploads go around the kernel's page cache (O_DIRECT), and so does the first large
   * read of each such blob; later reads go through the cache. Off: everything through the page cache.
   * Default on (`loadConfig` sets it; a config built by hand may leave it out).
   */
  registryDirectIo?: boolean;
}

type Source = 'default' | 'config.yaml' | 'environment' | 'flag';

interface KeySpec {
  env: string;
  parse(raw: unknown): unknown;
  describe: string;
}

function int(min: number, max: number) {
  return (raw: unknown): number => {
    const n =
      typeof raw === 'number'
        ? raw
        : typeof raw === 'string' && /^-?\d+$/.test(raw.trim())
          ? Number(raw)
          : NaN;
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

function str(check?: (s: string) => string | undefined) {
  return (raw: unknown): string => {
    if (typeof raw !== 'string' || raw.trim() === '') throw new Error('must be a non-empty string');
    const problem = check?.(raw);
    if (problem) throw new Error(problem);
    return raw;
  };
}

function bool() {
  return (raw: unknown): boolean => {
    if (typeof raw === 'boolean') return raw;
    const s = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off'].includes(s)) return false;
    throw new Error('must be true or false');
  };
}

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const KEYS: Record<keyof SlipwayConfig, KeySpec> = {
  port: { env: 'SLIPWAY_PORT', parse: int(0, 65535), describe: 'TCP port (0 picks a free one)' },
  host: { env: 'SLIPWAY_HOST', parse: str(), describe: 'listen address' },
  data: { env: 'SLIPWAY_DATA', parse: str(), describe: 'data directory' },
  logLevel: {
    env: 'SLIPWAY_LOG_LEVEL',
    parse: str((s) =>
      LOG_LEVELS.includes(s as LogLevel) ? undefined : `must be one of ${LOG_LEVELS.join(', ')}`,
    ),
    describe: 'log level',
  },
  publicUrl: {
    env: 'SLIPWAY_PUBLIC_URL',
    parse: str((s) => (/^https?:\/\/[^/]+/.test(s) ? undefined : 'must be an http:// or https:// URL')),
    describe: 'external URL',
  },
  pollIntervalSeconds: {
    env: 'SLIPWAY_POLL_INTERVAL_SECONDS',
    parse: int(0, 86400),
    describe: 'git poll interval',
  },
  tokenTtlSeconds: {
    env: 'SLIPWAY_TOKEN_TTL_SECONDS',
    parse: int(30, 86400),
    describe: 'registry token lifetime',
  },
  sessionTtlSeconds: {
    env: 'SLIPWAY_SESSION_TTL_SECONDS',
    parse: int(60, 30 * 86400),
    describe: 'UI session lifetime',
  },
  registryDirectIo: {
    env: 'SLIPWAY_REGISTRY_DIRECT_IO',
    parse: bool(),
    describe: 'registry blob I/O around the page cache',
  },
};

export function defaultDataDir(): string {
  return join(homedir(), '.slipway');
}

export interface LoadConfigOptions {
  /** Values from command-line flags (strings as typed, or already-typed values). */
  flags?: Partial<Record<keyof SlipwayConfig, unknown>>;
  env?: NodeJS.ProcessEnv;
}

/**
 * Builds the configuration. Throws {@link InputError} naming the key, the bad value and its source
 * (flag, environment variable, or `config.yaml` with its line).
 */
export function loadConfig(options: LoadConfigOptions = {}): SlipwayConfig {
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  const raw: Record<string, { value: unknown; source: Source; where: string }> = {};

  const dataRaw = flags.data ?? env.SLIPWAY_DATA ?? defaultDataDir();
  const data = resolve(String(dataRaw).replace(/^~(?=$|\/)/, homedir()));

  const file = join(data, 'config.yaml');
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false });
    const first = doc.errors[0];
    if (first) {
      const pos = lineCounter.linePos(first.pos[0]);
      throw new InputError(`Cannot parse ${file}:${pos.line}:${pos.col}: ${first.message.split('\n')[0]}`, {
        location: { file, line: pos.line, column: pos.col },
      });
    }
    if (doc.contents !== null && !isMap(doc.contents)) {
      throw new InputError(`${file} must hold a mapping of settings`, { location: { file, line: 1 } });
    }
    if (isMap(doc.contents)) {
      for (const pair of doc.contents.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const line =
          isScalar(pair.key) && pair.key.range ? lineCounter.linePos(pair.key.range[0]).line : undefined;
        const where = `${file}${line ? `:${line}` : ''}`;
        if (!(key in KEYS)) {
          throw new InputError(
            `Unknown setting "${key}" in ${where}; known settings: ${Object.keys(KEYS).join(', ')}`,
            {
              location: { file, ...(line ? { line } : {}), field: key },
            },
          );
        }
        const value = isScalar(pair.value) ? pair.value.value : pair.value?.toJSON();
        raw[key] = { value, source: 'config.yaml', where };
      }
    }
  }
  for (const [key, spec] of Object.entries(KEYS)) {
    const v = env[spec.env];
    if (v !== undefined && v !== '')
      raw[key] = { value: v, source: 'environment', where: `environment variable ${spec.env}` };
  }
  for (const [key, value] of Object.entries(flags)) {
    if (value !== undefined) raw[key] = { value, source: 'flag', where: `flag --${key}` };
  }

  const defaults: Omit<SlipwayConfig, 'publicUrl' | 'data'> = {
    port: 8080,
    host: '127.0.0.1',
    logLevel: 'info',
    pollIntervalSeconds: 60,
    tokenTtlSeconds: 300,
    sessionTtlSeconds: 7 * 86400,
    registryDirectIo: true,
  };
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, entry] of Object.entries(raw)) {
    if (key === 'data') continue;
    const spec = KEYS[key as keyof SlipwayConfig];
    try {
      out[key] = spec.parse(entry.value);
    } catch (err) {
      throw new InputError(
        `Invalid value ${JSON.stringify(entry.value)} for "${key}" (${spec.describe}) from ${entry.where}: ${(err as Error).message}`,
        { location: { field: key } },
      );
    }
  }
  out.data = data;
  if (out.publicUrl === undefined) {
    const host = out.host === '0.0.0.0' || out.host === '::' ? '127.0.0.1' : String(out.host);
    out.publicUrl = `http://${host.includes(':') ? `[${host}]` : host}:${out.port}`;
  }
  out.publicUrl = String(out.publicUrl).replace(/\/+$/, '');
  return out as unknown as SlipwayConfig;
}
