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
 * Follows one Job to its final state. Observations come from the hub's shared watch (no polling of
 * its own); between them it sleeps on the Clock until the state's next waiting bound
 * (`nextDeadline`), re-armed whenever the bound moves, and feeds a `tick` when it is reached.
 *
 * Resolves with the final {@link BlockState} (`succeeded` or `failed`, with its reason); a block that
 * fails is a result, not a rejection. Rejects with `signal.reason` on abort, with the API error when
 * the hub cannot list the namespace (401/403/404 from the first list, or for the hub's whole
 * `unlistableTimeoutMs`: waiting could never end), and with the error
 * of an `onTransition`/`onState` callback that throws. The subscription is disposed in every case.
 */
export function followJob(options: FollowJobOptions): Promise<BlockState> {
  const { hub, jobName, clock, policy, signal } = options;
  return new Promise<BlockState>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let state = initialBlockState(jobName, options.submittedAt, options.created);
    let done = false;
    let subscription: HubSubscription | undefined;
    let timer: { deadline: number; stop: AbortController } | undefined;

    /** Settles the follow once; its subscription stays until `release`. */
    const settle = (outcome: () => void) => {
      if (done) return;
      done = true;
      timer?.stop.abort(TIMER_STOPPED);
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const release = () => subscription?.dispose();
    const finish = (outcome: () => void) => {
      if (done) return;
      settle(outcome);
      release();
    };
    const onAbort = () => finish(() => reject(signal?.reason));

    const arm = () => {
      const deadline = nextDeadline(state, policy);
      if (deadline === timer?.deadline) return;
      timer?.stop.abort(TIMER_STOPPED);
      timer = undefined;
      if (deadline === undefined) return;
      const armed = { deadline, stop: new AbortController() };
      timer = armed;
      // A bound weeks away is slept in chunks a timer can hold; waking before it re-arms, nothing else.
      const wait = Math.min(Math.max(0, deadline - clock.now()), MAX_TIMER_MS);
      clock.sleep(wait, armed.stop.signal).then(
        () => {
          if (timer !== armed) return;
          timer = undefined;
          if (clock.now() < deadline) arm();
          else apply({ kind: 'tick', at: clock.now() });
        },
        () => {
          // Aborted: the bound moved or the follow ended.
        },
      );
    };

    const apply = (observation: Observation) => {
      if (done) return;
      if (observation.kind === 'unobservable') {
        finish(() => reject(observation.error));
        return;
      }
      const next = reduce(state, observation, policy);
      if (next !== state) {
        const previous = state;
        state = next;
        // A final state settles the follow before anyone hears of it: a cancel from inside the final
        // event (a user's onEvent aborting its signal) finds the outcome already decided. Its
        // subscription ends after them, so what they start (a wait for the pod's end) keeps the watch.
        const final = isFinalPhase(next.phase);
        if (final) settle(() => resolve(next));
        try {
          options.onState?.(next);
          if (previous.phase !== next.phase)
            options.onTransition?.({ from: previous.phase, to: next.phase, state: next });
        } catch (error) {
          finish(() => reject(error));
        }
        if (final) release();
        if (done) return;
      }
      arm();
    };

    signal?.addEventListener('abort', onAbort, { once: true });
    // The hub replays what it has cached synchronously, so `apply` may finish before this returns.
    const sub = hub.subscribe(jobName, apply);
    if (done) {
      sub.dispose();
      return;
    }
    subscription = sub;
    arm();
  });
}
