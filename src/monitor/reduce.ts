import type { Job, Pod } from '../types/kube.js';
import { countedFailures, jobOutcome } from './job-outcome.js';
import { deletedPodRecord, isFailedPod, newestPod, type PodRecord, summarizePod } from './pod-summary.js';
import { isNewerVersion } from './resource-version.js';
import type { BlockPhase, BlockState, MonitorPolicy, Observation } from './types.js';
import { earliestBound, waitingBounds } from './waiting-bounds.js';

/**
 * The monitor's default bounds. Every waiting state has one, so no block waits forever (Mage polls a
 * Pending pod forever; Dagster hangs when a Job never gets a pod, dagster#24595).
 */
export const defaultMonitorPolicy: MonitorPolicy = Object.freeze({
  /**
   * 5 min: long enough for a cluster autoscaler to add a node (1–3 min), short enough that a request
   * no node can ever satisfy is reported the same hour. Airflow's schedule timeout is 120 s; Argo's
   * pendingTimeout is off unless set.
   */
  unschedulableTimeoutMs: 300_000,
  /**
   * 5 min: the Job controller makes a pod within seconds; a Job still without one is blocked by a
   * quota, a missing service account or a webhook (the Dagster hang). Also bounds a Job whose failed
   * pod is never replaced (plus the controller's 6 min retry delay).
   */
  noPodTimeoutMs: 300_000,
  /**
   * 1 min: the kubelet retries pulls with a growing backoff and a registry hiccup clears within a
   * minute; a wrong tag never does. Prefect waits 60 s, Flyte 3 min; Airflow fails at once.
   * InvalidImageName fails at once whatever this is.
   */
  imagePullGraceMs: 60_000,
  /**
   * 30 s: a Secret or ConfigMap created next to the Job may land seconds later; a missing one stays
   * missing. Dagster waits forever; Flyte fails at once.
   */
  containerConfigGraceMs: 30_000,
  /**
   * 15 min: the cap on Pending for any reason without a specific bound (volumes that never attach,
   * ContainerCreating forever: airflow#15218). The specific bounds above fire first.
   */
  pendingTimeoutMs: 900_000,
  /**
   * 5 s: the pod watch normally delivers the failed pod within milliseconds of the Job's condition;
   * after this the failure is reported without the pod's exit code.
   */
  podOutcomeGraceMs: 5_000,
  /**
   * 1 h: a queue (Kueue) may hold a Job while quota is used by others; an hour without admission means
   * the quota or the queue needs a person. Airflow only sets `suspend`; nobody bounds it.
   */
  suspendedTimeoutMs: 3_600_000,
});

/**
 * The state of a Job just created: no pod yet. `created` is the Job as the create (or adoption)
 * returned it, when known: its uid and resourceVersion tell our Job from an earlier one of that name.
 */
export function initialBlockState(
  jobName: string,
  submittedAt: number,
  created?: { uid?: string; resourceVersion?: string },
): BlockState {
  return {
    jobName,
    phase: 'submitted',
    pods: {},
    submittedAt,
    failedPods: 0,
    ...(created?.uid ? { jobUid: created.uid } : {}),
    ...(created?.resourceVersion ? { createdVersion: created.resourceVersion } : {}),
  };
}

/** True when `phase` is `succeeded` or `failed`: nothing changes it any more. */
export function isFinalPhase(phase: BlockPhase): boolean {
  return phase === 'succeeded' || phase === 'failed';
}

/**
 * Folds one observation into the state of a block. Pure: returns a new value and never mutates
 * `state`; a final state is returned as is, whatever is observed.
 *
 * Phases: `submitted` (no pod yet) → `pending` (the newest pod exists, nothing runs; also after a pod
 * failed while the Job may still retry) → `running` (a container runs, or the pod succeeded and the
 * Job is about to complete) → `succeeded` | `failed`. A replacement pod goes back to pending/running.
 * A suspended Job (`spec.suspend: true`: Kueue holds it) is `queued`, whatever its pods; once admitted
 * it is `pending` until a container runs, then `running`; a preempted Job (suspended again) goes back
 * to `queued`. Each suspension lifted is kept in `queued` (the one in progress is `suspendedSince`).
 *
 * Final states:
 * - from the Job's conditions (see `jobOutcome`): `Complete`/`SuccessCriteriaMet` → succeeded;
 *   `Failed`/`FailureTarget` → failed with `OOM_KILLED`, `EVICTED`, `EXIT_CODE`,
 *   `BACKOFF_LIMIT_EXCEEDED`, `DEADLINE_EXCEEDED`, `POD_FAILURE_POLICY` or `JOB_FAILED`.
 *   A failed pod alone is not final: `backoffLimit` retries are honoured (unlike Mage);
 * - from a waiting bound reached at the observation's time (see `waitingBounds`): `IMAGE_PULL_FAILED`,
 *   `CONTAINER_CONFIG_ERROR`, `UNSCHEDULABLE`, `POD_CREATE_FAILED`. The Job itself has not failed,
 *   so the caller deletes it;
 * - `job-deleted`, or a Job of the same name with another uid → `JOB_DELETED`.
 *
 * `tick` observations only let time pass: they end a block whose bound is reached.
 */
