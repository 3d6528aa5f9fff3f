// Reading JSON request bodies of the REST API: errors name the field, for a 400 with its location.
import { InputError } from './errors.ts';

/** The body as a JSON object; with `optional`, an absent body is `{}`. */
export function jsonObject(body: unknown, options: { optional?: boolean } = {}): Record<string, unknown> {
  if ((body === undefined || body === null) && options.optional) return {};
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body))
    throw new InputError('Request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** A string field of a JSON body; absent (or null) is an error when `required`, else undefined. */
export function stringField(b: Record<string, unknown>, name: string, required = true): string | undefined {
  const v = b[name];
  if (v === undefined || v === null) {
    if (required) throw new InputError(`Missing field "${name}"`, { location: { field: name } });
    return undefined;
  }
  if (typeof v !== 'string')
    throw new InputError(`Field "${name}" must be a string`, { location: { field: name } });
  return v;
}
