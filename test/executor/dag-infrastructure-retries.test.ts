import { describe, expect, it } from 'vitest';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import { NO_RETRY } from '../../src/executor/dag-resume.js';
import { nextAttempt } from '../../src/executor/dag-retry.js';
import { K8sPipelineExecutor, type PipelineExecutorOptions } from '../../src/executor/pipeline-executor.js';
import type { AttemptRecord, PipelineEvent } from '../../src/executor/pipeline-types.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import type { PodScript } from '../../src/testing/pod-script.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

/**
 * In a DAG, an attempt that failed because the cluster ended its pod (evicted, preempted, drained,
 * lost with its node) is run again at once without using the block's retry_config, up to
 * `infrastructureRetries` (default 3); each attempt records its cause.
 */

const jobOf = (attempt = 1) => `mage-data-prep-block-7-load${attempt > 1 ? `-attempt-${attempt}` : ''}`;
const EVICTED: PodScript = { runMs: 500, evicted: { message: 'The node was low on resource: memory.' } };
const PREEMPTED: PodScript = {
  runMs: 500,
  disrupted: { reason: 'PreemptionByScheduler', message: 'Preempted by a pod of priority 1000' },
};

function setup(blockYaml: string, scripts: PodScript[][], options: Partial<PipelineExecutorOptions> = {}) {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 500 }] });
  for (const [i, pods] of scripts.entries()) jobClient.script(jobOf(i + 1), pods);
  const configSource = new StaticConfigSource(projectFiles(`  - uuid: load\n${blockYaml}`));
  const executor = new K8sPipelineExecutor({ configSource, jobClient, clock, logDrainMs: 10, ...options });
  const events: PipelineEvent[] = [];
  const run = () =>
    drive(
      clock,
      executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 }, { onEvent: (e) => events.push(e) }),
    ).finally(() => executor.close());
  return { clock, jobClient, configSource, executor, events, run };
}

const summary = (attempts: readonly AttemptRecord[]) =>
  attempts.map((a) => [a.attempt, a.status, a.reason, a.infrastructure?.reason]);

describe('infrastructure retries in a DAG', () => {
  it('runs an evicted block again at once, without retry_config, and records the cause', async () => {
    const { events, run } = setup('', [[EVICTED], [{ runMs: 500 }]]);
    const result = await run();
    expect(result.status).toBe('succeeded');
    const load = result.blocks[0]!;
    expect(summary(load.attempts)).toEqual([
      [1, 'failed', 'EVICTED', 'Evicted'],
      [2, 'succeeded', undefined, undefined],
    ]);
    expect(load.attempts[0]!.infrastructure).toEqual({
      pod: expect.stringMatching(new RegExp(`^${jobOf()}-`)),
      source: 'podReason',
      reason: 'Evicted',
      message: 'The node was low on resource: memory.',
    });
    expect(events.filter((e) => e.type === 'retry-scheduled')).toEqual([
      expect.objectContaining({
        nextAttempt: 2,
        delayMs: 0,
        infrastructure: load.attempts[0]!.infrastructure,
      }),
    ]);
  });

  it('keeps the precise reason of a preempted pod (EXIT_CODE 143) and names its DisruptionTarget', async () => {
    const { run } = setup('', [[PREEMPTED], [{ runMs: 500 }]]);
    const result = await run();
    expect(result.status).toBe('succeeded');
    const [first] = result.blocks[0]!.attempts;
    expect(first).toMatchObject({
      status: 'failed',
      reason: 'EXIT_CODE',
      exitCode: 143,
      infrastructure: {
        source: 'DisruptionTarget',
        reason: 'PreemptionByScheduler',
        message: 'Preempted by a pod of priority 1000',
      },
    });
  });

  it("does not spend the block's retries: the ordinary failure after an eviction still has its retry and first delay", async () => {
    const { events, run } = setup(
      `    retry_config:
      retries: 1
      delay: 7
`,
      [[EVICTED], [{ runMs: 500, exitCode: 1 }], [{ runMs: 500 }]],
    );
    const result = await run();
    expect(result.status).toBe('succeeded');
    expect(summary(result.blocks[0]!.attempts)).toEqual([
      [1, 'failed', 'EVICTED', 'Evicted'],
      [2, 'failed', 'EXIT_CODE', undefined],
      [3, 'succeeded', undefined, undefined],
    ]);
    const retries = events.filter((e) => e.type === 'retry-scheduled');
    expect(
      retries.map((e) => [
        e.nextAttempt,
        e.delayMs,
        e.type === 'retry-scheduled' && e.infrastructure !== undefined,
      ]),
    ).toEqual([
      [2, 0, true],
      [3, 7000, false],
    ]);
  });

  it('stops after infrastructureRetries: the next infrastructure failure is an ordinary one', async () => {
    const { jobClient, run } = setup('', [[EVICTED], [EVICTED], [EVICTED], [EVICTED]], {
      infrastructureRetries: 2,
    });
    const result = await run();
    expect(result.blocks[0]).toMatchObject({ status: 'failed', reason: 'EVICTED' });
    expect(summary(result.blocks[0]!.attempts)).toEqual([
      [1, 'failed', 'EVICTED', 'Evicted'],
      [2, 'failed', 'EVICTED', 'Evicted'],
      [3, 'failed', 'EVICTED', 'Evicted'],
    ]);
    expect(jobClient.createdJobs).toHaveLength(3);
  });

  it('retries 3 times by default, and never with infrastructureRetries: 0', async () => {
    const always = [[EVICTED], [EVICTED], [EVICTED], [EVICTED], [EVICTED]];
    expect((await setup('', always).run()).blocks[0]!.attempts).toHaveLength(4);
    expect((await setup('', always, { infrastructureRetries: 0 }).run()).blocks[0]!.attempts).toHaveLength(1);
  });

  it('a resumed run reads the cause from the earlier attempt pod and goes on without retry_config', async () => {
    const { clock, jobClient, configSource, run } = setup('', [[EVICTED], [{ runMs: 500 }]]);
    // An earlier run (it crashed) left attempt 1 behind, evicted; its Job and pod are still there.
    const earlier = new K8sBlockExecutor({ configSource, jobClient, clock });
    await drive(
      clock,
      earlier.execute(
        { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 7, blockRunId: '7-load' },
        { keepJob: true },
      ),
    );
    earlier.close();

    const result = await run();
    expect(result.status).toBe('succeeded');
    expect(summary(result.blocks[0]!.attempts)).toEqual([
      [1, 'failed', 'EVICTED', 'Evicted'],
      [2, 'succeeded', undefined, undefined],
    ]);
    expect(result.blocks[0]!.attempts[0]!.fromEarlierRun).toBe(true);
  });
});

