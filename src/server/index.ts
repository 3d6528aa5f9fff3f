// server: HTTP wiring (Fastify). Mounts the registry, git, kube, REST API, SSE, metrics and UI on one port.
export { startServer } from './app.ts';
export type { RunningServer, StartOptions } from './app.ts';
export type { ServerContext, MountedModule } from './context.ts';
export { startTestServer } from './testing.ts';
export type { TestServer } from './testing.ts';
