import type { RunningPod } from './pod-runner.js';

/** What the simulated Job controller keeps about each Job and pod it runs (not in the API objects). */

/** How a Job ends, once decided (before its pods have all stopped). */
export type Outcome = { kind: 'success' } | { kind: 'failure'; reason: string; message: string };

export interface PodRuntime {
  readonly name: string;
  readonly uid: string;
  handle?: RunningPod;
  exited: boolean;
  /** Being deleted: removed from the store as soon as its container has stopped. */
  deleting: boolean;
  /** Stopped because its Job was suspended: its end is no failure. */
  preempted?: boolean;
  readonly exit: Promise<void>;
  markExited: () => void;
}

export interface JobRuntime {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly backoffLimit: number;
  readonly pods: Map<string, PodRuntime>;
  /** Stops the `activeDeadlineSeconds` timer of the current start (a resume starts a new one). */
  deadline: AbortController;
  /** `spec.suspend` is true: no pod is made. */
  suspended: boolean;
  succeeded: number;
  failed: number;
  outcome?: Outcome;
  /** The final condition (`Complete` / `Failed`) is written. */
  settled: boolean;
  deletion?: 'Foreground' | 'Background';
}

/** A pod's runtime, not started yet: `exit` resolves once `markExited` is called. */
export function newPodRuntime(name: string, uid: string): PodRuntime {
  let markExited!: () => void;
  const exit = new Promise<void>((resolve) => {
    markExited = resolve;
  });
  return { name, uid, exited: false, deleting: false, exit, markExited };
}
