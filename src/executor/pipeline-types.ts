import type { ConfigOverrides } from '../config/overrides.js';
import type { ErrorCode } from '../errors/codes.js';
import type { InfrastructureCause } from '../monitor/job-outcome.js';
import type { TimeInterval } from '../monitor/types.js';
import type { ExecutorOptions } from './block-executor.js';
import type { BlockDetection, BlockEvent, LogLine, WarningEvent } from './types.js';

/** Settings of a pipeline executor, on top of the block executor's ports. */
export interface PipelineExecutorOptions extends ExecutorOptions {
  /**
   * `dag`: one Job per block, in dependency order; `single-job`: the whole pipeline as one Job.
   * @default 'single-job' for a pipeline with `run_pipeline_in_one_process: true` (as Mage), else 'dag'
   */
  mode?: 'dag' | 'single-job';
  /** How many blocks may run at once. @default 4 */
  concurrency?: number;
  /** Runs blocks whose executor type is not `k8s`. Without one, such blocks fail with a clear message. */
  localRunner?: LocalBlockRunner;
  /** Keep every Job after the run (for debugging). @default false */
  keepJobs?: boolean;
  /** Executor types run as Jobs. @default ['k8s'] */
  k8sExecutorTypes?: readonly string[];
  /**
   * How many times a block is run again, at once, after an attempt that failed for an infrastructure
   * reason (its pod preempted, evicted, drained, or lost with its node: `AttemptRecord.infrastructure`),
   * without using its `retry_config`. Past this bound such failures count as ordinary ones. @default 3
   */
  infrastructureRetries?: number;
}

/** The bound of {@link PipelineExecutorOptions.infrastructureRetries} when none is given. */
export const DEFAULT_INFRASTRUCTURE_RETRIES = 3;

/**
 * Where a block of a pipeline run stands. `queued`: its Job is suspended (a queue such as Kueue holds
 * it, or preempted it; it holds its concurrency slot meanwhile); `pending`: created or admitted, no
 * container running yet.
 */
export type BlockRunStatus =
  | 'waiting'
  | 'submitted'
  | 'queued'
  | 'pending'
  | 'running'
  | 'retrying'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'cancelled';

/** One attempt of one block. */
export interface AttemptRecord {
  /** The attempt, 1 for the first try. */
  attempt: number;
  /** The Job's name (k8s blocks). */
  jobName?: string;
  /** How it ended. */
  status: 'succeeded' | 'failed' | 'cancelled';
  /** Why it failed or was cancelled: a stable code (docs/errors.md). */
  reason?: ErrorCode;
  /** One sentence about the reason. */
  message?: string;
  /** The main container's exit code, when it terminated. */
  exitCode?: number;
  /** True when the attempt's Job already existed (resume). */
  adopted?: boolean;
  /**
   * Set when the attempt failed because the cluster ended its pod (preemption, eviction, node drain,
   * node lost): the block is run again without using its `retry_config`, within the executor's
   * `infrastructureRetries`.
   */
  infrastructure?: InfrastructureCause;
  /** True when a previous run already finished this attempt and it was not run again. */
  fromEarlierRun?: boolean;
  /**
   * True when the executor was closed while this attempt ran (status `cancelled`): its Job was not
   * deleted and keeps running; running the same pipeline run again adopts it.
   */
  leftRunning?: boolean;
  /**
   * Set by a resumed run on the attempt an earlier run made (or, running, that it adopted) when that
   * attempt's Job was made from a config other than the block's config now, resolved for the same
   * attempt and run ids: one line per changed field (`container.resources.limits.memory 2Gi → 4Gi, set
   * in pipelines/etl/metadata.yaml:14`). A Job without a config record (an older version's) is never
   * reported (docs/pipelines.md, "Config drift on resume").
   */
  configDrift?: string[];
  /** When the attempt was submitted (ms, the Clock's time). */
  startedAt: number;
  /**
   * When its first container started running, when it did: between `startedAt` and this, outside the
   * {@link AttemptRecord.queued} intervals, it was pending.
   */
  runningAt?: number;
  /**
   * Every interval its Job was suspended (held by a queue such as Kueue), in order; a preempted Job has
   * one more per preemption. Absent when it was never queued.
   */
  queued?: TimeInterval[];
  /** The total length of {@link AttemptRecord.queued} (ms). */
  queuedMs?: number;
  /** When the attempt ended (ms, the Clock's time). */
  finishedAt: number;
}

