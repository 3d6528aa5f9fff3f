// Slipway with only the registry mounted, in its own process (as Distribution runs in its own), for
// bench/registry/run.ts. Creates the public project `bench` and a user `bench` (developer there, with a
// password, as `docker login` users have), prints one JSON line `{url, user, password}` once it
// listens, and stops on SIGTERM.
//   node --import tsx bench/registry/server.ts
import { join } from 'node:path';
import { loadConfig } from '../../src/core/index.ts';
import { startRegistryServer } from '../../src/registry/test-support.ts';

// SLIPWAY_REGISTRY_DIRECT_IO read as `slipway up` reads it (the data dir is only where no config.yaml is).
const { registryDirectIo } = loadConfig({
  flags: { data: join(import.meta.dirname, 'no-config') },
  env: { SLIPWAY_REGISTRY_DIRECT_IO: process.env.SLIPWAY_REGISTRY_DIRECT_IO },
});
const server = await startRegistryServer({ directIo: registryDirectIo ?? true });
server.registry.projects.create({ name: 'bench', public: true }, 'system');
await server.createUser('bench', 'viewer', [{ scope: 'project', name: 'bench', role: 'developer' }]);
// The test helper's password convention for users it creates.
const password = 'bench-password-1';
process.stdout.write(`${JSON.stringify({ url: server.url, user: 'bench', password })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  // A normal exit, so that `--cpu-prof` writes its profile.
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
