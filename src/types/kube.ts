/**
 * Minimal shapes of the Kubernetes objects the SDK reads and writes, as plain JSON (camelCase, as the
 * API server serves them). Only the fields the SDK uses are typed; every object may carry more.
 * These are deliberately not client-node's classes: only the client-node adapter imports client-node.
 */

/** A plain JSON object. */
export type JsonObject = { [key: string]: unknown };

/** `metadata` of any object. */
export interface ObjectMeta {
  /** The object's name. */
  name?: string;
  /** Its namespace. */
  namespace?: string;
  /** The uid the API server gave it (a new one for every object of the same name). */
  uid?: string;
  /** The version of the object the server sent, for watches and optimistic updates. */
  resourceVersion?: string;
  /** When it was created (RFC 3339). */
  creationTimestamp?: string;
  /** When its deletion was asked for (RFC 3339): it is being deleted. */
  deletionTimestamp?: string;
  /** What must finish before a Job being deleted goes (`foregroundDeletion`, ...). */
  finalizers?: string[];
  /** Its labels. */
  labels?: Record<string, string>;
  /** Its annotations. */
  annotations?: Record<string, string>;
  /** The objects it belongs to (a Job's pods: the Job, `controller: true`). */
  ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  /** Any other field the server sent. */
  [key: string]: unknown;
}

/** A Job or Pod condition. */
export interface Condition {
  /** `Complete`, `Failed`, `Suspended`, `PodScheduled`, `DisruptionTarget`, ... */
  type: string;
  /** `True`, `False` or `Unknown`. */
  status: string;
  /** Why, in one CamelCase word (`BackoffLimitExceeded`, `Unschedulable`, ...). */
  reason?: string;
  /** Why, for a person. */
  message?: string;
  /** When the status last changed (RFC 3339). */
  lastTransitionTime?: string;
  /** When the condition was last checked (RFC 3339). */
  lastProbeTime?: string;
}

/** A container as the SDK builds it (a subset of `core/v1` Container). */
export interface Container {
  /** The container's name. */
  name: string;
  /** Its image. */
  image?: string;
  /** The entrypoint; the image's own when unset. */
  command?: string[];
  /** The entrypoint's arguments. */
  args?: string[];
  /** Environment variables (`{ name, value }` or `{ name, valueFrom }`). */
  env?: JsonObject[];
  /** Environment variables taken from whole ConfigMaps or Secrets. */
  envFrom?: JsonObject[];
  /** Where volumes are mounted. */
  volumeMounts?: JsonObject[];
  /** Resource limits and requests (`cpu`, `memory`, `nvidia.com/gpu`, ...), as quantities. */
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  /** Any other `core/v1` Container field. */
  [key: string]: unknown;
}

/** A `batch/v1` Job. */
export interface Job {
  /** `batch/v1`. */
  apiVersion?: 'batch/v1';
  /** `Job`. */
  kind?: 'Job';
  /** Name, namespace, labels, annotations, ... */
  metadata: ObjectMeta;
  /** What to run: the pod template and the Job's limits (`backoffLimit`, `activeDeadlineSeconds`, ...). */
  spec?: {
    backoffLimit?: number;
    activeDeadlineSeconds?: number;
    ttlSecondsAfterFinished?: number;
    template: {
      metadata?: ObjectMeta;
      spec: { containers: Container[]; restartPolicy?: string; [key: string]: unknown };
    };
    [key: string]: unknown;
  };
  /** What the Job controller reports: pod counts and conditions. */
  status?: {
    active?: number;
    ready?: number;
    succeeded?: number;
    failed?: number;
    terminating?: number;
    startTime?: string;
    completionTime?: string;
    conditions?: Condition[];
    [key: string]: unknown;
  };
}

/** The state of one container, as in `core/v1` ContainerStatus. */
export interface ContainerStatus {
  /** The container's name. */
  name: string;
  /** Whether it passes its readiness probe. */
  ready?: boolean;
  /** How often it was restarted. */
  restartCount?: number;
  /** The image it runs. */
  image?: string;
  /** Its state now: waiting (with a reason such as `ImagePullBackOff`), running or terminated. */
  state?: {
    waiting?: { reason?: string; message?: string };
    running?: { startedAt?: string };
    terminated?: {
      exitCode: number;
      reason?: string;
      message?: string;
      startedAt?: string;
      finishedAt?: string;
    };
  };
  /** Its state before the last restart. */
  lastState?: ContainerStatus['state'];
}

/** A `core/v1` Pod. */
export interface Pod {
  /** `v1`. */
  apiVersion?: 'v1';
  /** `Pod`. */
  kind?: 'Pod';
  /** Name, namespace, labels (a Job's pods carry `batch.kubernetes.io/job-name`), ... */
  metadata: ObjectMeta;
  /** Its containers, volumes and scheduling. */
  spec?: {
    containers: Container[];
    initContainers?: Container[];
    volumes?: JsonObject[];
    tolerations?: JsonObject[];
    nodeSelector?: Record<string, string>;
    schedulerName?: string;
    imagePullSecrets?: { name: string }[];
    serviceAccountName?: string;
    nodeName?: string;
    [key: string]: unknown;
  };
  /** Its phase, conditions and container states. */
  status?: {
    phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
    reason?: string;
    message?: string;
    conditions?: Condition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
    startTime?: string;
    [key: string]: unknown;
  };
}

/** A `core/v1` Event (only what the SDK reads). */
export interface KubeEvent {
  /** The event's own name and namespace. */
  metadata?: ObjectMeta;
  /** `Normal` or `Warning`. */
  type?: string;
  /** Why, in one CamelCase word (`FailedScheduling`, `BackOff`, ...). */
  reason?: string;
  /** What happened, for a person. */
  message?: string;
  /** How many times it happened. */
  count?: number;
  /** When it first happened (RFC 3339). */
  firstTimestamp?: string;
  /** When it last happened (RFC 3339). */
  lastTimestamp?: string;
  /** When it happened (RFC 3339 with microseconds), set by newer event writers instead of the timestamps. */
  eventTime?: string;
  /** The object it is about. */
  involvedObject?: { kind?: string; name?: string; uid?: string; namespace?: string };
}

/** One event of a watch stream. */
export interface WatchEvent<T> {
  /** What happened to the object; `BOOKMARK` only carries a newer `resourceVersion`. */
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  /** The object as it is now (as it was last, for `DELETED`). */
  object: T;
}
