// Push webhooks from GitHub, Gitea and GitLab: signature checks and payload parsing. Pure.
import { createHmac } from 'node:crypto';
import { constantTimeEqual, InputError } from '../core/index.ts';

export type WebhookProvider = 'github' | 'gitea' | 'gitlab';

export type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export function isWebhookProvider(value: string): value is WebhookProvider {
  return value === 'github' || value === 'gitea' || value === 'gitlab';
}

/**
 * Checks a webhook's signature in constant time: GitHub `X-Hub-Signature-256: sha256=<hex>` and Gitea
 * `X-Gitea-Signature: <hex>` (HMAC-SHA256 of the raw body), GitLab `X-Gitlab-Token: <secret>`.
 */
export function verifyWebhookSignature(
  provider: WebhookProvider,
  headers: Headers,
  body: Buffer,
  secret: string,
): boolean {
  if (!secret) return false;
  const hmac = () => createHmac('sha256', secret).update(body).digest('hex');
  switch (provider) {
    case 'github': {
      const sig = header(headers, 'x-hub-signature-256') ?? '';
      return constantTimeEqual(sig.toLowerCase(), `sha256=${hmac()}`);
    }
    case 'gitea': {
      const sig = header(headers, 'x-gitea-signature') ?? header(headers, 'x-gogs-signature') ?? '';
      return constantTimeEqual(sig.toLowerCase(), hmac());
    }
    case 'gitlab':
      return constantTimeEqual(header(headers, 'x-gitlab-token') ?? '', secret);
  }
}

export interface WebhookPush {
  kind: 'push';
  ref: string;
  before: string;
  after: string;
  pusher: string;
  /** URLs and names that identify the repository, normalised (see {@link normaliseRepoUrl}). */
  identifiers: string[];
}

export type WebhookMessage = WebhookPush | { kind: 'ping' } | { kind: 'ignored'; event: string };

/** Lower-case host/path without scheme, credentials, `.git` or trailing slash; `git@h:o/r` → `h/o/r`. */
export function normaliseRepoUrl(url: string): string {
  return url
    .trim()
    .toLowerCase()
    .replace(/^[a-z+]+:\/\//, '')
    .replace(/^[^@/]+@/, '')
    .replace(/^([^/:]+):(?!\d)/, '$1/')
    .replace(/\.git\/?$/, '')
    .replace(/\/+$/, '');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Reads a push out of a webhook; other events come back as `ignored`, pings as `ping`. */
export function parseWebhook(provider: WebhookProvider, headers: Headers, body: Buffer): WebhookMessage {
  const event =
    provider === 'github'
      ? header(headers, 'x-github-event')
      : provider === 'gitea'
        ? (header(headers, 'x-gitea-event') ?? header(headers, 'x-gogs-event'))
        : header(headers, 'x-gitlab-event');
  if (event === 'ping') return { kind: 'ping' };
  const isPush =
    provider === 'gitlab' ? event === 'Push Hook' || event === 'Tag Push Hook' : event === 'push';
  if (!isPush) return { kind: 'ignored', event: event ?? '(none)' };
  let payload: Record<string, unknown>;
  try {
    let text = body.toString('utf8');
    if (text.startsWith('payload=')) text = decodeURIComponent(text.slice(8).replace(/\+/g, ' '));
    payload = obj(JSON.parse(text));
  } catch {
    throw new InputError('Webhook body is not valid JSON');
  }
  const ref = str(payload.ref);
  const before = str(payload.before);
  const after = str(payload.after) ?? str(payload.checkout_sha);
  if (!ref || !before || !after) throw new InputError('Webhook push payload lacks ref, before or after');
  const ids: string[] = [];
  const add = (v: unknown) => {
    const s = str(v);
    if (s) ids.push(normaliseRepoUrl(s));
  };
  if (provider === 'gitlab') {
    const project = obj(payload.project);
    for (const k of ['git_http_url', 'git_ssh_url', 'web_url', 'path_with_namespace']) add(project[k]);
    const repository = obj(payload.repository);
    for (const k of ['git_http_url', 'git_ssh_url', 'homepage', 'url']) add(repository[k]);
  } else {
    const repository = obj(payload.repository);
    for (const k of ['clone_url', 'ssh_url', 'html_url', 'git_url', 'full_name']) add(repository[k]);
  }
  const pusher =
    provider === 'gitlab'
      ? (str(payload.user_username) ?? str(payload.user_name) ?? 'gitlab')
      : (str(obj(payload.pusher).name) ??
        str(obj(payload.pusher).login) ??
        str(obj(payload.sender).login) ??
        provider);
  return { kind: 'push', ref, before, after, pusher, identifiers: ids };
}
