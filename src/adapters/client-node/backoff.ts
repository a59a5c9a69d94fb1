/** How transient API failures are retried. */
export interface RetryOptions {
  /** The first backoff ceiling, doubled on every retry. @default 200 */
  baseDelayMs: number;
  /** The largest backoff ceiling. @default 10_000 */
  maxDelayMs: number;
  /** Attempts in total, the first one included. @default 6 */
  maxAttempts: number;
  /** Time budget from the first attempt; no retry starts a sleep that would end past it. @default 60_000 */
  maxElapsedMs: number;
}

/** The defaults of {@link RetryOptions}. */
export const DEFAULT_RETRY_OPTIONS: Readonly<RetryOptions> = Object.freeze({
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  maxAttempts: 6,
  maxElapsedMs: 60_000,
});

/**
 * Capped exponential backoff with full jitter (AWS architecture blog): the n-th delay is uniform in
 * `[0, min(maxDelayMs, baseDelayMs * 2^n))`. An immutable value: {@link ExponentialBackoff.next}
 * returns the following step and leaves this one untouched.
 *
 * @example
 * let backoff = ExponentialBackoff.first(DEFAULT_RETRY_OPTIONS, Math.random);
 * await clock.sleep(backoff.delayMs);
 * backoff = backoff.next();
 */
export class ExponentialBackoff {
  private constructor(
    private readonly options: Readonly<RetryOptions>,
    private readonly random: () => number,
    /** 0 for the delay before the first retry. */
    readonly retry: number,
    /** The delay of this step, in ms. */
    readonly delayMs: number,
  ) {}

  /** The delay before the first retry. `random` returns values in [0, 1). */
  static first(options: Readonly<RetryOptions>, random: () => number): ExponentialBackoff {
    return new ExponentialBackoff(options, random, 0, jittered(options, random, 0));
  }

  /** The delay of the step after this one. */
  next(): ExponentialBackoff {
    const retry = this.retry + 1;
    return new ExponentialBackoff(
      this.options,
      this.random,
      retry,
      jittered(this.options, this.random, retry),
    );
  }
}

function jittered(options: Readonly<RetryOptions>, random: () => number, retry: number): number {
  // 2 ** retry overflows to Infinity long after the cap is reached, and Math.min handles Infinity.
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}
