import type { PipelineDefinition } from '../config/index.js';
import type { Clock } from '../ports/clock.js';
import type { ConfigSnapshot } from '../ports/config-source.js';
import type { K8sBlockExecutor } from './block-executor.js';
import { attemptOf } from './pipeline-records.js';
import type { BlockOutcome, PipelineResult, PipelineRun, PipelineRunOptions } from './pipeline-types.js';

/** What a single-job run needs from its executor. */
export interface SingleJobDeps {
  blocks: K8sBlockExecutor;
  clock: Clock;
  keepJobs: boolean;
}

/** Runs the whole pipeline as one Job (Mage's pipeline executor) and reports it as a one-block result. */
export async function runSingleJob(
  deps: SingleJobDeps,
  run: PipelineRun,
  pipeline: PipelineDefinition,
  snapshot: ConfigSnapshot,
  options: PipelineRunOptions,
): Promise<PipelineResult> {
  const startedAt = deps.clock.now();
  const result = await deps.blocks.executePipelineJob(
    {
      pipelineUuid: run.pipelineUuid,
      pipelineRunId: run.pipelineRunId,
      ...(run.triggerName !== undefined ? { triggerName: run.triggerName } : {}),
      ...(run.variables ? { variables: run.variables } : {}),
    },
    {
      snapshot,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onLog ? { onLog: (line) => options.onLog?.(pipeline.uuid, line) } : {}),
      onEvent: (event) => options.onEvent?.({ type: 'block-event', blockUuid: pipeline.uuid, event }),
      keepJob: deps.keepJobs,
    },
  );
  const outcome: BlockOutcome = {
    uuid: pipeline.uuid,
    executor: 'k8s',
    status: result.status,
    ...(result.reason ? { reason: result.reason } : {}),
    ...(result.message ? { message: result.message } : {}),
    attempts: [attemptOf(1, result)],
    lastLogLines: result.lastLogLines,
    warningEvents: result.warningEvents,
    startedAt: result.timings.submittedAt,
    finishedAt: result.timings.finishedAt,
  };
  return {
    status: result.status,
    pipelineUuid: run.pipelineUuid,
    pipelineRunId: String(run.pipelineRunId),
    mode: 'single-job',
    blocks: [outcome],
    startedAt,
    finishedAt: deps.clock.now(),
  };
}
