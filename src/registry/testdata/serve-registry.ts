// Starts a Slipway with the registry on a random port over the data dir in argv[2] (argv[3] `direct`: blob I/O
// around the page cache); prints {url, token} as JSON.
import { loadConfig, silentLogger } from '../../core/index.ts';
import { startServer } from '../../server/index.ts';
import { createRegistry } from '../index.ts';

const dataDir = process.argv[2]!;
const config = loadConfig({
  flags: { port: 0, host: '127.0.0.1', data: dataDir, logLevel: 'silent', pollIntervalSeconds: 0 },
  env: {},
});
const server = await startServer(config, {
  logger: silentLogger(),
  extraModules: (ctx) =>
    createRegistry({
      ...ctx,
      get publicUrl() {
        return ctx.publicUrl;
      },
      registry: { gcIntervalSeconds: 0, directIo: process.argv[3] === 'direct' },
    }).mounts,
});
const token = server.ctx.auth.createToken('admin', { name: `t${Date.now().toString(36)}` }, 'system').token;
process.stdout.write(`${JSON.stringify({ url: server.url, token })}\n`);