/**
 * How one block of a pipeline run ended. `terminationMessage`, `output` and `outputError` are those of
 * its last attempt (see {@link BlockDetection}); a succeeded block's `output` is what its downstream
 * blocks get in the run variable `upstream_outputs` (docs/pipelines.md).
 */
export interface BlockOutcome extends Pick<BlockDetection, 'terminationMessage' | 'output' | 'outputError'> {
  /** The block's uuid. */
  uuid: string;
  /** `k8s` blocks run as Jobs; others through the local runner. */
  executor: 'k8s' | 'local';
  /** How the block ended. */
  status: Extract<BlockRunStatus, 'succeeded' | 'failed' | 'skipped' | 'cancelled'>;
  /** Why it failed or was cancelled (its last attempt's reason): a stable code. */
  reason?: ErrorCode;
  /** One sentence about the reason, or why it was skipped. */
  message?: string;
  /** Every attempt, in order (none for a skipped block). */
  attempts: AttemptRecord[];
  /** The last log lines of the last attempt. */
  lastLogLines: string[];
  /** Warning events of the last attempt's Job and pods (on failure). */
  warningEvents: WarningEvent[];
  /** For a skipped block: the upstream block that did not succeed. */
  blockedBy?: string;
  /** When its first attempt started (ms). */
  startedAt?: number;
  /** When its last attempt ended (ms). */
  finishedAt?: number;
}

/** How a pipeline run ended. */
export interface PipelineResult {
  /** `cancelled` when any block was, `succeeded` when every block did, else `failed`. */
  status: 'succeeded' | 'failed' | 'cancelled';
  /** The pipeline's uuid. */
  pipelineUuid: string;
  /** The pipeline run id. */
  pipelineRunId: string;
  /** How the pipeline ran: one Job per block, or one Job for the whole pipeline. */
  mode: 'dag' | 'single-job';
  /** Every block, in pipeline order. */
  blocks: BlockOutcome[];
  /**
   * True when the executor was closed before the run ended: from then on nothing was started or
   * deleted. Blocks that were running are `cancelled` with their attempt `leftRunning` (the Job keeps
   * running), blocks not started are `cancelled`; running the same pipeline run again resumes it.
   */
  closed?: boolean;
  /** Set when deleting the run's Jobs at its end failed (the outcome stands): which Jobs are left, and why. */
  cleanupError?: string;
  /** When the run started (ms, the Clock's time). */
  startedAt: number;
  /** When it ended (ms). */
  finishedAt: number;
}

/** Progress of a pipeline run. */
export type PipelineEvent =
  | {
      type: 'block-status';
      blockUuid: string;
      status: BlockRunStatus;
      attempt: number;
      at: number;
      message?: string;
    }
  | { type: 'block-event'; blockUuid: string; event: BlockEvent }
  | {
      type: 'retry-scheduled';
      blockUuid: string;
      nextAttempt: number;
      delayMs: number;
      at: number;
      /** Set when the retry is for an infrastructure failure (it does not use `retry_config`). */
      infrastructure?: InfrastructureCause;
    }
  | ConfigDriftEvent;

/**
 * A resumed run found that an earlier attempt of a block was made from a config other than the
 * block's config now (see {@link AttemptRecord.configDrift}); sent before the block starts or is
 * restored, once per block.
 */
export interface ConfigDriftEvent {
  /** `config-drift`. */
  type: 'config-drift';
  /** The block. */
  blockUuid: string;
  /** The earlier attempt whose Job's config differs (the block's latest). */
  attempt: number;
  /** That attempt's Job. */
  jobName: string;
  /** How that attempt stood when the run resumed. */
  earlier: 'succeeded' | 'failed' | 'active';
  /**
   * What the run does about it: `kept` (its outcome stands: a success not run again without
   * {@link PipelineRun.rerunChanged}, or a failure with no retry left); `rerun` (a new attempt runs the
   * config now, as asked); `adopted` (it is still running: it is followed as it is, a warning);
   * `retried` (it failed: the next attempt runs the config now).
   */
  action: 'kept' | 'rerun' | 'adopted' | 'retried';
  /** One line per changed field, as {@link AttemptRecord.configDrift}. */
  changes: string[];
  /** The clock's time of the event. */
  at: number;
}

