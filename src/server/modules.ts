// The modules mounted into one Slipway server. Each line wires one module; mounts not built yet answer 501.
import type { MountedModule, ServerContext } from './context.ts';

/** Creates every module with its dependencies, in dependency order. */
export function createModules(_ctx: ServerContext): MountedModule[] {
  const modules: MountedModule[] = [];
  return modules;
}

/** Mount points the server always has; a prefix no module claims answers 501 Not Implemented. */
export const PROTOCOL_MOUNTS = ['/v2', '/git', '/kube'] as const;
