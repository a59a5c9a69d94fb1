import type { JobClient } from '../ports/job-client.js';
import type { LogLine } from './types.js';

/**
 * Follows the log of each pod of one Job as the monitor discovers them (a retried Job has several),
 * forwarding lines to the caller's sink and keeping the last lines of the newest pod.
 */
export class LogFollower {
  private readonly tail: string[] = [];
  private readonly followed = new Set<string>();
  private readonly streams: Promise<void>[] = [];
  private readonly stop = new AbortController();
  private newestPod: string | undefined;

  constructor(
    private readonly jobClient: JobClient,
    private readonly namespace: string,
    private readonly jobName: string,
    private readonly container: string,
    private readonly keepLines: number,
    private readonly onLog?: (line: LogLine) => void,
  ) {}

  /** Starts following `podName` unless it is already followed. */
  follow(podName: string): void {
    if (this.followed.has(podName)) return;
    this.followed.add(podName);
    this.newestPod = podName;
    this.tail.length = 0;
    const stream = this.jobClient
      .followPodLog(this.namespace, podName, (line) => this.accept(podName, line), {
        container: this.container,
        signal: this.stop.signal,
      })
      // A log stream that fails (pod gone, container never started) must not fail the block: the
      // monitor decides the outcome; the log is best effort.
      .catch(() => undefined);
    this.streams.push(stream);
  }

  /** Whether any pod's log is being followed. */
  get active(): boolean {
    return this.followed.size > 0;
  }

  /** The last lines of the newest followed pod. */
  lastLines(): string[] {
    return [...this.tail];
  }

  /** Waits for the streams to end on their own, at most until `deadline` resolves; then stops them. */
  async finish(deadline: Promise<void>): Promise<void> {
    await Promise.race([Promise.all(this.streams), deadline.catch(() => undefined)]);
    this.stop.abort();
    await Promise.all(this.streams);
  }

  private accept(podName: string, line: string): void {
    if (podName === this.newestPod) {
      this.tail.push(line);
      if (this.tail.length > this.keepLines) this.tail.shift();
    }
    this.onLog?.({ jobName: this.jobName, podName, line });
  }
}
