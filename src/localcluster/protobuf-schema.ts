// Field tables for decoding Kubernetes protobuf bodies: for each message type, field number → JSON name and
// type, as numbered in k8s.io/api's and k8s.io/apimachinery's generated.proto (Kubernetes 1.26–1.32; field
// numbers never change once released). Covers the kinds kubectl 1.32's `create` subcommands send as protobuf and
// the message types reachable from them that those commands (and common manifests) fill in.

/** How a field's bytes become JSON. */
export type FieldType =
  | 'string'
  | 'int' // int32/int64 varint
  | 'bool'
  | 'bytes' // base64 in JSON
  | 'quantity' // resource.Quantity (message with a string)
  | 'intOrString' // intstr.IntOrString
  | 'time' // meta/v1 Time (seconds, nanos)
  | 'skip' // read-only on writes (status): not decoded
  | { message: string }
  | { map: 'string' | 'bytes' | 'quantity' };

export interface FieldDef {
  name: string;
  type: FieldType;
  repeated?: boolean;
  /** Keep a zero value (pointer fields and fields JSON never omits); other zero scalars are Go's "unset". */
  keepZero?: boolean;
  /** An inlined (embedded) message whose fields merge into the parent object. */
  inline?: boolean;
}

type Table = Record<string, Record<number, FieldDef>>;

const s = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'string', ...extra });
const i = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'int', ...extra });
const b = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'bool', ...extra });
const m = (name: string, message: string, extra: Partial<FieldDef> = {}): FieldDef => ({
  name,
  type: { message },
  ...extra,
});
const list = (name: string, message: string): FieldDef => ({ name, type: { message }, repeated: true });
const strings = (name: string): FieldDef => ({ name, type: 'string', repeated: true, keepZero: true });
const map = (name: string, of: 'string' | 'bytes' | 'quantity' = 'string'): FieldDef => ({
  name,
  type: { map: of },
});
const ptr = { keepZero: true };

