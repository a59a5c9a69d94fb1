import type { ErrorCode } from '../errors/codes.js';
import { infrastructureCause } from '../monitor/job-outcome.js';
import { queueTimes } from '../monitor/queue-times.js';
import type { BlockState } from '../monitor/types.js';
import { TIMER_STOPPED } from '../ports/clock.js';
import { terminationFields } from './block-output.js';
import { type Cleanup, cleanupSentence, deleteRunJob, needsAttention } from './job-cleanup.js';
import { collectWarnings, readTail } from './job-diagnostics.js';
import type { LogFollower } from './log-follower.js';
import type { JobRunnerDeps, RunningJob } from './run-job.js';
import type { BlockDetection, BlockResult, BlockTimings, ExecuteOptions } from './types.js';

/** Reasons decided before the Job itself failed: the Job must be deleted or it could still run later. */
const FAIL_FAST: ReadonlySet<ErrorCode> = new Set([
  'IMAGE_PULL_FAILED',
  'CONTAINER_CONFIG_ERROR',
  'UNSCHEDULABLE',
  'POD_CREATE_FAILED',
]);

/** What the final state says, the moment it is seen: the result without its diagnostics. */
export function detectionOf(
  prepared: RunningJob,
  state: BlockState,
  run: { submittedAt: number; adopted: boolean; now: number },
): BlockDetection {
  const { namespace, jobName } = prepared;
  const { submittedAt } = run;
  const finishedAt = state.finishedAt ?? run.now;
  const infrastructure = infrastructureCause(state);
  return {
    status: state.phase === 'failed' ? 'failed' : 'succeeded',
    jobName,
    namespace,
    ...(state.reason ? { reason: state.reason } : {}),
    ...(state.message ? { message: state.message } : {}),
    ...(state.exitCode !== undefined ? { exitCode: state.exitCode } : {}),
    adopted: run.adopted,
    failedPods: state.failedPods,
    timings: timingsOf(submittedAt, finishedAt, state),
    ...terminationFields(state, prepared.containerName),
    ...(infrastructure ? { infrastructure } : {}),
  };
}

/**
 * The end of a Job followed to its final state: the log drain (at most `logDrainMs`, cut short by a
 * cancel or the executor's close), the last log lines, warnings, cleanup, the result.
 */
export async function finishedResult(
  deps: JobRunnerDeps,
  prepared: RunningJob,
  options: ExecuteOptions,
  run: {
    state: BlockState;
    detection: BlockDetection;
    uid: string | undefined;
    follower: LogFollower;
    /** The executor's close, as it was when the run started. */
    closed: AbortSignal;
  },
): Promise<BlockResult> {
  const { jobClient, clock } = deps;
  const { namespace, jobName } = prepared;
  const { state, detection, follower } = run;
  const failed = detection.status === 'failed';
  const drain = new AbortController();
  const stopDrain = AbortSignal.any([drain.signal, run.closed, ...(options.signal ? [options.signal] : [])]);
  await follower.finish(state, clock.sleep(deps.logDrainMs, stopDrain));
  drain.abort(TIMER_STOPPED);
  const logs = await lastLogs(deps, prepared, state, follower);
  const warningEvents = failed ? await collectWarnings(jobClient, namespace, jobName, state) : [];

  let cleanupError: string | undefined;
  const failFast = failed && state.reason !== undefined && FAIL_FAST.has(state.reason);
  if (failFast || (!options.keepJob && !prepared.ttlSet)) {
    const cleanup = await deleteRunJob(jobClient, namespace, jobName, run.uid, 'Background');
    if (cleanup.kind === 'failed') cleanupError = cleanup.error;
  }
  return { ...detection, ...logs, warningEvents, ...(cleanupError ? { cleanupError } : {}) };
}

/**
 * The last log lines of the result. A failure in another container than the block's (an init
 * container that failed, so the block's own never ran) gets that container's lines, named in
 * `lastLogContainer`. Otherwise the followed lines, or, when nothing was followed completely (no log
 * sink, or a stream that could not be read to the end), the tail read once.
 */
async function lastLogs(
  deps: JobRunnerDeps,
  prepared: RunningJob,
  state: BlockState,
  follower: LogFollower,
): Promise<Pick<BlockResult, 'lastLogLines' | 'lastLogContainer'>> {
  const { jobClient, logTailLines } = deps;
  const pod = state.currentPod;
  const failed = state.phase === 'failed';
  const other = state.containerName;
  if (failed && pod && other && other !== prepared.containerName) {
    const lines = await readTail(jobClient, prepared.namespace, pod, other, logTailLines);
    if (lines.length > 0) return { lastLogLines: lines, lastLogContainer: other };
  }
  if (follower.completed || !failed || !pod) return { lastLogLines: follower.lastLines() };
  const tail = await readTail(jobClient, prepared.namespace, pod, prepared.containerName, logTailLines);
  return { lastLogLines: tail.length > 0 ? tail : follower.lastLines() };
}

/**
 * The timings of a run that ended at `finishedAt`: with its state (when the Job was followed), when its
 * container started and how long it was queued, a suspension still in progress counted until the end.
 */
export function timingsOf(submittedAt: number, finishedAt: number, state?: BlockState): BlockTimings {
  const queue = state ? queueTimes(state, finishedAt) : undefined;
  return {
    submittedAt,
    ...(state?.startedAt !== undefined ? { startedAt: state.startedAt } : {}),
    finishedAt,
    durationMs: finishedAt - submittedAt,
    ...(queue ?? {}),
    ...(state?.finalConditionAt !== undefined ? { finalConditionAt: state.finalConditionAt } : {}),
  };
}

/** The result of a cancelled run; `state` is the monitor's last one, when the Job was being followed. */
export function cancelledResult(
  prepared: RunningJob,
  run: {
    submittedAt: number;
    finishedAt: number;
    when: string;
    cleanup: Cleanup;
    adopted: boolean;
    state?: BlockState;
  },
): BlockResult {
  const { namespace, jobName } = prepared;
  const sentence = cleanupSentence(run.cleanup, namespace, jobName);
  return {
    status: 'cancelled',
    jobName,
    namespace,
    reason: 'CANCELLED',
    message: `Cancelled ${run.when}. ${sentence}`,
    adopted: run.adopted,
    failedPods: 0,
    timings: timingsOf(run.submittedAt, run.finishedAt, run.state),
    lastLogLines: [],
    warningEvents: [],
    ...(needsAttention(run.cleanup) ? { cleanupError: sentence } : {}),
  };
}
