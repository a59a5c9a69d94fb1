import { readPipeline } from '../config/index.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { K8sBlockExecutor } from './block-executor.js';
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

/**
 * Runs a whole pipeline: as one Job (`single-job`, Mage's pipeline executor), or block by block as a
 * DAG of Jobs (`dag`) with a concurrency limit, Mage `retry_config` retries (the attempt number is in
 * the Job name), downstream blocks skipped when an upstream fails for good while independent branches
 * go on, and resume: running the same pipeline run again adopts the Jobs that already exist and skips
 * the blocks that already succeeded, creating no duplicate Job.
 *
 * Jobs of a DAG run are kept until the run ends (that is what a resumed run reads), then deleted.
 */
export class K8sPipelineExecutor {
  private readonly blocks: K8sBlockExecutor;
  private readonly clock: Clock;

  constructor(private readonly options: PipelineExecutorOptions) {
    this.blocks = new K8sBlockExecutor(options);
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Runs the pipeline to its end. Block failures are in the result; config problems (a cycle, an
   * unknown upstream, an invalid block config) throw before any Job is created.
   * @throws ConfigError (`CONFIG_INVALID`)
   */
  async run(run: PipelineRun, options: PipelineRunOptions = {}): Promise<PipelineResult> {
    const snapshot = await this.options.configSource.load(run.pipelineUuid, options.signal);
    const pipeline = readPipeline(snapshot);
    if ((this.options.mode ?? 'dag') === 'single-job') {
      const deps = { blocks: this.blocks, clock: this.clock, keepJobs: this.options.keepJobs ?? false };
      return runSingleJob(deps, run, pipeline, snapshot, options);
    }
    const ctx = dagContext({
      request: run,
      runOptions: options,
      pipeline,
      snapshot,
      blocks: this.blocks,
      settings: this.options,
      clock: this.clock,
    });
    return new DagRun(ctx).execute();
  }

  /** Stops the shared watches. */
  close(): void {
    this.blocks.close();
  }
}
