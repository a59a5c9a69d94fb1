import type { ErrorCode } from '../errors/codes.js';
import { isImagePullReason, newestPod, type PodRecord } from './pod-summary.js';
import type { BlockState, MonitorPolicy } from './types.js';

/** A time at which a waiting block fails, and how. */
export interface WaitingBound {
  /** When the bound is reached (ms, the Clock's time). */
  at: number;
  /** The reason code the block fails with. */
  reason: ErrorCode;
  /** What is wrong and what to do. */
  message: string;
  /** The container the reason is about, when it is about one. */
  containerName?: string;
}

/**
 * The Job controller waits 10 s, 20 s, 40 s … at most 6 min before it replaces a failed pod; the wait
 * for a replacement allows that on top of `noPodTimeoutMs`.
 */
const JOB_CONTROLLER_MAX_RETRY_DELAY_MS = 360_000;

/** Waiting reasons that can never resolve by waiting. */
const HOPELESS_IMAGE_REASONS: ReadonlySet<string> = new Set(['InvalidImageName', 'ErrImageNeverPull']);

/** Waiting reasons of a container that cannot be created (a missing Secret or ConfigMap, a bad mount). */
const CONTAINER_CONFIG_REASONS: ReadonlySet<string> = new Set([
  'CreateContainerConfigError',
  'CreateContainerError',
]);

/**
 * Every bound that applies to the block's current waiting state (none once it is final). Each waiting
 * state has one:
 *
 * | state of the newest pod | bound | reason |
 * |---|---|---|
 * | Job suspended (`spec.suspend`, e.g. Kueue; again after a preemption: pods or not) | since + `suspendedTimeoutMs` | `UNSCHEDULABLE` |
 * | no pod yet (pods stopped by a suspension do not count) | `submittedAt` (or resumed) `+ noPodTimeoutMs` | `POD_CREATE_FAILED` |
 * | failed, no replacement yet | failure seen (or resumed) + `noPodTimeoutMs` + 6 min | `POD_CREATE_FAILED` |
 * | InvalidImageName, ErrImageNeverPull | at once | `IMAGE_PULL_FAILED` |
 * | ImagePullBackOff / ErrImagePull | since + `imagePullGraceMs` | `IMAGE_PULL_FAILED` |
 * | CreateContainerConfigError / CreateContainerError | since + `containerConfigGraceMs` | `CONTAINER_CONFIG_ERROR` |
 * | PodScheduled=False, Unschedulable | since + `unschedulableTimeoutMs` | `UNSCHEDULABLE` |
 * | Pending, nothing running (any reason) | created (or waiting since, after init containers ran) + `pendingTimeoutMs` | `UNSCHEDULABLE` |
 */
export function waitingBounds(state: BlockState, policy: MonitorPolicy): WaitingBound[] {
  if (state.phase === 'succeeded' || state.phase === 'failed') return [];
  // Pods stopped by a suspension are no reason to wait for anything: after a resume, the Job controller
  // makes a new pod at once, under the no-pod bound.
  const pod: PodRecord | undefined = newestPod(
    Object.values(state.pods).filter((p: PodRecord) => !p.preempted),
  );
  // Suspended (phase `queued`, also again after a preemption): only the queue's bound, whatever pods existed.
  if (state.suspendedSince !== undefined) {
    return [
      {
        at: state.suspendedSince + policy.suspendedTimeoutMs,
        reason: 'UNSCHEDULABLE',
        message: `Job "${state.jobName}" stayed suspended for ${duration(policy.suspendedTimeoutMs)} (spec.suspend is true: a queue such as Kueue ${Object.keys(state.pods).length > 0 ? 'preempted it and did not admit it again' : 'did not admit it'}); check the queue's quota and \`kubectl describe job ${state.jobName}\`, or raise suspendedTimeoutMs.`,
      },
    ];
  }
  if (!pod) {
    return [
      {
        at: Math.max(state.submittedAt, state.resumedAt ?? 0) + policy.noPodTimeoutMs,
        reason: 'POD_CREATE_FAILED',
        message: `Job "${state.jobName}" has no pod ${duration(policy.noPodTimeoutMs)} after it was created: the Job controller cannot create one; check the namespace's ResourceQuota, the service account and admission webhooks with \`kubectl describe job ${state.jobName}\`.`,
      },
    ];
  }
  if (pod.phase === 'Failed') {
    const waitMs = policy.noPodTimeoutMs + JOB_CONTROLLER_MAX_RETRY_DELAY_MS;
    return [
      {
        at: Math.max(pod.waitingSince ?? pod.createdAt, state.resumedAt ?? 0) + waitMs,
        reason: 'POD_CREATE_FAILED',
        message: `Job "${state.jobName}" has made no new pod ${duration(waitMs)} after pod "${pod.name}" failed, and has not failed itself; check the namespace's ResourceQuota and \`kubectl describe job ${state.jobName}\`.`,
      },
    ];
  }
  return [...waitingReasonBounds(pod, policy), ...pendingBounds(pod, policy)];
}

