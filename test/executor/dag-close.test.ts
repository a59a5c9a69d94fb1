import { describe, expect, it } from 'vitest';
import { K8sPipelineExecutor, type PipelineExecutorOptions } from '../../src/executor/pipeline-executor.js';
import type { PipelineEvent } from '../../src/executor/pipeline-types.js';
import { WatchHubs } from '../../src/monitor/watch-hub.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

/**
 * close() while a DAG run is in flight is a shutdown, not a cancel: no new attempt starts (not even a
 * retry of the attempt the close interrupted), nothing is deleted, and the run resolves at once with
 * the running blocks `cancelled` + `leftRunning`, so a later run adopts their Jobs.
 */

const RETRYING_LOAD = `  - uuid: load
    retry_config:
      retries: 2
      delay: 1
  - uuid: report
    upstream_blocks: [load]
`;

function setup(blocksYaml: string, options: Partial<PipelineExecutorOptions> = {}) {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 10 * 60_000 }] });
  const configSource = new StaticConfigSource(projectFiles(blocksYaml));
  const executor = new K8sPipelineExecutor({ configSource, jobClient, clock, logDrainMs: 10, ...options });
  return { clock, jobClient, configSource, executor };
}

describe('close() during a DAG run', () => {
  it('does not start another attempt of a block whose Job is still running', async () => {
    const { clock, jobClient, executor } = setup(RETRYING_LOAD);
    const run = executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 });
    for (let i = 0; i < 20; i++) await clock.advance(1000);
    expect(jobClient.jobs().map((j) => j.metadata.name)).toEqual(['mage-data-prep-block-7-load']);

    executor.close(); // orderly shutdown of the orchestrator (SIGTERM handler)
    for (let i = 0; i < 30; i++) await clock.advance(1000);

    expect(jobClient.createdJobs.map((j) => j.metadata.name)).toEqual(['mage-data-prep-block-7-load']);
    // The Job was neither deleted nor replaced: it keeps running for the next executor.
    expect(jobClient.jobs().map((j) => j.metadata.name)).toEqual(['mage-data-prep-block-7-load']);
    expect(jobClient.calls.filter((c) => c.method === 'deleteJob')).toEqual([]);

    const result = await run; // resolved by the close, with no more time passing
    expect(result).toMatchObject({ status: 'cancelled', closed: true });
    const [load, report] = result.blocks;
    expect(load).toMatchObject({ status: 'cancelled', reason: 'CANCELLED' });
    expect(load!.attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        jobName: 'mage-data-prep-block-7-load',
        status: 'cancelled',
        leftRunning: true,
      }),
    ]);
    expect(load!.message).toMatch(/left running.*Run the same pipeline run again to adopt it/);
    expect(report).toMatchObject({ status: 'cancelled', message: 'Not started: the executor was closed.' });
    expect(report!.attempts).toEqual([]);
  });

  it('resolves at once even while the watches it follows through stay open (shared hubs)', async () => {
    const { clock, jobClient, configSource } = setup(RETRYING_LOAD);
    // Watches the executor did not create: closing it does not close them.
    const watchHubs = new WatchHubs({
      jobClient,
      clock,
      labelSelector: 'app.kubernetes.io/managed-by=k8s-executor',
    });
    const executor = new K8sPipelineExecutor({ configSource, jobClient, clock, watchHubs, logDrainMs: 10 });
    let settled = false;
    const run = executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 }).finally(() => {
      settled = true;
    });
    for (let i = 0; i < 5; i++) await clock.advance(1000);
    executor.close();
    await clock.advance(0);
    expect(settled).toBe(true);
    expect((await run).blocks[0]!.attempts[0]).toMatchObject({ leftRunning: true });
    watchHubs.close();
  });

  it('ends a pending retry without starting it, and deletes nothing', async () => {
    const { clock, jobClient, executor } = setup(`  - uuid: flaky
    retry_config:
      retries: 2
      delay: 60
`);
    jobClient.script('mage-data-prep-block-7-flaky', [{ runMs: 100, exitCode: 1 }]);
    const events: PipelineEvent[] = [];
    const run = executor.run(
      { pipelineUuid: 'etl', pipelineRunId: 7 },
      {
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'retry-scheduled') executor.close();
        },
      },
    );
    const result = await drive(clock, run);
    expect(result).toMatchObject({ status: 'cancelled', closed: true });
    expect(result.blocks[0]).toMatchObject({
      status: 'cancelled',
      message: 'Attempt 2 was not started: the executor was closed during the retry delay.',
    });
    expect(result.blocks[0]!.attempts.map((a) => [a.attempt, a.status])).toEqual([[1, 'failed']]);
    await clock.advance(120_000);
    expect(jobClient.createdJobs.map((j) => j.metadata.name)).toEqual(['mage-data-prep-block-7-flaky']);
    // The failed attempt's Job stays: the next run reads it and goes on with attempt 2.
    expect(jobClient.jobs().map((j) => j.metadata.name)).toEqual(['mage-data-prep-block-7-flaky']);
    // Nothing is reported for the run after it resolved.
    const after = events.length;
    await clock.advance(10_000);
    expect(events.length).toBe(after);
  });

  it('stops a local block (its signal aborts) and reports it cancelled', async () => {
    let stopped: unknown;
    const { clock, executor } = setup('  - uuid: notify\n    executor_type: local_python_force\n', {
      localRunner: (ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            stopped = ctx.signal.reason;
            resolve({ status: 'failed', message: 'killed' });
          });
        }),
    });
    const run = executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 });
    await clock.advance(1000);
    executor.close();
    const result = await run;
    expect(stopped).toBeDefined();
    expect(result.blocks[0]).toMatchObject({ status: 'cancelled', reason: 'CANCELLED' });
    expect(result.blocks[0]!.attempts[0]!.leftRunning).toBeUndefined();
  });

  it('a run closed before it listed anything creates nothing', async () => {
    const { clock, jobClient, executor } = setup(RETRYING_LOAD);
    const run = executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 });
    executor.close();
    const result = await drive(clock, run);
    expect(result).toMatchObject({ status: 'cancelled', closed: true });
    expect(result.blocks.map((b) => b.status)).toEqual(['cancelled', 'cancelled']);
    expect(jobClient.calls.filter((c) => c.method === 'createJob')).toEqual([]);
  });

  it('the next executor adopts the Job left running and finishes the run with no duplicate', async () => {
    const { clock, jobClient, configSource, executor } = setup(RETRYING_LOAD);
    jobClient.script('mage-data-prep-block-7-load', [{ runMs: 30_000 }]);
    jobClient.script('mage-data-prep-block-7-report', [{ runMs: 1000 }]);
    const first = executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 });
    await clock.advance(5000);
    executor.close();
    expect((await first).closed).toBe(true);

    const next = new K8sPipelineExecutor({ configSource, jobClient, clock, logDrainMs: 10 });
    const result = await drive(clock, next.run({ pipelineUuid: 'etl', pipelineRunId: 7 }));
    next.close();
    expect(result.status).toBe('succeeded');
    expect(result.closed).toBeUndefined();
    expect(result.blocks[0]!.attempts).toEqual([
      expect.objectContaining({ status: 'succeeded', adopted: true }),
    ]);
    const accepted = jobClient.calls.filter((c) => c.method === 'createJob').map((c) => c.name);
    // load: created once, then answered 409 and adopted; report: created once.
    expect(accepted).toEqual([
      'mage-data-prep-block-7-load',
      'mage-data-prep-block-7-load',
      'mage-data-prep-block-7-report',
    ]);
    expect(jobClient.jobs()).toEqual([]);
  });
});

describe('close() during a single-job run', () => {
  it('resolves at once with the pipeline Job left running', async () => {
    const { clock, jobClient, executor } = setup(RETRYING_LOAD, { mode: 'single-job' });
    const run = executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 });
    await clock.advance(5000);
    executor.close();
    const result = await run;
    expect(result).toMatchObject({ status: 'cancelled', closed: true, mode: 'single-job' });
    expect(result.blocks[0]!.attempts[0]).toMatchObject({
      jobName: 'mage-data-prep-pipeline-7',
      leftRunning: true,
    });
    expect(jobClient.jobs().map((j) => j.metadata.name)).toEqual(['mage-data-prep-pipeline-7']);
  });
});
