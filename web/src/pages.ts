// The pages as separately loaded chunks: the first screen downloads only the shell and its own page.
// main.tsx starts the current page's chunk at boot, in parallel with the session check.
export const PAGE_LOADERS = {
  apps: () => import('./pages/apps.tsx').then((m) => ({ default: m.AppsPage })),
  envs: () => import('./pages/environments.tsx').then((m) => ({ default: m.EnvironmentsPage })),
  pipelines: () => import('./pages/pipelines.tsx').then((m) => ({ default: m.PipelinesPage })),
  registry: () => import('./pages/registry.tsx').then((m) => ({ default: m.RegistryPage })),
  cluster: () => import('./pages/cluster.tsx').then((m) => ({ default: m.ClusterPage })),
  users: () => import('./pages/users.tsx').then((m) => ({ default: m.UsersPage })),
} as const;

export type PageName = keyof typeof PAGE_LOADERS;

export function isPage(name: string): name is PageName {
  return Object.hasOwn(PAGE_LOADERS, name);
}

/** The API reads a route needs first, so they can start before its page's code has arrived. */
export function firstReads(route: string[]): string[] {
  const [page = 'apps', id] = route;
  const enc = (s: string) => encodeURIComponent(s);
  if (page === 'apps' && id) return [`/api/v1/apps/${enc(id)}`, `/api/v1/apps/${enc(id)}/tree`];
  if (page === 'apps') return ['/api/v1/apps?view=summary'];
  if (page === 'envs') return ['/api/v1/apps?view=summary', '/api/v1/envs'];
  return [];
}
