/**
 * Regression (review): an empty run id was accepted; the Job name then lost it (`<run>-<uuid>` with an
 * empty run is `-<uuid>`, every such run the same identity). Now it is a ConfigError before any Job.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/config-error.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import { K8sPipelineExecutor } from '../../src/executor/pipeline-executor.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

function setup() {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1000 }] });
  const options = {
    configSource: new StaticConfigSource(
      projectFiles('  - uuid: load\n  - uuid: report\n    upstream_blocks: [load]\n'),
    ),
    jobClient,
    clock,
    logDrainMs: 10,
  };
  return { clock, jobClient, options };
}

const problemsOf = async (run: Promise<unknown>) => {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
};

describe('an empty run id', () => {
  it.each([
    ['an empty block run id', { pipelineRunId: 7, blockRunId: '' }, 'blockRunId: the block run id is empty'],
    [
      'a blank block run id',
      { pipelineRunId: 7, blockRunId: '  ' },
      'blockRunId: the block run id is blank ("  ")',
    ],
    [
      'an empty pipeline run id',
      { pipelineRunId: '', blockRunId: 42 },
      'pipelineRunId: the pipeline run id is empty',
    ],
  ])('%s of a block run is a ConfigError before any Job', async (_case, ids, problem) => {
    const { clock, jobClient, options } = setup();
    const executor = new K8sBlockExecutor(options);
    const run = executor.execute({ pipelineUuid: 'etl', blockUuid: 'load', ...ids });
    expect((await drive(clock, problemsOf(run))).join('\n')).toContain(problem);
    executor.close();
    expect(jobClient.createdJobs).toEqual([]);
  });

  it.each(['dag', 'single-job'] as const)('of a pipeline run (%s) creates no Job', async (mode) => {
    const { clock, jobClient, options } = setup();
    const executor = new K8sPipelineExecutor({ ...options, mode });
    const outcome = await drive(
      clock,
      executor.run({ pipelineUuid: 'etl', pipelineRunId: '' }).then(
        (result) => result.blocks.map((b) => `${b.uuid}: ${b.status} ${b.reason ?? ''} ${b.message ?? ''}`),
        (e: unknown) => (e instanceof ConfigError ? e.issues.map((i) => i.message) : [String(e)]),
      ),
    );
    executor.close();
    expect(outcome.join('\n')).toContain('the pipeline run id is empty');
    expect(jobClient.createdJobs).toEqual([]);
  });
});
