import { performance } from 'node:perf_hooks';
import type {
  PodRunner,
  PodRunnerCallbacks,
  RunningPod,
} from '../../../src/adapters/local/sim/pod-runner.js';
import type { Job, Pod } from '../../../src/types/kube.js';

/** True when the Job carries a final condition (`Complete` or `Failed`, status True). */
function hasFinalCondition(job: Job | undefined): boolean {
  return (job?.status?.conditions ?? []).some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

/** The wall-clock time in ms since the epoch, with sub-millisecond precision, comparable across processes. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Wraps a {@link PodRunner} to learn when a Job's final condition was written: the simulated Job
 * controller writes it synchronously inside the pod's `onExit`, so the time taken right after that
 * callback returns is the server's status-change time (the start of detection latency).
 */
export class FinalConditionRecorder implements PodRunner {
  private readonly finalAt = new Map<string, number>();

  /**
   * @param inner runs the pods.
   * @param readJob reads a Job back (to check that this exit ended it).
   */
  constructor(
    private readonly inner: PodRunner,
    private readonly readJob: (namespace: string, name: string) => Promise<Job | undefined>,
  ) {}

  /** When each finished Job got its final condition, by Job name (ms since the epoch, fractional). */
  times(): Record<string, number> {
    return Object.fromEntries(this.finalAt);
  }

  start(pod: Pod, callbacks: PodRunnerCallbacks): RunningPod {
    const namespace = pod.metadata.namespace ?? '';
    const jobName = pod.metadata.labels?.['batch.kubernetes.io/job-name'] ?? '';
    return this.inner.start(pod, {
      ...callbacks,
      onExit: (exit) => {
        callbacks.onExit(exit);
        const at = preciseNow();
        void this.readJob(namespace, jobName).then((job) => {
          if (hasFinalCondition(job) && !this.finalAt.has(jobName)) this.finalAt.set(jobName, at);
        });
      },
    });
  }
}
