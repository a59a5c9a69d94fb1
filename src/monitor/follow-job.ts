import { type Clock, MAX_TIMER_MS, TIMER_STOPPED } from '../ports/clock.js';
import { initialBlockState, isFinalPhase, nextDeadline, reduce } from './reduce.js';
import type { BlockState, BlockTransition, MonitorPolicy, Observation } from './types.js';
import type { HubSubscription, WatchHub } from './watch-hub.js';

/** What {@link followJob} needs. */
export interface FollowJobOptions {
  /** The shared watch of the Job's namespace. */
  hub: WatchHub;
  jobName: string;
  clock: Clock;
  policy: MonitorPolicy;
  /** When the Job was created (the Clock's time); the no-pod bound counts from it. */
  submittedAt: number;
  /** The Job as created or adopted (uid, resourceVersion): tells it from an earlier Job of the same name. */
  created?: { uid?: string; resourceVersion?: string };
  /** Stops following: the promise rejects with `signal.reason`. The Job is left alone. */
  signal?: AbortSignal;
  /** Called on every phase change, in order, before the promise settles. */
  onTransition?: (transition: BlockTransition) => void;
  /** Called on every new state. */
  onState?: (state: BlockState) => void;
}

/**
 * How long a follow whose waiting bound was reached on a cache that is not current waits, at most,
 * before it looks again (and asks the hub for another catch-up list).
 */
export const BOUND_RECHECK_MS = 10_000;

/**
 * Follows one Job to its final state. Observations come from the hub's shared watch (no polling of
 * its own); between them it sleeps on the Clock until the state's next waiting bound
 * (`nextDeadline`), re-armed whenever the bound moves, and feeds a `tick` when it is reached.
 *
 * A waiting bound concludes "not happened in time" (no pod, still Pending, still pulling), which is
 * only true of what was seen: while one of the hub's caches is not current (see `Reflector.current`),
 * the Job may have ended, or its pod started, unseen. A bound reached then waits: the follow asks the
 * hub to list that resource now (`WatchHub.syncNow`: one list shared by every follow asking, joined
 * when one is on its way, at most one per poll interval), and looks again when the list settled or after
 * {@link BOUND_RECHECK_MS}. What the list finds comes as observations (a Job that ended ends the
 * follow with its own outcome); the bound concludes, at that later moment, only if it still holds once
 * the caches are current. No request is made per follow, and none at all with the caches current (the
 * usual case). Bounds that are the pod's own state at once (InvalidImageName) do not wait.
 *
 * Resolves with the final {@link BlockState} (`succeeded` or `failed`, with its reason); a block that
 * fails is a result, not a rejection. Rejects with `signal.reason` on abort, with the API error when
 * the hub cannot list the namespace (401/403/404 from the first list, or for the hub's whole
 * `unlistableTimeoutMs`: waiting could never end), and with the error
 * of an `onTransition`/`onState` callback that throws. The subscription is disposed in every case.
 */
export function followJob(options: FollowJobOptions): Promise<BlockState> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<BlockState>((resolve, reject) => new JobFollow(options, resolve, reject).start());
}

/** One follow's state and steps. A class rather than closures: every running block holds one. */
class JobFollow {
  private state: BlockState;
  private done = false;
  private subscription: HubSubscription | undefined;
  private timer: { deadline: number; stop: AbortController } | undefined;
  /** Whether a reached bound waits for the caches to be current (see followJob). */
  private awaitingCurrent = false;

  constructor(
    private readonly options: FollowJobOptions,
    private readonly resolve: (state: BlockState) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.state = initialBlockState(options.jobName, options.submittedAt, options.created);
  }

  start(): void {
    const { hub, jobName, signal } = this.options;
    signal?.addEventListener('abort', this, { once: true });
    // The hub replays what it has cached synchronously, so `apply` may finish before this returns.
    const subscription = hub.subscribe(jobName, (observation) => this.apply(observation));
    if (this.done) {
      subscription.dispose();
      return;
    }
    this.subscription = subscription;
    this.arm();
  }

  /**
   * The signal's abort (this object is its listener, so it needs no closure). Once a final state is
   * reached it changes nothing: a cancel from inside the final event (a user's onEvent aborting its
   * signal) finds the outcome decided.
   */
  handleEvent(): void {
    if (!isFinalPhase(this.state.phase)) this.fail(this.options.signal?.reason);
  }

