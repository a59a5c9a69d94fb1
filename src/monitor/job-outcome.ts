import type { ErrorCode } from '../errors/codes.js';
import type { Condition, Job } from '../types/kube.js';
import { isFailedPod, newestPod, type PodRecord } from './pod-summary.js';
import type { BlockState } from './types.js';

/** How a Job ended, as decided from its conditions and its last failed pod. */
export type JobOutcome =
  | { phase: 'succeeded'; exitCode?: number; containerName?: string }
  | { phase: 'failed'; reason: ErrorCode; message: string; exitCode?: number; containerName?: string };

/**
 * Why an attempt failed for a reason of the cluster rather than of the block: its pod was preempted,
 * evicted, drained, or lost with its node. Retrying elsewhere can help; the block's code is not at fault.
 */
export interface InfrastructureCause {
  /** The pod it happened to (the Job's last failed pod). */
  pod: string;
  /**
   * Where Kubernetes said so: the pod's `DisruptionTarget` condition, or the pod's status reason (the
   * kubelet's eviction or node shutdown, the node controller's `NodeLost`, a refused admission).
   */
  source: 'DisruptionTarget' | 'podReason';
  /**
   * Kubernetes' own reason: `PreemptionByScheduler`, `EvictionByEvictionAPI`, `DeletionByTaintManager`,
   * `DeletionByPodGC`, `TerminationByKubelet` (DisruptionTarget), or `Evicted`, `Preempting`, `NodeLost`,
   * `Terminated`, `Shutdown`, `UnexpectedAdmissionError`, `NodeAffinity`, `OutOf<resource>` (pod status).
   */
  reason: string;
  /** Kubernetes' message, when it gave one. */
  message?: string;
}

/**
 * Pod status reasons that the node or the kubelet sets when it, not the container, ended the pod:
 * node-pressure eviction, critical-pod preemption, a lost node, a node shutdown (`Terminated`, formerly
 * `Shutdown`), and a pod the kubelet refused to admit after scheduling (`OutOfcpu`, `NodeAffinity`, ...).
 */
const INFRASTRUCTURE_POD_REASONS: ReadonlySet<string> = new Set([
  'Evicted',
  'Preempting',
  'NodeLost',
  'Terminated',
  'Shutdown',
  'UnexpectedAdmissionError',
  'NodeAffinity',
]);

/**
 * Failure reasons that a pod's end decides (the Job ran out of pod retries, or a podFailurePolicy rule
 * matched): only those can have an infrastructure cause. Deadlines, waiting bounds and OOM kills are the
 * block's own (its config or its code), whatever happened to the pod.
 */
const POD_DECIDED_REASONS: ReadonlySet<ErrorCode> = new Set([
  'EVICTED',
  'EXIT_CODE',
  'BACKOFF_LIMIT_EXCEEDED',
  'POD_FAILURE_POLICY',
]);

/**
 * The infrastructure cause of a failed block, from its last failed pod, or undefined when the failure
 * is the block's own (or the block did not fail). The reason code stays what it is (`EVICTED`,
 * `EXIT_CODE` with the exit code of the stopped container, ...): this says, beside it, that the cluster
 * ended the pod. A `DisruptionTarget=True` condition wins over the pod's status reason.
 */
export function infrastructureCause(state: BlockState): InfrastructureCause | undefined {
  if (state.phase !== 'failed' || !state.reason || !POD_DECIDED_REASONS.has(state.reason)) return undefined;
  const pod = lastFailedPod(state);
  return pod ? podInfrastructureCause(pod) : undefined;
}

/** Whether the cluster rather than the block ended this failed pod, and how Kubernetes said so. */
function podInfrastructureCause(pod: PodRecord): InfrastructureCause | undefined {
  if (pod.disruption) {
    return {
      pod: pod.name,
      source: 'DisruptionTarget',
      reason: pod.disruption.reason,
      ...(pod.disruption.message ? { message: pod.disruption.message } : {}),
    };
  }
  const reason = pod.podReason;
  if (!reason || !(INFRASTRUCTURE_POD_REASONS.has(reason) || reason.startsWith('OutOf'))) return undefined;
  return {
    pod: pod.name,
    source: 'podReason',
    reason,
    ...(pod.podMessage ? { message: pod.podMessage } : {}),
  };
}

