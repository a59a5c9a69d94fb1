import { ApiError, type ApiOperation } from '../../errors/api-error.js';
import { isK8sExecutorError } from '../../errors/base.js';
import type { Clock } from '../../ports/clock.js';
import { ExponentialBackoff, type RetryOptions } from './backoff.js';
import { classify, describeOperation } from './classify.js';
import type { TokenBucketRateLimiter } from './rate-limiter.js';

/** Counts of API requests, for benchmarks and tests. Keys are `"<verb> <resource>"`, e.g. `"watch jobs"`. */
export interface ApiCallStats {
  /** Requests sent (every attempt counts, retries included). */
  readonly requests: number;
  /** Retries (attempts after the first). */
  readonly retries: number;
  /** Requests by `"<verb> <resource>"`. */
  readonly byCall: Readonly<Record<string, number>>;
  /** Retries by `"<verb> <resource>"`. */
  readonly retriesByCall: Readonly<Record<string, number>>;
}

/** Options of one {@link CallPolicy.execute}. */
export interface ExecuteOptions<T> {
  /** Aborts the call, including a backoff or rate-limit wait. */
  signal?: AbortSignal;
  /** Strings that must never appear in an error message (env values of a Job being created). */
  redact?: readonly string[];
  /**
   * Called when a RETRY of the call fails with 409 Conflict: the earlier attempt may have succeeded
   * before its reply was lost. Return the adopted result, or undefined to report the conflict.
   */
  onConflictAfterRetry?: () => Promise<T | undefined>;
}

/** What a {@link CallPolicy} is made of. */
export interface CallPolicyOptions {
  /** Retry limits. */
  retry: Readonly<RetryOptions>;
  /** Sleeps between retries and rate-limit waits. */
  clock: Clock;
  /** Jitter source, values in [0, 1). */
  random: () => number;
  /** Shared client-side rate limit. */
  limiter: TokenBucketRateLimiter;
  /**
   * Called with the failure when an attempt gets 401, before the one immediate retry a call gets for
   * it: refreshes the credential the failed attempt was sent with.
   */
  onUnauthorized?: (failure: unknown) => void;
}

/**
 * Verbs that skip the client-side rate limit: the shared watches' `list` and `watch` are a handful per
 * namespace, paced by the watch hub's own backoff, and must never queue behind a burst of creates and
 * log streams, or completion detection would lag by the length of the queue.
 */
const UNLIMITED_VERBS: ReadonlySet<string> = new Set(['list', 'watch']);

/**
 * Runs every API request of the adapter: rate limit (except `list`/`watch`), classification of failures into `ApiError`,
 * and retries of transient ones (429 honouring `Retry-After`, 5xx, resets, timeouts) with capped
 * exponential backoff and full jitter, within both an attempt and a time budget. A 401 refreshes the
 * credential and is retried once, at once; 403/404/409/410/422 are never retried.
 */
export class CallPolicy {
  private requests = 0;
  private retries = 0;
  private readonly byCall = new Map<string, number>();
  private readonly retriesByCall = new Map<string, number>();

  constructor(private readonly options: CallPolicyOptions) {}

  /**
   * Runs `attempt` until it succeeds, fails for good, or the retry budget is spent.
   *
   * @throws ApiError classified failure; `API_UNAVAILABLE` naming the attempt count when retries ran out.
   * @throws the signal's reason when aborted.
   */
  async execute<T>(op: ApiOperation, attempt: () => Promise<T>, options: ExecuteOptions<T> = {}): Promise<T> {
    const { signal } = options;
    const { retry, clock } = this.options;
    const startedAt = clock.now();
    let backoff = ExponentialBackoff.first(retry, this.options.random);
    let reauthenticated = false;
    for (let attemptNo = 1; ; attemptNo++) {
      signal?.throwIfAborted();
      if (!UNLIMITED_VERBS.has(op.verb)) await this.options.limiter.acquire(signal);
      this.count(op, attemptNo > 1);
      try {
        return await attempt();
      } catch (failure) {
        if (signal?.aborted) throw signal.reason;
        if (isK8sExecutorError(failure) && !(failure instanceof ApiError)) throw failure;
        const { error, retryAfterMs } = classify(op, failure, options.redact);
        if (error.code === 'API_CONFLICT' && attemptNo > 1 && options.onConflictAfterRetry) {
          const adopted = await options.onConflictAfterRetry();
          if (adopted !== undefined) return adopted;
        }
        if (error.status === 401 && !reauthenticated) {
          reauthenticated = true;
          this.options.onUnauthorized?.(failure);
          continue;
        }
        if (!error.transient) throw error;
        const delayMs = retryAfterMs ?? backoff.delayMs;
        const elapsedMs = clock.now() - startedAt;
        if (attemptNo >= retry.maxAttempts || elapsedMs + delayMs > retry.maxElapsedMs) {
          throw exhausted(op, error, attemptNo, elapsedMs);
        }
        await clock.sleep(delayMs, signal);
        backoff = backoff.next();
      }
    }
  }

  /** A snapshot of the request counts so far. */
  stats(): ApiCallStats {
    return {
      requests: this.requests,
      retries: this.retries,
      byCall: Object.fromEntries(this.byCall),
      retriesByCall: Object.fromEntries(this.retriesByCall),
    };
  }

  private count(op: ApiOperation, isRetry: boolean): void {
    const key = `${op.verb} ${op.resource}`;
    this.requests++;
    this.byCall.set(key, (this.byCall.get(key) ?? 0) + 1);
    if (isRetry) {
      this.retries++;
      this.retriesByCall.set(key, (this.retriesByCall.get(key) ?? 0) + 1);
    }
  }
}

function exhausted(op: ApiOperation, last: ApiError, attempts: number, elapsedMs: number): ApiError {
  return new ApiError(
    'API_UNAVAILABLE',
    `Gave up on ${describeOperation(op)} after ${attempts} attempt${attempts === 1 ? '' : 's'} in ${(elapsedMs / 1000).toFixed(1)} s; ` +
      `the last failure was: ${last.message}`,
    {
      operation: op,
      transient: true,
      cause: last,
      ...(last.status !== undefined ? { status: last.status } : {}),
    },
  );
}
