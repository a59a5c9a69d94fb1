import type { Condition, Job } from '../../../types/kube.js';
import type { JobRuntime } from './job-runtime.js';
import { rfc3339, type SimState } from './sim-state.js';

/** Sets a count of a Job's status; the API server omits a count that is zero. */
function setCount(
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

/** Reads and writes the status of the Jobs the controller runs, counting their pods. */
export class JobStatusWriter {
  constructor(private readonly state: SimState) {}

  /** The Job's conditions with its `Suspended` condition set (True) or lifted (False). */
  withSuspended(runtime: JobRuntime, suspended: boolean): Condition[] {
    const others = (this.current(runtime)?.status?.conditions ?? []).filter((c) => c.type !== 'Suspended');
    return [...others, suspendedCondition(suspended, rfc3339(this.state.clock.now()))];
  }

  /** The Job's pods that run (ready or not) and those being deleted. */
  countPods(runtime: JobRuntime): { running: number; ready: number; terminating: number } {
    let running = 0;
    let ready = 0;
    let terminating = 0;
    for (const pod of runtime.pods.values()) {
      if (pod.exited) continue;
      if (pod.deleting) {
        terminating += 1;
        continue;
      }
      running += 1;
      const stored = this.state.pods.get(runtime.namespace, pod.name);
      if (stored?.status?.containerStatuses?.[0]?.ready) ready += 1;
    }
    return { running, ready, terminating };
  }

  /** Appends a condition (and `extra` status fields) to the Job's status. */
  addCondition(runtime: JobRuntime, added: Condition, extra: Record<string, string> = {}): void {
    const conditions = [...(this.current(runtime)?.status?.conditions ?? []), added];
    this.write(runtime, { conditions, ...extra });
  }

  /** Recomputes the Job's counts (and applies `patch`); writes only when something changed. */
  write(runtime: JobRuntime, patch: Record<string, unknown> = {}): void {
    const job = this.current(runtime);
    if (!job) return;
    const counts = this.countPods(runtime);
    const status: NonNullable<Job['status']> = { ...job.status, ...patch };
    setCount(status, 'active', counts.running);
    setCount(status, 'succeeded', runtime.succeeded);
    setCount(status, 'failed', runtime.failed);
    status.ready = counts.ready;
    status.terminating = counts.terminating;
    if (JSON.stringify(status) === JSON.stringify(job.status)) return;
    this.state.jobs.update({ ...job, status });
  }

  /** The stored Job of this runtime; undefined once it is gone or replaced by another of that name. */
  current(runtime: JobRuntime): Job | undefined {
    const job = this.state.jobs.get(runtime.namespace, runtime.name);
    return job?.metadata.uid === runtime.uid ? job : undefined;
  }
}
