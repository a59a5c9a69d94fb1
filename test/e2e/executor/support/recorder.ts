import * as k8s from '@kubernetes/client-node';
import { trueCondition } from './cluster.js';

/** One watch event as the recorder kept it. */
export interface Recorded<T> {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: T;
}

/**
 * Records every version of every Job and Pod of a namespace, in the order the API server sent them,
 * with the test's own watches (independent of the executor's). That keeps what the Job controller
 * wrote even after the executor deleted the Job, and gives one ordered stream per resource.
 */
export class ClusterRecorder {
  private readonly jobs: Recorded<k8s.V1Job>[] = [];
  private readonly pods: Recorded<k8s.V1Pod>[] = [];
  private readonly controllers: AbortController[] = [];

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly namespace: string,
  ) {}

  /** Starts both watches; resolves once the server accepted them. */
  async start(): Promise<void> {
    const watch = new k8s.Watch(this.kc);
    const keep =
      <T>(into: Recorded<T>[]) =>
      (type: string, object: T) => {
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') into.push({ type, object });
      };
    const ignoreEnd = () => {};
    this.controllers.push(
      await watch.watch(`/apis/batch/v1/namespaces/${this.namespace}/jobs`, {}, keep(this.jobs), ignoreEnd),
      await watch.watch(`/api/v1/namespaces/${this.namespace}/pods`, {}, keep(this.pods), ignoreEnd),
    );
  }

  /** Stops both watches. */
  stop(): void {
    for (const controller of this.controllers) controller.abort();
  }

  /** Every Job event, in order. */
  jobEvents(): readonly Recorded<k8s.V1Job>[] {
    return [...this.jobs];
  }

  /** Every version of one Job, oldest first. */
  jobVersions(name: string): k8s.V1Job[] {
    return this.jobs.filter((e) => e.object.metadata?.name === name).map((e) => e.object);
  }

  /** The distinct uids the Job of that name had (more than one = it was created twice). */
  jobUids(name: string): string[] {
    return [...new Set(this.jobVersions(name).map((j) => j.metadata?.uid ?? ''))];
  }

  /** Whether some version of the Job had the True condition `type` (with `reason`, when given). */
  sawCondition(name: string, type: string, reason?: string): boolean {
    return this.jobVersions(name).some((job) => {
      const condition = trueCondition(job, type);
      return condition !== undefined && (reason === undefined || condition.reason === reason);
    });
  }

  /** Whether a DELETED event of the Job arrived. */
  sawJobDeleted(name: string): boolean {
    return this.jobs.some((e) => e.type === 'DELETED' && e.object.metadata?.name === name);
  }

  /** The last version seen of each pod of the Job, in order of first appearance. */
  podsOf(jobName: string): k8s.V1Pod[] {
    const last = new Map<string, k8s.V1Pod>();
    for (const { object } of this.pods) {
      if (object.metadata?.labels?.['batch.kubernetes.io/job-name'] === jobName) {
        last.set(object.metadata.name ?? '', object);
      }
    }
    return [...last.values()];
  }

  /** Every version of the Job's pods, oldest first. */
  podVersions(jobName: string): k8s.V1Pod[] {
    return this.pods
      .map((e) => e.object)
      .filter((pod) => pod.metadata?.labels?.['batch.kubernetes.io/job-name'] === jobName);
  }
}
