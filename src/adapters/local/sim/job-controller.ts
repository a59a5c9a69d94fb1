import type { Job, Pod } from '../../../types/kube.js';
import { type JobRuntime, newPodRuntime, type Outcome, type PodRuntime } from './job-runtime.js';
import { condition, JobStatusWriter } from './job-status.js';
import type { PodRunner, PodRunnerCallbacks } from './pod-runner.js';
import {
  markedForDeletion,
  podFromTemplate,
  running,
  terminated,
  unschedulable,
  waiting,
} from './pod-status.js';
import { podKey, rfc3339, type SimState } from './sim-state.js';
import { FALLBACK_LOG_LINES, terminationMessage } from './termination-message.js';

export { SIM_NODE_NAME } from './pod-status.js';

/** Container waiting reasons that are part of a normal start, not worth a warning. */
const QUIET_WAITING_REASONS = new Set(['ContainerCreating', 'PodInitializing']);

/**
 * The simulated Job controller (plus the kubelet's and garbage collector's parts of a Job's life).
 * Single-completion Jobs, as the real controller runs them:
 * - one pod at a time from the Job's template, named `<job>-<5 chars>`, labelled `job-name`,
 *   `batch.kubernetes.io/job-name`, `controller-uid`, `batch.kubernetes.io/controller-uid`, owned by the Job;
 * - a failed pod stays, and a new one is created until `failed > backoffLimit`, then `FailureTarget` and
 *   `Failed` with reason `BackoffLimitExceeded`;
 * - success adds `SuccessCriteriaMet`, then `Complete` with `completionTime`;
 * - `activeDeadlineSeconds` (from `startTime`, on the Clock) deletes the running pods and fails the Job with
 *   `DeadlineExceeded`;
 * - deleting a Job (Foreground: the Job goes last; Background: the Job goes first) stops and removes its pods;
 * - `spec.suspend` (Kueue's queueing and preemption): no pod while it holds, running pods are stopped
 *   (not counted as failed), a `Suspended` condition; a resume resets `startTime` and makes a new pod.
 * Every handler runs to completion before the next one and re-checks that its pod or Job still exists,
 * so late reports from a runner (a process exiting after its Job was deleted) are harmless.
 */
export class JobController {
  private readonly runtimes = new Map<string, JobRuntime>();
  private readonly status: JobStatusWriter;
  private stopped = false;

  constructor(
    private readonly state: SimState,
    private readonly runner: PodRunner,
  ) {
    this.status = new JobStatusWriter(state);
  }

  /** Takes charge of a newly stored Job: on the next turn, starts it and creates its first pod. */
  adopt(job: Job): void {
    const runtime: JobRuntime = {
      namespace: job.metadata.namespace!,
      name: job.metadata.name!,
      uid: job.metadata.uid!,
      backoffLimit: job.spec?.backoffLimit ?? 6,
      pods: new Map(),
      deadline: new AbortController(),
      suspended: job.spec?.suspend === true,
      succeeded: 0,
      failed: 0,
      settled: false,
    };
    this.runtimes.set(runtime.uid, runtime);
    // The real controller acts after the create call has returned, never inside it.
    queueMicrotask(() => this.start(runtime));
  }

  /**
   * Deletes a Job and its pods. Returns false when there is no such Job.
   * Foreground: the Job gets a `deletionTimestamp` and goes once its pods are gone; Background: the Job
   * goes at once and its pods follow.
   */
  delete(namespace: string, name: string, propagation: 'Foreground' | 'Background'): boolean {
    const job = this.state.jobs.get(namespace, name);
    if (!job) return false;
    const runtime = this.runtimes.get(job.metadata.uid!);
    if (!runtime || runtime.deletion) return true;
    runtime.deletion = propagation;
    runtime.deadline.abort();
    const now = rfc3339(this.state.clock.now());
    if (propagation === 'Background') {
      this.state.jobs.remove(namespace, name);
    } else {
      const finalizers = ['foregroundDeletion'];
      this.state.jobs.update({ ...job, metadata: { ...job.metadata, deletionTimestamp: now, finalizers } });
    }
    for (const pod of [...runtime.pods.values()]) this.deletePod(runtime, pod);
    this.reconcile(runtime);
    return true;
  }

