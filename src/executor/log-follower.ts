import type { ReconnectBackoffOptions } from '../monitor/backoff.js';
import type { BlockState, PodSummary } from '../monitor/types.js';
import type { Clock } from '../ports/clock.js';
import type { JobClient } from '../ports/job-client.js';
import { PodLogStream } from './pod-log-stream.js';
import type { LogLine } from './types.js';

/** What a {@link LogFollower} needs. */
export interface LogFollowerOptions {
  jobClient: JobClient;
  clock: Clock;
  namespace: string;
  jobName: string;
  /** The block's container, whose log is followed. */
  container: string;
  /** Lines kept for the result. */
  keepLines: number;
  /** The caller's sink; without one nothing is followed. Must not throw (the caller isolates it). */
  onLog?: ((line: LogLine) => void) | undefined;
  /** The wait before a stream that ended while its container runs is resumed. */
  reconnect?: ReconnectBackoffOptions;
}

/**
 * Follows the log of each pod of one Job as the monitor discovers them (a retried Job has several),
 * forwarding every line once to the caller's sink and keeping the last lines of the newest pod. Each
 * pod's stream resumes after a cut while its container runs (see {@link PodLogStream}); when the Job
 * is done, {@link finish} reads what a stream could not deliver, so the sink gets every line and the
 * last lines are the pod's real last lines.
 */
export class LogFollower {
  private readonly streams = new Map<string, PodLogStream>();
  private readonly tail: string[] = [];
  private readonly stop = new AbortController();
  private newestPod: string | undefined;

  constructor(private readonly options: LogFollowerOptions) {}

  /**
   * Follows the newest pod of `state` once its container runs or ran (a container that has not
   * started has no log yet: the API answers 400), and tells every followed stream whose container
   * ended. Does nothing without a sink.
   */
  observe(state: BlockState): void {
    if (!this.options.onLog) return;
    const current = state.currentPod ? state.pods[state.currentPod] : undefined;
    if (current && (current.terminated || current.phase !== 'Pending')) this.follow(current.name);
    for (const [name, stream] of this.streams) {
      const pod = state.pods[name];
      if (pod && containerEnded(pod)) stream.containerEnded();
    }
  }

  /** Whether any pod's log is being followed. */
  get active(): boolean {
    return this.streams.size > 0;
  }

  /** Whether the newest followed pod's log was delivered up to its container's end. */
  get completed(): boolean {
    return this.newestPod !== undefined && this.streams.get(this.newestPod)?.completed === true;
  }

  /** The last lines of the newest followed pod. */
  lastLines(): string[] {
    return [...this.tail];
  }

  /**
   * After the final state: waits for the streams to end on their own, at most until `drain` resolves,
   * stops them, then reads once, for each pod, what its stream did not deliver.
   */
  async finish(state: BlockState, drain: Promise<void>): Promise<void> {
    this.observe(state);
    const streams = [...this.streams.values()];
    await Promise.race([Promise.all(streams.map((s) => s.done)), drain.catch(() => undefined)]);
    await this.abort();
    await Promise.all(streams.map((s) => s.catchUp()));
  }

  /** Stops every stream at once, reading nothing more (cancel, shutdown). */
  async abort(): Promise<void> {
    this.stop.abort();
    await Promise.all([...this.streams.values()].map((s) => s.done));
  }

  private follow(podName: string): void {
    if (this.streams.has(podName) || this.stop.signal.aborted) return;
    this.newestPod = podName;
    this.tail.length = 0;
    const { jobClient, clock, namespace, container, reconnect } = this.options;
    const stream = new PodLogStream({
      jobClient,
      clock,
      namespace,
      pod: podName,
      container,
      onLine: (line) => this.accept(podName, line),
      ...(reconnect ? { reconnect } : {}),
      signal: this.stop.signal,
    });
    this.streams.set(podName, stream);
  }

  private accept(podName: string, line: string): void {
    if (podName === this.newestPod) {
      this.tail.push(line);
      if (this.tail.length > this.options.keepLines) this.tail.shift();
    }
    this.options.onLog?.({ jobName: this.options.jobName, podName, line });
  }
}

/** Whether the pod's containers are done: nothing more will be written to its log. */
function containerEnded(pod: PodSummary): boolean {
  return pod.terminated !== undefined || pod.phase === 'Succeeded' || pod.phase === 'Failed';
}
