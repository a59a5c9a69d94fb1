import type { BlockDefinition, RetryConfig } from '../config/index.js';
import type { ErrorCode } from '../errors/codes.js';
import { jobOutcome } from '../monitor/job-outcome.js';
import { initialBlockState } from '../monitor/reduce.js';
import type { DagContext } from './dag-context.js';
import { listRunJobs } from './dag-identity.js';
import type { AttemptRecord } from './pipeline-types.js';

/** What an earlier run of the same pipeline run left behind for one block. */
export interface EarlierAttempt {
  attempt: number;
  state: 'succeeded' | 'failed' | 'active';
  jobName: string;
  /** Why it failed, as far as the Job's conditions tell (its pods may be gone). */
  reason?: ErrorCode;
}

/** Where a block starts, given what an earlier run left. */
export interface StartingPoint {
  /** The attempts an earlier run finished, as records (`fromEarlierRun`). */
  attempts: AttemptRecord[];
  /** Set when the block is already over: its status and the record that decided it. */
  finished?: { status: 'succeeded' | 'failed'; record: AttemptRecord };
  /** The attempt to run next, when it is not the first. */
  nextAttempt?: number;
}

/** The retry policy of a block without `retry_config`: one attempt. */
export const NO_RETRY: RetryConfig = {
  retries: 0,
  delaySeconds: 0,
  maxDelaySeconds: 0,
  exponentialBackoff: false,
};

/**
 * Reads the Jobs an earlier run of this pipeline run left behind in `namespaces`, by block uuid, oldest
 * attempt first. Only Jobs with this run's full identity count (see `runJobOf`).
 */
export async function findEarlierAttempts(
  ctx: DagContext,
  namespaces: ReadonlySet<string>,
  signal: AbortSignal,
): Promise<Map<string, EarlierAttempt[]>> {
  const found = new Map<string, EarlierAttempt[]>();
  for (const namespace of namespaces) {
    for (const { job, block, attempt } of await listRunJobs(ctx, namespace, signal)) {
      const jobName = job.metadata.name ?? '';
      const outcome = jobOutcome(job, initialBlockState(jobName, 0));
      const entry: EarlierAttempt = {
        attempt,
        jobName,
        state: outcome?.phase ?? 'active',
        ...(outcome?.phase === 'failed' ? { reason: outcome.reason } : {}),
      };
      found.set(
        block.uuid,
        [...(found.get(block.uuid) ?? []), entry].sort((a, b) => a.attempt - b.attempt),
      );
    }
  }
  return found;
}

/**
 * A block's starting point from what an earlier run did: the latest attempt succeeded → done; still
 * active → run that same attempt (create → 409 → adopt); failed → the next attempt if `retry_config`
 * allows, else failed for good.
 */
export function startingPoint(block: BlockDefinition, earlier: EarlierAttempt[], now: number): StartingPoint {
  const attempts: AttemptRecord[] = earlier
    .filter((e) => e.state !== 'active')
    .map((e) => ({
      attempt: e.attempt,
      jobName: e.jobName,
      status: e.state === 'succeeded' ? 'succeeded' : 'failed',
      ...(e.state === 'failed'
        ? {
            reason: e.reason ?? 'JOB_FAILED',
            message: `Attempt ${e.attempt} failed in an earlier run (Job ${e.jobName}).`,
          }
        : {}),
      fromEarlierRun: true,
      startedAt: now,
      finishedAt: now,
    }));
  const last = earlier.at(-1);
  if (!last) return { attempts };
  if (last.state === 'succeeded')
    return { attempts, finished: { status: 'succeeded', record: attempts.at(-1)! } };
  if (last.state === 'active') return { attempts, nextAttempt: last.attempt };
  const retry = block.retry ?? NO_RETRY;
  if (last.attempt + 1 <= retry.retries + 1) return { attempts, nextAttempt: last.attempt + 1 };
  return { attempts, finished: { status: 'failed', record: attempts.at(-1)! } };
}
