// The RBAC policy: a pure function from (subject, action, resource) to allow/deny. No I/O.

/** Global roles, most powerful first. */
export const GLOBAL_ROLES = ['admin', 'maintainer', 'developer', 'viewer'] as const;
export type GlobalRole = (typeof GLOBAL_ROLES)[number];

/** Roles inside one registry project (Harbor's). */
export const PROJECT_ROLES = ['admin', 'maintainer', 'developer', 'guest'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

/** Rights on one environment: `deployer` may sync, roll back and promote into it; `approver` may approve. */
export const ENVIRONMENT_ROLES = ['deployer', 'approver'] as const;
export type EnvironmentRole = (typeof ENVIRONMENT_ROLES)[number];

export type Binding =
  | { scope: 'project'; name: string; role: ProjectRole }
  | { scope: 'environment'; name: string; role: EnvironmentRole };

export interface Subject {
  kind: 'user' | 'robot' | 'anonymous';
  /** User name (robots: `robot$<project>+<name>`); empty for anonymous. */
  name: string;
  /** Global role; robots and anonymous have none. */
  role: GlobalRole | null;
  bindings: Binding[];
}

export const ANONYMOUS: Subject = Object.freeze({
  kind: 'anonymous',
  name: '',
  role: null,
  bindings: [],
}) as Subject;

export type Action =
  // system-wide
  | 'user.admin'
  | 'audit.view'
  | 'cluster.admin'
  | 'cluster.view'
  | 'credential.admin'
  | 'project.create'
  | 'repo.create'
  | 'repo.delete'
  | 'repo.read'
  | 'repo.push'
  | 'pipeline.view'
  | 'pipeline.run'
  | 'app.create'
  | 'app.delete'
  | 'env.create'
  | 'scan.admin'
  // on a registry project
  | 'registry.pull'
  | 'registry.push'
  | 'registry.delete'
  | 'project.admin'
  // on an environment
  | 'app.view'
  | 'app.sync'
  | 'app.rollback'
  | 'env.promote'
  | 'env.approve';

export type Resource =
  | { kind: 'system' }
  | { kind: 'project'; name: string; public?: boolean }
  | { kind: 'environment'; name: string; protected?: boolean };

export const SYSTEM: Resource = Object.freeze({ kind: 'system' });

const RANK: Record<GlobalRole, number> = { admin: 4, maintainer: 3, developer: 2, viewer: 1 };

function atLeast(subject: Subject, role: GlobalRole): boolean {
  return subject.role !== null && RANK[subject.role] >= RANK[role];
}

const SYSTEM_MINIMUM: Partial<Record<Action, GlobalRole>> = {
  'user.admin': 'admin',
  'audit.view': 'admin',
  'cluster.admin': 'admin',
  'scan.admin': 'admin',
  'cluster.view': 'viewer',
  'credential.admin': 'maintainer',
  'project.create': 'maintainer',
  'repo.create': 'developer',
  'repo.delete': 'maintainer',
  'repo.read': 'viewer',
  'repo.push': 'developer',
  'pipeline.view': 'viewer',
  'pipeline.run': 'developer',
  'app.create': 'maintainer',
  'app.delete': 'maintainer',
  'env.create': 'maintainer',
};

const PROJECT_RIGHTS: Record<ProjectRole, Action[]> = {
  admin: ['registry.pull', 'registry.push', 'registry.delete', 'project.admin'],
  maintainer: ['registry.pull', 'registry.push', 'registry.delete'],
  developer: ['registry.pull', 'registry.push'],
  guest: ['registry.pull'],
};

const ENVIRONMENT_RIGHTS: Record<EnvironmentRole, Action[]> = {
  deployer: ['app.view', 'app.sync', 'app.rollback', 'env.promote', 'env.approve'],
  approver: ['app.view', 'env.approve'],
};

/**
 * Decides whether `subject` may do `action` on `resource`.
 *
 * - `admin` may do everything; anonymous may only pull from public projects.
 * - Registry actions need a project binding, except that global maintainers act as project
 *   maintainers everywhere, and any signed-in user may pull from a public project.
 * - Sync, rollback and promotion need a `deployer` binding on that environment; global maintainers
 *   may also deploy to environments that are not protected (prod is protected).
 */
export function can(subject: Subject, action: Action, resource: Resource): boolean {
  if (subject.role === 'admin') return true;
  switch (resource.kind) {
    case 'system': {
      const min = SYSTEM_MINIMUM[action];
      return min !== undefined && atLeast(subject, min);
    }
    case 'project': {
      if (action === 'registry.pull' && resource.public) return true;
      if (atLeast(subject, 'maintainer') && PROJECT_RIGHTS.maintainer.includes(action)) return true;
      return subject.bindings.some(
        (b) => b.scope === 'project' && b.name === resource.name && PROJECT_RIGHTS[b.role].includes(action),
      );
    }
    case 'environment': {
      if (action === 'app.view' && subject.kind !== 'anonymous' && subject.role !== null) return true;
      if (
        atLeast(subject, 'maintainer') &&
        !resource.protected &&
        ENVIRONMENT_RIGHTS.deployer.includes(action)
      ) {
        return true;
      }
      return subject.bindings.some(
        (b) =>
          b.scope === 'environment' &&
          b.name === resource.name &&
          ENVIRONMENT_RIGHTS[b.role].includes(action),
      );
    }
  }
}

export function isGlobalRole(value: string): value is GlobalRole {
  return (GLOBAL_ROLES as readonly string[]).includes(value);
}

export function isProjectRole(value: string): value is ProjectRole {
  return (PROJECT_ROLES as readonly string[]).includes(value);
}

export function isEnvironmentRole(value: string): value is EnvironmentRole {
  return (ENVIRONMENT_ROLES as readonly string[]).includes(value);
}
