// auth: users, roles and bindings, API tokens, UI sessions, the RBAC policy and the audit log.
export { AuthService, validateName, parseCookie, describeResource, SESSION_COOKIE } from './service.ts';
export type { UserInfo, TokenInfo, AuditEntry, AuditInput, AuthServiceOptions } from './service.ts';
export {
  can,
  ANONYMOUS,
  SYSTEM,
  GLOBAL_ROLES,
  PROJECT_ROLES,
  ENVIRONMENT_ROLES,
  isGlobalRole,
  isProjectRole,
  isEnvironmentRole,
} from './policy.ts';
export type {
  Subject,
  Action,
  Resource,
  Binding,
  GlobalRole,
  ProjectRole,
  EnvironmentRole,
} from './policy.ts';
export { hashPassword, verifyPassword } from './passwords.ts';
