// Image references: `[host[:port]/]repo/path[:tag][@sha256:...]` (pure).
import { InputError } from '../core/index.ts';

export interface ImageReference {
  /** Registry host (and port), e.g. `127.0.0.1:5000` or `docker.io`. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const REPO_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export interface ParseImageReferenceOptions {
  /**
   * The registry of a reference that names none (default Docker Hub, `docker.io`, where a one-part
   * name gets `library/`). Slipway's pipelines pass their own registry's host.
   */
  defaultRegistry?: string;
}

const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Parses an image reference; a reference without a registry host means `defaultRegistry` (Docker Hub). */
export function parseImageReference(ref: string, options: ParseImageReferenceOptions = {}): ImageReference {
  const bad = (why: string): never => {
    throw new InputError(`Invalid image reference "${ref}": ${why}`, { details: { ref } });
  };
  let rest = ref.trim();
  if (rest === '') bad('it is empty');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) bad(`bad digest "${digest}"`);
  }
  let registry = options.defaultRegistry ?? 'docker.io';
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || /[A-Z]/.test(first)) {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) bad(`bad tag "${tag}"`);
  }
  if (DOCKER_HUB_ALIASES.has(registry)) {
    registry = 'docker.io';
    if (!rest.includes('/')) rest = `library/${rest}`;
  }
  if (!REPO_RE.test(rest))
    bad(`bad repository name "${rest}" (lower-case letters, digits, ".", "_", "-", "/")`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  return {
    registry,
    repository: rest,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** The tag or digest to ask a registry for: the digest when there is one, else the tag (`latest`). */
export function referenceOf(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** Formats a reference back to `host/repo:tag` or `host/repo@digest`. */
export function formatImageReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