export function reduce(state: BlockState, observation: Observation, policy: MonitorPolicy): BlockState {
  if (isFinalPhase(state.phase)) return state;
  const at = observation.at;
  switch (observation.kind) {
    case 'job':
      return applyJob(state, observation.job, at, policy);
    case 'job-deleted':
      if (isEarlierJob(state, observation.uid, observation.resourceVersion)) return state;
      return fail(state, at, {
        reason: 'JOB_DELETED',
        message: `Job "${state.jobName}" was deleted before it finished (by kubectl, a TTL or another process); re-run the block, and find who deleted it in the API server's audit log if it was not you.`,
      });
    case 'pod':
      return settle(retryHeld(applyPod(state, observation.pod, at), at, policy), at, policy);
    case 'pod-deleted': {
      const record: PodRecord | undefined = state.pods[observation.podName];
      if (!record) return settle(state, at, policy);
      return settle(
        withPods(state, {
          ...state.pods,
          [record.name]: whileSuspended(state, deletedPodRecord(record, at)),
        }),
        at,
        policy,
      );
    }
    case 'tick':
      return settle(retryHeld(state, at, policy), at, policy);
    case 'unobservable':
      // Not the block's fault and not a block outcome: the driver (followJob) fails the follow.
      return state;
  }
}

/**
 * The earliest time at which a `tick` could change `state` (a waiting bound), or undefined when only a
 * new observation can (the state is final, or the pod runs).
 */
export function nextDeadline(state: BlockState, policy: MonitorPolicy): number | undefined {
  if (isFinalPhase(state.phase)) return undefined;
  const bound = earliestBound(waitingBounds(state, policy))?.at;
  const held = state.heldFailure ? state.heldFailure.since + policy.podOutcomeGraceMs : undefined;
  if (bound === undefined) return held;
  return held === undefined ? bound : Math.min(bound, held);
}

/**
 * True for an event of another Job of the same name that is older than ours: one deleted before ours
 * was created (the name can only be reused once the old Job is gone), still in the shared cache.
 */
function isEarlierJob(state: BlockState, uid: string | undefined, version: string | undefined): boolean {
  return (
    state.jobUid !== undefined &&
    uid !== undefined &&
    uid !== state.jobUid &&
    isNewerVersion(state.createdVersion, version)
  );
}

function applyJob(state: BlockState, job: Job, at: number, policy: MonitorPolicy): BlockState {
  const uid = job.metadata.uid;
  if (isEarlierJob(state, uid, job.metadata.resourceVersion)) return settle(state, at, policy);
  if (state.jobUid && uid && uid !== state.jobUid) {
    return fail(state, at, {
      reason: 'JOB_DELETED',
      message: `Job "${state.jobName}" was deleted and replaced by another Job of the same name (uid ${uid}) before it finished; make sure one run does not start twice, then re-run the block.`,
    });
  }
  const seen: BlockState = derive({
    ...withSuspension(state, job.spec?.suspend === true, at),
    ...(uid ? { jobUid: uid } : {}),
    ...withJobFailed(state, countedFailures(job)),
  });
  const outcome = jobOutcome(job, seen);
  if (!outcome) return settle(seen, at, policy);
  if (
    outcome.phase === 'failed' &&
    outcome.reason === 'BACKOFF_LIMIT_EXCEEDED' &&
    lastFailureUnseen(seen, job)
  ) {
    const since = state.heldFailure?.since ?? at;
    // The Job's Failed arrived before its last failed pod: wait (briefly) to report the real cause.
    if (at < since + policy.podOutcomeGraceMs)
      return settle({ ...seen, heldFailure: { job: outcomeFields(job), since } }, at, policy);
  }
  const { phase, ...details } = outcome;
  const { heldFailure: _done, ...rest } = seen;
  const conditionAt = finalConditionTime(job);
  return {
    ...rest,
    ...details,
    phase,
    finishedAt: at,
    ...(conditionAt !== undefined ? { finalConditionAt: conditionAt } : {}),
  };
}

/** Tracks `spec.suspend`: since when it holds, each suspension lifted, and when it was last lifted. */
function withSuspension(state: BlockState, suspended: boolean, at: number): BlockState {
  if (suspended) return state.suspendedSince === undefined ? { ...state, suspendedSince: at } : state;
  if (state.suspendedSince === undefined) return state;
  const { suspendedSince: from, ...rest } = state;
  return { ...rest, queued: [...(state.queued ?? []), { from, to: at }], resumedAt: at };
}

/** What deciding a Job's outcome reads: the state never keeps the pod template (env values may be secrets). */
function outcomeFields(job: Job): Job {
  const { name, uid } = job.metadata;
  const { backoffLimit, activeDeadlineSeconds } = job.spec ?? {};
  const suspend = job.spec?.suspend;
  return {
    metadata: { ...(name ? { name } : {}), ...(uid ? { uid } : {}) },
    spec: {
      ...(backoffLimit !== undefined ? { backoffLimit } : {}),
      ...(activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds } : {}),
      // Re-deciding a held failure must not read as the Job's admission.
      ...(typeof suspend === 'boolean' ? { suspend } : {}),
      template: { spec: { containers: [] } },
    },
    ...(job.status ? { status: job.status } : {}),
  };
}

