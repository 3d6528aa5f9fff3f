// What every CLI command gets: an API client for the configured server and output that honours --json.
import {
  AuthenticationError,
  describeFetchFailure,
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  SlipwayError,
  UnavailableError,
  ValidationError,
} from '../core/index.ts';
import { readClientConfig } from './client-config.ts';

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

export interface CliContext {
  io: CliIO;
  /** The server URL: --server flag, $SLIPWAY_SERVER, the saved login, or http://127.0.0.1:8080. */
  server(): string;
  /** Calls the REST API (path relative to the server, e.g. `/api/v1/users`); throws typed errors. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** Prints `data` as JSON when --json was given, else what `human()` returns. */
  print(data: unknown, human: () => string): void;
  json: boolean;
}

const ERRORS_BY_STATUS: Record<
  number,
  new (
    m: string,
    o?: { details?: Record<string, unknown> },
  ) => SlipwayError
> = {
  400: InputError,
  401: AuthenticationError,
  403: NotAllowedError,
  404: NotFoundError,
  409: ConflictError,
  422: ValidationError,
  503: UnavailableError,
};

export function createCliContext(
  io: CliIO,
  flags: () => { server?: string; json?: boolean; token?: string },
): CliContext {
  const saved = () => readClientConfig(io.env);
  const ctx: CliContext = {
    io,
    get json() {
      return flags().json === true;
    },
    server() {
      return (flags().server ?? io.env.SLIPWAY_SERVER ?? saved().server ?? 'http://127.0.0.1:8080').replace(
        /\/+$/,
        '',
      );
    },
    async api<T>(method: string, path: string, body?: unknown): Promise<T> {
      const token = flags().token ?? io.env.SLIPWAY_TOKEN ?? saved().token;
      const headers: Record<string, string> = { accept: 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res: Response;
      const url = `${ctx.server()}${path}`;
      try {
        res = await fetch(url, {
          method,
          headers,
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
      } catch (err) {
        throw new UnavailableError(
          `Cannot reach Slipway at ${ctx.server()}: ${describeFetchFailure(err)}. Is it running (slipway up)?`,
        );
      }
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      if (!res.ok) {
        const e = (parsed as { error?: { message?: string; details?: Record<string, unknown> } })?.error;
        const message = e?.message ?? `${method} ${path} failed with HTTP ${res.status}`;
        const hint = res.status === 401 && !token ? ' (run "slipway login" first)' : '';
        const Cls = ERRORS_BY_STATUS[res.status];
        if (Cls) throw new Cls(message + hint, e?.details ? { details: e.details } : {});
        throw new SlipwayError(message, { code: 'SERVER', status: res.status, exitCode: 1 });
      }
      return parsed as T;
    },
    print(data, human) {
      io.out(ctx.json ? JSON.stringify(data, null, 2) : human());
    },
  };
  return ctx;
}

/** Formats rows as an aligned text table. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (c ?? '').padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
