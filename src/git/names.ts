// Repository names: `org/name`, each part a safe path segment. Pure.
import { InputError } from '../core/index.ts';

const PART = /^[a-z0-9][a-z0-9._-]{0,99}$/i;

export interface RepoName {
  org: string;
  name: string;
  /** `org/name` */
  full: string;
}

/** Parses `org/name` (a trailing `.git` is dropped); rejects traversal, empty and odd characters. */
export function parseRepoName(value: string, field = 'repo'): RepoName {
  if (typeof value !== 'string')
    throw new InputError(`${field} must be a string "org/name"`, { location: { field } });
  const trimmed = value.replace(/\.git$/, '');
  const parts = trimmed.split('/');
  if (parts.length !== 2) {
    throw new InputError(`Invalid repository name "${value}": write it as ORG/NAME`, { location: { field } });
  }
  for (const part of parts) checkPart(part, value, field);
  const [org, name] = parts as [string, string];
  return { org, name, full: `${org}/${name}` };
}

function checkPart(part: string, value: string, field: string): void {
  if (!PART.test(part) || part.includes('..') || part.endsWith('.lock') || part.endsWith('.git')) {
    throw new InputError(
      `Invalid repository name "${value}": each part must start with a letter or digit and hold only letters, digits, ".", "_" and "-" (no "..")`,
      { location: { field } },
    );
  }
}

/** True when `ref` is a safe full ref name such as `refs/heads/main`. */
export function isSafeRef(ref: string): boolean {
  return (
    /^refs\/(heads|tags)\/[A-Za-z0-9._/+-]+$/.test(ref) &&
    !ref.includes('..') &&
    !ref.includes('//') &&
    !ref.endsWith('/') &&
    !ref.endsWith('.lock')
  );
}
