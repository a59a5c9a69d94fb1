import type { TerminationFields } from './block-output.js';
import type { AttemptRecord, BlockOutcome, PipelineResult } from './pipeline-types.js';
import type { BlockDetection, BlockResult } from './types.js';

/** The record of one attempt, from the block executor's result (or what was known at its detection). */
export function attemptOf(attempt: number, result: BlockResult | BlockDetection): AttemptRecord {
  return {
    attempt,
    jobName: result.jobName,
    status: result.status,
    ...(result.reason ? { reason: result.reason } : {}),
    ...(result.message ? { message: result.message } : {}),
    ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
    ...(result.adopted ? { adopted: true } : {}),
    ...(result.infrastructure ? { infrastructure: result.infrastructure } : {}),
    startedAt: result.timings.submittedAt,
    ...(result.timings.startedAt !== undefined ? { runningAt: result.timings.startedAt } : {}),
    ...(result.timings.queued
      ? { queued: result.timings.queued, queuedMs: result.timings.queuedMs ?? 0 }
      : {}),
    finishedAt: result.timings.finishedAt,
  };
}

/** Puts the termination fields of a block's latest attempt on its outcome, replacing an earlier attempt's. */
export function setTermination(outcome: BlockOutcome, fields: TerminationFields): void {
  delete outcome.terminationMessage;
  delete outcome.output;
  delete outcome.outputError;
  if (fields.terminationMessage !== undefined) outcome.terminationMessage = fields.terminationMessage;
  if (Object.hasOwn(fields, 'output')) outcome.output = fields.output;
  if (fields.outputError !== undefined) outcome.outputError = fields.outputError;
}

/** A run is `cancelled` when any block was, `succeeded` when every block did, else `failed`. */
export function pipelineStatus(blocks: readonly BlockOutcome[]): PipelineResult['status'] {
  if (blocks.some((b) => b.status === 'cancelled')) return 'cancelled';
  return blocks.every((b) => b.status === 'succeeded') ? 'succeeded' : 'failed';
}
