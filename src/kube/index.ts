// kube: Kubernetes client layer (any cluster in a kubeconfig), diff, health, resource tree, registered clusters.
export { FIELD_MANAGER } from './client.ts';
export type {
  KubeClient,
  ApplyOptions,
  ListOptions,
  ListResult,
  DeleteOptions,
  ApiResource,
  ServerVersion,
  WatchEvent,
  WatchOptions,
  WatchHandle,
} from './client.ts';
export { createKubeconfigClient } from './kubeconfig-client.ts';
export type { KubeconfigClientOptions } from './kubeconfig-client.ts';
export { loadKubeConfig } from './transport.ts';
export { runKubeClientConformance } from './conformance.ts';
export type { ConformanceOptions } from './conformance.ts';
export { startFakeKubeApi } from './fake-api-server.ts';
export type { FakeKubeApi, FakeKubeApiOptions } from './fake-api-server.ts';
export {
  diff,
  diffAll,
  normalizeDesired,
  normalizeLive,
  formatPath,
  removePointer,
  removeJqPath,
} from './diff.ts';
export type { DiffOptions, FieldChange, IgnoreDifference, ResourceDiff, SyncStatus } from './diff.ts';
export { assessHealth, aggregateHealth, isWorseHealth } from './health.ts';
export type { Health, HealthStatus } from './health.ts';
export { buildResourceTree } from './tree.ts';
export type { ResourceNode, ResourceTree } from './tree.ts';
export { parseQuantity, quantitiesEqual } from './quantity.ts';
export { unifiedDiff } from './text-diff.ts';
export { groupOf, refOf, refKey, describeRef } from './types.ts';
export type { KubeObject, KubeMetadata, ObjectRef, OwnerReference, ManagedFieldsEntry } from './types.ts';
