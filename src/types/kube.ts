/**
 * Minimal shapes of the Kubernetes objects the SDK reads and writes, as plain JSON (camelCase, as the
 * API server serves them). Only the fields the SDK uses are typed; every object may carry more.
 * These are deliberately not client-node's classes: only the client-node adapter imports client-node.
 */

/** A plain JSON object. */
export type JsonObject = { [key: string]: unknown };

/** `metadata` of any object. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  /** What must finish before a Job being deleted goes (`foregroundDeletion`, ...). */
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  [key: string]: unknown;
}

/** A Job or Pod condition. */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastProbeTime?: string;
}

/** A container as the SDK builds it (a subset of `core/v1` Container). */
export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: JsonObject[];
  envFrom?: JsonObject[];
  volumeMounts?: JsonObject[];
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  [key: string]: unknown;
}

/** A `batch/v1` Job. */
export interface Job {
  apiVersion?: 'batch/v1';
  kind?: 'Job';
  metadata: ObjectMeta;
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
  name: string;
  ready?: boolean;
  restartCount?: number;
  image?: string;
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
  lastState?: ContainerStatus['state'];
}

/** A `core/v1` Pod. */
export interface Pod {
  apiVersion?: 'v1';
  kind?: 'Pod';
  metadata: ObjectMeta;
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
  metadata?: ObjectMeta;
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  involvedObject?: { kind?: string; name?: string; uid?: string; namespace?: string };
}

/** One event of a watch stream. */
export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: T;
}
