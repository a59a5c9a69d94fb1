/**
 * What normalization knows about Kubernetes objects (API 1.34+): the fields of Container, PodSpec and
 * JobSpec and of their common nested objects, each with the shape its value must have. Objects marked
 * `open` are not modeled: their keys are converted from snake_case but not checked.
 */

/** The shape a config value must have. */
export type FieldSchema =
  /** A string; with `coerce`, numbers and booleans are turned into strings (env values). */
  | { readonly type: 'string'; readonly coerce?: true }
  | { readonly type: 'integer' }
  | { readonly type: 'boolean' }
  /** A resource quantity: a string such as `500m`, or a number. Checked by validation. */
  | { readonly type: 'quantity' }
  /** A list of strings; numbers and booleans are turned into strings. */
  | { readonly type: 'stringList' }
  /** A map whose keys are the user's own (labels, resource names): keys are never rewritten. */
  | { readonly type: 'map'; readonly values: 'string' | 'quantity' }
  /** A node selector: a map, or `"k=v,k2=v2"`. */
  | { readonly type: 'selector' }
  /** References by name: `"x"`, `["x"]` or `[{name: x}]` → `[{name: x}]`. */
  | { readonly type: 'nameRefs' }
  | { readonly type: 'object'; readonly schema: ObjectSchema }
  | { readonly type: 'list'; readonly items: FieldSchema }
  /** An object this module does not model: converted to camelCase, not checked. */
  | { readonly type: 'open' }
  /** A field the executor sets itself; the message says where to configure it instead. */
  | { readonly type: 'forbidden'; readonly message: string };

/** A modeled Kubernetes object. */
export interface ObjectSchema {
  /** Kubernetes kind name, for messages. */
  readonly name: string;
  /** Known fields by their API (camelCase) name. */
  readonly fields: Readonly<Record<string, FieldSchema>>;
}

/**
 * Field names whose value is a map of the user's own keys, wherever they appear (also inside objects
 * that are not modeled): their keys are never rewritten.
 */
export const USER_MAP_FIELDS: ReadonlySet<string> = new Set([
  'labels',
  'annotations',
  'matchLabels',
  'nodeSelector',
  'limits',
  'requests',
  'overhead',
  'volumeAttributes',
  'options',
  'parameters',
  'data',
]);

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
const quantity = { type: 'quantity' } as const;
const strings = { type: 'stringList' } as const;
const open = { type: 'open' } as const;
const openList = { type: 'list', items: open } as const;
const stringMap = { type: 'map', values: 'string' } as const;
const quantityMap = { type: 'map', values: 'quantity' } as const;

function object(name: string, fields: Record<string, FieldSchema>): FieldSchema {
  return { type: 'object', schema: { name, fields } };
}
function listOf(name: string, fields: Record<string, FieldSchema>): FieldSchema {
  return { type: 'list', items: object(name, fields) };
}

const keyRef = { key: str, name: str, optional: bool };
const nameRef = { name: str, optional: bool };

/** `resources` of a container or pod. */
export const RESOURCES = object('ResourceRequirements', {
  limits: quantityMap,
  requests: quantityMap,
  claims: openList,
});

/** `securityContext` of a container. */
export const SECURITY_CONTEXT = object('SecurityContext', {
  allowPrivilegeEscalation: bool,
  appArmorProfile: open,
  capabilities: object('Capabilities', { add: strings, drop: strings }),
  privileged: bool,
  procMount: str,
  readOnlyRootFilesystem: bool,
  runAsGroup: int,
  runAsNonRoot: bool,
  runAsUser: int,
  seLinuxOptions: open,
  seccompProfile: open,
  windowsOptions: open,
});

/** Tolerations of a pod. */
export const TOLERATIONS = listOf('Toleration', {
  key: str,
  operator: str,
  value: str,
  effect: str,
  tolerationSeconds: int,
});

/** Ports of a container. */
export const PORTS = listOf('ContainerPort', {
  containerPort: int,
  name: str,
  protocol: str,
  hostPort: int,
  hostIP: str,
});

/** `envFrom` of a container. */
export const ENV_FROM = listOf('EnvFromSource', {
  configMapRef: object('ConfigMapEnvSource', nameRef),
  secretRef: object('SecretEnvSource', nameRef),
  prefix: str,
});

/** `volumeMounts` of a container. */
export const VOLUME_MOUNTS = listOf('VolumeMount', {
  name: str,
  mountPath: str,
  readOnly: bool,
  recursiveReadOnly: str,
  subPath: str,
  subPathExpr: str,
  mountPropagation: str,
});

const ENV = listOf('EnvVar', {
  name: str,
  value: { type: 'string', coerce: true },
  valueFrom: object('EnvVarSource', {
    secretKeyRef: object('SecretKeySelector', keyRef),
    configMapKeyRef: object('ConfigMapKeySelector', keyRef),
    fieldRef: object('ObjectFieldSelector', { apiVersion: str, fieldPath: str }),
    resourceFieldRef: object('ResourceFieldSelector', {
      containerName: str,
      divisor: quantity,
      resource: str,
    }),
    fileKeyRef: open,
  }),
});

