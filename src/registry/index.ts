// registry: an OCI Distribution v1.1 registry with Harbor-style projects, robots, quotas, immutable
// tags, the Docker token service, GC and a REST API.
export { createRegistry } from './module.ts';
export type { RegistryDeps, RegistryModule, RegistryMount, RegistryOptions } from './module.ts';
export { RegistryService } from './service.ts';
export type { GcResult, ManifestInfo } from './service.ts';
export { ProjectService, SEVERITIES } from './projects.ts';
export type { Project, ProjectUpdate, Robot, Member, Severity } from './projects.ts';
export { OciError } from './oci-errors.ts';
export type { OciErrorCode } from './oci-errors.ts';
export { parseManifest } from './manifest.ts';
export type { ParsedManifest, Descriptor } from './manifest.ts';
export { parseRepository, parseReference, parseScope, isRepositoryName, isTag } from './names.ts';
