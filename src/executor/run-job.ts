import { isK8sExecutorError, K8sExecutorError } from '../errors/base.js';
import { isolateCallback } from '../errors/isolate-callback.js';
import { followJob } from '../monitor/follow-job.js';
import type { BlockState, MonitorPolicy } from '../monitor/types.js';
import type { WatchHubs } from '../monitor/watch-hub.js';
import { type Clock, TIMER_STOPPED } from '../ports/clock.js';
import type { JobClient } from '../ports/job-client.js';
import type { Job } from '../types/kube.js';
import type { RunIdentity } from '../types/run.js';
import { terminationSeen } from './block-output.js';
import { type Cleanup, deleteRunJob } from './job-cleanup.js';
import { withPodsRead } from './job-diagnostics.js';
import { cancelledResult, detectionOf, finishedResult } from './job-result.js';
import { type CreateGate, readRunJob, submitJob } from './job-submission.js';
import { leavingJobRunning } from './left-running.js';
import { LogFollower } from './log-follower.js';
import { PodEndWait } from './pod-end-wait.js';
import type { SubmissionSlots } from './submission-slots.js';
import type { BlockEvent, BlockResult, ExecuteOptions } from './types.js';

/** What running one Job needs from its executor. */
export interface JobRunnerDeps {
  jobClient: JobClient;
  clock: Clock;
  hubs: WatchHubs;
  policy: MonitorPolicy;
  /** Log lines kept in the result. */
  logTailLines: number;
  /** How long to let log streams drain after the final state before stopping them. */
  logDrainMs: number;
  /** Bounds the Jobs being submitted at once (their bodies exist only meanwhile). */
  submissions: SubmissionSlots;
  /**
   * Aborts when the executor is closed: a drain in progress stops waiting. Each close puts a new signal
   * here for the runs that start after it; a run reads it when it starts.
   */
  closed: AbortSignal;
}

/** A built Job and who it is for. */
export interface PreparedJob {
  /** The Job, exactly as it is sent to the API server. */
  job: Job;
  /** Its name. */
  jobName: string;
  /** Its namespace. */
  namespace: string;
  /** The block's container (the one whose logs and exit code make the result). */
  containerName: string;
  /** The run it is for. */
  identity: RunIdentity;
  /** The cluster id in its name and labels. */
  clusterId: string;
  /** `block`: one block's Job; `pipeline`: the whole pipeline as one Job. */
  kind: 'block' | 'pipeline';
}

/**
 * A Job being run, once it is built: what the run needs of it besides its body. The body (the whole
 * Job) is needed only until it is submitted; a block running for hours does not hold it.
 */
export type RunningJob = Omit<PreparedJob, 'job'> & {
  /** The Job sets `ttlSecondsAfterFinished`: Kubernetes deletes it, the run does not. */
  ttlSet: boolean;
};

/**
 * How to make the body of a Job to submit: called once the run holds a submission slot, then emptied,
 * so that nothing holds the body before its create is sent, nor after it was answered.
 */
export interface JobBody {
  build: (() => Job) | undefined;
}

/** How a run came to its submission: what it waited for its turn under, since when, with the slot it got. */
export interface SubmissionTurn {
  /** The executor's close signal when the run began (a close makes a new one for the runs after it). */
  closed: AbortSignal;
  /** When the run began waiting for its turn: the attempt's start, and its queue time until the create. */
  since: number;
  /**
   * The submission slot it holds for its first create, given back once that create is answered; none
   * when the wait was cut by a cancel or a close (the run then ends before any create).
   */
  slot?: () => void;
}

/**
 * How long a run cancelled during its submission lets the create (or the adoption read) in flight
 * settle: an abort only stops the client's wait, the API server may still commit the Job (admission
 * webhooks take up to 30 s), and what was created must be known to be deleted.
 */
export const CREATE_SETTLE_MS = 30_000;

