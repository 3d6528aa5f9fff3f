// The pages as separately loaded chunks: the first screen downloads only the shell and its own page.
// main.tsx loads the current page's chunk before the first render (so the first screen never suspends);
// other pages load when first opened (React.lazy) or when the pointer rests on their link.
import { type ComponentType, lazy } from 'react';

type PageProps = { path: string[] };
type PageComponent = ComponentType<PageProps>;

const LOADERS = {
  apps: () => import('./pages/apps.tsx').then((m) => m.AppsPage),
  envs: () => import('./pages/environments.tsx').then((m) => m.EnvironmentsPage),
  pipelines: () => import('./pages/pipelines.tsx').then((m) => m.PipelinesPage),
  registry: () => import('./pages/registry.tsx').then((m) => m.RegistryPage),
  cluster: () => import('./pages/cluster.tsx').then((m) => m.ClusterPage),
  users: () => import('./pages/users.tsx').then((m) => m.UsersPage),
} satisfies Record<string, () => Promise<PageComponent>>;

export type PageName = keyof typeof LOADERS;

export function isPage(name: string): name is PageName {
  return Object.hasOwn(LOADERS, name);
}

const loaded: Partial<Record<PageName, PageComponent>> = {};
const loading: Partial<Record<PageName, Promise<PageComponent>>> = {};

/** Loads a page's chunk once; resolves to its component. */
export function loadPage(name: PageName): Promise<PageComponent> {
  loading[name] ??= LOADERS[name]().then(
    (component) => {
      loaded[name] = component;
      return component;
    },
    (e: unknown) => {
      delete loading[name];
      throw e;
    },
  );
  return loading[name];
}

const chosen: Partial<Record<PageName, PageComponent>> = {};

/**
 * The component to render for a page: the page itself when its chunk is already here, else a lazy
 * wrapper (which suspends until it is). Chosen once per page, so a page never remounts when its chunk
 * arrives.
 */
export function pageComponent(name: PageName): PageComponent {
  chosen[name] ??=
    loaded[name] ??
    lazy(async () => {
      const component = await loadPage(name);
      return { default: component };
    });
  return chosen[name];
}
