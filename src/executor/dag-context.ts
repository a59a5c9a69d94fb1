import { type BlockDefinition, type PipelineDefinition, UPSTREAM_OUTPUTS } from '../config/index.js';
import { checkNamedBlocks } from '../config/pipeline.js';
import { ConfigError } from '../errors/config-error.js';
import { isolateCallback } from '../errors/isolate-callback.js';
import { runIdClashes } from '../naming/run-id-clashes.js';
import type { Clock } from '../ports/clock.js';
import type { ConfigSnapshot } from '../ports/config-source.js';
import type { JobClient } from '../ports/job-client.js';
import type { PipelineRunTelemetry } from '../telemetry/telemetry.js';
import type { K8sBlockExecutor } from './block-executor.js';
import {
  blockRunIdOf,
  type PipelineEvent,
  type PipelineExecutorOptions,
  type PipelineRun,
  type PipelineRunOptions,
} from './pipeline-types.js';
import { clusterIdOf, type PreparedRun } from './prepare.js';
import type { BlockRun, LogLine } from './types.js';

/** What every part of one DAG run reads: the request, the pipeline, the executor's ports. Never changes. */
export interface DagContext {
  /** The run asked for. */
  readonly request: PipelineRun;
  /** Cancels the run (deletes running Jobs). */
  readonly signal: AbortSignal | undefined;
  /** The run's `onEvent`, isolated: it never throws. */
  emit(event: PipelineEvent): void;
  /** The run's `onLog`, isolated; undefined without one (then no log is streamed). */
  readonly onLog: ((blockUuid: string, line: LogLine) => void) | undefined;
  /** The pipeline's blocks, in file order. */
  readonly pipeline: PipelineDefinition;
  /** The config every block resolves from (loaded once per run). */
  readonly snapshot: ConfigSnapshot;
  /** Runs the k8s blocks. */
  readonly blocks: K8sBlockExecutor;
  /** The executor's settings and ports. */
  readonly settings: PipelineExecutorOptions;
  /** Whether finished Jobs are kept, as the executor checked `settings.keepJobs` when it was made. */
  readonly keepJobs: boolean;
  /** The executor's JobClient (resume and cleanup list and delete through it). */
  readonly jobClient: JobClient;
  readonly clock: Clock;
  /** The cluster id in this run's Job names and labels. */
  readonly clusterId: string;
  /** The run's span, parent of each attempt's (telemetry). */
  readonly telemetryParent?: PipelineRunTelemetry;
  /** The block of a uuid; undefined for a uuid the pipeline does not have. */
  block(uuid: string): BlockDefinition | undefined;
  /** Whether the block runs as a Job (else through the local runner). */
  isK8s(block: BlockDefinition): boolean;
  /** The block run id of a block: the request's, else `<pipelineRunId>-<blockUuid>`. */
  blockRunId(uuid: string): string;
  /**
   * The block run of one attempt, as the block executor takes it. A block with upstream blocks gets the
   * run variable {@link UPSTREAM_OUTPUTS} (`upstreamOutputs`, by upstream uuid; `{}` when none is given).
   */
  blockRun(
    block: BlockDefinition,
    attempt: number,
    upstreamOutputs?: Readonly<Record<string, unknown>>,
  ): BlockRun;
  /** Builds one attempt's Job exactly as running it would (same identity, same variables), creating nothing. */
  prepare(
    block: BlockDefinition,
    attempt: number,
    signal?: AbortSignal,
    upstreamOutputs?: Readonly<Record<string, unknown>>,
  ): Promise<PreparedRun>;
}