/**
 * What happened to the pod, in a few words for a progress line or a chart: `evicted`, `preempted`,
 * `deleted by a node taint`, `lost with its node`, `stopped by its node`, `refused by its node`.
 */
export function infrastructureEvent(cause: InfrastructureCause): string {
  switch (cause.reason) {
    case 'PreemptionByScheduler':
    case 'Preempting':
      return 'preempted';
    case 'EvictionByEvictionAPI':
    case 'Evicted':
      return 'evicted';
    case 'DeletionByTaintManager':
      return 'deleted by a node taint';
    case 'DeletionByPodGC':
    case 'NodeLost':
      return 'lost with its node';
    case 'TerminationByKubelet':
    case 'Terminated':
    case 'Shutdown':
      return 'stopped by its node';
    default:
      return cause.source === 'podReason' ? 'refused by its node' : 'ended by the cluster';
  }
}

/** The Kubernetes default when a Job has no `backoffLimit`. */
const KUBERNETES_DEFAULT_BACKOFF_LIMIT = 6;

/**
 * The final outcome of a Job, or undefined while it still runs.
 *
 * - `Complete=True` or `SuccessCriteriaMet=True` (Kubernetes ≥ 1.31 sets it first) → succeeded.
 * - `Failed=True` or `FailureTarget=True` (set first on recent versions) → failed, by condition reason:
 *   `BackoffLimitExceeded` → the cause of the last failed pod (`OOM_KILLED`, `EVICTED`,
 *   `DEADLINE_EXCEEDED` for a pod deadline, `EXIT_CODE`), else `BACKOFF_LIMIT_EXCEEDED`;
 *   `DeadlineExceeded` → `DEADLINE_EXCEEDED`; `PodFailurePolicy` → `POD_FAILURE_POLICY`;
 *   anything else → `JOB_FAILED`.
 *
 * A failed pod alone is never an outcome: the Job controller may still retry (`backoffLimit`).
 */
export function jobOutcome(job: Job, state: BlockState): JobOutcome | undefined {
  const conditions = job.status?.conditions ?? [];
  const failure = trueCondition(conditions, 'Failed') ?? trueCondition(conditions, 'FailureTarget');
  if (failure) return failedOutcome(job, failure, lastFailedPod(state), state);
  if (trueCondition(conditions, 'Complete') || trueCondition(conditions, 'SuccessCriteriaMet')) {
    const pod: PodRecord | undefined = state.currentPod ? state.pods[state.currentPod] : undefined;
    const terminated = pod?.phase === 'Succeeded' ? pod.terminated : undefined;
    return {
      phase: 'succeeded',
      ...(terminated ? { exitCode: terminated.exitCode, containerName: terminated.containerName } : {}),
    };
  }
  return undefined;
}

function failedOutcome(
  job: Job,
  failure: Condition,
  pod: PodRecord | undefined,
  state: BlockState,
): JobOutcome {
  const name = job.metadata.name ?? state.jobName;
  const terminated = pod?.terminated;
  const exit = terminated ? { exitCode: terminated.exitCode, containerName: terminated.containerName } : {};
  const said = failure.message ? ` (${failure.message})` : '';
  switch (failure.reason) {
    case 'BackoffLimitExceeded':
      return { ...backoffCause(job, pod, state), ...exit };
    case 'DeadlineExceeded': {
      const seconds = job.spec?.activeDeadlineSeconds;
      const limit = seconds !== undefined ? ` of ${seconds} s` : '';
      return {
        phase: 'failed',
        reason: 'DEADLINE_EXCEEDED',
        message: `Job "${name}" ran longer than its activeDeadlineSeconds${limit} and was stopped${said}; raise job.active_deadline_seconds or make the block faster.`,
        ...exit,
      };
    }
    case 'PodFailurePolicy': {
      const code = terminated?.exitCode ?? exitCodeIn(failure.message);
      const exitText = code !== undefined ? ` (exit code ${code})` : '';
      return {
        phase: 'failed',
        reason: 'POD_FAILURE_POLICY',
        message: `Job "${name}" was failed by a rule of its podFailurePolicy${exitText}: ${failure.message ?? 'no message'}; the rule marks this failure as not worth retrying, so fix its cause.`,
        ...exit,
        ...(code !== undefined ? { exitCode: code } : {}),
      };
    }
    default:
      return {
        phase: 'failed',
        reason: 'JOB_FAILED',
        message: `Job "${name}" failed: ${failure.reason ?? 'no reason given'}${said}; see \`kubectl describe job ${name}\`.`,
        ...exit,
      };
  }
}