/**
 * Creates (or adopts) a Job, follows it to a final state through the shared watch (reported at once
 * through `onDetected`), captures its diagnostics, and cleans up. Failures of the block are results;
 * only problems that make the run impossible (API errors, a foreign Job with our name, a namespace that
 * cannot be listed) are thrown.
 * Every delete names the uid of the Job this run created or adopted: no other Job is ever deleted.
 */
export async function runPreparedJob(
  deps: JobRunnerDeps,
  prepared: RunningJob,
  body: JobBody,
  options: ExecuteOptions = {},
  turn: SubmissionTurn = { closed: deps.closed, since: deps.clock.now() },
): Promise<BlockResult> {
  const { jobClient, clock } = deps;
  const { closed } = turn;
  const { namespace, jobName } = prepared;
  const { signal } = options;
  const onEvent = isolateCallback('onEvent', options.onEvent);
  const emit = (type: BlockEvent['type'], state?: BlockState) =>
    onEvent?.({ type, jobName, namespace, at: clock.now(), ...(state ? { state } : {}) });
  /** When the create was sent (its slot granted); until then, when the run began. */
  let submittedAt = turn.since;
  /** The monitor's last state, while the Job is followed: a cancel still reports the time queued. */
  let followed: BlockState | undefined;
  const cancelled = (when: string, cleanup: Cleanup, adopted = false) =>
    cancelledResult(prepared, {
      submittedAt,
      finishedAt: clock.now(),
      when,
      cleanup,
      adopted,
      ...(followed ? { state: followed } : {}),
    });

  if (signal?.aborted) {
    turn.slot?.();
    return cancelled('before submission', { kind: 'not-submitted' });
  }
  const submission = await submitSettled(deps, prepared, body, signal, closed, turn.slot);
  if ('notSent' in submission) return cancelled('before submission', { kind: 'not-submitted' });
  if ('cleanup' in submission) {
    emit('cancelled');
    return cancelled('during submission', submission.cleanup);
  }
  const { adopted, uid, resourceVersion } = submission;
  submittedAt = submission.sentAt;
  if (signal?.aborted) {
    const cleanup = await deleteRunJob(jobClient, namespace, jobName, uid, 'Foreground');
    emit('cancelled');
    return cancelled('during submission', cleanup, adopted);
  }
  emit(adopted ? 'adopted' : 'submitted');
  if (closed.aborted) {
    // Closed while the create was on its way: a shutdown as for a running Job, and no watch is opened
    // again after the close (the shared watches are not restarted for it).
    throw new K8sExecutorError(
      'CANCELLED',
      `The executor was closed while Job "${jobName}" was being created; the Job keeps running.`,
      {
        hint: 'Execute the same block run again (same ids and attempt) to adopt it, or delete it.',
        jobLeftRunning: { namespace, name: jobName, ...(uid ? { uid } : {}) },
      },
    );
  }

  const follower = new LogFollower({
    jobClient,
    clock,
    namespace,
    jobName,
    container: prepared.containerName,
    keepLines: deps.logTailLines,
    onLog: isolateCallback('onLog', options.onLog),
  });
  const hub = deps.hubs.hub(namespace);
  /**
   * Listens for the pod's end after a success seen before it (see withPodEnd). Subscribed at the
   * success itself, while the follow's own subscription still holds the shared watch open.
   */
  let podEnd: PodEndWait | undefined;
  // Continued by callbacks, not awaited: a block running for hours keeps no suspended function here.
  return followJob({
    hub,
    jobName,
    clock,
    policy: deps.policy,
    submittedAt,
    created: { ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}) },
    ...(signal ? { signal } : {}),
    onTransition: (t) => {
      if (t.to === 'succeeded' && !terminationSeen(t.state, prepared.containerName))
        podEnd ??= new PodEndWait(hub, jobName, clock);
      emit(t.to, t.state);
    },
    onState: (s) => {
      followed = s;
      follower.observe(s);
    },
  }).then(
    async function onFollowed(followedTo) {
      const state = await withPodEnd(deps, prepared, followedTo, { podEnd, uid, closed });
      const detection = detectionOf(prepared, state, { submittedAt, adopted, now: clock.now() });
      isolateCallback('onDetected', options.onDetected)?.(detection);
      return finishedResult(deps, prepared, options, { state, detection, uid, follower, closed });
    },
    async function onFollowFailed(error: unknown) {
      podEnd?.dispose();
      await follower.abort();
      if (signal?.aborted) {
        const cleanup = await deleteRunJob(jobClient, namespace, jobName, uid, 'Foreground');
        emit('cancelled');
        return cancelled('while running', cleanup, adopted);
      }
      if (isK8sExecutorError(error) && error.code === 'CANCELLED') {
        // The executor was closed (a shutdown, not a cancel): like a crash, the Job is left to finish,
        // and the next executor adopts it.
        throw new K8sExecutorError(
          'CANCELLED',
          `The executor was closed while Job "${jobName}" was running; the Job keeps running.`,
          {
            cause: error,
            hint: 'Execute the same block run again (same ids and attempt) to adopt it, or delete it.',
            jobLeftRunning: { namespace, name: jobName, ...(uid ? { uid } : {}) },
          },
        );
      }
      // The Job cannot be followed (its namespace cannot be listed). It may well finish: whether to
      // delete it is the user's choice, never ours.
      throw leavingJobRunning(
        error,
        { namespace, name: jobName, ...(uid ? { uid } : {}) },
        `Job "${jobName}" in namespace "${namespace}" was left running: once the access is fixed, run the same block run again to adopt it, or delete it with \`kubectl delete job ${jobName} -n ${namespace}\`.`,
      );
    },
  );
}

