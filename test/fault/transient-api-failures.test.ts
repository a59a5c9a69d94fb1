import { afterEach, describe, expect, it } from 'vitest';
import { createClientNodeAdapters } from '../../src/adapters/client-node/index.js';
import { K8sPipelineExecutor } from '../../src/executor/pipeline-executor.js';
import { WatchHubs } from '../../src/monitor/watch-hub.js';
import { managedSelector } from '../../src/naming/labels.js';
import { systemClock } from '../../src/ports/clock.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { projectFiles } from '../helpers/project.js';
import {
  type FakeApiServer,
  type Fault,
  type FaultRule,
  seededRandom,
  startFakeApiServer,
} from '../support/fake-apiserver/index.js';

/**
 * Retrying lives in the client-node adapter, so this suite runs at the HTTP level: the real adapter
 * against the fake API server, which fails 20 % of ALL requests (creates, deletes, lists, watches, log
 * and event reads) with the transient faults of a real cluster. Some faults hit after the server did
 * the work (the Job exists, the answer is lost): the case where a careless retry creates a duplicate.
 * The retry and reconnect delays are shortened so it runs in about a second; nothing asserts timing.
 */

const BLOCKS = 100;
const FAILURE_SHARE = 0.2;

/** Which blocks exit 3 (the rest succeed): their true final state. */
const failsForReal = (i: number) => i % 7 === 3;
const jobOf = (i: number) => `mage-data-prep-block-9-b${i}`;

/** Transient faults, each equally likely, hitting `share` of all requests in total. */
function transientFaults(share: number): FaultRule[] {
  const faults: { fault: Fault; when?: 'after' }[] = [
    { fault: { type: 'status', status: 503, retryAfterSeconds: 0 } },
    { fault: { type: 'status', status: 429, retryAfterSeconds: 0 } },
    { fault: { type: 'status', status: 500 } },
    { fault: { type: 'reset' } },
    { fault: { type: 'reset' }, when: 'after' },
    { fault: { type: 'status', status: 504 }, when: 'after' },
  ];
  const each = share / faults.length;
  // Rules are tried in order: rule k is drawn only when the k before it missed.
  return faults.map((f, k) => ({ ...f, probability: each / (1 - each * k) }));
}

let server: FakeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('with 20 % of API calls failing transiently', () => {
  it('100 blocks all reach their true final state, with no duplicate Job and no lost result', async () => {
    server = await startFakeApiServer({
      seed: 20,
      faults: transientFaults(FAILURE_SHARE),
      scripts: (jobName) => {
        const i = Number(/b(\d+)$/.exec(jobName)?.[1]);
        return [{ runMs: (i % 5) * 10, logs: [`block ${i}`], exitCode: failsForReal(i) ? 3 : 0 }];
      },
    });
    const adapters = createClientNodeAdapters({
      kubeconfigPath: server.kubeconfigPath,
      qps: 10_000,
      burst: 10_000,
      retry: { baseDelayMs: 1, maxDelayMs: 10, maxAttempts: 30, maxElapsedMs: 60_000 },
      random: seededRandom(21),
    });
    const blocks = Array.from({ length: BLOCKS }, (_, i) => `  - uuid: b${i}\n    upstream_blocks: []\n`);
    const executor = new K8sPipelineExecutor({
      configSource: new StaticConfigSource(projectFiles(blocks.join(''))),
      jobClient: adapters.jobClient,
      concurrency: BLOCKS,
      watchHubs: new WatchHubs({
        jobClient: adapters.jobClient,
        clock: systemClock,
        labelSelector: managedSelector(),
        reconnect: { initialMs: 1, maxMs: 20 },
        pollIntervalMs: 50,
      }),
    });

    const result = await executor.run({ pipelineUuid: 'etl', pipelineRunId: 9 });
    executor.close();

    // No lost result: every block has exactly one attempt, with its true outcome.
    expect(result.blocks).toHaveLength(BLOCKS);
    result.blocks.forEach((block, i) => {
      expect(block.attempts, block.uuid).toHaveLength(1);
      if (failsForReal(i)) {
        expect(block, block.uuid).toMatchObject({ status: 'failed', reason: 'EXIT_CODE' });
        expect(block.attempts[0]!.exitCode, block.uuid).toBe(3);
      } else {
        expect(block, block.uuid).toMatchObject({ status: 'succeeded' });
      }
    });
    expect(result.status).toBe('failed');

    const stats = server.stats();
    // No duplicate Job: the server stored each block's Job exactly once, and no other.
    expect(stats.createdJobs).toEqual(
      Object.fromEntries(Array.from({ length: BLOCKS }, (_, i) => [jobOf(i), 1])),
    );
    // The faults really happened, on creates too, and the adapter retried through them.
    const injected = Object.values(stats.faults).reduce((a, b) => a + b, 0);
    expect(injected / stats.requests).toBeGreaterThan(0.1);
    expect(stats.faults['create jobs']).toBeGreaterThan(0);
    expect(adapters.apiCalls().retries).toBeGreaterThan(0);
    // The run's Jobs were cleaned up in spite of the faults.
    expect(server.cluster.jobs()).toEqual([]);
  });
});