/** Why the retries ran out, from the last failed pod. */
function backoffCause(
  job: Job,
  pod: PodRecord | undefined,
  state: BlockState,
): Extract<JobOutcome, { phase: 'failed' }> {
  const backoffLimit = job.spec?.backoffLimit ?? KUBERNETES_DEFAULT_BACKOFF_LIMIT;
  const failedCount = Math.max(countedFailures(job) ?? state.failedPods, 1);
  const tally = `after ${failedCount} of ${backoffLimit + 1} allowed pods failed`;
  const terminated = pod?.terminated;
  if (terminated?.reason === 'OOMKilled') {
    const limit = pod?.memoryLimit
      ? `its memory limit of ${pod.memoryLimit}`
      : 'the memory of its node (it has no memory limit)';
    return {
      phase: 'failed',
      reason: 'OOM_KILLED',
      message: `Container "${terminated.containerName}" was killed for using more than ${limit} (OOMKilled, exit code ${terminated.exitCode}) ${tally}; raise resource_limits.memory or make the block use less memory.`,
    };
  }
  if (pod?.podReason === 'Evicted') {
    return {
      phase: 'failed',
      reason: 'EVICTED',
      message: `Pod "${pod.name}" was evicted by the kubelet: ${pod.podMessage ?? 'no message'} (${tally}); set resource requests that match the block's real use, or run it on nodes with more room.`,
    };
  }
  if (pod?.podReason === 'DeadlineExceeded') {
    return {
      phase: 'failed',
      reason: 'DEADLINE_EXCEEDED',
      message: `Pod "${pod.name}" ran longer than its activeDeadlineSeconds: ${pod.podMessage ?? 'no message'} (${tally}); raise the deadline or make the block faster.`,
    };
  }
  if (terminated && terminated.exitCode !== 0) {
    // A container stopped because the cluster ended its pod (a drain, a preemption) did not fail on its own.
    const cause = pod ? podInfrastructureCause(pod) : undefined;
    const why = cause
      ? `its pod was ${infrastructureEvent(cause)} (${cause.reason}${cause.message ? `: ${cause.message}` : ''}), not failed by the block's code; running it again can succeed`
      : "the block's own code failed, see its last log lines";
    return {
      phase: 'failed',
      reason: 'EXIT_CODE',
      message: `Container "${terminated.containerName}" exited with code ${terminated.exitCode} ${tally}; ${why}.`,
    };
  }
  const which = pod ? ` (last failed pod "${pod.name}"${pod.podReason ? `: ${pod.podReason}` : ''})` : '';
  return {
    phase: 'failed',
    reason: 'BACKOFF_LIMIT_EXCEEDED',
    message: `Job "${state.jobName}" reached its backoffLimit of ${backoffLimit}: ${failedCount} pods failed${which}; see the pod events and logs in this result.`,
  };
}

/**
 * How many pods the Job controller counted against `backoffLimit`: its `failed` count plus the failed
 * pods it has not moved into it yet (`uncountedTerminatedPods.failed`: it may write `FailureTarget`
 * first). A pod its podFailurePolicy ignores (by default, one lost to a disruption) is in neither, so
 * this is the count the limit is about, not that of every pod seen failed. Undefined when the Job
 * says nothing of it.
 */
export function countedFailures(job: Job): number | undefined {
  const uncounted = (job.status?.['uncountedTerminatedPods'] as { failed?: unknown } | undefined)?.failed;
  const pending = Array.isArray(uncounted) ? uncounted.length : 0;
  const failed = job.status?.failed;
  return failed === undefined && pending === 0 ? undefined : (failed ?? 0) + pending;
}

/** The newest pod that failed. */
function lastFailedPod(state: BlockState): PodRecord | undefined {
  return newestPod(Object.values(state.pods).filter(isFailedPod));
}

function trueCondition(conditions: readonly Condition[], type: string): Condition | undefined {
  return conditions.find((c) => c.type === type && c.status === 'True');
}

/** The exit code a Job controller message mentions ("... failed with exit code 42 ..."). */
function exitCodeIn(message: string | undefined): number | undefined {
  const match = message?.match(/exit code (\d+)/);
  return match ? Number(match[1]) : undefined;
}