/**
 * A success seen before its pod's end (the Jobs watch ahead of the Pods watch): waits for that end on
 * the shared watch, at most `podOutcomeGraceMs`, else reads the Job's pods once, for the exit code and
 * the termination message. Any other state is returned as it is. The wait's subscription is made at the
 * success (the hub replays the pods it cached): a running block holds no second one. Disposes `podEnd`.
 */
async function withPodEnd(
  deps: JobRunnerDeps,
  prepared: RunningJob,
  state: BlockState,
  run: {
    podEnd: PodEndWait | undefined;
    uid: string | undefined;
    closed: AbortSignal;
  },
): Promise<BlockState> {
  const { uid } = run;
  if (state.phase !== 'succeeded' || terminationSeen(state, prepared.containerName)) {
    run.podEnd?.dispose();
    return state;
  }
  // Only a close stops it: a cancel after the final state changes no outcome, exit code and output included.
  const stop = run.closed;
  const podEnd =
    run.podEnd ?? new PodEndWait(deps.hubs.hub(prepared.namespace), prepared.jobName, deps.clock);
  try {
    const seen = await podEnd.until(state, prepared.containerName, uid, deps.policy.podOutcomeGraceMs, stop);
    if (seen || stop.aborted) return seen ?? state;
    return await withPodsRead(deps.jobClient, prepared.namespace, state, uid, deps.clock.now());
  } finally {
    podEnd.dispose();
  }
}

/** A submission that went through: whether an existing Job was adopted, and what the run follows it by. */
interface Submitted {
  adopted: boolean;
  uid?: string;
  resourceVersion?: string;
  /** When its (first) create was sent. */
  sentAt: number;
}

/**
 * Submits the Job, letting the requests in flight settle (at most {@link CREATE_SETTLE_MS}) when the
 * run is cancelled meanwhile. When the submission failed and the run was cancelled, the name is read
 * again: a Job of this run that got created is deleted (by uid), any other is left alone. `slot`, a
 * submission slot the run already holds, serves its first create; it is given back in every case.
 * @throws what the submission throws, when the run was not cancelled.
 */
