import { describe, expect, it } from 'vitest';
import { K8sPipelineExecutor, type PipelineExecutorOptions } from '../../src/executor/pipeline-executor.js';
import type { PipelineEvent } from '../../src/executor/pipeline-types.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import type { PodScript } from '../../src/testing/pod-script.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';
import { kwokLike } from './kwok-like-client.js';

/**
 * The hand-off from a block to its downstream blocks happens when the upstream's success is seen,
 * not after its log drain (`logDrainMs`, 2 s by default, all of it spent when the log follows never
 * end, as on KWOK), its diagnostics and its cleanup: those finish in the background and still land in
 * the run's result.
 */

const jobOf = (block: string, attempt = 1) =>
  `mage-data-prep-block-7-${block}${attempt > 1 ? `-attempt-${attempt}` : ''}`;

const CHAIN = `  - uuid: a
  - uuid: b
    upstream_blocks: [a]
`;

function setup(
  blocksYaml: string,
  scripts: Record<string, PodScript[]>,
  options: Partial<PipelineExecutorOptions> = {},
) {
  const clock = new FakeClock();
  const memory = new InMemoryJobClient({
    clock,
    scripts,
    defaultScript: [{ runMs: 1000, logs: ['working', 'done'] }],
  });
  const { jobClient, finalAt } = kwokLike(memory, clock);
  // The default logDrainMs (2 s): a hand-off that waited for it would show it.
  const executor = new K8sPipelineExecutor({
    configSource: new StaticConfigSource(projectFiles(blocksYaml)),
    jobClient,
    clock,
    ...options,
  });
  const events: (PipelineEvent & { seen: number })[] = [];
  const logs: string[] = [];
  const createdAt = (name: string) =>
    memory.calls.find((c) => c.method === 'createJob' && c.name === name)?.at;
  const start = (signal?: AbortSignal) =>
    executor.run(
      { pipelineUuid: 'etl', pipelineRunId: 7 },
      {
        onEvent: (e) => events.push({ ...e, seen: clock.now() }),
        onLog: (block, line) => logs.push(`${block}: ${line.line}`),
        ...(signal ? { signal } : {}),
      },
    );
  return { clock, memory, executor, events, logs, finalAt, createdAt, start };
}

const statusAt = (events: readonly (PipelineEvent & { seen: number })[], block: string, status: string) =>
  events.find((e) => e.type === 'block-status' && e.blockUuid === block && e.status === status)?.seen;

