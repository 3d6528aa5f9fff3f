// Typed errors: every error Slipway raises on purpose has a stable code, an HTTP status and a CLI exit code.

/** Where in a user's input something went wrong. Lines and columns are 1-based. */
export interface SourceLocation {
  file?: string;
  line?: number;
  column?: number;
  /** A field path such as `spec.template.containers[0].image`. */
  field?: string;
}

export interface SlipwayErrorOptions {
  location?: SourceLocation;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** The base of every deliberate error. `status` is the HTTP status, `exitCode` the CLI's. */
export class SlipwayError extends Error {
  readonly code: string;
  readonly status: number;
  readonly exitCode: number;
  readonly location: SourceLocation | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    message: string,
    init: { code: string; status: number; exitCode: number } & SlipwayErrorOptions,
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.code = init.code;
    this.status = init.status;
    this.exitCode = init.exitCode;
    this.location = init.location;
    this.details = init.details;
  }

  /** True for errors caused by the caller's input (4xx); false for operational failures (5xx). */
  get isUserError(): boolean {
    return this.status < 500;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.location ? { location: this.location } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

function defineError(name: string, code: string, status: number, exitCode: number) {
  const cls = class extends SlipwayError {
    constructor(message: string, options: SlipwayErrorOptions = {}) {
      super(message, { code, status, exitCode, ...options });
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

/** Bad input: a value, file or request that cannot be accepted as it is (400). */
export const InputError = defineError('InputError', 'INVALID_INPUT', 400, 2);
export type InputError = InstanceType<typeof InputError>;
/** Input that parses but breaks a rule (422). */
export const ValidationError = defineError('ValidationError', 'INVALID', 422, 2);
export type ValidationError = InstanceType<typeof ValidationError>;
/** No credentials, or credentials that do not check out (401). The message never says which part was wrong. */
export const AuthenticationError = defineError('AuthenticationError', 'UNAUTHENTICATED', 401, 4);
export type AuthenticationError = InstanceType<typeof AuthenticationError>;
/** Authenticated, but the policy forbids it (403). */
export const NotAllowedError = defineError('NotAllowedError', 'FORBIDDEN', 403, 5);
export type NotAllowedError = InstanceType<typeof NotAllowedError>;
export const NotFoundError = defineError('NotFoundError', 'NOT_FOUND', 404, 6);
export type NotFoundError = InstanceType<typeof NotFoundError>;
/** The request conflicts with current state (already exists, concurrent update) (409). */
export const ConflictError = defineError('ConflictError', 'CONFLICT', 409, 7);
export type ConflictError = InstanceType<typeof ConflictError>;
export const PayloadTooLargeError = defineError('PayloadTooLargeError', 'TOO_LARGE', 413, 2);
export type PayloadTooLargeError = InstanceType<typeof PayloadTooLargeError>;
export const NotImplementedError = defineError('NotImplementedError', 'NOT_IMPLEMENTED', 501, 1);
export type NotImplementedError = InstanceType<typeof NotImplementedError>;
/** A dependency (cluster, registry, git remote) could not be reached; retrying may help (503). */
export const UnavailableError = defineError('UnavailableError', 'UNAVAILABLE', 503, 8);
export type UnavailableError = InstanceType<typeof UnavailableError>;

export function isSlipwayError(err: unknown): err is SlipwayError {
  return err instanceof SlipwayError;
}

/** Formats a location as `file:line:column` (parts that are known). */
export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  let out = loc.file ?? '';
  if (loc.line !== undefined) out += `${out ? ':' : 'line '}${loc.line}`;
  if (loc.line !== undefined && loc.column !== undefined) out += `:${loc.column}`;
  if (loc.field) out += `${out ? ' ' : ''}(field ${loc.field})`;
  return out;
}

/**
 * Why a fetch() failed, for a message: fetch rejects with a bare "fetch failed" whose `cause` holds the reason
 * (`connect ECONNREFUSED 127.0.0.1:8080`, `self-signed certificate in certificate chain
 * (SELF_SIGNED_CERT_IN_CHAIN)`); any other error gives its own message.
 */
export function describeFetchFailure(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  if (!(cause instanceof Error)) return describeError(err);
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' && !cause.message.includes(code)
    ? `${cause.message} (${code})`
    : cause.message;
}

/** Turns any thrown value into a message fit for a user. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
