import type { BlockDefinition } from '../config/index.js';
import { isK8sExecutorError } from '../errors/base.js';
import type { DagContext } from './dag-context.js';
import { attemptOf } from './pipeline-records.js';
import type { AttemptRecord, BlockRunStatus } from './pipeline-types.js';
import type { WarningEvent } from './types.js';

/** How one attempt of one block ended. */
export interface AttemptResult {
  record: AttemptRecord;
  /** The last log lines of the attempt. */
  lastLogLines: string[];
  /** Warning events of its Job and pods (on failure). */
  warningEvents: WarningEvent[];
  /** The namespace of its Job (k8s blocks that reached the block executor's result). */
  namespace?: string;
  /** True when trying again cannot help (config and identity problems). */
  final: boolean;
}

/** What an attempt reports while it runs. */
export interface AttemptHooks {
  /** Cancels the attempt. */
  signal: AbortSignal;
  /** The block's status changed (`pending`, `running`). */
  onStatus(status: BlockRunStatus): void;
}

/** Codes that do not get better by retrying. */
const NOT_RETRIED = ['CONFIG_INVALID', 'JOB_NAME_COLLISION', 'API_FORBIDDEN'];

/** Runs one attempt of a block: as a Job, or through the local runner. Never rejects. */
export async function runAttempt(
  ctx: DagContext,
  block: BlockDefinition,
  attempt: number,
  hooks: AttemptHooks,
): Promise<AttemptResult> {
  try {
    if (!ctx.isK8s(block)) {
      return {
        record: await runLocal(ctx, block, attempt, hooks),
        lastLogLines: [],
        warningEvents: [],
        final: false,
      };
    }
    const result = await runK8s(ctx, block, attempt, hooks);
    return {
      record: attemptOf(attempt, result),
      namespace: result.namespace,
      lastLogLines: result.lastLogLines,
      warningEvents: result.warningEvents,
      final: false,
    };
  } catch (error) {
    const now = ctx.clock.now();
    return {
      record: {
        attempt,
        status: 'failed',
        reason: isK8sExecutorError(error) ? error.code : 'JOB_FAILED',
        message: error instanceof Error ? error.message : String(error),
        startedAt: now,
        finishedAt: now,
      },
      lastLogLines: [],
      warningEvents: [],
      final: isK8sExecutorError(error) && NOT_RETRIED.includes(error.code),
    };
  }
}

function runK8s(ctx: DagContext, block: BlockDefinition, attempt: number, hooks: AttemptHooks) {
  const { onEvent, onLog } = ctx.runOptions;
  return ctx.blocks.execute(ctx.blockRun(block, attempt), {
    snapshot: ctx.snapshot,
    signal: hooks.signal,
    // Jobs stay until the run ends: a resumed run reads them to know what already happened.
    keepJob: true,
    onEvent: (event) => {
      onEvent?.({ type: 'block-event', blockUuid: block.uuid, event });
      if (event.type === 'pending' || event.type === 'running') hooks.onStatus(event.type);
    },
    ...(onLog ? { onLog: (line) => onLog(block.uuid, line) } : {}),
  });
}

async function runLocal(
  ctx: DagContext,
  block: BlockDefinition,
  attempt: number,
  hooks: AttemptHooks,
): Promise<AttemptRecord> {
  const runner = ctx.settings.localRunner;
  const startedAt = ctx.clock.now();
  if (!runner) {
    return {
      attempt,
      status: 'failed',
      reason: 'JOB_FAILED',
      message: `Block "${block.uuid}" has executor_type "${block.executorType}" and no local runner was given: pass \`localRunner\` to K8sPipelineExecutor, or set executor_type: k8s.`,
      startedAt,
      finishedAt: startedAt,
    };
  }
  hooks.onStatus('running');
  const { request, runOptions } = ctx;
  const result = await runner({
    pipelineUuid: request.pipelineUuid,
    pipelineRunId: String(request.pipelineRunId),
    blockUuid: block.uuid,
    blockRunId: ctx.blockRunId(block.uuid),
    ...(request.triggerName !== undefined ? { triggerName: request.triggerName } : {}),
    attempt,
    variables: request.variables ?? {},
    signal: hooks.signal,
    onLog: (line) =>
      runOptions.onLog?.(block.uuid, { jobName: `local:${block.uuid}`, podName: 'local', line }),
  });
  const finishedAt = ctx.clock.now();
  const cancelled = hooks.signal.aborted && result.status === 'failed';
  return {
    attempt,
    status: cancelled ? 'cancelled' : result.status,
    ...(cancelled
      ? { reason: 'CANCELLED' as const }
      : result.status === 'failed'
        ? { reason: 'EXIT_CODE' as const }
        : {}),
    ...(result.message ? { message: result.message } : {}),
    ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
    startedAt,
    finishedAt,
  };
}
