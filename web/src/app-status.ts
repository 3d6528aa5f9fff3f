// An application's status as the grid, the app page and the environments board show it (pure).
export interface AppSummary {
  name: string;
  environment?: string | { name: string; protected?: boolean; autoSync?: boolean };
  project?: string;
  sync?: string;
  health?: string;
  revision?: string;
  message?: string;
  images?: string[];
  automated?: boolean;
  status?: {
    sync?: string;
    health?: string;
    revision?: string | null;
    message?: string;
    images?: string[];
    resources?: { kind: string; info?: { images?: string | string[] } }[];
  };
  spec?: { environment?: string; syncPolicy?: { automated?: unknown } };
}

export function appStatus(a: AppSummary) {
  const env = typeof a.environment === 'object' && a.environment ? a.environment.name : a.environment;
  const fromResources = (a.status?.resources ?? [])
    .flatMap((r) =>
      r.info?.images === undefined ? [] : Array.isArray(r.info.images) ? r.info.images : [r.info.images],
    )
    .filter((x, i, all) => all.indexOf(x) === i);
  return {
    env: env ?? a.spec?.environment ?? 'default',
    protected:
      typeof a.environment === 'object' && a.environment ? a.environment.protected === true : undefined,
    sync: a.sync ?? a.status?.sync ?? 'Unknown',
    health: a.health ?? a.status?.health ?? 'Unknown',
    revision: a.revision ?? a.status?.revision ?? undefined,
    message: a.message ?? a.status?.message,
    images: a.images ?? a.status?.images ?? fromResources,
  };
}

const ENV_ORDER = ['dev', 'qa', 'stage', 'staging', 'prod', 'production'];
export function sortEnvs(names: string[]): string[] {
  const rank = (n: string) => {
    const i = ENV_ORDER.indexOf(n.toLowerCase());
    return i < 0 ? 100 : i;
  };
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
