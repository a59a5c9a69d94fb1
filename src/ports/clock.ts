/**
 * Time, injected. Nothing in the core calls `Date.now` or `setTimeout`; tests use the fake clock of
 * `k8s-executor/testing`.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds; rejects with `signal.reason` as soon as `signal` aborts. Any
   * length is allowed (`Infinity` never resolves), however far beyond `setTimeout`'s range.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The reason an internal timer is stopped with (a bound that moved, a wait that ended): one shared
 * `AbortError`, as `abort()` would give, without building a new one (and its stack) for each of the
 * thousands of stops a large run makes. The SDK swallows it; only a `Clock` of your own sees it in `sleep`.
 */
export const TIMER_STOPPED: DOMException = new DOMException('The timer was stopped.', 'AbortError');

/** The longest delay `setTimeout` takes (2^31-1 ms, 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real clock. Sleeps longer than the longest timer (`2^31 - 1` ms) are slept in chunks of at most that. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const wakeAt = Date.now() + ms;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const arm = (remaining: number) => {
        timer = setTimeout(
          () => {
            const left = wakeAt - Date.now();
            if (left > 0) {
              arm(left);
              return;
            }
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          Math.min(Math.max(0, remaining), MAX_TIMER_MS),
        );
      };
      arm(ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