export const MESSAGES: Table = {
  // k8s.io/apimachinery/pkg/apis/meta/v1
  ObjectMeta: {
    1: s('name'),
    2: s('generateName'),
    3: s('namespace'),
    4: s('selfLink'),
    5: s('uid'),
    6: s('resourceVersion'),
    7: i('generation'),
    8: { name: 'creationTimestamp', type: 'time' },
    9: { name: 'deletionTimestamp', type: 'time' },
    10: i('deletionGracePeriodSeconds', ptr),
    11: map('labels'),
    12: map('annotations'),
    13: list('ownerReferences', 'OwnerReference'),
    14: strings('finalizers'),
    17: list('managedFields', 'ManagedFieldsEntry'),
  },
  OwnerReference: {
    1: s('kind'),
    3: s('name'),
    4: s('uid'),
    5: s('apiVersion'),
    6: b('controller', ptr),
    7: b('blockOwnerDeletion', ptr),
  },
  ManagedFieldsEntry: {
    1: s('manager'),
    2: s('operation'),
    3: s('apiVersion'),
    4: { name: 'time', type: 'time' },
    6: s('fieldsType'),
    7: m('fieldsV1', 'FieldsV1'),
    8: s('subresource'),
  },
  FieldsV1: { 1: { name: 'Raw', type: 'bytes' } },
  LabelSelector: { 1: map('matchLabels'), 2: list('matchExpressions', 'LabelSelectorRequirement') },
  LabelSelectorRequirement: { 1: s('key'), 2: s('operator'), 3: strings('values') },

  // k8s.io/api/apps/v1
  Deployment: {
    1: m('metadata', 'ObjectMeta'),
    2: m('spec', 'DeploymentSpec'),
    3: { name: 'status', type: 'skip' },
  },
  DeploymentSpec: {
    1: i('replicas', ptr),
    2: m('selector', 'LabelSelector'),
    3: m('template', 'PodTemplateSpec'),
    4: m('strategy', 'DeploymentStrategy'),
    5: i('minReadySeconds'),
    6: i('revisionHistoryLimit', ptr),
    7: b('paused'),
    9: i('progressDeadlineSeconds', ptr),
  },
  DeploymentStrategy: { 1: s('type'), 2: m('rollingUpdate', 'RollingUpdateDeployment') },
  RollingUpdateDeployment: {
    1: { name: 'maxUnavailable', type: 'intOrString' },
    2: { name: 'maxSurge', type: 'intOrString' },
  },

  // k8s.io/api/batch/v1
  Job: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'JobSpec'), 3: { name: 'status', type: 'skip' } },
  JobSpec: {
    1: i('parallelism', ptr),
    2: i('completions', ptr),
    3: i('activeDeadlineSeconds', ptr),
    4: m('selector', 'LabelSelector'),
    5: b('manualSelector', ptr),
    6: m('template', 'PodTemplateSpec'),
    7: i('backoffLimit', ptr),
    8: i('ttlSecondsAfterFinished', ptr),
    9: s('completionMode', ptr),
    10: b('suspend', ptr),
  },
  CronJob: {
    1: m('metadata', 'ObjectMeta'),
    2: m('spec', 'CronJobSpec'),
    3: { name: 'status', type: 'skip' },
  },
  CronJobSpec: {
    1: s('schedule', ptr),
    2: i('startingDeadlineSeconds', ptr),
    3: s('concurrencyPolicy'),
    4: b('suspend', ptr),
    5: m('jobTemplate', 'JobTemplateSpec'),
    6: i('successfulJobsHistoryLimit', ptr),
    7: i('failedJobsHistoryLimit', ptr),
    8: s('timeZone', ptr),
  },
  JobTemplateSpec: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'JobSpec') },

  // k8s.io/api/core/v1
  Pod: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'PodSpec'), 3: { name: 'status', type: 'skip' } },
  PodTemplateSpec: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'PodSpec') },
  PodSpec: {
    1: list('volumes', 'Volume'),
    2: list('containers', 'Container'),
    3: s('restartPolicy'),
    4: i('terminationGracePeriodSeconds', ptr),
    5: i('activeDeadlineSeconds', ptr),
    6: s('dnsPolicy'),
    7: map('nodeSelector'),
    8: s('serviceAccountName'),
    9: s('serviceAccount'),
    10: s('nodeName'),
    11: b('hostNetwork'),
    12: b('hostPID'),
    13: b('hostIPC'),
    14: m('securityContext', 'Empty'),
    15: list('imagePullSecrets', 'LocalObjectReference'),
    16: s('hostname'),
    17: s('subdomain'),
    19: s('schedulerName'),
    20: list('initContainers', 'Container'),
    21: b('automountServiceAccountToken', ptr),
    22: list('tolerations', 'Toleration'),
    24: s('priorityClassName'),
    25: i('priority', ptr),
    27: b('shareProcessNamespace', ptr),
    29: s('runtimeClassName', ptr),
    30: b('enableServiceLinks', ptr),
    31: s('preemptionPolicy', ptr),
  },
  Container: {
    1: s('name'),
    2: s('image'),
    3: strings('command'),
    4: strings('args'),
    5: s('workingDir'),
    6: list('ports', 'ContainerPort'),
    7: list('env', 'EnvVar'),
    8: m('resources', 'ResourceRequirements'),
    9: list('volumeMounts', 'VolumeMount'),
    10: m('livenessProbe', 'Probe'),
    11: m('readinessProbe', 'Probe'),
    13: s('terminationMessagePath'),
    14: s('imagePullPolicy'),
    16: b('stdin'),
    17: b('stdinOnce'),
    18: b('tty'),
    20: s('terminationMessagePolicy'),
    22: m('startupProbe', 'Probe'),
  },
  ContainerPort: {
    1: s('name'),
    2: i('hostPort'),
    3: i('containerPort', ptr),
    4: s('protocol'),
    5: s('hostIP'),
  },
  EnvVar: { 1: s('name'), 2: s('value') },
  ResourceRequirements: { 1: map('limits', 'quantity'), 2: map('requests', 'quantity') },
  VolumeMount: { 1: s('name'), 2: b('readOnly'), 3: s('mountPath'), 4: s('subPath') },
  Volume: { 1: s('name'), 2: m('volumeSource', 'VolumeSource', { inline: true }) },
  VolumeSource: {
    6: m('emptyDir', 'EmptyDirVolumeSource'),
    10: m('persistentVolumeClaim', 'PersistentVolumeClaimVolumeSource'),
    19: m('configMap', 'ConfigMapVolumeSource'),
  },
  EmptyDirVolumeSource: { 1: s('medium'), 2: { name: 'sizeLimit', type: 'quantity' } },
  PersistentVolumeClaimVolumeSource: { 1: s('claimName'), 2: b('readOnly') },
  ConfigMapVolumeSource: {
    1: m('localObjectReference', 'LocalObjectReference', { inline: true }),
    3: i('defaultMode', ptr),
    4: b('optional', ptr),
  },
  LocalObjectReference: { 1: s('name') },
  Toleration: {
    1: s('key'),
    2: s('operator'),
    3: s('value'),
    4: s('effect'),
    5: i('tolerationSeconds', ptr),
  },
  Probe: {
    1: m('handler', 'ProbeHandler', { inline: true }),
    2: i('initialDelaySeconds'),
    3: i('timeoutSeconds'),
    4: i('periodSeconds'),
    5: i('successThreshold'),
    6: i('failureThreshold'),
    7: i('terminationGracePeriodSeconds', ptr),
  },
  ProbeHandler: {
    1: m('exec', 'ExecAction'),
    2: m('httpGet', 'HTTPGetAction'),
    3: m('tcpSocket', 'TCPSocketAction'),
  },
  ExecAction: { 1: strings('command') },
  HTTPGetAction: { 1: s('path'), 2: { name: 'port', type: 'intOrString' }, 3: s('host'), 4: s('scheme') },
  TCPSocketAction: { 1: { name: 'port', type: 'intOrString' }, 2: s('host') },
  Service: {
    1: m('metadata', 'ObjectMeta'),
    2: m('spec', 'ServiceSpec'),
    3: { name: 'status', type: 'skip' },
  },
  ServiceSpec: {
    1: list('ports', 'ServicePort'),
    2: map('selector'),
    3: s('clusterIP'),
    4: s('type'),
    5: strings('externalIPs'),
    7: s('sessionAffinity'),
    8: s('loadBalancerIP'),
    9: strings('loadBalancerSourceRanges'),
    10: s('externalName'),
    11: s('externalTrafficPolicy'),
    12: i('healthCheckNodePort'),
    13: b('publishNotReadyAddresses'),
    17: s('ipFamilyPolicy', ptr),
    18: strings('clusterIPs'),
    19: strings('ipFamilies'),
    20: b('allocateLoadBalancerNodePorts', ptr),
    21: s('loadBalancerClass', ptr),
    22: s('internalTrafficPolicy', ptr),
  },
  ServicePort: {
    1: s('name'),
    2: s('protocol'),
    3: i('port', ptr),
    4: { name: 'targetPort', type: 'intOrString' },
    5: i('nodePort'),
    6: s('appProtocol', ptr),
  },
  ServiceAccount: {
    1: m('metadata', 'ObjectMeta'),
    2: list('secrets', 'ObjectReference'),
    3: list('imagePullSecrets', 'LocalObjectReference'),
    4: b('automountServiceAccountToken', ptr),
  },
  ObjectReference: {
    1: s('kind'),
    2: s('namespace'),
    3: s('name'),
    4: s('uid'),
    5: s('apiVersion'),
    6: s('resourceVersion'),
    7: s('fieldPath'),
  },
  ResourceQuota: {
    1: m('metadata', 'ObjectMeta'),
    2: m('spec', 'ResourceQuotaSpec'),
    3: { name: 'status', type: 'skip' },
  },
  ResourceQuotaSpec: { 1: map('hard', 'quantity'), 2: strings('scopes') },

  // k8s.io/api/rbac/v1
  Role: { 1: m('metadata', 'ObjectMeta'), 2: list('rules', 'PolicyRule') },
  ClusterRole: { 1: m('metadata', 'ObjectMeta'), 2: list('rules', 'PolicyRule') },
  PolicyRule: {
    1: strings('verbs'),
    2: strings('apiGroups'),
    3: strings('resources'),
    4: strings('resourceNames'),
    5: strings('nonResourceURLs'),
  },
  RoleBinding: { 1: m('metadata', 'ObjectMeta'), 2: list('subjects', 'Subject'), 3: m('roleRef', 'RoleRef') },
  ClusterRoleBinding: {
    1: m('metadata', 'ObjectMeta'),
    2: list('subjects', 'Subject'),
    3: m('roleRef', 'RoleRef'),
  },
  Subject: { 1: s('kind', ptr), 2: s('apiGroup'), 3: s('name', ptr), 4: s('namespace') },
  RoleRef: { 1: s('apiGroup', ptr), 2: s('kind', ptr), 3: s('name', ptr) },

  // k8s.io/api/scheduling/v1
  PriorityClass: {
    1: m('metadata', 'ObjectMeta'),
    2: i('value', ptr),
    3: b('globalDefault'),
    4: s('description'),
    5: s('preemptionPolicy', ptr),
  },

  // k8s.io/api/policy/v1
  PodDisruptionBudget: {
    1: m('metadata', 'ObjectMeta'),
    2: m('spec', 'PodDisruptionBudgetSpec'),
    3: { name: 'status', type: 'skip' },
  },
  PodDisruptionBudgetSpec: {
    1: { name: 'minAvailable', type: 'intOrString' },
    2: m('selector', 'LabelSelector'),
    3: { name: 'maxUnavailable', type: 'intOrString' },
    4: s('unhealthyPodEvictionPolicy', ptr),
  },

  // k8s.io/api/networking/v1
  Ingress: {
    1: m('metadata', 'ObjectMeta'),
    2: m('spec', 'IngressSpec'),
    3: { name: 'status', type: 'skip' },
  },
  IngressSpec: {
    1: m('defaultBackend', 'IngressBackend'),
    2: list('tls', 'IngressTLS'),
    3: list('rules', 'IngressRule'),
    4: s('ingressClassName', ptr),
  },
  IngressTLS: { 1: strings('hosts'), 2: s('secretName') },
  IngressRule: { 1: s('host'), 2: m('ingressRuleValue', 'IngressRuleValue', { inline: true }) },
  IngressRuleValue: { 1: m('http', 'HTTPIngressRuleValue') },
  HTTPIngressRuleValue: { 1: list('paths', 'HTTPIngressPath') },
  HTTPIngressPath: { 1: s('path'), 2: m('backend', 'IngressBackend'), 3: s('pathType', ptr) },
  IngressBackend: { 3: m('resource', 'TypedLocalObjectReference'), 4: m('service', 'IngressServiceBackend') },
  TypedLocalObjectReference: { 1: s('apiGroup', ptr), 2: s('kind'), 3: s('name') },
  IngressServiceBackend: { 1: s('name'), 2: m('port', 'ServiceBackendPort') },
  ServiceBackendPort: { 1: s('name'), 2: i('number') },

  // A message none of whose fields are decoded: an empty one is accepted, anything set in it is refused.
  Empty: {},
};

/** Top-level kinds decoded through the table, by `apiVersion kind`. */
export const KINDS: Record<string, string> = {
  'apps/v1 Deployment': 'Deployment',
  'batch/v1 Job': 'Job',
  'batch/v1 CronJob': 'CronJob',
  'v1 Pod': 'Pod',
  'v1 Service': 'Service',
  'v1 ServiceAccount': 'ServiceAccount',
  'v1 ResourceQuota': 'ResourceQuota',
  'rbac.authorization.k8s.io/v1 Role': 'Role',
  'rbac.authorization.k8s.io/v1 ClusterRole': 'ClusterRole',
  'rbac.authorization.k8s.io/v1 RoleBinding': 'RoleBinding',
  'rbac.authorization.k8s.io/v1 ClusterRoleBinding': 'ClusterRoleBinding',
  'scheduling.k8s.io/v1 PriorityClass': 'PriorityClass',
  'policy/v1 PodDisruptionBudget': 'PodDisruptionBudget',
  'networking.k8s.io/v1 Ingress': 'Ingress',
};
