import type { AttemptRecord, BlockOutcome, PipelineResult } from './pipeline-types.js';
import type { BlockResult } from './types.js';

/** The record of one attempt, from the block executor's result. */
export function attemptOf(attempt: number, result: BlockResult): AttemptRecord {
  return {
    attempt,
    jobName: result.jobName,
    status: result.status,
    ...(result.reason ? { reason: result.reason } : {}),
    ...(result.message ? { message: result.message } : {}),
    ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
    ...(result.adopted ? { adopted: true } : {}),
    startedAt: result.timings.submittedAt,
    ...(result.timings.startedAt !== undefined ? { runningAt: result.timings.startedAt } : {}),
    finishedAt: result.timings.finishedAt,
  };
}

/** A run is `cancelled` when any block was, `succeeded` when every block did, else `failed`. */
export function pipelineStatus(blocks: readonly BlockOutcome[]): PipelineResult['status'] {
  if (blocks.some((b) => b.status === 'cancelled')) return 'cancelled';
  return blocks.every((b) => b.status === 'succeeded') ? 'succeeded' : 'failed';
}