const CONTAINER_FIELDS: Record<string, FieldSchema> = {
  name: str,
  image: str,
  imagePullPolicy: str,
  command: strings,
  args: strings,
  workingDir: str,
  env: ENV,
  envFrom: ENV_FROM,
  volumeMounts: VOLUME_MOUNTS,
  volumeDevices: openList,
  resources: RESOURCES,
  resizePolicy: openList,
  restartPolicy: str,
  restartPolicyRules: openList,
  ports: PORTS,
  securityContext: SECURITY_CONTEXT,
  livenessProbe: open,
  readinessProbe: open,
  startupProbe: open,
  lifecycle: open,
  terminationMessagePath: str,
  terminationMessagePolicy: str,
  stdin: bool,
  stdinOnce: bool,
  tty: bool,
};

/** The block's container (`core/v1` Container). */
export const CONTAINER = object('Container', CONTAINER_FIELDS);

/** Volumes of a pod: the top level and the common sources are modeled, other sources are open. */
export const VOLUMES = listOf('Volume', {
  name: str,
  persistentVolumeClaim: object('PersistentVolumeClaimVolumeSource', { claimName: str, readOnly: bool }),
  configMap: object('ConfigMapVolumeSource', {
    name: str,
    items: openList,
    defaultMode: int,
    optional: bool,
  }),
  secret: object('SecretVolumeSource', {
    secretName: str,
    items: openList,
    defaultMode: int,
    optional: bool,
  }),
  emptyDir: object('EmptyDirVolumeSource', { medium: str, sizeLimit: quantity }),
  hostPath: object('HostPathVolumeSource', { path: str, type: str }),
  ...Object.fromEntries(
    [
      'awsElasticBlockStore',
      'azureDisk',
      'azureFile',
      'cephfs',
      'cinder',
      'csi',
      'downwardAPI',
      'ephemeral',
      'fc',
      'flexVolume',
      'flocker',
      'gcePersistentDisk',
      'gitRepo',
      'glusterfs',
      'image',
      'iscsi',
      'nfs',
      'photonPersistentDisk',
      'portworxVolume',
      'projected',
      'quobyte',
      'rbd',
      'scaleIO',
      'storageos',
      'vsphereVolume',
    ].map((source) => [source, open]),
  ),
});

/** The pod spec, without `containers` (the block's container is `container`). */
export const POD = object('PodSpec', {
  activeDeadlineSeconds: int,
  affinity: object('Affinity', { nodeAffinity: open, podAffinity: open, podAntiAffinity: open }),
  automountServiceAccountToken: bool,
  containers: {
    type: 'forbidden',
    message: 'the Job has one container, configured under `container` (sidecars go in `pod.initContainers`)',
  },
  dnsConfig: open,
  dnsPolicy: str,
  enableServiceLinks: bool,
  ephemeralContainers: openList,
  hostAliases: openList,
  hostIPC: bool,
  hostNetwork: bool,
  hostPID: bool,
  hostUsers: bool,
  hostname: str,
  hostnameOverride: str,
  imagePullSecrets: { type: 'nameRefs' },
  initContainers: { type: 'list', items: CONTAINER },
  nodeName: str,
  nodeSelector: { type: 'selector' },
  os: open,
  overhead: quantityMap,
  preemptionPolicy: str,
  priority: int,
  priorityClassName: str,
  readinessGates: openList,
  resourceClaims: openList,
  resources: RESOURCES,
  restartPolicy: str,
  runtimeClassName: str,
  schedulerName: str,
  schedulingGates: openList,
  schedulingGroup: open,
  securityContext: object('PodSecurityContext', {
    appArmorProfile: open,
    fsGroup: int,
    fsGroupChangePolicy: str,
    runAsGroup: int,
    runAsNonRoot: bool,
    runAsUser: int,
    seLinuxChangePolicy: str,
    seLinuxOptions: open,
    seccompProfile: open,
    supplementalGroups: { type: 'list', items: int },
    supplementalGroupsPolicy: str,
    sysctls: openList,
    windowsOptions: open,
  }),
  serviceAccount: str,
  serviceAccountName: str,
  setHostnameAsFQDN: bool,
  shareProcessNamespace: bool,
  subdomain: str,
  terminationGracePeriodSeconds: int,
  tolerations: TOLERATIONS,
  topologySpreadConstraints: openList,
  volumes: VOLUMES,
});

/** The Job spec, without `template` (built from `container` and `pod`). */
export const JOB = object('JobSpec', {
  activeDeadlineSeconds: int,
  backoffLimit: int,
  backoffLimitPerIndex: int,
  completionMode: str,
  completions: int,
  managedBy: str,
  manualSelector: bool,
  maxFailedIndexes: int,
  parallelism: int,
  podFailurePolicy: object('PodFailurePolicy', {
    rules: listOf('PodFailurePolicyRule', { action: str, onExitCodes: open, onPodConditions: openList }),
  }),
  podReplacementPolicy: str,
  selector: open,
  successPolicy: open,
  suspend: bool,
  template: { type: 'forbidden', message: 'the pod template is built from `container` and `pod`' },
  ttlSecondsAfterFinished: int,
});

/** `metadata` of a layer: the Job's namespace, labels and annotations. */
export const METADATA: ObjectSchema = {
  name: 'ObjectMeta',
  fields: { namespace: str, labels: stringMap, annotations: stringMap },
};

/** Shared leaf schemas, for the top-level keys of a layer. */
export const LEAF = { str, bool, stringMap, quantityMap } as const;
