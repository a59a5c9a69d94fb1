/**
 * Blocks over HTTP, through the client-node adapter, against a fake API server that serves or refuses
 * (422, the WatchList feature off) streaming lists. A server that ignores them is in
 * `test/monitor/sequential-relists.test.ts` (its fallback waits a 10 s bound: on a fake clock there).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClientNodeAdapters } from '../../../src/adapters/client-node/index.js';
import type { WatchListSupport } from '../../../src/adapters/local/sim/sim-cluster.js';
import { K8sBlockExecutor } from '../../../src/executor/block-executor.js';
import type { HubEvent } from '../../../src/monitor/hub-event.js';
import { WatchHubs } from '../../../src/monitor/watch-hub.js';
import { managedSelector } from '../../../src/naming/labels.js';
import { systemClock } from '../../../src/ports/clock.js';
import { StaticConfigSource } from '../../../src/testing/static-config-source.js';
import { projectFiles } from '../../helpers/project.js';
import { type FakeApiServer, startFakeApiServer } from '../../support/fake-apiserver/index.js';

describe('a block over HTTP, by server kind', () => {
  let fake: FakeApiServer | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  async function runBlock(watchList: WatchListSupport) {
    fake = await startFakeApiServer({ watchList, scripts: () => [{ runMs: 300, logs: ['one', 'two'] }] });
    const adapters = createClientNodeAdapters({
      kubeconfigPath: fake.kubeconfigPath,
      retry: { baseDelayMs: 1 },
    });
    const events: HubEvent[] = [];
    const watchHubs = new WatchHubs({
      jobClient: adapters.jobClient,
      clock: systemClock,
      labelSelector: managedSelector(),
      onHubEvent: (e) => events.push(e),
    });
    const executor = new K8sBlockExecutor({
      configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
      jobClient: adapters.jobClient,
      watchHubs,
      logDrainMs: 50,
    });
    const lines: string[] = [];
    const run = (id: number) =>
      executor.execute(
        { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 1, blockRunId: id },
        { onLog: (l) => lines.push(l.line) },
      );
    const results = [await run(1), await run(2)];
    const stats = watchHubs.hub('default').stats;
    watchHubs.close();
    return { results, lines, byCall: fake.stats().byCall, stats, events };
  }

  it('Kubernetes >= 1.32 (served): two blocks, no list at all, one streaming watch per resource', async () => {
    const { results, lines, byCall, stats } = await runBlock('serve');
    expect(results.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(lines).toEqual(['one', 'two', 'one', 'two']);
    expect(byCall['list jobs']).toBeUndefined();
    expect(byCall['list pods']).toBeUndefined();
    expect([byCall['watch jobs'], byCall['watch pods']]).toEqual([1, 1]);
    expect(stats).toMatchObject({ watchLists: 2, lists: 0 });
  });

  it('refused with 422 (the WatchList feature off): one refusal per resource, then list + watch, once for both blocks', async () => {
    const { results, lines, byCall, events } = await runBlock('refuse');
    expect(results.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(lines).toEqual(['one', 'two', 'one', 'two']);
    expect([byCall['list jobs'], byCall['list pods']]).toEqual([1, 1]);
    expect([byCall['watch jobs'], byCall['watch pods']]).toEqual([2, 2]);
    expect(
      events
        .filter((e) => e.type === 'watch-list-fallback')
        .map((e) => e.resource)
        .sort(),
    ).toEqual(['jobs', 'pods']);
  });
});
