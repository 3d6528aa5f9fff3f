// core: configuration, typed errors, ids, clock, event bus and logger. Depends on nothing else in Slipway.
export {
  SlipwayError,
  InputError,
  ValidationError,
  AuthenticationError,
  NotAllowedError,
  NotFoundError,
  ConflictError,
  PayloadTooLargeError,
  NotImplementedError,
  UnavailableError,
  isSlipwayError,
  formatLocation,
  describeError,
  describeFetchFailure,
} from './errors.ts';
export type { SourceLocation, SlipwayErrorOptions } from './errors.ts';
export { EventBus } from './events.ts';
export type { EventMap, EventName, BusEvent } from './events.ts';
export { loadConfig, defaultDataDir } from './config.ts';
export type { SlipwayConfig, LogLevel, LoadConfigOptions } from './config.ts';
export { createLogger, silentLogger, REDACT_PATHS } from './logger.ts';
export type { Logger } from './logger.ts';
export { newId, newSecret, sha256Hex, constantTimeEqual } from './ids.ts';
export { writeFileAtomic, writeFileAtomicSync } from './fs-atomic.ts';
export { VERSION } from './version.ts';
export { toHttpError } from './http-errors.ts';
export { jsonObject, stringField } from './request-body.ts';
export type { HttpErrorBody } from './http-errors.ts';
export { systemClock, manualClock } from './clock.ts';
export type { Clock } from './clock.ts';
