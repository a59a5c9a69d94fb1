import type { ResolvedConfig } from '../config/types.js';
import { identityAnnotations, identityLabels } from '../naming/labels.js';
import type { Container, Job } from '../types/kube.js';
import type { RunIdentity } from '../types/run.js';
import { type PodTemplate, recordOf } from './drift.js';
import { sortKeys } from './stable-json.js';

/** Kueue's label naming the LocalQueue a Job is submitted to. */
export const KUEUE_QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';

/** Kueue's label naming the Job's WorkloadPriorityClass. */
export const KUEUE_PRIORITY_CLASS_LABEL = 'kueue.x-k8s.io/priority-class';

/** The pod's restart policy when the config sets none; a Job allows only `Never` or `OnFailure`. */
export const DEFAULT_RESTART_POLICY = 'Never';

/** Everything {@link buildJob} turns into a Job. */
export interface BuildJobInput {
  /** The executor config, already merged, templated, defaulted and validated. */
  config: ResolvedConfig['config'];
  /** The Job name, from `jobName()`. */
  jobName: string;
  /** Who the Job runs for; becomes the identity labels and annotations. */
  identity: RunIdentity;
  /** The resolved cluster id (option, else `MAGE_CLUSTER_UUID`, else `mage`). */
  clusterId: string;
  /** `block` for a block run, `pipeline` for a whole-pipeline run. */
  kind: 'block' | 'pipeline';
  /** Replaces `config.container.command` when given. */
  command?: string[];
  /** Replaces `config.container.args` when given. */
  args?: string[];
}

/**
 * Builds the `batch/v1` Job for one run. Pure and deterministic: the same input (in any key order) gives
 * a deep-equal Job with every object's keys sorted, no `undefined` or `null`, lists in their given order.
 * The input is never mutated and the Job shares no object with it.
 *
 * - `metadata`: name, namespace, user labels and annotations with the identity ones on top (identity wins);
 *   Kueue's `kueue.x-k8s.io/queue-name` and `kueue.x-k8s.io/priority-class` labels from `queueName` and
 *   `workloadPriorityClass` (on the Job only: Kueue reads the Job; its pods are not queued on their own);
 *   the config record of the pod template (`k8s-executor/config-hash`, `k8s-executor/config-fields`: see
 *   drift.ts).
 * - `spec`: every `config.job` field (backoffLimit, activeDeadlineSeconds, ttlSecondsAfterFinished,
 *   podFailurePolicy, ...) and the pod template. `selector`/`manualSelector` are left to the API server.
 * - `spec.template.metadata`: the same labels and annotations, so the pods are selectable by run.
 * - `spec.template.spec`: every `config.pod` field, `containers: [container]` (with `command`/`args`
 *   replaced when given) and `restartPolicy` (`config.pod.restartPolicy`, else `Never`).
 *
 * @throws K8sExecutorError `CONFIG_INVALID` when the config holds something JSON cannot carry (see
 *   `sortKeys`); a config that passed validation never does.
 * @example
 * const job = buildJob({ config: resolved.config, jobName: 'mage-data-prep-block-42', clusterId: 'mage',
 *   kind: 'block', identity: { pipelineUuid: 'etl', pipelineRunId: '7', blockUuid: 'load', blockRunId: '42' },
 *   command: ['python', 'load.py'] });
 */
export function buildJob(input: BuildJobInput): Job {
  const { config, identity, clusterId, kind } = input;
  const labels = { ...config.metadata?.labels, ...identityLabels(identity, clusterId, kind) };
  const annotations = { ...config.metadata?.annotations, ...identityAnnotations(identity, clusterId) };
  const container: Container = {
    ...config.container,
    ...(input.command !== undefined && { command: input.command }),
    ...(input.args !== undefined && { args: input.args }),
  };
  const pod = config.pod ?? {};
  const restartPolicy =
    typeof pod['restartPolicy'] === 'string' ? pod['restartPolicy'] : DEFAULT_RESTART_POLICY;
  // sortKeys deep-copies, so the metadata blocks and the container share nothing with the input.
  const template = sortKeys({
    metadata: { labels, annotations },
    spec: { ...pod, containers: [container], restartPolicy },
  });
  const kueue = {
    ...(config.queueName !== undefined ? { [KUEUE_QUEUE_LABEL]: config.queueName } : {}),
    ...(config.workloadPriorityClass !== undefined
      ? { [KUEUE_PRIORITY_CLASS_LABEL]: config.workloadPriorityClass }
      : {}),
  };
  // Keys in sorted order; the template, sorted above, is not copied and sorted a second time.
  const metadata = sortKeys({
    name: input.jobName,
    namespace: config.namespace,
    labels: { ...labels, ...kueue },
    annotations: { ...annotations, ...recordAnnotations(input, template) },
  });
  const { template: _ignored, ...jobFields } = sortKeys({ ...config.job });
  const spec = Object.fromEntries(
    [...Object.entries(jobFields), ['template', template] as const].sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  return { apiVersion: 'batch/v1', kind: 'Job', metadata, spec } as Job;
}

/**
 * The last config record computed for each resolved config (by object: resolved configs are frozen and
 * shared between the runs that render alike), with the command and args it was computed for. The record
 * leaves the run identity out, so it is a function of the config, command and args alone; hashing it
 * again for every run of a block was half the cost of `prepareJob`. One entry per config: no growth.
 */
const lastRecord = new WeakMap<object, { key: string; annotations: Record<string, string> }>();

function recordAnnotations(input: BuildJobInput, template: PodTemplate) {
  // A caller's own config object may change between calls: only a frozen (resolved) one is remembered.
  if (!Object.isFrozen(input.config)) return recordOf(template, true).annotations;
  const key = JSON.stringify([input.command ?? null, input.args ?? null]);
  const cached = lastRecord.get(input.config);
  if (cached?.key === key) return cached.annotations;
  const { annotations } = recordOf(template, true);
  lastRecord.set(input.config, { key, annotations });
  return annotations;
}
