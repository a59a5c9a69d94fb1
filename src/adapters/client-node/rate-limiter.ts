import { ConfigError } from '../../errors/config-error.js';
import type { Clock } from '../../ports/clock.js';

/** Client-side request rate, like client-go's `--qps`/`--burst`. */
export interface RateLimitOptions {
  /** Sustained requests per second; `Infinity` turns limiting off. @default 20 */
  qps: number;
  /** Requests allowed at once before spacing starts. @default 30 */
  burst: number;
}

/** The defaults of {@link RateLimitOptions} (client-go and Argo use the same). */
export const DEFAULT_RATE_LIMIT: Readonly<RateLimitOptions> = Object.freeze({ qps: 20, burst: 30 });

/**
 * A token bucket like client-go's: it starts full with `burst` tokens and refills at `qps` per second.
 * A caller that finds it empty reserves the next token and sleeps (through the injected clock) until
 * that token is due, so concurrent callers are spaced `1000 / qps` ms apart in arrival order.
 *
 * @throws ConfigError `CONFIG_INVALID` when qps is not positive or burst is below 1.
 * @example
 * const limiter = new TokenBucketRateLimiter({ qps: 20, burst: 30 }, systemClock);
 * await limiter.acquire(signal);
 */
export class TokenBucketRateLimiter {
  private tokens: number;
  private refilledAt: number;

  /**
   * @param onWait told how long each caller that found the bucket empty waits, in ms (for metrics).
   */
  constructor(
    private readonly options: Readonly<RateLimitOptions>,
    private readonly clock: Clock,
    private readonly onWait?: (ms: number) => void,
  ) {
    const issues = [];
    if (!(options.qps > 0)) {
      issues.push({
        code: 'INVALID_VALUE' as const,
        path: 'qps',
        message: `qps must be > 0 (got ${options.qps}).`,
      });
    }
    if (!(options.burst >= 1)) {
      issues.push({
        code: 'INVALID_VALUE' as const,
        path: 'burst',
        message: `burst must be >= 1 (got ${options.burst}).`,
      });
    }
    if (issues.length > 0) throw new ConfigError(issues);
    this.tokens = options.burst;
    this.refilledAt = clock.now();
  }

  /**
   * Takes one token, waiting for it when the bucket is empty. Rejects with `signal.reason` on abort,
   * and then gives the reserved token back.
   */
  async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.options.qps === Number.POSITIVE_INFINITY) return;
    this.refill();
    this.tokens -= 1;
    if (this.tokens >= 0) return;
    // Negative tokens are reservations: this caller's token is due when the deficit is refilled.
    const waitMs = Math.ceil((-this.tokens * 1000) / this.options.qps);
    this.onWait?.(waitMs);
    try {
      await this.clock.sleep(waitMs, signal);
    } catch (e) {
      this.tokens += 1;
      throw e;
    }
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.refilledAt);
    this.tokens = Math.min(this.options.burst, this.tokens + (elapsed * this.options.qps) / 1000);
    this.refilledAt = now;
  }
}
