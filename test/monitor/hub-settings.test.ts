/**
 * `createExecutors` passes the settings of the shared watches through to its hubs, and what a hub
 * holds does not grow with the blocks that ran.
 */
import { describe, expect, it } from 'vitest';
import { createExecutors } from '../../src/create.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import type { HubEvent } from '../../src/monitor/hub-event.js';
import { WatchHubs } from '../../src/monitor/watch-hub.js';
import { managedSelector } from '../../src/naming/labels.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

const CHAIN = '  - uuid: a\n  - uuid: b\n    upstream_blocks: [a]\n  - uuid: c\n    upstream_blocks: [b]\n';

async function chain(settings: { idleTimeoutMs?: number; onHubEvent?: (e: HubEvent) => void }) {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1000 }] });
  const executors = createExecutors({
    projectDir: '/nonexistent',
    configSource: new StaticConfigSource(projectFiles(CHAIN)),
    jobClient,
    clock,
    logDrainMs: 10,
    ...settings,
  });
  const result = await drive(clock, executors.pipelines.run({ pipelineUuid: 'etl', pipelineRunId: 1 }));
  await executors.close();
  // The hubs' lists (the DAG lists its run's Jobs too, by another selector).
  const hubLists = jobClient.calls.filter(
    (c) => c.method === 'listJobs' && c.labelSelector === managedSelector(),
  );
  return { result, lists: hubLists.length };
}

describe('createExecutors and the shared watches', () => {
  it('keeps the watches across the blocks of a chain by default', async () => {
    const { result, lists } = await chain({});
    expect(result.status).toBe('succeeded');
    expect(lists).toBe(1);
  });

  it('passes idleTimeoutMs and onHubEvent through: with 0, each block of the chain lists again', async () => {
    const events: HubEvent[] = [];
    const { result, lists } = await chain({ idleTimeoutMs: 0, onHubEvent: (e) => events.push(e) });
    expect(result.status).toBe('succeeded');
    expect(lists).toBe(3);
    expect(events.filter((e) => e.type === 'listed' && e.resource === 'jobs')).toHaveLength(3);
  });
});

describe('a hub after many blocks', () => {
  it('holds no per-block entry once 200 blocks finished: no subscriber, their Jobs and pods gone from the cache', async () => {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 500, logs: ['hi'] }] });
    const watchHubs = new WatchHubs({ jobClient, clock, labelSelector: managedSelector() });
    const executor = new K8sBlockExecutor({
      configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
      jobClient,
      clock,
      watchHubs,
      logDrainMs: 10,
    });
    const hub = watchHubs.hub('default');
    let peak = 0;
    for (let wave = 0; wave < 4; wave++) {
      const runs = Array.from({ length: 50 }, (_, i) =>
        executor.execute(
          { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 1, blockRunId: wave * 50 + i },
          { onLog: () => undefined },
        ),
      );
      const settled = Promise.all(runs);
      void settled.then(() => undefined);
      await clock.advance(250);
      peak = Math.max(peak, hub.sizes.subscribedJobs);
      const results = await drive(clock, settled);
      expect(results.every((r) => r.status === 'succeeded')).toBe(true);
    }
    // Let the deletes (Background propagation: the pods go after their Job) reach the watches.
    await clock.advance(1000);
    expect(peak).toBe(50);
    expect(hub.sizes).toEqual({ subscribedJobs: 0, cachedJobs: 0, cachedPods: 0, watching: true });
    expect(jobClient.jobs()).toEqual([]);
    watchHubs.close();
    expect(hub.sizes.watching).toBe(false);
  });
});
