import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/config-error.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import { K8sPipelineExecutor, type PipelineExecutorOptions } from '../../src/executor/pipeline-executor.js';
import type { LocalBlockContext, PipelineEvent } from '../../src/executor/pipeline-types.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

const jobOf = (block: string, attempt = 1) =>
  `mage-data-prep-block-7-${block.replaceAll('_', '-')}${attempt > 1 ? `-attempt-${attempt}` : ''}`;

function setup(blocksYaml: string, options: Partial<PipelineExecutorOptions> = {}) {
  const files = projectFiles(blocksYaml);
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1000 }] });
  const executor = new K8sPipelineExecutor({
    configSource: new StaticConfigSource(files),
    jobClient,
    clock,
    logDrainMs: 10,
    ...options,
  });
  const events: PipelineEvent[] = [];
  const run = () =>
    drive(
      clock,
      executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 }, { onEvent: (e) => events.push(e) }),
    ).finally(() => executor.close());
  return { clock, jobClient, executor, events, files, run };
}

const DIAMOND = `  - uuid: a
    upstream_blocks: []
  - uuid: b
    upstream_blocks: [a]
  - uuid: c
    upstream_blocks: [a]
  - uuid: d
    upstream_blocks: [b, c]
`;

function statusTimeline(events: PipelineEvent[]) {
  return events.filter((e) => e.type === 'block-status').map((e) => `${e.blockUuid}:${e.status}`);
}

