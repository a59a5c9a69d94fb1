import type { RetryConfig } from '../config/pipeline.js';
import type { InfrastructureCause } from '../monitor/job-outcome.js';
import type { AttemptRecord } from './pipeline-types.js';
import { retryDelayMs } from './retry-delay.js';

/** What follows a block's failed attempt. */
export type NextAttempt =
  /** Another attempt after an infrastructure failure, at once, not using `retry_config`. */
  | { kind: 'infrastructure'; attempt: number; delayMs: 0; cause: InfrastructureCause }
  /** Another attempt of `retry_config`, after its delay. */
  | { kind: 'retry'; attempt: number; delayMs: number }
  /** None: the block failed for good. */
  | { kind: 'none' };

/**
 * Decides what follows the last of a block's attempts, which failed (`attempts` in order, those of an
 * earlier run included). Failures for an infrastructure reason (`infrastructure` set) are retried at
 * once without counting against `retry_config`, the first `infrastructureRetries` of them; every other
 * failure (and each one past that bound) uses one of `retry.retries`, whose delay counts only those.
 * A success ends a try: only the attempts after the latest succeeded one count (a block run again
 * after it succeeded, for a config change, has its whole `retry_config` again).
 * Pure: a resumed run decides from the same records as the run that made them.
 */
export function nextAttempt(
  retry: RetryConfig,
  infrastructureRetries: number,
  attempts: readonly AttemptRecord[],
): NextAttempt {
  const base = attempts.findLast((a) => a.status === 'succeeded')?.attempt ?? 0;
  const failures = attempts.filter((a) => a.status === 'failed' && a.attempt > base);
  const last = failures.at(-1);
  if (!last) return { kind: 'none' };
  let infrastructure = 0;
  let lastWasInfrastructure = false;
  for (const failure of failures) {
    lastWasInfrastructure = failure.infrastructure !== undefined && infrastructure < infrastructureRetries;
    if (lastWasInfrastructure) infrastructure++;
  }
  const attempt = last.attempt + 1;
  if (lastWasInfrastructure && last.infrastructure)
    return { kind: 'infrastructure', attempt, delayMs: 0, cause: last.infrastructure };
  // Attempts are numbered 1, 2, ... across runs: one whose record is missing (its Job is gone) counts
  // as an ordinary failure.
  const ordinary = last.attempt - base - infrastructure;
  if (ordinary > retry.retries) return { kind: 'none' };
  return { kind: 'retry', attempt, delayMs: retryDelayMs(retry, ordinary + 1) };
}
