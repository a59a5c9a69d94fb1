import { ApiError } from '../errors/api-error.js';
import type { Clock } from '../ports/clock.js';

/** Waits before the 2nd, 3rd, ... try of a DAG run's own API call (resume list, lookups, cleanup). */
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000] as const;

/**
 * How many of those a refused call (401/403) gets: a token at its expiry edge, an authenticator hiccup or a
 * RoleBinding being re-applied answers one refusal, while a Role that really lacks the verb still fails the
 * run within 3 s.
 */
const REFUSED_TRIES = 2;

/**
 * Runs one of the DAG run's own API calls, trying again after a transient failure (`ApiError` with
 * `transient`, e.g. 503 or a reset) up to {@link RETRY_DELAYS_MS} times, and after a refusal (401, 403) up to
 * {@link REFUSED_TRIES} times: one bad answer must not decide what the run does. Other errors, the last
 * failure and an abort reject.
 */
export async function withRetries<T>(
  clock: Clock,
  signal: AbortSignal | undefined,
  call: () => Promise<T>,
): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await call();
    } catch (error) {
      const delay = RETRY_DELAYS_MS[tries];
      const retried =
        error instanceof ApiError &&
        (error.transient ||
          ((error.code === 'API_UNAUTHORIZED' || error.code === 'API_FORBIDDEN') && tries < REFUSED_TRIES));
      if (!retried || delay === undefined || signal?.aborted) throw error;
      await clock.sleep(delay, signal);
    }
  }
}
