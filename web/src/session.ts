// The signed-in user and what the UI may offer them (the server decides; this only explains).
import { createContext, useContext } from 'react';

export interface Me {
  name: string;
  role: 'admin' | 'maintainer' | 'developer' | 'viewer';
  bindings: { scope: 'project' | 'environment'; name: string; role: string }[];
}

export const SessionContext = createContext<Me | null>(null);

export function useMe(): Me {
  const me = useContext(SessionContext);
  if (!me) throw new Error('not signed in');
  return me;
}

const RANK = { admin: 4, maintainer: 3, developer: 2, viewer: 1 } as const;

export function atLeast(me: Me, role: keyof typeof RANK): boolean {
  return RANK[me.role] >= RANK[role];
}

/** Mirrors the server's policy for environment actions; returns why not, or undefined when allowed. */
export function whyCannotDeploy(me: Me, env: { name: string; protected?: boolean }): string | undefined {
  if (me.role === 'admin') return undefined;
  if (me.bindings.some((b) => b.scope === 'environment' && b.name === env.name && b.role === 'deployer'))
    return undefined;
  if (me.role === 'maintainer' && !env.protected) return undefined;
  return `${me.name} has no deploy right on ${env.name}${env.protected ? ' (protected)' : ''}; ask an admin for env:${env.name}=deployer`;
}
