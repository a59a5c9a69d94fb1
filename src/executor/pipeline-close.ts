import { isK8sExecutorError } from '../errors/base.js';
import type { AttemptRecord } from './pipeline-types.js';

/**
 * Closing the executor while a pipeline runs is a shutdown, not a cancel: the run resolves at once,
 * no attempt is started any more, and no Job is deleted, exactly as after a crash, so that the next
 * run of the same pipeline run adopts what was left.
 */

/** The message of a block that never started because the executor was closed. */
export const NOT_STARTED_CLOSED = 'Not started: the executor was closed.';

/** The record of an attempt whose Job was left running by a close. */
export function leftRunningRecord(
  attempt: number,
  jobName: string | undefined,
  startedAt: number,
  now: number,
): AttemptRecord {
  const job = jobName ? `its Job "${jobName}" was` : 'its Job (if its create reached the server) was';
  return {
    attempt,
    ...(jobName ? { jobName } : {}),
    status: 'cancelled',
    reason: 'CANCELLED',
    message: `The executor was closed while attempt ${attempt} ran; ${job} left running. Run the same pipeline run again to adopt it, or delete it.`,
    leftRunning: true,
    startedAt,
    finishedAt: now,
  };
}

/** The record of a local (non-k8s) block's attempt stopped by a close: there is nothing to adopt. */
export function stoppedLocalRecord(attempt: number, startedAt: number, now: number): AttemptRecord {
  return {
    attempt,
    status: 'cancelled',
    reason: 'CANCELLED',
    message: `The executor was closed while attempt ${attempt} ran; the local block was stopped.`,
    startedAt,
    finishedAt: now,
  };
}

/**
 * The record that ends a block whose next attempt a close kept from starting (`during`: when, e.g.
 * `the retry delay`). It is not one of the block's attempts: that attempt never ran.
 */
export function notStartedRecord(attempt: number, now: number, during?: string): AttemptRecord {
  return {
    attempt,
    status: 'cancelled',
    reason: 'CANCELLED',
    message: `Attempt ${attempt} was not started: the executor was closed${during ? ` during ${during}` : ''}.`,
    startedAt: now,
    finishedAt: now,
  };
}

/**
 * Whether `execute()` rejected because the executor's watches were closed (`CANCELLED` without the
 * run's own signal aborted): a shutdown, whoever closed them.
 */
export function isClosedError(error: unknown, cancel: AbortSignal | undefined): boolean {
  return isK8sExecutorError(error) && error.code === 'CANCELLED' && !cancel?.aborted;
}

/** Marks what {@link untilClosed} resolves with when the executor was closed first. */
export const CLOSED: unique symbol = Symbol('closed');

/**
 * `work`'s value, or {@link CLOSED} as soon as `closed` aborts. The work itself goes on unobserved; its
 * rejection is caught so that it can never become an unhandled rejection.
 */
export function untilClosed<T>(work: Promise<T>, closed: AbortSignal): Promise<T | typeof CLOSED> {
  work.catch(() => undefined);
  if (closed.aborted) return Promise.resolve(CLOSED);
  return new Promise((resolve, reject) => {
    const onClose = () => resolve(CLOSED);
    closed.addEventListener('abort', onClose, { once: true });
    work.then(
      (value) => {
        closed.removeEventListener('abort', onClose);
        resolve(value);
      },
      (error: unknown) => {
        closed.removeEventListener('abort', onClose);
        reject(error);
      },
    );
  });
}
