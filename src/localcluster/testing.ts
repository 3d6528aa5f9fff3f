// Test support: a standalone local cluster with short delays, an injected image resolver and a temp data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageResolver } from './images.ts';
import { type StandaloneCluster, startLocalCluster } from './local-cluster.ts';

export interface TestCluster extends StandaloneCluster {
  dataDir: string;
  token: string;
  /** fetch() against the API with the admin token (or `token`, or none when null). */
  request(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  /** Stops; removes the data directory unless `keepData`. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

/** Images whose name contains `missing` or `does-not-exist` do not resolve; every other image does. */
export const fakeResolver: ImageResolver = async (image) =>
  /missing|does-not-exist/.test(image)
    ? { ok: false, message: `failed to resolve reference "${image}": ${image}: not found` }
    : { ok: true, digest: `sha256:${'a'.repeat(64)}` };

export async function startTestCluster(
  options: {
    dataDir?: string;
    resolveImage?: ImageResolver;
    startDelayMs?: number;
    readyDelayMs?: number;
  } = {},
): Promise<TestCluster> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'slipway-cluster-'));
  const c = await startLocalCluster({
    dataDir,
    resolveImage: options.resolveImage ?? fakeResolver,
    kubelet: {
      startDelayMs: options.startDelayMs ?? 50,
      readyDelayMs: options.readyDelayMs ?? 50,
      runDurationMs: 200,
      backoffMs: 200,
    },
  });
  const token = /token: (\S+)/.exec(c.kubeconfig)?.[1] ?? '';
  return {
    ...c,
    dataDir,
    token,
    request(path, init = {}) {
      const headers = new Headers(init.headers);
      const t = init.token === undefined ? token : init.token;
      if (t) headers.set('authorization', `Bearer ${t}`);
      return fetch(`${c.url}${path}`, { ...init, headers });
    },
    async close(closeOptions = {}) {
      await c.stop();
      if (!closeOptions.keepData && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `fn` until it returns a truthy value (which it returns), or throws after `timeoutMs`, naming `what`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}
