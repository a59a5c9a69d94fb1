import type { ReconnectBackoffOptions } from '../monitor/backoff.js';
import type { BlockState, PodSummary } from '../monitor/types.js';
import type { Clock } from '../ports/clock.js';
import type { JobClient } from '../ports/job-client.js';
import { PodLogStream } from './pod-log-stream.js';
import type { LogLine } from './types.js';

/**
 * How long a follow that is still open when the drain ends must have been quiet (no line since) for its
 * lines to count as delivered to the end: longer than a burst of what the log already held takes to
 * arrive, far shorter than the drain (`logDrainMs`, 2 s by default) after a container's last line.
 */
export const LIVE_FOLLOW_QUIET_MS = 1000;

/** The follow connection of one pod that is open now: when the server last sent a line on it. */
interface OpenFollow {
  heardAt: number | undefined;
}

/** What a {@link LogFollower} holds once it follows a pod. */
interface FollowState {
  readonly streams: Map<string, PodLogStream>;
  /** The follow connections open now, by pod. */
  readonly openFollows: Map<string, OpenFollow>;
  /** Pods whose follow was live and caught up when the drain ended. */
  readonly deliveredLive: Set<string>;
  /** The last lines of the newest followed pod. */
  readonly tail: string[];
  readonly stop: AbortController;
  /** The client whose follows record in {@link FollowState.openFollows}. */
  readonly jobClient: JobClient;
}

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
 *
 * A follow still open when the drain ends, on which the server has sent lines and then nothing for
 * {@link LIVE_FOLLOW_QUIET_MS}, is live and caught up: its container has ended, so it has delivered the
 * whole log, and nothing is read again (a follow that never ends, as on KWOK, or that the kubelet ends
 * only seconds after the container, costs no extra read). See docs/runtime.md, "Logs".
 */
export class LogFollower {
  /**
   * What following takes, made at the first follow: a run without a sink (or whose pod never started)
   * holds none of it, which counts when thousands run at once.
   */
  private live: FollowState | undefined;
  /** Set by {@link abort}: no follow starts after it. */
  private stopped = false;
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
    for (const [name, stream] of this.live?.streams ?? []) {
      const pod = state.pods[name];
      if (pod && containerEnded(pod)) stream.containerEnded();
    }
  }

  /** Whether any pod's log is being followed. */
  get active(): boolean {
    return (this.live?.streams.size ?? 0) > 0;
  }

  /** Whether the newest followed pod's log was delivered up to its container's end. */
  get completed(): boolean {
    const pod = this.newestPod;
    const live = this.live;
    return (
      pod !== undefined &&
      live !== undefined &&
      (live.streams.get(pod)?.completed === true || live.deliveredLive.has(pod))
    );
  }

  /** The last lines of the newest followed pod. */
  lastLines(): string[] {
    return [...(this.live?.tail ?? [])];
  }

  /**
   * After the final state: waits for the streams to end on their own, at most until `drain` resolves,
   * stops them, then reads once, for each pod, what its stream did not deliver (nothing for a follow
   * that was live and caught up, see {@link LogFollower}).
   */
  async finish(state: BlockState, drain: Promise<void>): Promise<void> {
    this.observe(state);
    const live = this.live;
    if (!live) {
      this.stopped = true;
      drain.catch(() => undefined); // nothing to drain: the caller's timer may reject once stopped
      return;
    }
    const streams = [...live.streams];
    await Promise.race([Promise.all(streams.map(([, s]) => s.done)), drain.catch(() => undefined)]);
    // Lines the connection has already received reach the sink before the follows are judged.
    await new Promise((resolve) => setImmediate(resolve));
    const now = this.options.clock.now();
    for (const [pod] of streams) {
      const heardAt = live.openFollows.get(pod)?.heardAt;
      if (heardAt !== undefined && now - heardAt >= LIVE_FOLLOW_QUIET_MS) live.deliveredLive.add(pod);
    }
    await this.abort();
    await Promise.all(streams.filter(([pod]) => !live.deliveredLive.has(pod)).map(([, s]) => s.catchUp()));
  }

  /** Stops every stream at once, reading nothing more (cancel, shutdown). */
  async abort(): Promise<void> {
    this.stopped = true;
    const live = this.live;
    if (!live) return;
    live.stop.abort();
    await Promise.all([...live.streams.values()].map((s) => s.done));
  }

  private follow(podName: string): void {
    if (this.stopped || this.live?.streams.has(podName)) return;
    this.live ??= this.startFollowing();
    const live = this.live;
    this.newestPod = podName;
    live.tail.length = 0;
    const { clock, namespace, container, reconnect } = this.options;
    const stream = new PodLogStream({
      jobClient: live.jobClient,
      clock,
      namespace,
      pod: podName,
      container,
      onLine: (line) => this.accept(live, podName, line),
      ...(reconnect ? { reconnect } : {}),
      signal: live.stop.signal,
    });
    live.streams.set(podName, stream);
  }

  private startFollowing(): FollowState {
    const openFollows = new Map<string, OpenFollow>();
    return {
      streams: new Map(),
      openFollows,
      deliveredLive: new Set(),
      tail: [],
      stop: new AbortController(),
      jobClient: this.observingFollows(this.options.jobClient, openFollows),
    };
  }

  /** `jobClient`, whose follows record in `follows`, while open, when the server last sent a line. */
  private observingFollows(jobClient: JobClient, follows: Map<string, OpenFollow>): JobClient {
    const { clock } = this.options;
    const followPodLog: JobClient['followPodLog'] = async (namespace, pod, onLine, options) => {
      const follow: OpenFollow = { heardAt: undefined };
      follows.set(pod, follow);
      try {
        await jobClient.followPodLog(
          namespace,
          pod,
          (line) => {
            follow.heardAt = clock.now();
            onLine(line);
          },
          options,
        );
      } finally {
        if (follows.get(pod) === follow) follows.delete(pod);
      }
    };
    return new Proxy(jobClient, {
      get: (target, key) => {
        if (key === 'followPodLog') return followPodLog;
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  private accept(live: FollowState, podName: string, line: string): void {
    if (podName === this.newestPod) {
      live.tail.push(line);
      if (live.tail.length > this.options.keepLines) live.tail.shift();
    }
    this.options.onLog?.({ jobName: this.options.jobName, podName, line });
  }
}

/** Whether the pod's containers are done: nothing more will be written to its log. */
function containerEnded(pod: PodSummary): boolean {
  return pod.terminated !== undefined || pod.phase === 'Succeeded' || pod.phase === 'Failed';
}
