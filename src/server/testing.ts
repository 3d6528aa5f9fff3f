// Whole-system test support: a real Slipway on a random port with a temporary data directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, silentLogger } from '../core/index.ts';
import { type RunningServer, type StartOptions, startServer } from './app.ts';

export interface TestServer extends RunningServer {
  dataDir: string;
  /** An API token of the first admin. */
  adminToken: string;
  adminPassword: string;
  /** fetch() against the server with the admin token (or `token`, or none when token is null). */
  request(path: string, init?: RequestInit & { token?: string | null; json?: unknown }): Promise<Response>;
  /** Creates a user with role and bindings; returns an API token for it. */
  createUser(
    name: string,
    role: string,
    bindings?: { scope: string; name: string; role: string }[],
  ): Promise<string>;
  /** Stops the server; removes the data directory unless `keepData`. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export async function startTestServer(
  options: StartOptions & { dataDir?: string; adminPassword?: string } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'slipway-test-'));
  const config = loadConfig({
    flags: { port: 0, host: '127.0.0.1', data: dataDir, logLevel: 'silent', pollIntervalSeconds: 0 },
    env: {},
  });
  const server = await startServer(config, { logger: options.logger ?? silentLogger(), ...options });
  const adminPassword = server.initialAdminPassword ?? options.adminPassword ?? '';
  const { auth } = server.ctx;
  const adminToken = auth.createToken('admin', { name: `test-${Date.now().toString(36)}` }, 'system').token;

  const request: TestServer['request'] = (path, init = {}) => {
    const headers = new Headers(init.headers);
    const token = init.token === undefined ? adminToken : init.token;
    if (token) headers.set('authorization', `Bearer ${token}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    return fetch(`${server.url}${path}`, { ...init, headers, ...(body !== undefined ? { body } : {}) });
  };

  return {
    ...server,
    dataDir,
    adminToken,
    adminPassword,
    request,
    async createUser(name, role, bindings = []) {
      await auth.createUser(
        { name, password: `${name}-password-1`, role, bindings: bindings as never },
        'system',
      );
      return auth.createToken(name, { name: 'test' }, 'system').token;
    },
    async stop(stopOptions = {}) {
      await server.close();
      if (!stopOptions.keepData && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
