import type { BlockState, TimeInterval } from './types.js';

/** How long a Job was held in a queue (suspended), as a result reports it. */
export interface QueueTimes {
  /** Every interval the Job was suspended, in order (a preempted Job has several). */
  queued: TimeInterval[];
  /** Their total length (ms). */
  queuedMs: number;
  /** When the Job first left the queue (was admitted); absent when it never did. */
  admittedAt?: number;
}

/**
 * The queue times of a block's state, a suspension still in progress counted until `until` (the end of
 * the run: a Job failed at its suspended bound, or cancelled while queued). Undefined when the Job was
 * never seen suspended. Pure.
 */
export function queueTimes(state: BlockState, until: number): QueueTimes | undefined {
  const open = state.suspendedSince;
  const closed = state.queued ?? [];
  if (closed.length === 0 && open === undefined) return undefined;
  const queued = [...closed, ...(open !== undefined ? [{ from: open, to: Math.max(open, until) }] : [])];
  const first = closed[0];
  return {
    queued,
    queuedMs: queued.reduce((sum, q) => sum + (q.to - q.from), 0),
    ...(first ? { admittedAt: first.to } : {}),
  };
}