describe('nextAttempt', () => {
  const failed = (attempt: number, infrastructure = false): AttemptRecord => ({
    attempt,
    status: 'failed',
    reason: infrastructure ? 'EVICTED' : 'EXIT_CODE',
    ...(infrastructure
      ? { infrastructure: { pod: `p-${attempt}`, source: 'podReason' as const, reason: 'Evicted' } }
      : {}),
    startedAt: 0,
    finishedAt: 0,
  });
  const retry = { retries: 2, delaySeconds: 5, maxDelaySeconds: 60, exponentialBackoff: true };

  it('counts retry_config only for ordinary failures, with their own delays', () => {
    expect(nextAttempt(retry, 3, [failed(1)])).toEqual({ kind: 'retry', attempt: 2, delayMs: 5000 });
    expect(nextAttempt(retry, 3, [failed(1, true)])).toMatchObject({
      kind: 'infrastructure',
      attempt: 2,
      delayMs: 0,
    });
    expect(nextAttempt(retry, 3, [failed(1, true), failed(2)])).toEqual({
      kind: 'retry',
      attempt: 3,
      delayMs: 5000,
    });
    expect(nextAttempt(retry, 3, [failed(1), failed(2, true), failed(3)])).toEqual({
      kind: 'retry',
      attempt: 4,
      delayMs: 10_000,
    });
    expect(nextAttempt(retry, 3, [failed(1), failed(2), failed(3)])).toEqual({ kind: 'none' });
  });

  it('takes the infrastructure failures past the bound as ordinary ones', () => {
    expect(nextAttempt(NO_RETRY, 1, [failed(1, true)])).toMatchObject({ kind: 'infrastructure' });
    expect(nextAttempt(NO_RETRY, 1, [failed(1, true), failed(2, true)])).toEqual({ kind: 'none' });
    expect(nextAttempt(retry, 1, [failed(1, true), failed(2, true)])).toEqual({
      kind: 'retry',
      attempt: 3,
      delayMs: 5000,
    });
  });

  it('counts an attempt without a record (its Job is gone) as an ordinary failure', () => {
    expect(nextAttempt({ ...retry, retries: 1 }, 3, [failed(2)])).toEqual({ kind: 'none' });
  });
});
