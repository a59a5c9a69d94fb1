import type { BlockDefinition } from '../config/index.js';
import { isK8sExecutorError } from '../errors/base.js';
import type { ErrorCode } from '../errors/codes.js';
import type { TerminationFields } from './block-output.js';
import type { DagContext } from './dag-context.js';
import { type AttemptJobLookup, lookUpAttemptJob } from './dag-lookup.js';
import { jobLeftRunningBy } from './left-running.js';
import { isClosedError } from './pipeline-close.js';
import { attemptOf } from './pipeline-records.js';
import type { AttemptRecord, BlockRunStatus } from './pipeline-types.js';
import type { BlockDetection, BlockEvent, BlockResult, LogLine, WarningEvent } from './types.js';

/** How one attempt of one block ended. */
export interface AttemptResult {
  record: AttemptRecord;
  /** The last log lines of the attempt. */
  lastLogLines: string[];
  /** Warning events of its Job and pods (on failure). */
  warningEvents: WarningEvent[];
  /** Its termination message and output. */
  termination: TerminationFields;
  /** The namespace of its Job, when known. */
  namespace?: string;
  /** True when no further attempt may start: retrying cannot help, or this attempt's Job may still run. */
  final: boolean;
  /** True when the executor's watches were closed under the attempt (a shutdown): the run must end. */
  interrupted?: boolean;
}

/** What an attempt is given and reports while it runs. */
export interface AttemptHooks {
  /** Cancels the attempt: its Job is deleted. */
  signal: AbortSignal;
  /** Aborts when the executor is closed: stop, delete nothing, start nothing. */
  closed: AbortSignal;
  /** The block's status changed (`queued`, `pending`, `running`). */
  onStatus(status: BlockRunStatus): void;
  /** A lifecycle event of the attempt's Job. */
  onEvent(event: BlockEvent): void;
  /** The attempt's log lines; undefined when nobody listens (then no log is streamed). */
  onLog: ((line: LogLine) => void) | undefined;
  /** The attempt's Job reached its final state (its drain and diagnostics follow). */
  onDetected(detection: BlockDetection): void;
  /** The `output` of each upstream block that has one, by uuid (the run variable `upstream_outputs`). */
  upstreamOutputs: Readonly<Record<string, unknown>>;
}

/** Errors that say this attempt created nothing: no lookup is needed. */
const KNOWN_NOT_CREATED: readonly ErrorCode[] = ['CONFIG_INVALID', 'JOB_NAME_COLLISION'];

/** Codes that do not get better by retrying. */
const NOT_RETRIED: readonly ErrorCode[] = ['CONFIG_INVALID', 'JOB_NAME_COLLISION', 'API_FORBIDDEN'];

/**
 * How often one attempt's existing Job is adopted again after `execute()` failed while it existed,
 * before the attempt gives up (and, its Job possibly still running, starts no next attempt).
 */
const MAX_ADOPTIONS = 3;

/** Runs one attempt of a block: as a Job, or through the local runner. Never rejects. */
export async function runAttempt(
  ctx: DagContext,
  block: BlockDefinition,
  attempt: number,
  hooks: AttemptHooks,
): Promise<AttemptResult> {
  if (ctx.isK8s(block)) return runK8s(ctx, block, attempt, hooks);
  const signal = AbortSignal.any([hooks.signal, hooks.closed]);
  try {
    const { record, termination } = await runLocal(ctx, block, attempt, signal, hooks);
    return { record, lastLogLines: [], warningEvents: [], termination, final: false };
  } catch (error) {
    return failure(ctx, attempt, error);
  }
}

/**
 * Runs a k8s attempt. When `execute()` rejects, its create may have reached the server (an answer lost,
 * a failure after the create): before anything else the attempt's Job is looked up by name and
 * identity. Found, it is adopted by executing the same attempt again (create → 409 → adopt), never
 * duplicated; absent, the attempt failed and the retry policy decides; unknowable, no next attempt starts.
 */
async function runK8s(
  ctx: DagContext,
  block: BlockDefinition,
  attempt: number,
  hooks: AttemptHooks,
): Promise<AttemptResult> {
  for (let adoptions = 0; ; adoptions++) {
    let error: unknown;
    let detected: BlockDetection | undefined;
    try {
      return succeeded(
        attempt,
        await execute(ctx, block, attempt, hooks, (detection) => {
          detected = detection;
          hooks.onDetected(detection);
        }),
      );
    } catch (thrown) {
      error = thrown;
    }
    // The block executor resolves once the final state was seen; should it reject anyway, that state stands.
    if (detected) return succeeded(attempt, { ...detected, lastLogLines: [], warningEvents: [] });
    if (hooks.closed.aborted || isClosedError(error, hooks.signal)) return interrupted(ctx, attempt, error);
    // Left running on purpose (its namespace cannot be observed): not looked up, not retried, never deleted.
    const left = jobLeftRunningBy(error);
    if (left) {
      return failure(ctx, attempt, error, {
        final: true,
        namespace: left.namespace,
        jobName: left.name,
        leftRunning: true,
      });
    }
    const code = codeOf(error);
    if (hooks.signal.aborted || (code && KNOWN_NOT_CREATED.includes(code)))
      return failure(ctx, attempt, error);
    const signal = AbortSignal.any([hooks.signal, hooks.closed]);
    let lookup: AttemptJobLookup;
    try {
      lookup = await lookUpAttemptJob(ctx, block, attempt, signal, hooks.upstreamOutputs);
    } catch (lookupError) {
      if (hooks.closed.aborted) return interrupted(ctx, attempt, error);
      if (hooks.signal.aborted) return failure(ctx, attempt, error);
      return failure(ctx, attempt, error, {
        final: true,
        note: `Whether attempt ${attempt}'s Job exists could not be read (${messageOf(lookupError)}), so no further attempt is started; the run's cleanup deletes it if it exists.`,
      });
    }
    if (hooks.closed.aborted) return interrupted(ctx, attempt, error);
    const { state, jobName, namespace } = lookup;
    if (state === 'exists' && adoptions < MAX_ADOPTIONS && !hooks.signal.aborted) continue;
    if (state === 'exists') {
      return failure(ctx, attempt, error, {
        final: true,
        namespace,
        jobName,
        note: `Job "${jobName}" of attempt ${attempt} exists but could not be followed; no further attempt is started while it may run, and the run's cleanup deletes it.`,
      });
    }
    if (state === 'foreign') {
      return failure(ctx, attempt, error, {
        final: true,
        reason: 'JOB_NAME_COLLISION',
        namespace,
        note: `A Job named "${jobName}" exists in namespace "${namespace}" and is not this attempt's: delete it, or set another job_name_prefix or cluster id.`,
      });
    }
    // Absent (the create never landed) or being deleted: this attempt is over.
    return failure(ctx, attempt, error, { namespace });
  }
}

