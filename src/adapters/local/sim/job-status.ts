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

/** The `Suspended` condition: True while `spec.suspend` holds, False (reason `JobResumed`) after. */
export function suspendedCondition(suspended: boolean, at: string): Condition {
  return {
    type: 'Suspended',
    status: suspended ? 'True' : 'False',
    reason: suspended ? 'JobSuspended' : 'JobResumed',
    message: suspended ? 'Job suspended' : 'Job resumed',
    lastProbeTime: at,
    lastTransitionTime: at,
  };
}
