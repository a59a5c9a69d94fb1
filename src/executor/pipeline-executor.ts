import { type PipelineDefinition, readPipeline, runModeOf } from '../config/index.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { ConfigSnapshot } from '../ports/config-source.js';
import { LazyTelemetry } from '../telemetry/lazy-telemetry.js';
import type { PipelineRunTelemetry } from '../telemetry/telemetry.js';
import { K8sBlockExecutor } from './block-executor.js';
import { type OptionKind, readCallOptions } from './call-options.js';
import { dagContext } from './dag-context.js';
import { DagRun } from './dag-run.js';
import { runSingleJob } from './pipeline-single-job.js';
import type {
  PipelineExecutorOptions,
  PipelineResult,
  PipelineRun,
  PipelineRunOptions,
} from './pipeline-types.js';

export type { PipelineExecutorOptions } from './pipeline-types.js';

/** What each option of a pipeline run must be (every key of the type: one added and not here fails to compile). */
const RUN_OPTION_KINDS = {
  signal: 'signal',
  onEvent: 'function',
  onLog: 'function',
} as const satisfies Record<keyof PipelineRunOptions, OptionKind>;

/**
 * Runs a whole pipeline: as one Job (`single-job`, Mage's pipeline executor), or block by block as a
 * DAG of Jobs (`dag`) with a concurrency limit, Mage `retry_config` retries (the attempt number is in
 * the Job name), downstream blocks skipped when an upstream fails for good while independent branches
 * go on, and resume: running the same pipeline run again adopts the Jobs that already exist and skips
 * the blocks that already succeeded, creating no duplicate Job.
 *
 * Jobs of a DAG run are kept until the run ends (that is what a resumed run reads), then deleted.
 *
 * @example
 * const pipelines = new K8sPipelineExecutor({ configSource, jobClient, concurrency: 4 });
 * try {
 *   const result = await pipelines.run({ pipelineUuid: 'etl', pipelineRunId: 7 });
 *   for (const block of result.blocks) console.log(block.uuid, block.status, block.reason ?? '');
 * } finally {
 *   pipelines.close(); // the shared watches stay open 60 s after their last block otherwise (idleTimeoutMs)
 * }
 */
export class K8sPipelineExecutor {
  private readonly blocks: K8sBlockExecutor;
  private readonly clock: Clock;
  /** One controller per run in flight, aborted by {@link K8sPipelineExecutor.close}. */
  private readonly runsInFlight = new Set<AbortController>();
  private readonly telemetry: LazyTelemetry;
  /** Whether finished Jobs are kept (`keepJobs`), as checked when the executor was made. */
  private readonly keepJobs: boolean;

  /** Does no IO. @throws K8sExecutorError `INVALID_ARGUMENT` when `keepJobs` is given and not a boolean. */
  constructor(private readonly options: PipelineExecutorOptions) {
    // Read once, here: a DAG run and a single-job run see the same checked value, whatever the options do later.
    this.keepJobs =
      readCallOptions<Pick<PipelineExecutorOptions, 'keepJobs'>>('new K8sPipelineExecutor()', options, {
        keepJobs: 'boolean',
      }).keepJobs ?? false;
    this.blocks = new K8sBlockExecutor(options);
    this.clock = options.clock ?? systemClock;
    this.telemetry = new LazyTelemetry(options.telemetry);
  }

  /**
   * Runs the pipeline to its end. Block failures are in the result; config problems (a cycle, an
   * unknown upstream, an invalid block config) throw before any Job is created.
   * @throws ConfigError (`CONFIG_INVALID`)
   * @throws K8sExecutorError `INVALID_ARGUMENT` when an option has the wrong type (nothing is run).
   */
  async run(run: PipelineRun, options: PipelineRunOptions = {}): Promise<PipelineResult> {
    const call = readCallOptions('run()', options, RUN_OPTION_KINDS);
    const closing = new AbortController();
    this.runsInFlight.add(closing);
    try {
      const snapshot = await this.options.configSource.load(run.pipelineUuid, call.signal);
      const pipeline = readPipeline(snapshot);
      const mode = this.modeOf(pipeline);
      const span = this.telemetry.deferred.startPipelineRun(
        { pipelineUuid: run.pipelineUuid, pipelineRunId: String(run.pipelineRunId), mode },
        this.clock.now(),
      );
      let result: PipelineResult | undefined;
      try {
        result = await this.runMode(mode, run, pipeline, snapshot, call, closing.signal, span);
        return result;
      } finally {
        span.end({ status: result?.status ?? 'failed' }, this.clock.now());
      }
    } finally {
      this.runsInFlight.delete(closing);
    }
  }

  private runMode(
    mode: 'dag' | 'single-job',
    run: PipelineRun,
    pipeline: PipelineDefinition,
    snapshot: ConfigSnapshot,
    options: PipelineRunOptions,
    closed: AbortSignal,
    telemetryParent: PipelineRunTelemetry,
  ): Promise<PipelineResult> {
    if (mode === 'single-job') {
      const deps = {
        blocks: this.blocks,
        clock: this.clock,
        keepJobs: this.keepJobs,
        closed,
        telemetryParent,
      };
      return runSingleJob(deps, run, pipeline, snapshot, options);
    }
    const ctx = dagContext({
      request: run,
      runOptions: options,
      pipeline,
      snapshot,
      blocks: this.blocks,
      settings: this.options,
      keepJobs: this.keepJobs,
      clock: this.clock,
      telemetryParent,
    });
    return new DagRun(ctx, closed).execute();
  }

  /**
   * A shutdown, not a cancel: every run in flight resolves at once (`closed: true`, status
   * `cancelled`) without starting another attempt or deleting anything; the Jobs still running are
   * left to the next run of the same pipeline run, which adopts them (see docs/pipelines.md). Stops
   * the watches this executor created. A later `run()` starts afresh.
   */
  close(): void {
    for (const closing of this.runsInFlight) closing.abort();
    this.blocks.close();
  }

  /** The option, else `single-job` for a k8s pipeline with `run_pipeline_in_one_process: true` (Mage's rule). */
  private modeOf(pipeline: PipelineDefinition): 'dag' | 'single-job' {
    return runModeOf(pipeline, this.options.mode);
  }
}
