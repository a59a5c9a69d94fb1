import { describe, expect, it } from 'vitest';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import { K8sPipelineExecutor } from '../../src/executor/pipeline-executor.js';
import type { PipelineEvent } from '../../src/executor/pipeline-types.js';
import type { BlockEvent, BlockRun } from '../../src/executor/types.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { projectFiles } from '../helpers/project.js';

// GIVEN a Job held by a queue (created suspended, as Kueue's webhook does), admitted later, maybe preempted
// WHEN a block, a DAG or a single-job pipeline runs it
// THEN its events, statuses and result timings say `queued` apart from `pending`, with every queued interval.

const S = 1000;
const MIN = 60 * S;
const SUSPENDED = `    executor_config:
      job:
        suspend: true
`;
const RUN: BlockRun = { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 7, blockRunId: 42 };
const BLOCK_JOB = 'mage-data-prep-block-42';
const DAG_JOB = 'mage-data-prep-block-7-load';

/** What the queue does to the Job at given times (ms after the start), as Kueue would. */
type QueueAction = { at: number; action: 'admit' | 'preempt'; job: string };

/** Advances the clock second by second, doing each queue action at its time, until `work` settles. */
async function driveWithQueue<T>(
  clock: FakeClock,
  client: InMemoryJobClient,
  work: Promise<T>,
  actions: QueueAction[],
): Promise<T> {
  let settled = false;
  const tracked = work.finally(() => {
    settled = true;
  });
  tracked.catch(() => undefined);
  const start = clock.now();
  for (let t = 0; !settled && t <= 3 * 60 * MIN; t += S) {
    for (const a of actions.filter((x) => x.at === t)) {
      if (a.action === 'admit') client.resumeJob('default', a.job);
      else client.suspendJob('default', a.job);
    }
    await clock.advance(S);
  }
  if (!settled) throw new Error(`work did not settle (started at ${start})`);
  return tracked;
}

describe('a queued block (K8sBlockExecutor)', () => {
  it('emits queued, then pending once admitted, and reports the time queued', async () => {
    const clock = new FakeClock();
    const T = clock.now();
    const jobClient = new InMemoryJobClient({ clock });
    jobClient.script(BLOCK_JOB, [{ pendingMs: 2 * S, runMs: 10 * S }]);
    const executor = new K8sBlockExecutor({
      configSource: new StaticConfigSource(projectFiles(`  - uuid: load\n${SUSPENDED}`)),
      jobClient,
      clock,
      logDrainMs: 0,
    });
    const events: BlockEvent['type'][] = [];
    const result = await driveWithQueue(
      clock,
      jobClient,
      executor.execute(RUN, { onEvent: (e) => events.push(e.type) }),
      [{ at: 20 * MIN, action: 'admit', job: BLOCK_JOB }],
    );
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(events).toEqual(['submitted', 'queued', 'pending', 'running', 'succeeded']);
    const { timings } = result;
    expect(timings.queued).toHaveLength(1);
    const [queued] = timings.queued!;
    // Seen suspended as soon as the watch delivered the created Job; admitted when Kueue resumed it.
    expect(queued!.from - T).toBeLessThan(S);
    expect(queued!.to).toBe(timings.admittedAt);
    expect(timings.admittedAt! - T).toBeGreaterThanOrEqual(20 * MIN);
    expect(timings.admittedAt! - T).toBeLessThan(20 * MIN + 2 * S);
    expect(timings.queuedMs).toBe(queued!.to - queued!.from);
    // The container started after the admission and the 2 s pending.
    expect(timings.startedAt! - timings.admittedAt!).toBeGreaterThanOrEqual(2 * S);
  });

  it('reports the queued time of a block cancelled while queued, and of one never queued none', async () => {
    const clock = new FakeClock();
    const T = clock.now();
    const jobClient = new InMemoryJobClient({ clock });
    const executor = new K8sBlockExecutor({
      configSource: new StaticConfigSource(projectFiles(`  - uuid: load\n${SUSPENDED}`)),
      jobClient,
      clock,
      logDrainMs: 0,
    });
    const cancel = new AbortController();
    void clock.sleep(5 * MIN).then(() => cancel.abort());
    const result = await driveWithQueue(
      clock,
      jobClient,
      executor.execute(RUN, { signal: cancel.signal }),
      [],
    );
    expect(result.status).toBe('cancelled');
    expect(result.timings.queued).toEqual([{ from: expect.any(Number), to: T + 5 * MIN }]);
    expect(result.timings.queuedMs).toBeGreaterThan(5 * MIN - S);
    expect(result.timings.admittedAt).toBeUndefined();

    const plain = new K8sBlockExecutor({
      configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
      jobClient,
      clock,
      logDrainMs: 0,
    });
    const ran = await driveWithQueue(clock, jobClient, plain.execute({ ...RUN, blockRunId: 43 }), []);
    executor.close();
    plain.close();
    expect(ran.status).toBe('succeeded');
    expect(ran.timings).not.toHaveProperty('queued');
    expect(ran.timings).not.toHaveProperty('queuedMs');
  });
});

