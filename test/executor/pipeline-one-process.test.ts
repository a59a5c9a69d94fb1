import { describe, expect, it, vi } from 'vitest';
import { K8sPipelineExecutor, type PipelineExecutorOptions } from '../../src/executor/pipeline-executor.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';

/**
 * Mage's `run_pipeline_in_one_process: true` runs the pipeline as one Job. `readPipeline` reports it as
 * `runPipelineInOneProcess`; until every reader has the field, this file fills it from the YAML where
 * `readPipeline` does not (the executor only reads the field).
 */
vi.mock('../../src/config/index.js', async (importOriginal) => {
  const config = await importOriginal<typeof import('../../src/config/index.js')>();
  return {
    ...config,
    readPipeline: (snapshot: Parameters<typeof config.readPipeline>[0]) => {
      const pipeline = config.readPipeline(snapshot) as ReturnType<typeof config.readPipeline> & {
        runPipelineInOneProcess?: boolean;
      };
      const yaml = (snapshot.pipeline?.value as { run_pipeline_in_one_process?: unknown } | undefined)
        ?.run_pipeline_in_one_process;
      return { ...pipeline, runPipelineInOneProcess: pipeline.runPipelineInOneProcess ?? yaml === true };
    },
  };
});

function setup(oneProcess: boolean, options: Partial<PipelineExecutorOptions> = {}) {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1000 }] });
  const executor = new K8sPipelineExecutor({
    configSource: new StaticConfigSource({
      'metadata.yaml': 'executor_type: k8s\nk8s_executor_config:\n  container:\n    image: busybox:1.36\n',
      'pipelines/etl/metadata.yaml': `uuid: etl
run_pipeline_in_one_process: ${oneProcess}
blocks:
  - uuid: load
  - uuid: report
    upstream_blocks: [load]
`,
    }),
    jobClient,
    clock,
    logDrainMs: 10,
    ...options,
  });
  const run = () =>
    drive(clock, executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 })).finally(() => executor.close());
  return { jobClient, run };
}

describe('run_pipeline_in_one_process', () => {
  it('true: without a mode option the pipeline runs as one Job (single-job), as in Mage', async () => {
    const { jobClient, run } = setup(true);
    const result = await run();
    expect(result).toMatchObject({ status: 'succeeded', mode: 'single-job' });
    expect(jobClient.createdJobs.map((j) => j.metadata.name)).toEqual(['mage-data-prep-pipeline-7']);
  });

  it('false: block by block (dag)', async () => {
    const { jobClient, run } = setup(false);
    const result = await run();
    expect(result.mode).toBe('dag');
    expect(jobClient.createdJobs).toHaveLength(2);
  });

  it('an explicit mode option wins over the pipeline file', async () => {
    const { jobClient, run } = setup(true, { mode: 'dag' });
    const result = await run();
    expect(result.mode).toBe('dag');
    expect(jobClient.createdJobs.map((j) => j.metadata.name)).toEqual([
      'mage-data-prep-block-7-load',
      'mage-data-prep-block-7-report',
    ]);
  });
});