/** True when the Job counts more failed pods than have been seen failing. */
function lastFailureUnseen(state: BlockState, job: Job): boolean {
  const seenFailed = Object.values(state.pods).filter(isFailedPod).length;
  return seenFailed < (job.status?.failed ?? 0);
}

/** Re-decides a held Job failure with what is known now (a new pod state, or the grace ran out). */
function retryHeld(state: BlockState, at: number, policy: MonitorPolicy): BlockState {
  return state.heldFailure ? applyJob(state, state.heldFailure.job, at, policy) : state;
}

function applyPod(state: BlockState, pod: Pod, at: number): BlockState {
  const name = pod.metadata.name;
  if (!name) return state;
  const record = summarizePod(pod, at, state.pods[name]);
  // A pod left over from an earlier Job of the same name is not ours.
  if (state.jobUid && record.ownerUid && record.ownerUid !== state.jobUid) return state;
  return withPods(state, { ...state.pods, [name]: whileSuspended(state, record) });
}

/**
 * A pod that ends while its Job is suspended was stopped by the Job controller (Kueue preempted the
 * workload): marked `preempted`, so it is neither counted as a failed pod nor waited on for a replacement.
 */
function whileSuspended(state: BlockState, record: PodRecord): PodRecord {
  const previous: PodRecord | undefined = state.pods[record.name];
  if (previous?.preempted) return { ...record, preempted: true };
  if (state.suspendedSince === undefined || record.phase !== 'Failed') return record;
  return { ...record, preempted: true };
}

/** The state with new pod records and what follows from them. */
function withPods(state: BlockState, pods: Readonly<Record<string, PodRecord>>): BlockState {
  return derive({ ...state, pods });
}

/** The Job's count of failed pods, which only grows (an older event of the same Job may come late). */
function withJobFailed(state: BlockState, counted: number | undefined): Partial<BlockState> {
  return counted === undefined ? {} : { jobFailed: Math.max(state.jobFailed ?? 0, counted) };
}

/** What follows from the pods and the suspension of a non-final state: current pod, phase, counts, start. */
function derive(state: BlockState): BlockState {
  if (isFinalPhase(state.phase)) return state;
  const pods = Object.values(state.pods);
  const current = newestPod(pods);
  const failed = pods.filter(isFailedPod).length;
  const phase = blockPhase(state, current);
  const startedAt = state.startedAt ?? (phase === 'running' ? current?.startedAt : undefined);
  return {
    ...state,
    phase,
    // The Job's count once it has one (it knows which failures its podFailurePolicy ignored), else the pods'.
    failedPods: state.jobFailed ?? Math.max(state.failedPods, failed),
    ...(current ? { currentPod: current.name } : {}),
    ...(startedAt !== undefined ? { startedAt } : {}),
  };
}

/**
 * A suspended Job is queued, whatever its pods (a preempted pod may still be stopping). Without a pod,
 * a Job admitted from the queue is pending (its pod is on its way), one never queued just submitted.
 */
function blockPhase(state: BlockState, current: PodRecord | undefined): BlockPhase {
  if (state.suspendedSince !== undefined) return 'queued';
  if (current) return podBlockPhase(current);
  return state.resumedAt !== undefined ? 'pending' : 'submitted';
}

function podBlockPhase(pod: PodRecord): BlockPhase {
  if (pod.phase === 'Failed') return 'pending'; // waiting for the replacement, or for the Job to fail
  if (pod.running || pod.phase !== 'Pending') return 'running';
  return 'pending';
}

/** Ends the block when a waiting bound is reached at `at`. */
function settle(state: BlockState, at: number, policy: MonitorPolicy): BlockState {
  const due = earliestBound(waitingBounds(state, policy).filter((b) => b.at <= at));
  if (!due) return state;
  return fail(state, at, {
    reason: due.reason,
    message: due.message,
    ...(due.containerName ? { containerName: due.containerName } : {}),
  });
}

function fail(
  state: BlockState,
  at: number,
  details: Required<Pick<BlockState, 'reason' | 'message'>> & Pick<BlockState, 'containerName'>,
): BlockState {
  return { ...state, ...details, phase: 'failed', finishedAt: at };
}

/** The `lastTransitionTime` of the Job's final condition (Complete, SuccessCriteriaMet, Failed, FailureTarget). */
function finalConditionTime(job: Job): number | undefined {
  const final = new Set(['Complete', 'SuccessCriteriaMet', 'Failed', 'FailureTarget']);
  const times = (job.status?.conditions ?? [])
    .filter((c) => c.status === 'True' && final.has(c.type) && c.lastTransitionTime)
    .map((c) => Date.parse(c.lastTransitionTime!))
    .filter((t) => !Number.isNaN(t));
  return times.length > 0 ? Math.min(...times) : undefined;
}
