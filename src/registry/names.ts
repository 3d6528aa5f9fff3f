// Repository names, tags, digests and token scopes as the distribution spec defines them. Pure.
import { isDigest } from '../oci/index.ts';
import { OciError } from './oci-errors.ts';

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const REPO_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const MAX_REPO_LENGTH = 255;

export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_REPO_LENGTH && REPO_RE.test(name);
}

export function isTag(value: string): boolean {
  return TAG_RE.test(value);
}

/**
 * Checks a repository name and splits off its project (the first path component). Every repository
 * lives in a project, so a name needs at least two components: `base/app`.
 */
export function parseRepository(name: string): { repository: string; project: string } {
  if (!isRepositoryName(name)) {
    throw new OciError('NAME_INVALID', `Invalid repository name ${JSON.stringify(name)}`, {
      detail: { name },
    });
  }
  const slash = name.indexOf('/');
  if (slash < 0) {
    throw new OciError(
      'NAME_INVALID',
      `Repository name ${JSON.stringify(name)} has no project: use PROJECT/NAME, e.g. base/${name}`,
      { detail: { name } },
    );
  }
  return { repository: name, project: name.slice(0, slash) };
}

/** A manifest reference: a tag or a digest. */
export type Reference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: string };

export function parseReference(value: string): Reference {
  if (value.includes(':')) {
    if (!isDigest(value)) throw new OciError('DIGEST_INVALID', `Invalid digest ${JSON.stringify(value)}`);
    return { kind: 'digest', digest: value };
  }
  if (!isTag(value)) {
    throw new OciError('MANIFEST_INVALID', `Invalid tag ${JSON.stringify(value)}`, {
      status: 400,
      detail: { tag: value },
    });
  }
  return { kind: 'tag', tag: value };
}

export function parseDigestParam(value: string | undefined, what = 'digest'): string {
  if (value === undefined || value === '')
    throw new OciError('DIGEST_INVALID', `Missing ${what}`, { detail: { [what]: value ?? null } });
  if (!isDigest(value)) throw new OciError('DIGEST_INVALID', `Invalid ${what} ${JSON.stringify(value)}`);
  return value;
}

/** One parsed `scope` of the Docker token protocol, e.g. `repository:base/app:pull,push`. */
export interface ScopeRequest {
  type: string;
  name: string;
  actions: string[];
}

/** Parses a token `scope` parameter; malformed scopes are skipped (they grant nothing). */
export function parseScope(scope: string): ScopeRequest[] {
  const out: ScopeRequest[] = [];
  for (const part of scope.split(' ')) {
    if (!part) continue;
    const first = part.indexOf(':');
    const last = part.lastIndexOf(':');
    if (first < 0 || last === first) continue;
    let type = part.slice(0, first);
    // `repository(plugin):name` is an old Docker form; the class is ignored.
    const paren = type.indexOf('(');
    if (paren >= 0) type = type.slice(0, paren);
    const name = part.slice(first + 1, last);
    const actions = [
      ...new Set(
        part
          .slice(last + 1)
          .split(',')
          .filter((a) => a !== ''),
      ),
    ];
    if (name && actions.length) out.push({ type, name, actions });
  }
  return out;
}

/** What the request path under `/v2/` asks for. */
export type V2Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'upload-start'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'referrers'; name: string; digest: string };

/** Parses a path below `/v2/` (without the prefix and query), e.g. `base/app/manifests/1`. */
export function parseV2Path(path: string): V2Route | undefined {
  if (path === '' || path === '/') return { kind: 'base' };
  if (path === '_catalog') return { kind: 'catalog' };
  let m = /^(.+)\/tags\/list$/.exec(path);
  if (m) return { kind: 'tags', name: m[1]! };
  m = /^(.+)\/manifests\/([^/]+)$/.exec(path);
  if (m) return { kind: 'manifest', name: m[1]!, reference: m[2]! };
  m = /^(.+)\/blobs\/uploads\/?$/.exec(path);
  if (m) return { kind: 'upload-start', name: m[1]! };
  m = /^(.+)\/blobs\/uploads\/([^/]+)$/.exec(path);
  if (m) return { kind: 'upload', name: m[1]!, id: m[2]! };
  m = /^(.+)\/blobs\/([^/]+)$/.exec(path);
  if (m) return { kind: 'blob', name: m[1]!, digest: m[2]! };
  m = /^(.+)\/referrers\/([^/]+)$/.exec(path);
  if (m) return { kind: 'referrers', name: m[1]!, digest: m[2]! };
  return undefined;
}
