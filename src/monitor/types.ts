import type { ErrorCode } from '../errors/codes.js';
import type { Job, Pod } from '../types/kube.js';

/**
 * Where a block's Job stands. `submitted`: created, no pod yet; `queued`: the Job is suspended
 * (`spec.suspend: true`: a queue such as Kueue holds it until it is admitted, or holds it again after
 * preempting it); `pending`: admitted or created, nothing runs yet (no pod, or a pod not started);
 * `running`: a container runs; then `succeeded` or `failed`.
 */
export type BlockPhase = 'submitted' | 'queued' | 'pending' | 'running' | 'succeeded' | 'failed';

/** A span of time (ms, the Clock's time), `from` ≤ `to`. */
export interface TimeInterval {
  /** The start (ms). */
  from: number;
  /** The end (ms). */
  to: number;
}

/** Timeouts and graces of the monitor. Every waiting state has a bound. */
export interface MonitorPolicy {
  /** Fail when a pod stays unschedulable this long. @default 300_000 (5 min) */
  unschedulableTimeoutMs: number;
  /** Fail when the Job has no pod this long after creation (quota, missing service account...). @default 300_000 */
  noPodTimeoutMs: number;
  /** Grace before ImagePullBackOff / ErrImagePull fails the block. InvalidImageName fails at once. @default 60_000 */
  imagePullGraceMs: number;
  /** Grace before CreateContainerConfigError fails the block (a missing Secret may appear). @default 30_000 */
  containerConfigGraceMs: number;
  /** Fail when a pod stays Pending for any other reason this long. @default 900_000 (15 min) */
  pendingTimeoutMs: number;
  /**
   * How long a Job failure without a known cause waits for its last failed pod to be observed (the
   * Jobs and Pods watches are separate streams, so the Job's `Failed` may arrive first). @default 5_000
   */
  podOutcomeGraceMs: number;
  /**
   * Fail when the Job stays suspended (`spec.suspend: true`, e.g. queued by Kueue until quota frees up)
   * this long. While suspended, the no-pod bound does not run; it restarts when the Job is resumed.
   * @default 3_600_000 (1 h)
   */
  suspendedTimeoutMs: number;
}

/** What is known about one pod of the Job. */
export interface PodSummary {
  /** The pod's name. */
  name: string;
  /** The pod's phase (`Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`). */
  phase: string;
  /** Waiting reason of the main container (ImagePullBackOff, ...), when waiting. */
  waitingReason?: string;
  /** The message of that waiting reason. */
  waitingMessage?: string;
  /** Since when the current waiting reason / pending state holds (ms). */
  waitingSince?: number;
  /** How the main container (or the init container that failed) terminated, when it did. */
  terminated?: { exitCode: number; reason?: string; message?: string; containerName: string };
  /** Pod-level failure reason (Evicted, DeadlineExceeded...). */
  podReason?: string;
  /** The message of that pod-level reason. */
  podMessage?: string;
  /** The PodScheduled=False reason (Unschedulable) and message. */
  unschedulable?: { message?: string; since: number };
  /** When the pod was created (ms). */
  createdAt: number;
  /** When its first container (init containers included) started (ms), when one did. */
  startedAt?: number;
}

/** The pure state of one monitored block. Immutable: the reducer returns a new value. */
export interface BlockState {
  /** The Job's name. */
  jobName: string;
  /** Where the Job stands. */
  phase: BlockPhase;
  /** When the final phase is `failed`: the reason code. */
  reason?: ErrorCode;
  /** One sentence that explains the reason (with names, exit codes, quantities). */
  message?: string;
  /** The main container's exit code, when it terminated. */
  exitCode?: number;
  /** The name of the container the reason is about. */
  containerName?: string;
  /** Pods seen, by name. */
  pods: Readonly<Record<string, PodSummary>>;
  /** The newest pod (for logs). */
  currentPod?: string;
  /** The Job's uid once seen (or known from the create). */
  jobUid?: string;
  /**
   * The resourceVersion our create (or adoption) returned: events of a Job of the same name that are
   * older than it belong to an earlier Job (deleted before ours was created) and are ignored.
   * @internal
   */
  createdVersion?: string;
  /** When the Job was created or adopted (ms). */
  submittedAt: number;
  /** When its first container started running (ms). */
  startedAt?: number;
  /** When its final phase was seen (ms). */
  finishedAt?: number;
  /**
   * When Kubernetes wrote the Job's final condition (its `lastTransitionTime`: the API server's clock, to
   * the second), for detection-latency metrics; `finishedAt` is when it was seen.
   */
  finalConditionAt?: number;
  /** Failed pods (retries used): the Job's own count once it reports one, else the failed pods seen. */
  failedPods: number;
  /**
   * The Job's own count of failed pods (`status.failed`), once it reports one: the authority on what
   * `backoffLimit` spent (pods a podFailurePolicy ignores, such as evicted ones, are not in it).
   * @internal
   */
  jobFailed?: number;
  /**
   * Set while a Job failure waits for its last failed pod to be observed: the Job as last seen and
   * when the wait began (bounded by `podOutcomeGraceMs`).
   * @internal
   */
  heldFailure?: { job: Job; since: number };
  /** Since when the Job is suspended (`spec.suspend: true`), while it is: the phase is `queued`. */
  suspendedSince?: number;
  /**
   * Each earlier suspension that was lifted (the Job admitted), in order: one per time it was queued, a
   * preempted Job has several. The one in progress is {@link BlockState.suspendedSince}.
   */
  queued?: readonly TimeInterval[];
  /** When the Job was last resumed after being suspended: the no-pod bound counts from here. @internal */
  resumedAt?: number;
}

/** One input to the reducer. `at` is the clock's now() when it was observed. */
export type Observation =
  | { kind: 'job'; job: Job; at: number }
  | { kind: 'job-deleted'; at: number; uid?: string; resourceVersion?: string }
  | { kind: 'pod'; pod: Pod; at: number }
  | { kind: 'pod-deleted'; podName: string; at: number }
  | { kind: 'tick'; at: number }
  /**
   * The shared watch cannot list the namespace (401/403/404 from the first list, or on every list for
   * the hub's `unlistableTimeoutMs`): nothing can be observed; the follow fails with that error.
   */
  | { kind: 'unobservable'; error: unknown; at: number };

/** Emitted on every phase change. */
export interface BlockTransition {
  from: BlockPhase;
  to: BlockPhase;
  state: BlockState;
}
