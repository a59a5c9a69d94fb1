import type { Container, ContainerStatus, Pod } from '../types/kube.js';
import type { PodSummary } from './types.js';

/**
 * A {@link PodSummary} plus the few facts the monitor's messages need. Every extra field is optional,
 * so a record is stored in `BlockState.pods` as is and read back without a cast.
 */
export interface PodRecord extends PodSummary {
  /** Whether a container (init or regular) is running now. */
  running?: boolean;
  /** The container the waiting reason is about. */
  waitingContainer?: string;
  /** That container's image, as the pod spec names it. */
  waitingImage?: string;
  /** The memory limit of the terminated container (`512Mi`), when it had one. */
  memoryLimit?: string;
  /** The uid of the Job that owns the pod (its controller ownerReference). */
  ownerUid?: string;
  /**
   * The pod ended while its Job was suspended (Kueue preemption): the Job controller stopped it. It is
   * not a failure of the block and never the one a replacement is waited for.
   */
  preempted?: boolean;
  /**
   * The pod's `DisruptionTarget=True` condition (Kubernetes ≥ 1.26): the cluster is ending it, not the
   * block: preemption, an eviction through the API (node drain), a taint of its node, the pod
   * garbage collector after the node was lost, or the kubelet (node pressure, node shutdown).
   */
  disruption?: { reason: string; message?: string };
}

/** Image pull reasons the kubelet alternates between; one continuous wait for the grace period. */
const IMAGE_PULL_REASONS: ReadonlySet<string> = new Set(['ImagePullBackOff', 'ErrImagePull']);

/** Waiting reasons that are normal steps of starting a pod, not a problem. */
const ROUTINE_WAITING_REASONS: ReadonlySet<string> = new Set(['ContainerCreating', 'PodInitializing']);

/** True for the pod phases after which the pod never runs again. */
function isTerminalPodPhase(phase: string): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

/** The Job a pod belongs to: its job-name label, else its controlling Job. */
export function jobNameOfPod(pod: Pod): string | undefined {
  const labels = pod.metadata.labels ?? {};
  return (
    labels['batch.kubernetes.io/job-name'] ??
    labels['job-name'] ??
    pod.metadata.ownerReferences?.find((o) => o.controller && o.kind === 'Job')?.name
  );
}

/** True when `reason` is one of the alternating image pull reasons. */
export function isImagePullReason(reason: string | undefined): boolean {
  return reason !== undefined && IMAGE_PULL_REASONS.has(reason);
}

/**
 * Summarizes one observed pod. Times are clamped to `at` so that an API server clock running ahead
 * of ours never makes a timeout fire late (one running behind makes it fire early by the skew).
 *
 * - `createdAt`: the pod's `creationTimestamp`. Bounds "Pending with no container ever started".
 * - `waitingSince`: when this monitor first saw the current waiting reason (the API has no time for
 *   it); ErrImagePull and ImagePullBackOff count as one wait. For a Failed pod: when it was first
 *   seen failed, which bounds the wait for the Job's replacement pod.
 * - `unschedulable.since`: the PodScheduled=False condition's `lastTransitionTime`.
 * - `startedAt`: when the first container (init included) started.
 *
 * @param previous the record of the same pod from an earlier observation, whose clocks carry over.
 */