describe('a queued block in a pipeline', () => {
  function pipelineSetup(extraPipeline = '') {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock });
    const files = projectFiles(`  - uuid: load\n${SUSPENDED}`);
    files['pipelines/etl/metadata.yaml'] =
      `uuid: etl\n${extraPipeline}${files['pipelines/etl/metadata.yaml']!.replace('uuid: etl\n', '')}`;
    const executor = new K8sPipelineExecutor({
      configSource: new StaticConfigSource(files),
      jobClient,
      clock,
      logDrainMs: 0,
    });
    const events: PipelineEvent[] = [];
    return { clock, jobClient, executor, events };
  }
  const statuses = (events: PipelineEvent[]) =>
    events.filter((e) => e.type === 'block-status').map((e) => e.status);

  it('DAG: a preempted block goes back to queued; its attempt keeps both queued intervals', async () => {
    const { clock, jobClient, executor, events } = pipelineSetup();
    jobClient.script(DAG_JOB, [{ runMs: 30 * MIN }, { runMs: 5 * MIN }]);
    const T = clock.now();
    const result = await driveWithQueue(
      clock,
      jobClient,
      executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 }, { onEvent: (e) => events.push(e) }),
      [
        { at: 10 * MIN, action: 'admit', job: DAG_JOB },
        { at: 20 * MIN, action: 'preempt', job: DAG_JOB },
        { at: 35 * MIN, action: 'admit', job: DAG_JOB },
      ],
    );
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(statuses(events)).toEqual([
      'submitted',
      'queued',
      'pending',
      'running',
      'queued',
      'pending',
      'running',
      'succeeded',
    ]);
    const [attempt] = result.blocks[0]!.attempts;
    expect(attempt!.queued).toHaveLength(2);
    const [first, second] = attempt!.queued!;
    expect(first!.to - T).toBeGreaterThanOrEqual(10 * MIN);
    expect(second!.from - T).toBeGreaterThanOrEqual(20 * MIN);
    expect(second!.to - T).toBeGreaterThanOrEqual(35 * MIN);
    expect(attempt!.queuedMs).toBe(first!.to - first!.from + (second!.to - second!.from));
    // The attempt first ran after its first admission, and the preemption used no retry.
    expect(attempt!.runningAt!).toBeGreaterThanOrEqual(first!.to);
    expect(attempt).toMatchObject({ attempt: 1, status: 'succeeded' });
  });

  it('single-job: the pipeline reports queued, pending, running and its final status, and the attempt its queued time', async () => {
    const { clock, jobClient, executor, events } = pipelineSetup(`run_pipeline_in_one_process: true
executor_config:
  job:
    suspend: true
`);
    const job = 'mage-data-prep-pipeline-7';
    jobClient.script(job, [{ pendingMs: S, runMs: 10 * S }]);
    const result = await driveWithQueue(
      clock,
      jobClient,
      executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 }, { onEvent: (e) => events.push(e) }),
      [{ at: 3 * MIN, action: 'admit', job }],
    );
    executor.close();
    expect(result).toMatchObject({ mode: 'single-job', status: 'succeeded' });
    expect(statuses(events)).toEqual(['submitted', 'queued', 'pending', 'running', 'succeeded']);
    const [attempt] = result.blocks[0]!.attempts;
    expect(attempt!.jobName).toBe(job);
    expect(attempt!.queued).toHaveLength(1);
    expect(attempt!.queuedMs).toBeGreaterThan(3 * MIN - 2 * S);
  });
});