describe('K8sPipelineExecutor (dag)', () => {
  it('runs blocks in upstream order: a block starts only after all its upstream blocks succeeded', async () => {
    const { jobClient, events, run } = setup(DIAMOND);
    const result = await run();
    expect(result.status).toBe('succeeded');
    expect(result.blocks.map((b) => [b.uuid, b.status])).toEqual([
      ['a', 'succeeded'],
      ['b', 'succeeded'],
      ['c', 'succeeded'],
      ['d', 'succeeded'],
    ]);
    const order = statusTimeline(events);
    expect(order.indexOf('b:submitted')).toBeGreaterThan(order.indexOf('a:succeeded'));
    expect(order.indexOf('c:submitted')).toBeGreaterThan(order.indexOf('a:succeeded'));
    expect(order.indexOf('d:submitted')).toBeGreaterThan(order.indexOf('b:succeeded'));
    expect(order.indexOf('d:submitted')).toBeGreaterThan(order.indexOf('c:succeeded'));
    expect(jobClient.createdJobs.map((j) => j.metadata.name)).toEqual([
      jobOf('a'),
      jobOf('b'),
      jobOf('c'),
      jobOf('d'),
    ]);
    // The run's Jobs are deleted once it ends.
    expect(jobClient.jobs()).toEqual([]);
  });

  it('never runs more blocks at once than the concurrency limit', async () => {
    const blocks = Array.from({ length: 7 }, (_, i) => `  - uuid: b${i}\n    upstream_blocks: []\n`).join('');
    const { events, run } = setup(blocks, { concurrency: 3 });
    const result = await run();
    expect(result.status).toBe('succeeded');
    let active = 0;
    let peak = 0;
    for (const e of events) {
      if (e.type !== 'block-status') continue;
      if (e.status === 'submitted') peak = Math.max(peak, ++active);
      if (['succeeded', 'failed', 'retrying'].includes(e.status)) active--;
    }
    expect(peak).toBe(3);
  });

  it('retries with Mage retry_config delays and puts the attempt in the Job name', async () => {
    const { clock, jobClient, events, run } = setup(`  - uuid: flaky
    retry_config:
      retries: 3
      delay: 5
      max_delay: 8
      exponential_backoff: true
`);
    jobClient.script(jobOf('flaky'), [{ runMs: 100, exitCode: 1 }]);
    jobClient.script(jobOf('flaky', 2), [{ runMs: 100, exitCode: 1 }]);
    jobClient.script(jobOf('flaky', 3), [{ runMs: 100, exitCode: 0 }]);
    const result = await run();
    expect(result.status).toBe('succeeded');
    expect(result.blocks[0]!.attempts.map((a) => [a.attempt, a.status, a.jobName])).toEqual([
      [1, 'failed', jobOf('flaky')],
      [2, 'failed', jobOf('flaky', 2)],
      [3, 'succeeded', jobOf('flaky', 3)],
    ]);
    const delays = events.filter((e) => e.type === 'retry-scheduled').map((e) => e.delayMs);
    expect(delays).toEqual([5000, 8000]); // 5 s, then 10 s capped at max_delay 8 s
    expect(clock.sleeps).toEqual(expect.arrayContaining([5000, 8000]));
  });

  it('skips everything downstream of a block that failed for good, while independent branches finish', async () => {
    const { jobClient, run } = setup(`  - uuid: a
    upstream_blocks: []
  - uuid: broken
    upstream_blocks: [a]
  - uuid: after_broken
    upstream_blocks: [broken]
  - uuid: last
    upstream_blocks: [after_broken]
  - uuid: side
    upstream_blocks: [a]
`);
    jobClient.script(jobOf('broken'), [{ runMs: 100, exitCode: 2 }]);
    const result = await run();
    expect(result.status).toBe('failed');
    const byUuid = Object.fromEntries(result.blocks.map((b) => [b.uuid, b]));
    expect(byUuid.broken).toMatchObject({ status: 'failed', reason: 'EXIT_CODE' });
    expect(byUuid.after_broken).toMatchObject({ status: 'skipped', reason: 'SKIPPED' });
    expect(byUuid.after_broken!.message).toMatch(/broken/);
    expect(byUuid.last).toMatchObject({ status: 'skipped' });
    expect(byUuid.side).toMatchObject({ status: 'succeeded' });
    expect(jobClient.createdJobs.map((j) => j.metadata.name)).not.toContain(jobOf('after_broken'));
  });

  it('resumes a crashed run: adopts the running Job, skips the finished block, creates no duplicate', async () => {
    const { clock, jobClient, files, run } = setup(`  - uuid: a
    upstream_blocks: []
  - uuid: b
    upstream_blocks: [a]
  - uuid: c
    upstream_blocks: [b]
`);
    jobClient.script(jobOf('a'), [{ runMs: 100 }]);
    jobClient.script(jobOf('b'), [{ runMs: 30_000 }]);
    // What the crashed orchestrator left: a finished, b still running.
    const blocks = new K8sBlockExecutor({ configSource: new StaticConfigSource(files), jobClient, clock });
    for (const uuid of ['a', 'b']) {
      const prepared = await blocks.prepare({
        pipelineUuid: 'etl',
        blockUuid: uuid,
        pipelineRunId: 7,
        blockRunId: `7-${uuid}`,
      });
      await jobClient.createJob('default', prepared.job);
    }
    await clock.advance(5000);
    const creates = () => jobClient.calls.filter((c) => c.method === 'createJob').length;
    const before = creates();

    const result = await run();
    expect(result.status).toBe('succeeded');
    const [a, b, c] = result.blocks;
    expect(a!.attempts).toEqual([expect.objectContaining({ status: 'succeeded', fromEarlierRun: true })]);
    expect(b!.attempts).toEqual([expect.objectContaining({ status: 'succeeded', adopted: true })]);
    expect(c!.attempts).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    expect(c!.attempts[0]!.adopted).toBeUndefined();
    // b's create answered 409 and was adopted; only c's Job is new.
    expect(creates() - before).toBe(2);
    // createdJobs also records the refused (409) body of b: three distinct Jobs in all.
    expect([...new Set(jobClient.createdJobs.map((j) => j.metadata.name))].sort()).toEqual([
      jobOf('a'),
      jobOf('b'),
      jobOf('c'),
    ]);
  });

  it('refuses a cycle before creating any Job', async () => {
    const { jobClient, run } = setup(`  - uuid: a
    upstream_blocks: [b]
  - uuid: b
    upstream_blocks: [a]
`);
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]!.code).toBe('DAG_CYCLE');
    expect(jobClient.calls).toEqual([]);
  });

  it('hands non-k8s blocks to the local runner', async () => {
    const seen: LocalBlockContext[] = [];
    const { jobClient, run } = setup(
      `  - uuid: a
    upstream_blocks: []
  - uuid: report
    executor_type: local_python_force
    upstream_blocks: [a]
`,
      {
        localRunner: async (ctx) => {
          seen.push(ctx);
          ctx.onLog('local output');
          return { status: 'succeeded' };
        },
      },
    );
    // "local_python" on a block falls back to the project's k8s (as in Mage); local_python_force does not.
    const result = await run();
    expect(result.status).toBe('succeeded');
    expect(jobClient.createdJobs.map((j) => j.metadata.name)).toEqual([jobOf('a')]);
    expect(seen.map((c) => [c.blockUuid, c.attempt, c.pipelineRunId])).toEqual([['report', 1, '7']]);
    expect(result.blocks[1]).toMatchObject({ executor: 'local', status: 'succeeded' });
  });

  it('cancels: running Jobs are deleted and waiting blocks are cancelled', async () => {
    const { clock, jobClient, executor } = setup(DIAMOND);
    jobClient.script(jobOf('a'), [{ hang: true }]);
    const controller = new AbortController();
    const pending = executor.run(
      { pipelineUuid: 'etl', pipelineRunId: 7 },
      {
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === 'block-status' && e.blockUuid === 'a' && e.status === 'running') controller.abort();
        },
      },
    );
    const result = await drive(clock, pending);
    executor.close();
    expect(result.status).toBe('cancelled');
    expect(result.blocks.map((b) => b.status)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    expect(jobClient.jobs()).toEqual([]);
  });
});