  private apply(observation: Observation): void {
    if (this.done) return;
    if (observation.kind === 'unobservable') {
      this.fail(observation.error);
      return;
    }
    const previous = this.state;
    const { policy } = this.options;
    let next = reduce(previous, observation, policy);
    if (isFinalPhase(next.phase) && !this.cachesCurrent()) {
      const unbounded = reduce(previous, observation, withoutWaitingBounds(policy));
      if (!isFinalPhase(unbounded.phase)) {
        // A bound ended it, on a cache that may be old: keep what the observation says, and wait.
        next = unbounded;
        this.awaitCurrent();
      }
    }
    if (next === previous) {
      this.arm();
      return;
    }
    this.state = next;
    try {
      this.options.onState?.(next);
      if (this.done) return; // ended from inside onState (an abort): no transition after the end
      if (previous.phase !== next.phase)
        this.options.onTransition?.({ from: previous.phase, to: next.phase, state: next });
    } catch (error) {
      this.fail(error);
      return;
    }
    // Released after the callbacks: what they start (a wait for the pod's end) keeps the shared watch.
    if (isFinalPhase(next.phase) && this.settle()) {
      this.release();
      this.resolve(next);
    } else if (!this.done) this.arm();
  }

  private cachesCurrent(): boolean {
    const { hub } = this.options;
    return hub.isCurrent('jobs') && hub.isCurrent('pods');
  }

  /**
   * A bound was reached on a cache that is not current: asks the hub to catch up, and looks again (a
   * `tick`) when that settled or after {@link BOUND_RECHECK_MS}, whichever comes first; the tick then
   * concludes the bound if it still holds and the caches are current, or waits again.
   */
  private awaitCurrent(): void {
    if (this.awaitingCurrent) return;
    this.awaitingCurrent = true;
    this.timer?.stop.abort(TIMER_STOPPED);
    const { clock, hub } = this.options;
    const armed = { deadline: Number.NaN, stop: new AbortController() };
    this.timer = armed;
    const recheck = () => {
      if (this.timer !== armed) return; // looked again already, or the follow ended
      armed.stop.abort(TIMER_STOPPED);
      this.timer = undefined;
      this.awaitingCurrent = false;
      this.apply({ kind: 'tick', at: clock.now() });
    };
    clock.sleep(BOUND_RECHECK_MS, armed.stop.signal).then(recheck, () => undefined);
    void hub.syncNow().then(() => {
      if (this.cachesCurrent()) recheck();
    });
  }

  /** Sleeps until the state's next waiting bound, then feeds a `tick`; re-armed when the bound moves. */
  private arm(): void {
    if (this.awaitingCurrent) return; // it looks again by itself
    const { clock, policy } = this.options;
    const deadline = nextDeadline(this.state, policy);
    if (deadline === this.timer?.deadline) return;
    this.timer?.stop.abort(TIMER_STOPPED);
    this.timer = undefined;
    if (deadline === undefined) return;
    const armed = { deadline, stop: new AbortController() };
    this.timer = armed;
    // A bound weeks away is slept in chunks a timer can hold; waking before it re-arms, nothing else.
    const wait = Math.min(Math.max(0, deadline - clock.now()), MAX_TIMER_MS);
    clock.sleep(wait, armed.stop.signal).then(
      () => {
        if (this.timer !== armed) return;
        this.timer = undefined;
        if (clock.now() < deadline) this.arm();
        else this.apply({ kind: 'tick', at: clock.now() });
      },
      () => {
        // Aborted: the bound moved or the follow ended.
      },
    );
  }

  /** Ends the follow with `error`, unless it already ended. */
  private fail(error: unknown): void {
    if (!this.settle()) return;
    this.release();
    this.reject(error);
  }

  /** Marks the follow ended (false when it already was): no timer, no abort listener. */
  private settle(): boolean {
    if (this.done) return false;
    this.done = true;
    this.timer?.stop.abort(TIMER_STOPPED);
    this.options.signal?.removeEventListener('abort', this);
    return true;
  }

  private release(): void {
    this.subscription?.dispose();
  }
}

/** `policy` with every waiting bound out of reach: an observation is applied without concluding one. */
function withoutWaitingBounds(policy: MonitorPolicy): MonitorPolicy {
  const never = Number.POSITIVE_INFINITY;
  return {
    ...policy,
    unschedulableTimeoutMs: never,
    noPodTimeoutMs: never,
    imagePullGraceMs: never,
    containerConfigGraceMs: never,
    pendingTimeoutMs: never,
    suspendedTimeoutMs: never,
    // The wait for a failed Job's last pod: with the Pods cache stale, that pod may have been missed.
    podOutcomeGraceMs: never,
  };
}
