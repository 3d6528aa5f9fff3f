// Maps any thrown value to an HTTP status and Slipway's JSON error body. Pure; the server and the
// modules' own HTTP tests share it.
import { isSlipwayError } from './errors.ts';

export interface HttpErrorBody {
  error: { code: string; message: string; location?: unknown; details?: unknown };
}

/** Status and body for `err`. Unknown errors become 500 with a generic message (details go to the log only). */
export function toHttpError(err: unknown): { status: number; body: HttpErrorBody } {
  if (isSlipwayError(err))
    return { status: err.status, body: { error: err.toJSON() as HttpErrorBody['error'] } };
  const e = err as { statusCode?: number; code?: string; message?: string; validation?: unknown };
  // Fastify's own client errors (bad JSON, unsupported media type, body too large) carry statusCode.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return {
      status: e.statusCode,
      body: { error: { code: e.code ?? 'BAD_REQUEST', message: e.message ?? 'Bad request' } },
    };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'Internal server error' } } };
}