/** The context of one run of `pipeline`. */
export function dagContext(input: {
  request: PipelineRun;
  runOptions: PipelineRunOptions;
  pipeline: PipelineDefinition;
  snapshot: ConfigSnapshot;
  blocks: K8sBlockExecutor;
  settings: PipelineExecutorOptions;
  keepJobs: boolean;
  clock: Clock;
  telemetryParent?: PipelineRunTelemetry;
}): DagContext {
  const { request, pipeline, settings, snapshot, blocks } = input;
  const byUuid = new Map(pipeline.blocks.map((b) => [b.uuid, b]));
  const k8sTypes = new Set((settings.k8sExecutorTypes ?? ['k8s']).map((t) => t.toLowerCase()));
  const blockRunId = (uuid: string) => blockRunIdOf(request, uuid);
  checkBlockUuids(request, pipeline);
  checkJobNamesDistinct(pipeline, blockRunId, (block) => k8sTypes.has(block.executorType.toLowerCase()));
  const own = (uuid: string) => request.blockOverrides?.[uuid];
  const blockRun = (
    block: BlockDefinition,
    attempt: number,
    upstreamOutputs: Readonly<Record<string, unknown>> = {},
  ): BlockRun => {
    const variables =
      block.upstream.length > 0
        ? { ...request.variables, [UPSTREAM_OUTPUTS]: upstreamOutputs }
        : request.variables;
    return {
      pipelineUuid: request.pipelineUuid,
      blockUuid: block.uuid,
      pipelineRunId: request.pipelineRunId,
      blockRunId: blockRunId(block.uuid),
      attempt,
      ...(request.triggerName !== undefined ? { triggerName: request.triggerName } : {}),
      ...(variables ? { variables } : {}),
      ...(request.overrides ? { overrides: request.overrides } : {}),
      ...(own(block.uuid) ? { blockOverrides: own(block.uuid) } : {}),
    };
  };
  const { runOptions, ...rest } = input;
  const emit = isolateCallback('onEvent', runOptions.onEvent);
  return {
    ...rest,
    signal: runOptions.signal,
    emit: (event) => emit?.(event),
    onLog: isolateCallback('onLog', runOptions.onLog),
    jobClient: settings.jobClient,
    clusterId: clusterIdOf(snapshot, settings.clusterId),
    block: (uuid) => byUuid.get(uuid),
    isK8s: (block) => k8sTypes.has(block.executorType.toLowerCase()),
    blockRunId,
    blockRun,
    prepare: (block, attempt, signal, upstreamOutputs) =>
      blocks.prepare(blockRun(block, attempt, upstreamOutputs), snapshot, signal),
  };
}

/**
 * @throws ConfigError (`UNKNOWN_BLOCK`) for a uuid of `blockOverrides` or of a `rerunChanged` list that
 *   the pipeline does not have.
 */
function checkBlockUuids(request: PipelineRun, pipeline: PipelineDefinition): void {
  checkNamedBlocks(pipeline, [
    ...Object.keys(request.blockOverrides ?? {}).map((uuid) => ({ uuid, path: 'blockOverrides' })),
    ...(typeof request.rerunChanged === 'object' ? request.rerunChanged : []).map((uuid) => ({
      uuid,
      path: 'rerunChanged',
    })),
  ]);
}

/**
 * @throws ConfigError (`INVALID_VALUE`) when two k8s blocks of the run would get one Job name: their block
 * run ids differ only in case or `_`/`-` (docs/naming.md). Before any Job is created, rather than the second
 * block failing with `JOB_NAME_COLLISION` while the first runs.
 */
function checkJobNamesDistinct(
  pipeline: PipelineDefinition,
  blockRunId: (uuid: string) => string,
  isK8s: (block: BlockDefinition) => boolean,
): void {
  const clashes = runIdClashes(
    pipeline.blocks.filter(isK8s).map((b) => [b.uuid, blockRunId(b.uuid)] as const),
  );
  if (clashes.length === 0) return;
  throw new ConfigError(
    clashes.map((uuids) => ({
      code: 'INVALID_VALUE' as const,
      path: 'blocks',
      message: `Blocks ${uuids.map((u) => `"${u}"`).join(' and ')} of pipeline "${pipeline.uuid}" would get the same Job name (their block run ids differ only in case or "_"/"-"): rename one, or give them distinct blockRunIds.`,
    })),
  );
}
