import type { RetryConfig } from '../config/pipeline.js';

/**
 * The delay before attempt `nextAttempt` (2 = first retry), in ms: `delay`, or
 * `delay * 2^(nextAttempt - 2)` with exponential backoff, never more than `max_delay`.
 */
export function retryDelayMs(retry: RetryConfig, nextAttempt: number): number {
  const factor = retry.exponentialBackoff ? 2 ** Math.max(0, nextAttempt - 2) : 1;
  return Math.min(retry.delaySeconds * factor, retry.maxDelaySeconds) * 1000;
}