describe('K8sPipelineExecutor cancel during a retry delay', () => {
  it('cancels the pending retry: no new Job, the block ends cancelled with its end time', async () => {
    const { clock, jobClient, executor } = setup(`  - uuid: flaky
    retry_config:
      retries: 2
      delay: 60
`);
    jobClient.script(jobOf('flaky'), [{ runMs: 100, exitCode: 1 }]);
    const controller = new AbortController();
    const pending = executor.run(
      { pipelineUuid: 'etl', pipelineRunId: 7 },
      { signal: controller.signal, onEvent: (e) => e.type === 'retry-scheduled' && controller.abort() },
    );
    const result = await drive(clock, pending);
    executor.close();
    expect(result.status).toBe('cancelled');
    expect(result.blocks[0]).toMatchObject({ status: 'cancelled', reason: 'CANCELLED' });
    expect(result.blocks[0]!.finishedAt).toBeDefined();
    expect(jobClient.createdJobs.map((j) => j.metadata.name)).toEqual([jobOf('flaky')]);
  });
});

describe('K8sPipelineExecutor (single-job)', () => {
  it('runs the whole pipeline as one Job named after the pipeline run', async () => {
    const { jobClient, run } = setup(DIAMOND, { mode: 'single-job' });
    const result = await run();
    expect(result.status).toBe('succeeded');
    expect(result.mode).toBe('single-job');
    expect(jobClient.createdJobs.map((j) => j.metadata.name)).toEqual(['mage-data-prep-pipeline-7']);
  });
});

describe('K8sPipelineExecutor run options', () => {
  it('an already aborted signal creates nothing and reports cancelled', async () => {
    const { clock, jobClient, executor } = setup(DIAMOND);
    const result = await drive(
      clock,
      executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 }, { signal: AbortSignal.abort() }),
    );
    executor.close();
    expect(result.status).toBe('cancelled');
    expect(jobClient.calls.filter((c) => c.method === 'createJob')).toEqual([]);
  });

  it('templates may use the trigger name in every block (resolved the same up front and per run)', async () => {
    const { clock, jobClient, executor } = setup(`  - uuid: a
    executor_config:
      namespace: "team-{{ trigger_name }}"
`);
    const result = await drive(
      clock,
      executor.run({ pipelineUuid: 'etl', pipelineRunId: 7, triggerName: 'nightly' }),
    );
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(jobClient.createdJobs[0]!.metadata.namespace).toBe('team-nightly');
  });
});