  /**
   * Sets a Job's `spec.suspend`. Suspending stops its running pods (SIGTERM; they do not count as
   * failed) and its deadline; resuming resets `startTime` and makes a new pod. False when there is no
   * such Job; a finished or deleted Job only gets the new spec.
   */
  setSuspended(namespace: string, name: string, suspend: boolean): boolean {
    const job = this.state.jobs.get(namespace, name);
    if (!job?.spec) return false;
    if ((job.spec.suspend === true) === suspend) return true;
    this.state.jobs.update({ ...job, spec: { ...job.spec, suspend } });
    const runtime = this.runtimes.get(job.metadata.uid!);
    if (!runtime || runtime.deletion || runtime.outcome) return true;
    runtime.suspended = suspend;
    if (!suspend) {
      this.start(runtime);
      return true;
    }
    runtime.deadline.abort();
    this.status.write(runtime, { conditions: this.status.withSuspended(runtime, true) });
    for (const pod of [...runtime.pods.values()]) {
      if (pod.exited) continue;
      pod.preempted = true;
      this.deletePod(runtime, pod);
    }
    return true;
  }

  /** Stops every running container and waits until each has reported its exit. No new pod starts after. */
  async stop(): Promise<void> {
    this.stopped = true;
    const exits: Promise<void>[] = [];
    for (const runtime of this.runtimes.values()) {
      runtime.deadline.abort();
      for (const pod of runtime.pods.values()) {
        if (pod.exited) continue;
        pod.handle?.kill('SIGTERM');
        exits.push(pod.exit);
      }
    }
    await Promise.all(exits);
  }

  private start(runtime: JobRuntime): void {
    const job = this.status.current(runtime);
    if (this.stopped || runtime.deletion || !job) return;
    const wasSuspended = job.status?.conditions?.some((c) => c.type === 'Suspended') === true;
    if (runtime.suspended) {
      this.status.write(runtime, { conditions: this.status.withSuspended(runtime, true) });
      return;
    }
    runtime.deadline = new AbortController();
    const deadlineSeconds = job.spec?.activeDeadlineSeconds;
    if (deadlineSeconds !== undefined) {
      this.state.clock.sleep(deadlineSeconds * 1000, runtime.deadline.signal).then(
        () => this.deadlineExceeded(runtime),
        () => undefined, // aborted: the Job ended or was deleted first
      );
    }
    this.createPod(runtime, {
      startTime: rfc3339(this.state.clock.now()),
      ...(wasSuspended ? { conditions: this.status.withSuspended(runtime, false) } : {}),
    });
  }

  /** Creates the next pod; `statusPatch` goes into the same Job status update that counts it. */
  private createPod(runtime: JobRuntime, statusPatch: Record<string, unknown> = {}): void {
    const job = this.status.current(runtime);
    if (!job?.spec || this.stopped) return;
    const { clock, names } = this.state;
    const pod = podFromTemplate(job, {
      name: names.generateName(`${runtime.name}-`),
      uid: names.uid(),
      now: clock.now(),
    });
    const stored = this.state.pods.add(pod);
    const podRuntime = newPodRuntime(stored.metadata.name!, stored.metadata.uid!);
    runtime.pods.set(podRuntime.name, podRuntime);
    this.status.write(runtime, statusPatch);
    podRuntime.handle = this.runner.start(stored, this.callbacks(runtime, podRuntime));
  }

  private callbacks(runtime: JobRuntime, pod: PodRuntime): PodRunnerCallbacks {
    const { clock, events, logs } = this.state;
    const key = podKey(runtime.namespace, pod.name);
    const warn = (reason: string, message: string) =>
      events.warn(
        { kind: 'Pod', namespace: runtime.namespace, name: pod.name, uid: pod.uid },
        reason,
        message,
        rfc3339(clock.now()),
      );
    return {
      onUnschedulable: (message) => {
        if (!this.updatePod(runtime, pod, (p) => unschedulable(p, message, clock.now()))) return;
        warn('FailedScheduling', message);
      },
      onWaiting: (reason, message) => {
        if (!this.updatePod(runtime, pod, (p) => waiting(p, reason, message, clock.now()))) return;
        if (!QUIET_WAITING_REASONS.has(reason))
          warn(reason.endsWith('BackOff') ? 'BackOff' : 'Failed', message ?? reason);
      },
      onRunning: () => {
        if (this.updatePod(runtime, pod, (p) => running(p, clock.now()))) this.status.write(runtime);
      },
      onLogLine: (line) => {
        if (!pod.exited) logs.append(key, line, clock.now());
      },
      onWarning: (reason, message) => {
        if (!pod.exited) warn(reason, message);
      },
      onExit: (exit) => {
        if (pod.exited) return;
        const updated = this.updatePod(runtime, pod, (p) => {
          const message = terminationMessage(p, exit, () =>
            logs.read(key, { tailLines: FALLBACK_LOG_LINES }),
          );
          const { message: _written, ...rest } = exit;
          return terminated(p, { ...rest, ...(message ? { message } : {}) }, clock.now());
        });
        pod.exited = true;
        pod.markExited();
        logs.close(key);
        if (!updated) {
          runtime.pods.delete(pod.name);
          this.reconcile(runtime);
          return;
        }
        if (exit.exitCode === 0 && !exit.podFailure) runtime.succeeded += 1;
        else if (!pod.preempted) runtime.failed += 1;
        if (exit.podFailure) warn(exit.podFailure.reason, exit.podFailure.message);
        if (pod.deleting) this.removePod(runtime, pod);
        this.reconcile(runtime);
      },
    };
  }

