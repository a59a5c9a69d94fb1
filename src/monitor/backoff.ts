/** Settings of a {@link ReconnectBackoff}. */
export interface ReconnectBackoffOptions {
  /** The first delay. @default 1000 */
  initialMs?: number;
  /** The largest delay. @default 30_000 */
  maxMs?: number;
}

/**
 * The delay before a watch reconnects: `initialMs`, doubling on each consecutive failure, capped at
 * `maxMs` (1 s, 2 s, 4 s … 30 s, as client-go and client-node's `ListWatch`). An immutable value:
 * {@link ReconnectBackoff.next} and {@link ReconnectBackoff.reset} return new values. No jitter: there
 * is one watch per namespace and process, not one per Job, so there is no herd to spread.
 *
 * @example
 * let backoff = ReconnectBackoff.create();
 * await clock.sleep(backoff.delayMs, signal); // 1000
 * backoff = backoff.next();                   // 2000 next time
 */
export class ReconnectBackoff {
  private constructor(
    /** The delay to wait now, in ms. */
    readonly delayMs: number,
    /** Consecutive failures this value stands for (0 after `create()` and `reset()`). */
    readonly attempt: number,
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {}

  /** The backoff before the first reconnect. */
  static create(options: ReconnectBackoffOptions = {}): ReconnectBackoff {
    // At least 1 ms: a zero delay would double to zero forever and spin.
    const initialMs = Math.max(1, options.initialMs ?? 1000);
    const maxMs = Math.max(initialMs, options.maxMs ?? 30_000);
    return new ReconnectBackoff(initialMs, 0, initialMs, maxMs);
  }

  /** The backoff after one more failure: twice the delay, at most `maxMs`. */
  next(): ReconnectBackoff {
    return new ReconnectBackoff(
      Math.min(this.maxMs, this.delayMs * 2),
      this.attempt + 1,
      this.initialMs,
      this.maxMs,
    );
  }

  /** The backoff after a success: back to `initialMs`. */
  reset(): ReconnectBackoff {
    return this.attempt === 0 ? this : new ReconnectBackoff(this.initialMs, 0, this.initialMs, this.maxMs);
  }
}
