import type { PipelineDefinition } from '../config/index.js';
import { isolateCallback } from '../errors/isolate-callback.js';
import type { Clock } from '../ports/clock.js';
import type { ConfigSnapshot } from '../ports/config-source.js';
import type { PipelineRunTelemetry } from '../telemetry/telemetry.js';
import type { K8sBlockExecutor } from './block-executor.js';
import { CLOSED, isClosedError, leftRunningRecord, untilClosed } from './pipeline-close.js';
import { attemptOf, setTermination } from './pipeline-records.js';
import type {
  BlockOutcome,
  BlockRunStatus,
  PipelineResult,
  PipelineRun,
  PipelineRunOptions,
} from './pipeline-types.js';
import type { BlockEvent, BlockResult } from './types.js';

/** The block status a lifecycle event of the pipeline's Job reports, as a DAG block's would. */
const STATUS_OF: Partial<Record<BlockEvent['type'], BlockRunStatus>> = {
  submitted: 'submitted',
  adopted: 'submitted',
  queued: 'queued',
  pending: 'pending',
  running: 'running',
};

/** What a single-job run needs from its executor. */
export interface SingleJobDeps {
  blocks: K8sBlockExecutor;
  clock: Clock;
  keepJobs: boolean;
  /** Aborts when the executor is closed. */
  closed: AbortSignal;
  /** The run's span (telemetry), parent of the Job's attempt span. */
  telemetryParent?: PipelineRunTelemetry;
}

/**
 * Runs the whole pipeline as one Job (Mage's pipeline executor) and reports it as a one-block result,
 * the block being the pipeline: its `block-status` events (`submitted`, `queued`, `pending`, `running`,
 * then its final status) are those of a DAG block. A close of the executor resolves at once with the Job
 * left running (`closed`, attempt `leftRunning`), reporting nothing more.
 */
export async function runSingleJob(
  deps: SingleJobDeps,
  run: PipelineRun,
  pipeline: PipelineDefinition,
  snapshot: ConfigSnapshot,
  options: PipelineRunOptions,
): Promise<PipelineResult> {
  const { clock, closed } = deps;
  const startedAt = clock.now();
  const onEvent = isolateCallback('onEvent', options.onEvent);
  const onLog = isolateCallback('onLog', options.onLog);
  const status = (value: BlockRunStatus, message?: string) => {
    if (closed.aborted) return;
    onEvent?.({
      type: 'block-status',
      blockUuid: pipeline.uuid,
      status: value,
      attempt: 1,
      at: clock.now(),
      ...(message ? { message } : {}),
    });
  };
  let jobName: string | undefined;
  let result: BlockResult | typeof CLOSED = CLOSED;
  if (!closed.aborted) {
    const work = deps.blocks.executePipelineJob(
      {
        pipelineUuid: run.pipelineUuid,
        pipelineRunId: run.pipelineRunId,
        ...(run.triggerName !== undefined ? { triggerName: run.triggerName } : {}),
        ...(run.variables ? { variables: run.variables } : {}),
        ...(run.overrides ? { overrides: run.overrides } : {}),
      },
      {
        snapshot,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(deps.telemetryParent ? { telemetryParent: deps.telemetryParent } : {}),
        ...(onLog
          ? {
              onLog: (line) => {
                if (!closed.aborted) onLog(pipeline.uuid, line);
              },
            }
          : {}),
        onEvent: (event) => {
          if (event.type === 'submitted' || event.type === 'adopted') jobName = event.jobName;
          if (!closed.aborted) onEvent?.({ type: 'block-event', blockUuid: pipeline.uuid, event });
          const next = STATUS_OF[event.type];
          if (next) status(next);
        },
        keepJob: deps.keepJobs,
      },
    );
    try {
      result = await untilClosed(work, closed);
    } catch (error) {
      if (!isClosedError(error, options.signal)) throw error;
    }
  }
  const closedResult = result === CLOSED;
  const attempt =
    result === CLOSED ? leftRunningRecord(1, jobName, startedAt, clock.now()) : attemptOf(1, result);
  const outcome: BlockOutcome = {
    uuid: pipeline.uuid,
    executor: 'k8s',
    status: attempt.status,
    ...(attempt.reason ? { reason: attempt.reason } : {}),
    ...(attempt.message ? { message: attempt.message } : {}),
    attempts: [attempt],
    lastLogLines: result === CLOSED ? [] : result.lastLogLines,
    warningEvents: result === CLOSED ? [] : result.warningEvents,
    startedAt: attempt.startedAt,
    finishedAt: attempt.finishedAt,
  };
  if (result !== CLOSED) setTermination(outcome, result);
  status(attempt.status, attempt.message);
  return {
    status: attempt.status,
    pipelineUuid: run.pipelineUuid,
    pipelineRunId: String(run.pipelineRunId),
    mode: 'single-job',
    blocks: [outcome],
    ...(closedResult ? { closed: true } : {}),
    startedAt,
    finishedAt: clock.now(),
  };
}
