// A block builds its Job's body only when its create is sent, and lets it go once the create is answered
// (docs/performance.md, memory per block): the blocks waiting for their turn hold their resolved config
// and name, the running ones only the name, namespace, container and identity.
import { describe, expect, it } from 'vitest';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import { planJob } from '../../src/executor/prepare.js';
import { type JobBody, type JobRunnerDeps, runPreparedJob } from '../../src/executor/run-job.js';
import { SUBMISSIONS_IN_FLIGHT } from '../../src/executor/submission-slots.js';
import type { JobClient } from '../../src/ports/job-client.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { heldCreates, withCreate } from '../helpers/create-wrapper.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

const blocks = (n: number) =>
  Array.from({ length: n }, (_, i) => `  - uuid: b${i}\n    executor_type: k8s\n`).join('');

function setup(jobClient?: (inner: InMemoryJobClient) => JobClient, n = 1) {
  const clock = new FakeClock();
  const inner = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1000 }] });
  const source = new StaticConfigSource(projectFiles(blocks(n)));
  const executor = new K8sBlockExecutor({
    configSource: source,
    jobClient: jobClient ? jobClient(inner) : inner,
    clock,
    logDrainMs: 100,
  });
  return { clock, inner, source, executor };
}

describe('the body of a Job', () => {
  it('is built when its create is sent, once, and let go once the create was answered', async () => {
    const { clock, inner, source, executor } = setup();
    const planned = planJob({
      snapshot: await source.load('etl'),
      mode: 'block',
      identity: { pipelineUuid: 'etl', pipelineRunId: '7', blockUuid: 'b0', blockRunId: '42', attempt: 1 },
    });
    const { resolved: _resolved, build, ...rest } = planned;
    const builtAt: number[] = [];
    const body: JobBody = {
      build: () => {
        builtAt.push(inner.calls.length);
        return build();
      },
    };
    const bodyAt: Record<string, boolean> = {};
    const deps = (executor as unknown as { deps: JobRunnerDeps }).deps;
    const result = await drive(
      clock,
      runPreparedJob(deps, { ...rest, ttlSet: false }, body, {
        onEvent: (event) => {
          bodyAt[event.type] = body.build !== undefined;
        },
      }),
    );
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(builtAt).toEqual([0]); // once, before the first request of the run: its create
    expect(bodyAt).toMatchObject({ submitted: false, running: false, succeeded: false });
    expect(inner.createdJobs[0]?.metadata.name).toBe('mage-data-prep-block-42');
    expect(inner.jobs()).toEqual([]);
  });
});

describe('submissions in flight', () => {
  it(`are at most ${SUBMISSIONS_IN_FLIGHT} per executor; the others wait their turn, first come first served`, async () => {
    const pending: (() => void)[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const order: string[] = [];
    const { clock, executor } = setup(
      (inner) =>
        withCreate(inner, async (real, ...args) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          order.push(args[1].metadata.name ?? '');
          await new Promise<void>((resolve) => pending.push(resolve));
          inFlight--;
          return real(...args);
        }),
      300,
    );
    const runs = Array.from({ length: 300 }, (_, i) =>
      executor.execute({ pipelineUuid: 'etl', blockUuid: `b${i}`, pipelineRunId: 1, blockRunId: i }),
    );
    for (let i = 0; i < 20; i++) await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(inFlight).toBe(SUBMISSIONS_IN_FLIGHT);
    // Answer the creates as they come; every block gets its turn.
    const answering = (async () => {
      while (order.length < 300 || pending.length > 0) {
        pending.shift()?.();
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const results = await drive(clock, Promise.all(runs));
    await answering;
    executor.close();
    expect(results.map((r) => r.status)).toEqual(Array(300).fill('succeeded'));
    expect(maxInFlight).toBe(SUBMISSIONS_IN_FLIGHT);
    expect(order).toEqual(Array.from({ length: 300 }, (_, i) => `mage-data-prep-block-${i}`));
  });

  it('a run cancelled while it waits for its turn creates nothing and says so', async () => {
    const pending: (() => void)[] = [];
    const { clock, inner, executor } = setup(
      (target) => heldCreates(target, pending),
      SUBMISSIONS_IN_FLIGHT + 1,
    );
    const runs = Array.from({ length: SUBMISSIONS_IN_FLIGHT }, (_, i) =>
      executor.execute({ pipelineUuid: 'etl', blockUuid: `b${i}`, pipelineRunId: 1, blockRunId: i }),
    );
    const cancel = new AbortController();
    const last = executor.execute(
      { pipelineUuid: 'etl', blockUuid: `b${SUBMISSIONS_IN_FLIGHT}`, pipelineRunId: 1, blockRunId: 999 },
      { signal: cancel.signal },
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(pending).toHaveLength(SUBMISSIONS_IN_FLIGHT);
    cancel.abort();
    const cancelled = await last;
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.message).toMatch(/before submission/);
    for (const answer of pending.splice(0)) answer();
    const results = await drive(clock, Promise.all(runs));
    executor.close();
    expect(results.every((r) => r.status === 'succeeded')).toBe(true);
    expect(inner.createdJobs.map((j) => j.metadata.name)).not.toContain('mage-data-prep-block-999');
  });
});
