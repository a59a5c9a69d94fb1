import { ApiError } from '../errors/api-error.js';
import type { Clock } from '../ports/clock.js';

/** Waits before the 2nd, 3rd, ... try of a DAG run's own API call (resume list, lookups, cleanup). */
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000] as const;

/**
 * Runs one of the DAG run's own API calls, trying again after a transient failure (`ApiError` with
 * `transient`, e.g. 503 or a reset) up to {@link RETRY_DELAYS_MS} times: one bad answer must not decide
 * what the run does. Other errors, the last transient one and an abort reject.
 */
export async function withTransientRetries<T>(
  clock: Clock,
  signal: AbortSignal | undefined,
  call: () => Promise<T>,
): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await call();
    } catch (error) {
      const delay = RETRY_DELAYS_MS[tries];
      if (!(error instanceof ApiError && error.transient) || delay === undefined || signal?.aborted)
        throw error;
      await clock.sleep(delay, signal);
    }
  }
}
