/**
 * The block executor through the real client-node adapter over HTTP, against the fake API server's
 * production faults (real time, kept to about a second each): log streams cut cleanly and abruptly,
 * a one-off 401 on a relist, a cancel racing a slow create, a token rotated mid-run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClientNodeAdapters } from '../../src/adapters/client-node/index.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import { WatchHubs } from '../../src/monitor/watch-hub.js';
import { managedSelector } from '../../src/naming/labels.js';
import { systemClock } from '../../src/ports/clock.js';
import type { PodScript } from '../../src/testing/pod-script.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { projectFiles } from '../helpers/project.js';
import {
  type FakeApiServer,
  type FakeApiServerOptions,
  startFakeApiServer,
} from '../support/fake-apiserver/index.js';

const FAST = { retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 10 }, qps: 1000, burst: 1000 };
const RUN = { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 1, blockRunId: 42 };
const NAME = 'mage-data-prep-block-42';

let server: FakeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(script: PodScript, options: FakeApiServerOptions = {}) {
  server = await startFakeApiServer({ scripts: () => [script], ...options });
  const adapters = createClientNodeAdapters({ kubeconfigPath: server.kubeconfigPath, ...FAST });
  const executor = new K8sBlockExecutor({
    configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
    jobClient: adapters.jobClient,
    logDrainMs: 200,
    watchHubs: new WatchHubs({
      jobClient: adapters.jobClient,
      clock: systemClock,
      labelSelector: managedSelector(),
      reconnect: { initialMs: 5, maxMs: 50 },
      pollIntervalMs: 100,
    }),
  });
  return { server, adapters, executor };
}

const numbered = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);

describe('over HTTP, through the client-node adapter', () => {
  it.each([
    ['cleanly', false],
    ['abruptly', true],
  ])('delivers every log line once when the log streams are cut %s', async (_how, abrupt) => {
    const logs = numbered(40);
    const { server, executor } = await setup({ runMs: 1200, logs, exitCode: 2 });
    const cuts = setInterval(() => server.cutLogStreams({ abrupt }), 300);
    const lines: string[] = [];
    const result = await executor
      .execute(RUN, { onLog: (l) => lines.push(l.line) })
      .finally(() => clearInterval(cuts));
    executor.close();
    expect(result).toMatchObject({ status: 'failed', reason: 'EXIT_CODE', exitCode: 2 });
    expect(lines).toEqual(logs);
    expect(result.lastLogLines).toEqual(logs.slice(-50));
    expect(server.stats().byCall['get pods/log']).toBeGreaterThan(1);
  });

  it('finishes the block through a one-off 401 on a relist', async () => {
    const { server, executor } = await setup({ runMs: 800 });
    const pending = executor.execute(RUN);
    while (server.stats().openWatches < 2) await new Promise((r) => setTimeout(r, 5));
    server.setFaults([
      { verbs: ['list'], resources: ['pods'], fault: { type: 'status', status: 401 }, count: 1 },
    ]);
    await server.cluster.createJob('elsewhere', {
      metadata: { name: 'noise' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } },
    });
    server.expireWatchHistory();
    server.dropWatches();
    const result = await pending;
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(server.stats().faults).toEqual({ 'list pods': 1 });
  });

  it('a cancel racing a slow create (an admission webhook) deletes the Job admitted late, by uid', async () => {
    const { server, executor } = await setup(
      { hang: true },
      { latencyMs: (route) => (route.verb === 'create' ? 300 : 0) },
    );
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(new Error('Ctrl-C')), 100);
    const result = await executor.execute(RUN, { signal: cancel.signal });
    executor.close();
    expect(result.status).toBe('cancelled');
    expect(result.message).toMatch(
      new RegExp(`Job "${NAME}" \\(uid [0-9a-f-]+\\) was deleted with its pods`),
    );
    expect(server.stats().createdJobs).toEqual({ [NAME]: 1 });
    while (server.cluster.jobs().length > 0) await new Promise((r) => setTimeout(r, 5));
  });

  it('keeps following through a token rotated in its token file', async () => {
    const logs = numbered(10);
    const { server, executor } = await setup({ runMs: 1000, logs }, { tokenFile: true, token: 'first' });
    const lines: string[] = [];
    const pending = executor.execute(RUN, { onLog: (l) => lines.push(l.line) });
    setTimeout(() => {
      server.rotateToken('second');
      server.cutLogStreams();
      server.dropWatches();
    }, 400);
    const result = await pending;
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(lines).toEqual(logs);
  });
});