async function submitSettled(
  deps: JobRunnerDeps,
  prepared: RunningJob,
  body: JobBody,
  signal: AbortSignal | undefined,
  closed: AbortSignal,
  slot: (() => void) | undefined,
): Promise<Submitted | { cleanup: Cleanup } | { notSent: true }> {
  const { jobClient, clock } = deps;
  const { build } = body;
  let held = slot;
  if (!build) {
    held?.();
    throw new Error(`Job "${prepared.jobName}" was submitted already`);
  }
  body.build = undefined;
  let job: Job | undefined;
  let sentAt: number | undefined;
  // Each create holds a slot; the waits between creates (an earlier Job being deleted) do not.
  const gate: CreateGate = async (create) => {
    const release = held ?? (await deps.submissions.acquire(closed, signal));
    held = undefined;
    try {
      if (signal?.aborted) throw signal.reason;
      if (closed.aborted) throw closedBeforeCreate(prepared);
      sentAt ??= clock.now();
      return await create();
    } finally {
      release();
    }
  };
  const settle = abortAfter(signal, clock, CREATE_SETTLE_MS);
  try {
    const { adopted, job: created } = await submitJob(
      jobClient,
      clock,
      { ...prepared, body: () => (job ??= build()) },
      { requests: settle.signal, waits: signal },
      gate,
    );
    const { uid, resourceVersion } = created.metadata;
    return {
      adopted,
      ...(uid ? { uid } : {}),
      ...(resourceVersion ? { resourceVersion } : {}),
      sentAt: sentAt ?? clock.now(),
    };
  } catch (error) {
    if (sentAt === undefined) {
      // No create was sent: nothing can exist (a cancel, or the executor's close, while it waited).
      if (signal?.aborted) return { notSent: true };
      if (closed.aborted) throw closedBeforeCreate(prepared);
      throw error;
    }
    if (!signal?.aborted) throw error;
    return { cleanup: await cleanupAfterFailedSubmission(deps, prepared, settle.signal.aborted) };
  } finally {
    held?.(); // the slot it came with, when no create was tried
    settle.dispose();
  }
}

/** A run whose create was never sent because the executor was closed while it waited for its turn. */
function closedBeforeCreate(prepared: RunningJob): K8sExecutorError {
  return new K8sExecutorError(
    'CANCELLED',
    `The executor was closed before Job "${prepared.jobName}" was created; nothing was created.`,
    { hint: 'Execute the same block run again to run it.' },
  );
}

async function cleanupAfterFailedSubmission(
  deps: JobRunnerDeps,
  prepared: RunningJob,
  unsettled: boolean,
): Promise<Cleanup> {
  const { namespace, jobName } = prepared;
  try {
    const found = await readRunJob(deps.jobClient, prepared);
    if (found.kind === 'foreign') return { kind: 'foreign' };
    if (found.kind === 'none')
      return unsettled ? { kind: 'unsettled', waitedMs: CREATE_SETTLE_MS } : { kind: 'not-created' };
    const uid = found.job.metadata.uid;
    if (found.job.metadata.deletionTimestamp) return { kind: 'already-deleting', ...(uid ? { uid } : {}) };
    return await deleteRunJob(deps.jobClient, namespace, jobName, uid, 'Foreground');
  } catch (error) {
    return { kind: 'failed', error: error instanceof Error ? error.message : String(error) };
  }
}

/** A signal that aborts `ms` after `signal` does (never, without one); `dispose()` stops its timer. */
function abortAfter(
  signal: AbortSignal | undefined,
  clock: Clock,
  ms: number,
): { signal: AbortSignal; dispose(): void } {
  const settled = new AbortController();
  const timer = new AbortController();
  const onAbort = () => {
    clock.sleep(ms, timer.signal).then(
      () => settled.abort(signal?.reason),
      () => undefined,
    );
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: settled.signal,
    dispose: () => {
      signal?.removeEventListener('abort', onAbort);
      timer.abort(TIMER_STOPPED);
    },
  };
}
