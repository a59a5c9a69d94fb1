import type { Job, ObjectMeta } from '../types/kube.js';
import type { CallOptions } from './job-client.js';

/** A resource list as the API serves it: `{cpu: '500m', memory: '1Gi', 'nvidia.com/gpu': '1'}`. */
export type ResourceList = Readonly<Record<string, string>>;

/** Any object, as far as preflight reads it: that it exists, and its metadata. */
export interface ObjectSummary {
  /** The object's metadata. */
  metadata: ObjectMeta;
}

/** The key names of a Secret or ConfigMap, never its values. */
export interface StoredKeys {
  /** The object's name. */
  name: string;
  /** The keys it holds (`data` and `stringData`/`binaryData`), sorted. */
  keys: readonly string[];
  /** A Secret's `type` (`Opaque`, `kubernetes.io/dockerconfigjson`, ...); undefined for a ConfigMap. */
  type?: string;
}

/** A `core/v1` PersistentVolumeClaim, the fields preflight reads. */
export interface PersistentVolumeClaim {
  /** The claim's metadata. */
  metadata: ObjectMeta;
  /** What was asked for. */
  spec?: { accessModes?: readonly string[]; storageClassName?: string; volumeName?: string };
  /** Where it stands: `Pending`, `Bound` or `Lost`, and the access modes it got. */
  status?: { phase?: string; accessModes?: readonly string[] };
}

/** A scope selector term of a ResourceQuota (`scopeName: PriorityClass, operator: In, values: [high]`). */
export interface ScopeSelectorTerm {
  /** `PriorityClass`, `Terminating`, `BestEffort`, `CrossNamespacePodAffinity`, ... */
  scopeName: string;
  /** `In`, `NotIn`, `Exists`, `DoesNotExist`. */
  operator: string;
  /** The values of `In`/`NotIn`. */
  values?: readonly string[];
}

/** A `core/v1` ResourceQuota, the fields preflight reads. */
export interface ResourceQuota {
  /** The quota's metadata. */
  metadata: ObjectMeta;
  /** The limits and the scopes they apply to. */
  spec?: {
    hard?: ResourceList;
    scopes?: readonly string[];
    scopeSelector?: { matchExpressions?: readonly ScopeSelectorTerm[] };
  };
  /** The limits in force and what is used of them (kept up to date by the quota controller). */
  status?: { hard?: ResourceList; used?: ResourceList };
}

/** One item of a LimitRange. */
export interface LimitRangeItem {
  /** `Container`, `Pod` or `PersistentVolumeClaim`. */
  type: string;
  /** Largest allowed value per resource. */
  max?: ResourceList;
  /** Smallest allowed value per resource. */
  min?: ResourceList;
  /** The limit given to a container that sets none (`Container` only). */
  default?: ResourceList;
  /** The request given to a container that sets none (`Container` only). */
  defaultRequest?: ResourceList;
  /** Largest allowed limit / request ratio per resource. */
  maxLimitRequestRatio?: ResourceList;
}

/** A `core/v1` LimitRange. */
export interface LimitRange {
  /** The range's metadata. */
  metadata: ObjectMeta;
  /** Its items. */
  spec?: { limits?: readonly LimitRangeItem[] };
}

/** A node taint. */
export interface Taint {
  /** The taint's key. */
  key: string;
  /** The taint's value, if any. */
  value?: string;
  /** `NoSchedule`, `PreferNoSchedule` or `NoExecute`. */
  effect: string;
}

/** A `core/v1` Node, the fields preflight reads. */
export interface KubeNode {
  /** The node's metadata (its labels are what node selectors match). */
  metadata: ObjectMeta;
  /** Its taints, and whether it is cordoned. */
  spec?: { taints?: readonly Taint[]; unschedulable?: boolean };
  /** What pods may use of it. */
  status?: { allocatable?: ResourceList; capacity?: ResourceList };
}

/** What is asked of a SelfSubjectAccessReview (its `spec.resourceAttributes`). */
export interface ResourceAttributes {
  /** The namespace; none for a cluster-wide question. */
  namespace?: string;
  /** The verb: `create`, `get`, `list`, `watch`, `delete`, ... */
  verb: string;
  /** The API group, `""` for core. */
  group: string;
  /** The resource, without subresource: `jobs`, `pods`. */
  resource: string;
  /** The subresource: `log` for `pods/log`. */
  subresource?: string;
}

/** The answer of a SelfSubjectAccessReview. */
export interface AccessReview {
  /** Whether the caller may do it. */
  allowed: boolean;
  /** True when an authorizer explicitly denied it. */
  denied?: boolean;
  /** Why, as the authorizer put it (often empty for RBAC). */
  reason?: string;
  /** An error of the authorizer, when it could not decide. */
  evaluationError?: string;
}

/**
 * Read-only questions to the cluster, for `preflight`: nothing is created, changed or deleted (the dry
 * run is validated and discarded by the API server). Implementations: the client-node adapter; tests
 * use their own fakes.
 *
 * Errors: every method rejects with an `ApiError` classified as the `JobClient`'s are (a missing
 * permission is `API_FORBIDDEN` naming the verb and resource); a missing object is not an error but
 * `undefined`. An aborted call rejects with the signal's reason.
 */
export interface ClusterInspector {
  /** Reads a namespace; undefined when it does not exist. */
  getNamespace(name: string, options?: CallOptions): Promise<ObjectSummary | undefined>;
  /** Reads a ServiceAccount; undefined when it does not exist. */
  getServiceAccount(
    namespace: string,
    name: string,
    options?: CallOptions,
  ): Promise<ObjectSummary | undefined>;
  /** Reads a Secret's type and key names (its values never leave the adapter); undefined when it does not exist. */
  getSecretKeys(namespace: string, name: string, options?: CallOptions): Promise<StoredKeys | undefined>;
  /** Reads a ConfigMap's key names; undefined when it does not exist. */
  getConfigMapKeys(namespace: string, name: string, options?: CallOptions): Promise<StoredKeys | undefined>;
  /** Reads a PersistentVolumeClaim; undefined when it does not exist. */
  getPersistentVolumeClaim(
    namespace: string,
    name: string,
    options?: CallOptions,
  ): Promise<PersistentVolumeClaim | undefined>;
  /** Lists the ResourceQuotas of a namespace. */
  listResourceQuotas(namespace: string, options?: CallOptions): Promise<ResourceQuota[]>;
  /** Lists the LimitRanges of a namespace. */
  listLimitRanges(namespace: string, options?: CallOptions): Promise<LimitRange[]>;
  /** Lists every Node of the cluster. */
  listNodes(options?: CallOptions): Promise<KubeNode[]>;
  /** Asks the API server whether the caller's own identity may do something (SelfSubjectAccessReview). */
  reviewAccess(attributes: ResourceAttributes, options?: CallOptions): Promise<AccessReview>;
  /**
   * Sends the Job as a server-side dry run (`dryRun=All`, `fieldValidation=Strict`): validated, defaulted
   * and passed through admission, never stored. Resolves the Job as the server would have stored it.
   */
  dryRunCreateJob(namespace: string, job: Job, options?: CallOptions): Promise<Job>;
}