function execute(
  ctx: DagContext,
  block: BlockDefinition,
  attempt: number,
  hooks: AttemptHooks,
  onDetected: (detection: BlockDetection) => void,
) {
  return ctx.blocks.execute(ctx.blockRun(block, attempt, hooks.upstreamOutputs), {
    snapshot: ctx.snapshot,
    signal: hooks.signal,
    onDetected,
    // Jobs stay until the run ends: a resumed run reads them to know what already happened.
    keepJob: true,
    ...(ctx.telemetryParent ? { telemetryParent: ctx.telemetryParent } : {}),
    onEvent: (event) => {
      hooks.onEvent(event);
      if (event.type === 'queued' || event.type === 'pending' || event.type === 'running')
        hooks.onStatus(event.type);
    },
    ...(hooks.onLog ? { onLog: hooks.onLog } : {}),
  });
}

function succeeded(attempt: number, result: BlockResult): AttemptResult {
  const { terminationMessage, output, outputError } = result;
  return {
    record: attemptOf(attempt, result),
    namespace: result.namespace,
    lastLogLines: result.lastLogLines,
    warningEvents: result.warningEvents,
    termination: {
      ...(terminationMessage !== undefined ? { terminationMessage } : {}),
      ...(Object.hasOwn(result, 'output') ? { output } : {}),
      ...(outputError !== undefined ? { outputError } : {}),
    },
    final: false,
  };
}

/** A failed attempt from the error that ended it; `note` says what that means for the run. */
function failure(
  ctx: DagContext,
  attempt: number,
  error: unknown,
  extra: {
    final?: boolean;
    reason?: ErrorCode;
    note?: string;
    namespace?: string;
    jobName?: string;
    leftRunning?: boolean;
  } = {},
): AttemptResult {
  const now = ctx.clock.now();
  const code = codeOf(error);
  return {
    record: {
      attempt,
      ...(extra.jobName ? { jobName: extra.jobName } : {}),
      status: 'failed',
      reason: extra.reason ?? code ?? 'JOB_FAILED',
      message: extra.note ? `${messageOf(error)} ${extra.note}` : messageOf(error),
      ...(extra.leftRunning ? { leftRunning: true } : {}),
      startedAt: now,
      finishedAt: now,
    },
    lastLogLines: [],
    warningEvents: [],
    termination: {},
    ...(extra.namespace ? { namespace: extra.namespace } : {}),
    final: extra.final ?? (code !== undefined && NOT_RETRIED.includes(code)),
  };
}

function interrupted(ctx: DagContext, attempt: number, error: unknown): AttemptResult {
  return { ...failure(ctx, attempt, error, { final: true }), interrupted: true };
}

function codeOf(error: unknown): ErrorCode | undefined {
  return isK8sExecutorError(error) ? error.code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function runLocal(
  ctx: DagContext,
  block: BlockDefinition,
  attempt: number,
  signal: AbortSignal,
  hooks: AttemptHooks,
): Promise<{ record: AttemptRecord; termination: TerminationFields }> {
  const runner = ctx.settings.localRunner;
  const startedAt = ctx.clock.now();
  if (!runner) {
    return {
      record: {
        attempt,
        status: 'failed',
        reason: 'JOB_FAILED',
        message: `Block "${block.uuid}" has executor_type "${block.executorType}" and no local runner was given: pass \`localRunner\` to K8sPipelineExecutor, or set executor_type: k8s.`,
        startedAt,
        finishedAt: startedAt,
      },
      termination: {},
    };
  }
  hooks.onStatus('running');
  const { request } = ctx;
  const { onLog } = hooks;
  const result = await runner({
    pipelineUuid: request.pipelineUuid,
    pipelineRunId: String(request.pipelineRunId),
    blockUuid: block.uuid,
    blockRunId: ctx.blockRunId(block.uuid),
    ...(request.triggerName !== undefined ? { triggerName: request.triggerName } : {}),
    attempt,
    variables: ctx.blockRun(block, attempt, hooks.upstreamOutputs).variables ?? {},
    signal,
    onLog: (line) => onLog?.({ jobName: `local:${block.uuid}`, podName: 'local', line }),
  });
  const finishedAt = ctx.clock.now();
  const cancelled = signal.aborted && result.status === 'failed';
  const record: AttemptRecord = {
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
  const hasOutput = record.status === 'succeeded' && Object.hasOwn(result, 'output');
  return { record, termination: hasOutput ? { output: result.output } : {} };
}