export function summarizePod(pod: Pod, at: number, previous?: PodRecord): PodRecord {
  const status = pod.status ?? {};
  const phase = status.phase ?? 'Pending';
  const statuses = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
  const main = mainContainerStatus(pod);
  const waiting = phase === 'Pending' || phase === 'Running' ? waitingContainer(pod, main) : undefined;
  const waitingReason = waiting?.state?.waiting?.reason;
  const terminated = terminatedContainer(pod, main);
  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
  const disruption = status.conditions?.find((c) => c.type === 'DisruptionTarget' && c.status === 'True');
  const started = statuses.find((s) => s.state?.running || s.state?.terminated);
  const startedText = started?.state?.running?.startedAt ?? started?.state?.terminated?.startedAt;
  const ownerUid = pod.metadata.ownerReferences?.find((o) => o.controller && o.kind === 'Job')?.uid;

  const record: PodRecord = {
    name: pod.metadata.name ?? '',
    phase,
    createdAt: serverTime(pod.metadata.creationTimestamp, at),
    running: statuses.some((s) => s.state?.running !== undefined),
  };
  if (ownerUid) record.ownerUid = ownerUid;
  if (waiting && waitingReason) {
    record.waitingReason = waitingReason;
    if (waiting.state?.waiting?.message) record.waitingMessage = waiting.state.waiting.message;
    record.waitingSince = sameWait(previous?.waitingReason, waitingReason)
      ? (previous?.waitingSince ?? at)
      : at;
    record.waitingContainer = waiting.name;
    const image = containerSpec(pod, waiting.name)?.image ?? waiting.image;
    if (image) record.waitingImage = image;
  }
  if (phase === 'Failed') {
    record.waitingSince = previous?.phase === 'Failed' ? (previous.waitingSince ?? at) : at;
  }
  if (terminated?.state?.terminated) {
    const t = terminated.state.terminated;
    record.terminated = {
      exitCode: t.exitCode,
      containerName: terminated.name,
      ...(t.reason ? { reason: t.reason } : {}),
      ...(t.message ? { message: t.message } : {}),
    };
    const memory = containerSpec(pod, terminated.name)?.resources?.limits?.memory;
    if (memory) record.memoryLimit = memory;
  }
  if (status.reason) record.podReason = status.reason;
  if (status.message) record.podMessage = status.message;
  if (disruption) {
    record.disruption = {
      reason: disruption.reason ?? 'DisruptionTarget',
      ...(disruption.message ? { message: disruption.message } : {}),
    };
  }
  if (phase === 'Pending' && scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    record.unschedulable = {
      ...(scheduled.message ? { message: scheduled.message } : {}),
      since: previous?.unschedulable?.since ?? serverTime(scheduled.lastTransitionTime, at),
    };
  }
  const startedAt = previous?.startedAt ?? (started ? serverTime(startedText, at) : undefined);
  if (startedAt !== undefined) record.startedAt = startedAt;
  return record;
}

/**
 * The record of a pod deleted before it reached a terminal phase: it is Failed from now on (the Job
 * controller counts it failed and makes a replacement). Terminal records are kept as they were.
 */
export function deletedPodRecord(record: PodRecord, at: number): PodRecord {
  if (isTerminalPodPhase(record.phase)) return record;
  const { running: _running, waitingReason: _r, waitingMessage: _m, unschedulable: _u, ...rest } = record;
  return {
    ...rest,
    phase: 'Failed',
    podReason: 'Deleted',
    podMessage: 'the pod was deleted before it finished',
    waitingSince: at,
  };
}

/** True when the pod failed on its own (not stopped by a suspension of its Job). */
export function isFailedPod(record: PodRecord): boolean {
  return record.phase === 'Failed' && record.preempted !== true;
}

/** The newest of `pods` by creation time (then by name, so the choice is stable). */
export function newestPod<T extends PodSummary>(pods: Iterable<T>): T | undefined {
  let newest: T | undefined;
  for (const pod of pods) {
    if (
      !newest ||
      pod.createdAt > newest.createdAt ||
      (pod.createdAt === newest.createdAt && pod.name > newest.name)
    ) {
      newest = pod;
    }
  }
  return newest;
}

/** The container the Job runs: the first one of the pod spec. */
function mainContainerStatus(pod: Pod): ContainerStatus | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  const mainName = pod.spec?.containers[0]?.name;
  return statuses.find((s) => s.name === mainName) ?? statuses[0];
}

/** The waiting container that explains the pod: a stuck one (init first), else the main one. */
function waitingContainer(pod: Pod, main: ContainerStatus | undefined): ContainerStatus | undefined {
  const all = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const stuck = all.find((s) => {
    const reason = s.state?.waiting?.reason;
    return reason !== undefined && !ROUTINE_WAITING_REASONS.has(reason);
  });
  return stuck ?? (main?.state?.waiting ? main : undefined);
}

/** The terminated main container, else an init container that failed (the main one then never ran). */
function terminatedContainer(pod: Pod, main: ContainerStatus | undefined): ContainerStatus | undefined {
  if (main?.state?.terminated) return main;
  return pod.status?.initContainerStatuses?.find((s) => (s.state?.terminated?.exitCode ?? 0) !== 0);
}

function containerSpec(pod: Pod, name: string): Container | undefined {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === name);
}

function sameWait(before: string | undefined, now: string): boolean {
  return before === now || (isImagePullReason(before) && isImagePullReason(now));
}

/** An API server timestamp in ms, never later than `at`; `at` when absent or unreadable. */
function serverTime(text: string | undefined, at: number): number {
  const parsed = text ? Date.parse(text) : Number.NaN;
  return Number.isNaN(parsed) ? at : Math.min(parsed, at);
}
