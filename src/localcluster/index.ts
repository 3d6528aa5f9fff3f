// localcluster: an embedded Kubernetes API server with controllers and a simulated kubelet (no container really runs).
export {
  createLocalCluster,
  DEFAULT_CONTAINER_START_MS,
  renderKubeconfig,
  startLocalCluster,
} from './local-cluster.ts';
export type {
  LocalCluster,
  LocalClusterDeps,
  StandaloneCluster,
  StandaloneOptions,
} from './local-cluster.ts';
export { registryResolver, cachingResolver, parseImageRef } from './images.ts';
export type { ImageResolver, ImageResolution } from './images.ts';
export type { Cluster } from './api.ts';
export type { KubeObject } from './types.ts';
export { SIMULATE_ANNOTATION, NODE_NAME } from './controllers/kubelet.ts';
export { DEFAULT_INGRESS_CLASS, INGRESS_ADDRESS, INGRESS_CONTROLLER } from './controllers/others.ts';
export { startTestCluster, fakeResolver } from './testing.ts';
export type { TestCluster } from './testing.ts';
