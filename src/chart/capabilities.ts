// `.Capabilities` as `helm template` (v3.17, client-go 0.32) gives it without a cluster.
import { InputError } from '../core/index.ts';
import { GO_TYPE } from '../template/index.ts';
import { parseVersion } from './semver-range.ts';

/** The kube version `helm template` assumes (Helm 3.17 is built against client-go v0.32). */
export const DEFAULT_KUBE_VERSION = 'v1.32.0';

/** Helm 3.17's DefaultVersionSet: the API group versions of its built-in client-go scheme, in Helm's order. */
export const DEFAULT_API_VERSIONS: readonly string[] = [
  'v1',
  'admissionregistration.k8s.io/v1',
  'admissionregistration.k8s.io/v1alpha1',
  'admissionregistration.k8s.io/v1beta1',
  'internal.apiserver.k8s.io/v1alpha1',
  'apps/v1',
  'apps/v1beta1',
  'apps/v1beta2',
  'authentication.k8s.io/v1',
  'authentication.k8s.io/v1alpha1',
  'authentication.k8s.io/v1beta1',
  'authorization.k8s.io/v1',
  'authorization.k8s.io/v1beta1',
  'autoscaling/v1',
  'autoscaling/v2',
  'autoscaling/v2beta1',
  'autoscaling/v2beta2',
  'batch/v1',
  'batch/v1beta1',
  'certificates.k8s.io/v1',
  'certificates.k8s.io/v1beta1',
  'certificates.k8s.io/v1alpha1',
  'coordination.k8s.io/v1alpha2',
  'coordination.k8s.io/v1beta1',
  'coordination.k8s.io/v1',
  'discovery.k8s.io/v1',
  'discovery.k8s.io/v1beta1',
  'events.k8s.io/v1',
  'events.k8s.io/v1beta1',
  'extensions/v1beta1',
  'flowcontrol.apiserver.k8s.io/v1',
  'flowcontrol.apiserver.k8s.io/v1beta1',
  'flowcontrol.apiserver.k8s.io/v1beta2',
  'flowcontrol.apiserver.k8s.io/v1beta3',
  'networking.k8s.io/v1',
  'networking.k8s.io/v1alpha1',
  'networking.k8s.io/v1beta1',
  'node.k8s.io/v1',
  'node.k8s.io/v1alpha1',
  'node.k8s.io/v1beta1',
  'policy/v1',
  'policy/v1beta1',
  'rbac.authorization.k8s.io/v1',
  'rbac.authorization.k8s.io/v1beta1',
  'rbac.authorization.k8s.io/v1alpha1',
  'resource.k8s.io/v1beta1',
  'resource.k8s.io/v1alpha3',
  'scheduling.k8s.io/v1alpha1',
  'scheduling.k8s.io/v1beta1',
  'scheduling.k8s.io/v1',
  'storage.k8s.io/v1beta1',
  'storage.k8s.io/v1',
  'storage.k8s.io/v1alpha1',
  'storagemigration.k8s.io/v1alpha1',
  'apiextensions.k8s.io/v1beta1',
  'apiextensions.k8s.io/v1',
];

export interface KubeVersion {
  Version: string;
  Major: string;
  Minor: string;
  GitVersion: string;
  toString(): string;
}

export interface Capabilities {
  APIVersions: string[] & { Has(version: string): boolean };
  KubeVersion: KubeVersion;
  HelmVersion: {
    Version: string;
    GitCommit: string;
    GitTreeState: string;
    GoVersion: string;
    toString(): string;
  };
}

/** Adds a non-enumerable toString (Go's String method) so the object prints like Helm's. */
function withString<T extends object>(o: T, text: string, goType: string): T & { toString(): string } {
  Object.defineProperty(o, 'toString', { value: () => text, enumerable: false });
  Object.defineProperty(o, GO_TYPE, { value: goType, enumerable: false });
  return o as T & { toString(): string };
}

/** Parses `--kube-version` like Helm's ParseKubeVersion (`1.25` → `v1.25.0`). */
export function parseKubeVersion(text: string): KubeVersion {
  const v = parseVersion(text);
  if (!v)
    throw new InputError(`invalid kube version "${text}": Invalid Semantic Version`, {
      location: { field: 'kubeVersion' },
    });
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(.*)$/.exec(text.trim())!;
  const version = `v${v.major}.${v.minor}.${v.patch}${m[4] ?? ''}`;
  return withString(
    { Version: version, Major: String(v.major), Minor: String(v.minor), GitVersion: version },
    version,
    'chartutil.KubeVersion',
  );
}

/** Builds `.Capabilities` for a render: the default API versions plus `extra` (`--api-versions`). */
export function makeCapabilities(
  options: { kubeVersion?: string; apiVersions?: string[] } = {},
): Capabilities {
  const list = [...DEFAULT_API_VERSIONS, ...(options.apiVersions ?? [])];
  const set = new Set(list);
  Object.defineProperty(list, 'Has', { value: (v: unknown) => set.has(String(v)), enumerable: false });
  Object.defineProperty(list, GO_TYPE, { value: 'chartutil.VersionSet', enumerable: false });
  const helm = {
    Version: 'v3.17.2',
    GitCommit: 'cc0bbbd6d6276b83880042c1ecb34087e84d41eb',
    GitTreeState: 'clean',
    GoVersion: 'go1.23.7',
  };
  const caps: Capabilities = {
    APIVersions: list as Capabilities['APIVersions'],
    KubeVersion: parseKubeVersion(options.kubeVersion ?? DEFAULT_KUBE_VERSION),
    HelmVersion: withString(
      helm,
      `{${helm.Version} ${helm.GitCommit} ${helm.GitTreeState} ${helm.GoVersion}}`,
      'version.BuildInfo',
    ),
  };
  Object.defineProperty(caps, GO_TYPE, { value: '*chartutil.Capabilities', enumerable: false });
  return caps;
}
