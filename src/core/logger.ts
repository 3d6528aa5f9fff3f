// Structured logging (pino). Secrets are redacted by path before anything is written.
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
];

export function createLogger(
  options: { level?: LogLevel; destination?: NodeJS.WritableStream } = {},
): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: 'slipway' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination ?? process.stdout,
  );
}

/** A logger that writes nothing, for tests and pure code paths. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