  /** Decides what the Job does next after one of its pods changed. */
  private reconcile(runtime: JobRuntime): void {
    if (runtime.deletion) {
      if (runtime.pods.size > 0) return;
      if (runtime.deletion === 'Foreground' && this.status.current(runtime)) {
        this.state.jobs.remove(runtime.namespace, runtime.name);
      }
      this.runtimes.delete(runtime.uid);
      return;
    }
    if (!this.status.current(runtime)) return;
    if (!runtime.outcome) {
      if (runtime.succeeded > 0) {
        this.decide(runtime, { kind: 'success' });
      } else if (runtime.failed > runtime.backoffLimit) {
        this.decide(runtime, {
          kind: 'failure',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        });
      } else if (!runtime.suspended && this.status.countPods(runtime).running === 0) {
        this.createPod(runtime);
        return;
      }
    }
    this.settleIfStopped(runtime);
  }

  private deadlineExceeded(runtime: JobRuntime): void {
    if (runtime.outcome || runtime.deletion || !this.status.current(runtime)) return;
    this.decide(runtime, {
      kind: 'failure',
      reason: 'DeadlineExceeded',
      message: 'Job was active longer than specified deadline',
    });
    for (const pod of [...runtime.pods.values()]) if (!pod.exited) this.deletePod(runtime, pod);
    this.settleIfStopped(runtime);
  }

  /** Records the outcome with its first condition (`SuccessCriteriaMet` / `FailureTarget`). */
  private decide(runtime: JobRuntime, outcome: Outcome): void {
    runtime.outcome = outcome;
    runtime.deadline.abort();
    const now = rfc3339(this.state.clock.now());
    if (outcome.kind === 'success') {
      this.status.addCondition(
        runtime,
        condition(
          'SuccessCriteriaMet',
          'CompletionsReached',
          'Reached expected number of succeeded pods',
          now,
        ),
      );
    } else {
      this.status.addCondition(runtime, condition('FailureTarget', outcome.reason, outcome.message, now));
      this.state.events.warn(
        { kind: 'Job', namespace: runtime.namespace, name: runtime.name, uid: runtime.uid },
        outcome.reason,
        outcome.message,
        now,
      );
    }
  }

  /** Writes the final condition once no pod of the Job runs any more. */
  private settleIfStopped(runtime: JobRuntime): void {
    const { outcome } = runtime;
    if (!outcome || runtime.settled) {
      this.status.write(runtime);
      return;
    }
    const counts = this.status.countPods(runtime);
    if (counts.running + counts.terminating > 0) {
      this.status.write(runtime);
      return;
    }
    runtime.settled = true;
    const now = rfc3339(this.state.clock.now());
    if (outcome.kind === 'success') {
      this.status.addCondition(
        runtime,
        condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', now),
        {
          completionTime: now,
        },
      );
    } else {
      this.status.addCondition(runtime, condition('Failed', outcome.reason, outcome.message, now));
    }
  }

  private deletePod(runtime: JobRuntime, pod: PodRuntime): void {
    if (pod.exited) {
      this.removePod(runtime, pod);
      return;
    }
    if (pod.deleting) return;
    pod.deleting = true;
    const now = this.state.clock.now();
    this.updatePod(runtime, pod, (p) => markedForDeletion(p, now));
    this.status.write(runtime);
    pod.handle?.kill('SIGTERM');
  }

  private removePod(runtime: JobRuntime, pod: PodRuntime): void {
    runtime.pods.delete(pod.name);
    const stored = this.state.pods.get(runtime.namespace, pod.name);
    if (stored?.metadata.uid === pod.uid) this.state.pods.remove(runtime.namespace, pod.name);
    this.state.logs.forget(podKey(runtime.namespace, pod.name));
  }

  /** Applies `change` to the stored pod; false when the pod is gone (or replaced) or has already exited. */
  private updatePod(runtime: JobRuntime, pod: PodRuntime, change: (p: Pod) => Pod): boolean {
    if (pod.exited) return false;
    const stored = this.state.pods.get(runtime.namespace, pod.name);
    if (stored?.metadata.uid !== pod.uid) return false;
    this.state.pods.update(change(stored));
    return true;
  }
}