/** What a local (non-k8s) block gets. */
export interface LocalBlockContext {
  /** The pipeline's uuid. */
  pipelineUuid: string;
  /** The pipeline run id. */
  pipelineRunId: string;
  /** The block's uuid. */
  blockUuid: string;
  /** The block run id (as a k8s block of this run would use). */
  blockRunId: string;
  /** The trigger's name, when the run has one. */
  triggerName?: string;
  /** The attempt, 1 for the first try. */
  attempt: number;
  /** The run's variables; with upstream blocks, `upstream_outputs` too. */
  variables: Readonly<Record<string, unknown>>;
  /** Aborted when the run is cancelled (or the executor closed): stop and return. */
  signal: AbortSignal;
  /** Sends one log line of the block (as a k8s block's pod log line). */
  onLog: (line: string) => void;
}

/**
 * Runs blocks whose executor type is not `k8s`, supplied by the caller. A succeeded block's `output`
 * (any JSON value) reaches its downstream blocks as a k8s block's does (`upstream_outputs`).
 */
export type LocalBlockRunner = (
  context: LocalBlockContext,
) => Promise<{ status: 'succeeded' | 'failed'; message?: string; exitCode?: number; output?: unknown }>;

/** Options of one pipeline run. */
export interface PipelineRunOptions {
  /** Cancels the run: running Jobs are deleted, waiting blocks are cancelled. */
  signal?: AbortSignal;
  /** Progress events. A throw is reported once (a `K8S_EXECUTOR_CALLBACK_THREW` warning) and changes nothing. */
  onEvent?: (event: PipelineEvent) => void;
  /** Log lines of every block. A throw is reported once and changes nothing, as for `onEvent`. */
  onLog?: (blockUuid: string, line: LogLine) => void;
}

/** A pipeline run request. */
export interface PipelineRun {
  /** The pipeline's uuid. */
  pipelineUuid: string;
  /** The pipeline run id: the same id again resumes the run. */
  pipelineRunId: string | number;
  /** The trigger's name, for `{trigger_name}` in the job name prefix. */
  triggerName?: string;
  /** Run variables for templates, given to every block. */
  variables?: Readonly<Record<string, unknown>>;
  /** Block run ids by block uuid. @default `<pipelineRunId>-<blockUuid>` */
  blockRunIds?: Readonly<Record<string, string | number>>;
  /**
   * Runtime overrides for every Job of the run (the CLI's `--set`): a config layer above the block's and
   * below an enforced policy (docs/configuration.md §15).
   */
  overrides?: ConfigOverrides;
  /**
   * Runtime overrides of one block's Jobs, by block uuid (`--set-block BLOCK.KEY=VALUE`): a layer above
   * {@link PipelineRun.overrides} (they win for the same key). DAG mode only: a single-job run has no block Jobs.
   * A uuid the pipeline does not have is a ConfigError (`UNKNOWN_BLOCK`) before any Job is created.
   */
  blockOverrides?: Readonly<Record<string, ConfigOverrides>>;
  /**
   * Resuming (DAG mode): run again, as a new attempt with its whole `retry_config`, the blocks that
   * succeeded in an earlier run and whose config changed since (the CLI's `--rerun-changed`): `true`
   * for every such block, or the uuids of the blocks it may run again. Without it such a block stays
   * succeeded and the change is reported (a `config-drift` event). A running or failed block is not
   * concerned: it is adopted, or retried with the config now, as always.
   * A uuid the pipeline does not have is a ConfigError (`UNKNOWN_BLOCK`) before any Job is created.
   * @default false
   */
  rerunChanged?: boolean | readonly string[];
}

/** The block run id a pipeline run gives a block: its entry in `blockRunIds`, else `<pipelineRunId>-<blockUuid>`. */
export function blockRunIdOf(
  request: Pick<PipelineRun, 'pipelineRunId' | 'blockRunIds'>,
  blockUuid: string,
): string {
  return String(request.blockRunIds?.[blockUuid] ?? `${request.pipelineRunId}-${blockUuid}`);
}
