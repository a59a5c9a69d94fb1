import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import type { BlockResult } from '../../src/executor/types.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import type { PodScript } from '../../src/testing/pod-script.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { projectFiles } from '../helpers/project.js';
import { seededRandom } from '../support/fake-apiserver/seeded-random.js';

/**
 * Watch connections dropped and watch history expired (so that resuming gets 410 Gone) at random
 * moments of a run of many blocks: every block must still be seen reaching its true final state.
 * Everything runs on a FakeClock with the in-memory API server: no real time, fully replayable
 * (fast-check with a fixed seed draws the disruption schedules).
 */

const BLOCKS = 30;
const STEP_MS = 250;
const HORIZON_MS = 90_000;

type Disruption = { atMs: number; kind: 'drop' | 'expire' | 'expire-then-drop' };

/** Each block's script: pending up to 3 s, running 1–60 s, a quarter failing with exit code 3. */
function scripts(): PodScript[] {
  const random = seededRandom(7);
  return Array.from({ length: BLOCKS }, (_, i) => ({
    pendingMs: Math.floor(random() * 3000),
    runMs: 1000 + Math.floor(random() * 59_000),
    logs: [`block ${i}`],
    exitCode: random() < 0.25 ? 3 : 0,
  }));
}

/** Runs every block at once while `disruptions` happen; returns the results and the client. */
async function runWith(disruptions: readonly Disruption[]) {
  const clock = new FakeClock();
  const plan = scripts();
  const jobClient = new InMemoryJobClient({ clock });
  for (const [i, script] of plan.entries()) jobClient.script(`mage-data-prep-block-${i}`, [script]);
  const blocks = plan.map((_, i) => `  - uuid: b${i}\n`).join('');
  const executor = new K8sBlockExecutor({
    configSource: new StaticConfigSource(projectFiles(blocks)),
    jobClient,
    clock,
    logDrainMs: 10,
  });
  const results: (BlockResult | undefined)[] = new Array(BLOCKS).fill(undefined);
  const runs = plan.map((_, i) =>
    executor
      .execute({ pipelineUuid: 'etl', blockUuid: `b${i}`, pipelineRunId: 1, blockRunId: i })
      .then((r) => {
        results[i] = r;
      }),
  );
  const pending = [...disruptions].sort((a, b) => a.atMs - b.atMs);
  const start = clock.now();
  while (results.includes(undefined) && clock.now() - start < HORIZON_MS) {
    while (pending.length > 0 && pending[0]!.atMs <= clock.now() - start) {
      const { kind } = pending.shift()!;
      if (kind !== 'drop') jobClient.expireWatchHistory();
      if (kind !== 'expire') jobClient.dropWatches();
    }
    await clock.advance(STEP_MS);
  }
  await Promise.all(runs);
  executor.close();
  return { results, plan, jobClient };
}

const disruption: fc.Arbitrary<Disruption> = fc.record({
  atMs: fc.integer({ min: 0, max: 62_000 }),
  kind: fc.constantFrom('drop', 'expire', 'expire-then-drop'),
});

describe('watch drops and 410s at random points', () => {
  it('miss no completion: every block reports its true final state', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(disruption, { minLength: 1, maxLength: 12 }), async (disruptions) => {
        const { results, plan } = await runWith(disruptions);
        results.forEach((result, i) => {
          const failing = plan[i]!.exitCode === 3;
          expect(result, `block ${i}`).toMatchObject(
            failing ? { status: 'failed', reason: 'EXIT_CODE', exitCode: 3 } : { status: 'succeeded' },
          );
        });
      }),
      { seed: 4242, numRuns: 12 },
    );
  });

  it('really resumes and relists: a drop replays from the resourceVersion, a 410 forces a new list', async () => {
    const { results, jobClient } = await runWith([
      { atMs: 5000, kind: 'drop' },
      { atMs: 20_000, kind: 'expire-then-drop' },
      { atMs: 40_000, kind: 'expire-then-drop' },
    ]);
    expect(results.every((r) => r !== undefined)).toBe(true);
    const count = (method: string) => jobClient.calls.filter((c) => c.method === method).length;
    // One first list per watched resource, then a relist after each expiry for every watch that resumes
    // from before it (a watch whose last event is the newest write may resume without one).
    const lists = count('listJobs') + count('listPods');
    expect(lists).toBeGreaterThanOrEqual(4);
    expect(lists).toBeLessThanOrEqual(6);
    // Watches were resumed after each of the three drops.
    expect(count('watchJobs')).toBeGreaterThanOrEqual(4);
    expect(count('watchPods')).toBeGreaterThanOrEqual(4);
  });
});
