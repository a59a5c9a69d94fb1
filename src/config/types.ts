import type { SourceLocation } from '../errors/config-error.js';
import type { JsonObject } from '../types/kube.js';
import type { ConfigWarning } from './warnings.js';

/** A command preset: `mage` runs the block (or the whole pipeline) with Mage's own `mage run ...`. */
export type CommandPreset = 'mage';

/**
 * The canonical executor config: the one form every accepted spelling is normalized into before
 * layers are merged. Kubernetes fields use the API's camelCase names; user map keys (labels,
 * annotations, node selector, resource names, env names) are kept exactly as written.
 */
export interface ExecutorConfig {
  /** Namespace of the Job (templated). */
  namespace?: string;
  /** Middle part of the Job name (templated; may hold `{trigger_name}`). */
  jobNamePrefix?: string;
  /** Inherit image, env, volumes and scheduling from the server pod. @default true */
  inheritServerPod?: boolean;
  /** `command: mage`: the container runs Mage's `mage run ...` for the run (docs/configuration.md §11). */
  commandPreset?: CommandPreset;
  /** The project's path in the Job's container, for the `mage` preset. @default $MAGE_REPO_PATH, else /home/src/<project folder> */
  mageRepoPath?: string;
  /** Labels and annotations for the Job and its pod template (values templated). */
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  /** The block's container: `core/v1` Container fields (name, image, imagePullPolicy, command, args, env, envFrom, volumeMounts, resources, securityContext, ports, workingDir, ...). */
  container?: JsonObject;
  /** Pod spec fields except `containers` (serviceAccountName, nodeSelector, tolerations, affinity, schedulerName, volumes, imagePullSecrets, securityContext, priorityClassName, ...). */
  pod?: JsonObject;
  /** Job spec fields (activeDeadlineSeconds, backoffLimit, ttlSecondsAfterFinished, podFailurePolicy, ...). */
  job?: JsonObject;
  /** `queue_name`: the Kueue LocalQueue, as the Job's `kueue.x-k8s.io/queue-name` label (docs/configuration.md §14). */
  queueName?: string;
  /** `workload_priority_class`: the Kueue WorkloadPriorityClass, as the Job's `kueue.x-k8s.io/priority-class` label. */
  workloadPriorityClass?: string;
  /** `tmpfs_tempdir` (Metaflow): with `use_tmpfs`, `TMPDIR` points at the tmpfs mount. @default true */
  tmpfsTempdir?: boolean;
  /**
   * `retry_disruptions`: without a `podFailurePolicy` of the user's, the Job gets one whose rule ignores pods
   * lost to a disruption (preemption, eviction, node drain), so they do not count against `backoffLimit`.
   * @default true
   */
  retryDisruptions?: boolean;
}

/**
 * The layers, lowest priority to highest as listed in `docs/configuration.md` (`override`: the run's
 * `--set` / `overrides`, above the block and below an enforced policy).
 */
export type LayerName =
  | 'built-in'
  | 'env-defaults'
  | 'server-pod'
  | 'template'
  | 'project'
  | 'pipeline'
  | 'block'
  | 'override'
  | 'policy';

/** Which layer, file and line set a resolved field. */
export interface FieldOrigin {
  /** The layer that won for this field. */
  layer: LayerName;
  /** The file and line, when the value came from a file. */
  location?: SourceLocation;
  /** The path in the user's own spelling, e.g. `k8s_executor_config.resource_limits.cpu`. */
  sourcePath?: string;
}

/**
 * Executor config after merge, templates, defaults and validation: `namespace`, `jobNamePrefix`,
 * `container.name`, `container.image` are always set.
 */
export interface ResolvedConfig {
  /** The merged config. */
  config: ExecutorConfig & {
    namespace: string;
    jobNamePrefix: string;
    container: JsonObject & { name: string; image: string };
  };
  /**
   * For every resolved leaf (and every list), the layer that set it, keyed by dotted canonical path
   * such as `container.resources.limits.cpu`, `pod.tolerations`, `metadata.labels["app.kubernetes.io/name"]`.
   */
  provenance: Readonly<Record<string, FieldOrigin>>;
  /** Valid but suspicious settings met on the way (an empty key with dedented children, ...). */
  warnings?: readonly ConfigWarning[];
}
