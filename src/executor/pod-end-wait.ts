import { newestPod, summarizePod } from '../monitor/pod-summary.js';
import type { BlockState, Observation } from '../monitor/types.js';
import type { HubSubscription, WatchHub } from '../monitor/watch-hub.js';
import { type Clock, TIMER_STOPPED } from '../ports/clock.js';
import type { Pod } from '../types/kube.js';

/**
 * Listens to one Job's pods on the shared watch while the Job is followed, for a success seen before
 * its pod's end: the Jobs and Pods watches are separate streams, so the Job's condition may arrive
 * first, and the pod's end (its exit code, its termination message) a moment later. Waiting for it
 * on the watch costs no request, and this subscription keeps the shared watch open meanwhile.
 */
export class PodEndWait {
  /** The latest observation of each pod of the Job (summarized only when needed). */
  private readonly seen = new Map<string, { pod: Pod; at: number }>();
  private readonly subscription: HubSubscription;
  private wake: (() => void) | undefined;

  /** Subscribes at once (the hub replays what it has cached). */
  constructor(
    hub: WatchHub,
    jobName: string,
    private readonly clock: Clock,
  ) {
    this.subscription = hub.subscribe(jobName, (observation) => this.observe(observation));
  }

  /**
   * `state` (a success) with its pods' ends as seen until the block's `container` end shows in the
   * newest pod of Job `uid`, at most `graceMs` (or until `signal` aborts). Resolves undefined when it
   * never showed.
   */
  async until(
    state: BlockState,
    container: string,
    uid: string | undefined,
    graceMs: number,
    signal: AbortSignal,
  ): Promise<BlockState | undefined> {
    const stop = new AbortController();
    const timer = this.clock.sleep(graceMs, AbortSignal.any([stop.signal, signal])).catch(() => undefined);
    try {
      for (;;) {
        const found = this.ended(state, container, uid);
        if (found) return found;
        if (signal.aborted) return undefined;
        const woken = new Promise<boolean>((resolve) => {
          this.wake = () => resolve(true);
        });
        if (!(await Promise.race([woken, timer.then(() => false)]))) return this.ended(state, container, uid);
      }
    } finally {
      this.wake = undefined;
      stop.abort(TIMER_STOPPED);
    }
  }

  /** Stops listening. */
  dispose(): void {
    this.subscription.dispose();
  }

  private observe(observation: Observation): void {
    if (observation.kind !== 'pod') return;
    const name = observation.pod.metadata.name;
    if (!name) return;
    this.seen.set(name, { pod: observation.pod, at: observation.at });
    this.wake?.();
  }

  /** `state` with the newest pod seen, when that pod shows the container's successful end. */
  private ended(state: BlockState, container: string, uid: string | undefined): BlockState | undefined {
    const ours = [...this.seen.values()]
      .map(({ pod, at }) => summarizePod(pod, at, state.pods[pod.metadata.name ?? '']))
      .filter((p) => !uid || !p.ownerUid || p.ownerUid === uid);
    const current = newestPod(ours);
    if (current?.phase !== 'Succeeded' || current.terminated?.containerName !== container) return undefined;
    const exit = current.terminated;
    return {
      ...state,
      pods: { ...state.pods, [current.name]: current },
      currentPod: current.name,
      ...(state.exitCode === undefined ? { exitCode: exit.exitCode, containerName: exit.containerName } : {}),
    };
  }
}