describe('DAG hand-off at detection', () => {
  it('creates the downstream Job 0 ms (fake time) after the upstream final condition, while the upstream still drains its log', async () => {
    const { clock, memory, executor, logs, finalAt, createdAt, start } = setup(CHAIN, {});
    const result = await drive(clock, start(), 50).finally(() => executor.close());

    expect(result.status).toBe('succeeded');
    const upstreamFinal = finalAt.get(jobOf('a'))!;
    expect(upstreamFinal).toBeDefined();
    expect(createdAt(jobOf('b'))! - upstreamFinal).toBe(0);
    // The upstream's drain, diagnostics and cleanup still landed in the result before run() resolved.
    const [a, b] = result.blocks;
    expect(a).toMatchObject({ status: 'succeeded', lastLogLines: ['working', 'done'] });
    expect(a!.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status: 'succeeded', jobName: jobOf('a') }),
    ]);
    expect(b).toMatchObject({ status: 'succeeded', lastLogLines: ['working', 'done'] });
    expect(logs.filter((l) => l.startsWith('a:'))).toEqual(['a: working', 'a: done']);
    // The follows never ended: each block's drain waited its whole logDrainMs, the downstream's after its own end.
    expect(result.finishedAt - finalAt.get(jobOf('b'))!).toBeGreaterThanOrEqual(2000);
    expect(memory.jobs()).toEqual([]); // the run's cleanup came after every drain
  });

  it('does not hold a concurrency slot while a finished block drains: the next block starts at once', async () => {
    const { clock, memory, executor, finalAt, createdAt, start } = setup(
      `  - uuid: a
  - uuid: b
  - uuid: c
`,
      {},
      { concurrency: 1 },
    );
    const result = await drive(clock, start(), 50).finally(() => executor.close());
    expect(result.status).toBe('succeeded');
    expect(createdAt(jobOf('b'))).toBe(finalAt.get(jobOf('a')));
    expect(createdAt(jobOf('c'))).toBe(finalAt.get(jobOf('b')));
    // Never two Jobs running at once: each create came when the one before had reached its final condition.
    const creates = memory.calls.filter((c) => c.method === 'createJob').map((c) => c.at);
    expect(creates).toEqual([creates[0], finalAt.get(jobOf('a')), finalAt.get(jobOf('b'))]);
  });

  it('waits for a failed upstream diagnostics before retrying it or skipping its downstream blocks', async () => {
    const { clock, events, executor, finalAt, createdAt, start } = setup(
      `  - uuid: a
    retry_config:
      retries: 1
      delay: 0
  - uuid: b
    upstream_blocks: [a]
`,
      {
        [jobOf('a')]: [{ runMs: 1000, logs: ['oops'], exitCode: 1 }],
        [jobOf('a', 2)]: [{ runMs: 1000, exitCode: 1 }],
      },
    );
    const result = await drive(clock, start(), 50).finally(() => executor.close());
    expect(result.blocks.map((b) => [b.uuid, b.status])).toEqual([
      ['a', 'failed'],
      ['b', 'skipped'],
    ]);
    // The retry of a (delay 0) was decided once attempt 1's result, with its last lines, was in: after its drain.
    const failed1 = finalAt.get(jobOf('a'))!;
    expect(createdAt(jobOf('a', 2))! - failed1).toBe(2000);
    expect(result.blocks[0]!.attempts[0]).toMatchObject({
      status: 'failed',
      reason: 'EXIT_CODE',
      exitCode: 1,
    });
    // b was skipped after attempt 2's diagnostics, not at its detection.
    expect(statusAt(events, 'b', 'skipped')! - finalAt.get(jobOf('a', 2))!).toBe(2000);
  });

  it('a cancel during the upstream drain cuts the drain short and deletes exactly the run Jobs', async () => {
    const { clock, memory, executor, events, start } = setup(CHAIN, { [jobOf('b')]: [{ hang: true }] });
    const cancel = new AbortController();
    const run = start(cancel.signal);
    for (let i = 0; i < 30 && !memory.createdJobs.some((j) => j.metadata.name === jobOf('b')); i++)
      await clock.advance(50);
    await clock.advance(100); // b runs; a is still in its 2 s drain
    const cancelledAt = clock.now();
    cancel.abort();
    const result = await drive(clock, run, 50).finally(() => executor.close());

    expect(result.status).toBe('cancelled');
    expect(result.blocks.map((b) => [b.uuid, b.status])).toEqual([
      ['a', 'succeeded'],
      ['b', 'cancelled'],
    ]);
    expect(result.blocks[0]!.lastLogLines).toEqual(['working', 'done']);
    expect(result.finishedAt - cancelledAt).toBeLessThan(2000);
    const deleted = memory.calls.filter((c) => c.method === 'deleteJob').map((c) => c.name);
    expect(new Set(deleted)).toEqual(new Set([jobOf('a'), jobOf('b')]));
    expect(memory.jobs()).toEqual([]);
    expect(events.filter((e) => e.seen > result.finishedAt)).toEqual([]);
  });

  it('a close during the upstream drain resolves at once with the upstream recorded as succeeded', async () => {
    const { clock, memory, executor, events, logs, start } = setup(CHAIN, { [jobOf('b')]: [{ hang: true }] });
    const run = start();
    for (let i = 0; i < 30 && !memory.createdJobs.some((j) => j.metadata.name === jobOf('b')); i++)
      await clock.advance(50);
    executor.close();
    const result = await run; // no time passes: it resolves at once
    const reported = { events: events.length, logs: logs.length };

    expect(result).toMatchObject({ status: 'cancelled', closed: true });
    const [a, b] = result.blocks;
    expect(a).toMatchObject({ status: 'succeeded' });
    expect(a!.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status: 'succeeded', jobName: jobOf('a') }),
    ]);
    expect(b).toMatchObject({ status: 'cancelled' });
    expect(b!.attempts).toEqual([expect.objectContaining({ jobName: jobOf('b'), leftRunning: true })]);
    // Nothing deleted (a shutdown), nothing reported after the run resolved.
    await clock.advance(5000);
    expect(memory.calls.filter((c) => c.method === 'deleteJob')).toEqual([]);
    expect({ events: events.length, logs: logs.length }).toEqual(reported);
  });

  it('a close during a failed upstream drain records the failure and starts no retry', async () => {
    const { clock, memory, executor, start } = setup(
      `  - uuid: a
    retry_config:
      retries: 2
      delay: 0
  - uuid: b
    upstream_blocks: [a]
`,
      { [jobOf('a')]: [{ runMs: 1000, exitCode: 3 }] },
    );
    const run = start();
    for (let i = 0; i < 30; i++) await clock.advance(50); // a failed at 1 s; its drain runs until 3 s
    executor.close();
    const result = await run;
    const [a, b] = result.blocks;
    expect(a).toMatchObject({
      status: 'cancelled',
      message: 'Attempt 2 was not started: the executor was closed.',
    });
    expect(a!.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status: 'failed', reason: 'EXIT_CODE', exitCode: 3 }),
    ]);
    expect(b).toMatchObject({ status: 'cancelled' });
    await clock.advance(5000);
    expect(memory.createdJobs.map((j) => j.metadata.name)).toEqual([jobOf('a')]);
  });
});
