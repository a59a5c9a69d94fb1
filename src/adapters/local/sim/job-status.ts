import type { Condition, Job } from '../../../types/kube.js';

/** Sets a count of a Job's status; the API server omits a count that is zero. */
export function setCount(
  status: NonNullable<Job['status']>,
  field: 'active' | 'succeeded' | 'failed',
  value: number,
): void {
  if (value > 0) status[field] = value;
  else delete status[field];
}

/** A condition with status True, as the Job controller writes it. */
export function condition(type: string, reason: string, message: string, at: string): Condition {
  return { type, status: 'True', reason, message, lastProbeTime: at, lastTransitionTime: at };
}