/** The earliest of `bounds`, the first listed on a tie. */
export function earliestBound(bounds: readonly WaitingBound[]): WaitingBound | undefined {
  return bounds.reduce<WaitingBound | undefined>(
    (best, b) => (!best || b.at < best.at ? b : best),
    undefined,
  );
}

function waitingReasonBounds(pod: PodRecord, policy: MonitorPolicy): WaitingBound[] {
  const reason = pod.waitingReason;
  if (reason === undefined || pod.waitingSince === undefined) return [];
  const container = pod.waitingContainer ?? 'main';
  const image = pod.waitingImage ? `"${pod.waitingImage}"` : 'its image';
  const kubelet = `${reason}: ${pod.waitingMessage ?? 'no message'}`;
  const about = pod.waitingContainer ? { containerName: pod.waitingContainer } : {};
  if (HOPELESS_IMAGE_REASONS.has(reason)) {
    return [
      {
        at: pod.waitingSince,
        reason: 'IMAGE_PULL_FAILED',
        message: `Container "${container}" of pod "${pod.name}" cannot start with image ${image} (${kubelet}); fix the image name in the executor config.`,
        ...about,
      },
    ];
  }
  if (isImagePullReason(reason)) {
    return [
      {
        at: pod.waitingSince + policy.imagePullGraceMs,
        reason: 'IMAGE_PULL_FAILED',
        message: `Container "${container}" of pod "${pod.name}" could not pull image ${image} for ${duration(policy.imagePullGraceMs)} (${kubelet}); check the image name and tag, that the registry is reachable, and the imagePullSecrets.`,
        ...about,
      },
    ];
  }
  if (CONTAINER_CONFIG_REASONS.has(reason)) {
    return [
      {
        at: pod.waitingSince + policy.containerConfigGraceMs,
        reason: 'CONTAINER_CONFIG_ERROR',
        message: `Container "${container}" of pod "${pod.name}" could not be created for ${duration(policy.containerConfigGraceMs)} (${kubelet}); create the missing Secret or ConfigMap, or fix the env, envFrom or volume that refers to it.`,
        ...about,
      },
    ];
  }
  return [];
}

function pendingBounds(pod: PodRecord, policy: MonitorPolicy): WaitingBound[] {
  if (pod.phase !== 'Pending' || pod.running) return [];
  const bounds: WaitingBound[] = [];
  if (pod.unschedulable) {
    bounds.push({
      at: pod.unschedulable.since + policy.unschedulableTimeoutMs,
      reason: 'UNSCHEDULABLE',
      message: `Pod "${pod.name}" could not be scheduled for ${duration(policy.unschedulableTimeoutMs)}: ${pod.unschedulable.message ?? 'no message from the scheduler'}; lower the resource requests, fix the node selector, tolerations or affinity, or add nodes.`,
    });
  }
  // After init containers ran, the pod's age says nothing: bound the current wait instead.
  const since = pod.startedAt === undefined ? pod.createdAt : (pod.waitingSince ?? pod.startedAt);
  const last = pod.waitingReason
    ? ` (last waiting reason ${pod.waitingReason}: ${pod.waitingMessage ?? 'no message'})`
    : '';
  bounds.push({
    at: since + policy.pendingTimeoutMs,
    reason: 'UNSCHEDULABLE',
    message: `Pod "${pod.name}" stayed Pending for ${duration(policy.pendingTimeoutMs)} without starting${last}; see \`kubectl describe pod ${pod.name}\` for its events (volumes, node problems), or raise pendingTimeoutMs.`,
  });
  return bounds;
}

/** `90_000` → `1 min 30 s`. */
function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (minutes === 0) return `${rest} s`;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}
