import { describe, expect, it } from 'vitest';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import { FakeClock, InMemoryJobClient, runUntil, StaticConfigSource } from '../../src/testing/index.js';

const configSource = new StaticConfigSource({
  'metadata.yaml': 'k8s_executor_config:\n  container_config:\n    image: busybox:1.36\n',
  'pipelines/etl/metadata.yaml': 'blocks:\n  - uuid: load\n    executor_type: k8s\n',
});

describe('runUntil', () => {
  it('runs a block to its end on fake time (the TSDoc example)', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const jobClient = new InMemoryJobClient({
      clock,
      scripts: { 'mage-data-prep-block-1': [{ pendingMs: 2_000, runMs: 30_000 }] },
    });
    const executor = new K8sBlockExecutor({ configSource, jobClient, clock });
    const result = await runUntil(
      clock,
      executor.execute({ pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 1, blockRunId: 1 }),
    );
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(result.timings.finishedAt - result.timings.submittedAt).toBeGreaterThanOrEqual(32_000);
    expect(clock.now() - start).toBeLessThan(3_600_000);
  });

  it('returns what the promise resolves to and throws what it rejects with', async () => {
    const clock = new FakeClock();
    await expect(
      runUntil(
        clock,
        clock.sleep(60_000).then(() => 'woke'),
      ),
    ).resolves.toBe('woke');
    const failing = clock.sleep(5_000).then(() => {
      throw new Error('boom');
    });
    await expect(runUntil(clock, failing)).rejects.toThrow('boom');
  });

  it('waits for work that is not on the clock, between steps', async () => {
    const clock = new FakeClock();
    const mixed = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await clock.sleep(10_000);
      return clock.now();
    })();
    const start = clock.now();
    expect(await runUntil(clock, mixed)).toBe(start + 10_000);
  });

  it('gives up after timeoutMs of fake time, saying so', async () => {
    const clock = new FakeClock();
    const forever = (async () => {
      for (;;) await clock.sleep(1_000);
    })();
    await expect(runUntil(clock, forever, { timeoutMs: 10_000 })).rejects.toThrow(
      /runUntil: still pending after 10000 ms of fake time/,
    );
  });

  it('gives up after maxSteps', async () => {
    const clock = new FakeClock();
    const forever = (async () => {
      for (;;) await clock.sleep(1);
    })();
    await expect(runUntil(clock, forever, { maxSteps: 50 })).rejects.toThrow(/still pending after 50 steps/);
  });

  it('gives up when nothing sleeps and the promise waits on something else', async () => {
    const clock = new FakeClock();
    await expect(runUntil(clock, new Promise(() => {}), { maxIdleTurns: 3 })).rejects.toThrow(
      /nothing sleeps on the clock/,
    );
  });

  it('moves by stepMs for code that reads now() without sleeping', async () => {
    const clock = new FakeClock();
    const until = clock.now() + 5_000;
    const polling = new Promise<number>((resolve) => {
      const check = () => (clock.now() >= until ? resolve(clock.now()) : setImmediate(check));
      check();
    });
    expect(await runUntil(clock, polling, { stepMs: 1_000 })).toBe(until);
  });
});
