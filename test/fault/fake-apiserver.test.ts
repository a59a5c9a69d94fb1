import { afterEach, describe, expect, it } from 'vitest';
import { createClientNodeAdapters } from '../../src/adapters/client-node/index.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import type { Job, WatchEvent } from '../../src/types/kube.js';
import { projectFiles } from '../helpers/project.js';
import { type FakeApiServer, startFakeApiServer } from '../support/fake-apiserver/index.js';

const FAST = { retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 10 }, qps: 1000, burst: 1000 };

let server: FakeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function job(name: string): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'k8s-executor' } },
    spec: {
      backoffLimit: 0,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } },
    },
  };
}

describe('fake API server, through the real client-node adapter', () => {
  it('runs a block end to end and counts every request by verb and resource', async () => {
    server = await startFakeApiServer({ scripts: () => [{ runMs: 20, logs: ['hello', 'bye'] }] });
    const adapters = createClientNodeAdapters({ kubeconfigPath: server.kubeconfigPath, ...FAST });
    const executor = new K8sBlockExecutor({
      configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
      jobClient: adapters.jobClient,
    });
    const lines: string[] = [];
    const result = await executor.execute(
      { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 1, blockRunId: 42 },
      { onLog: (l) => lines.push(l.line) },
    );
    executor.close();

    expect(result).toMatchObject({ status: 'succeeded', jobName: 'mage-data-prep-block-42' });
    expect(lines).toEqual(['hello', 'bye']);
    const stats = server.stats();
    expect(stats.byCall).toMatchObject({
      'create jobs': 1,
      'delete jobs': 1,
      'list jobs': 1,
      'list pods': 1,
    });
    expect(stats.createdJobs).toEqual({ 'mage-data-prep-block-42': 1 });
    expect(stats.finalConditionAt['mage-data-prep-block-42']).toBeTypeOf('number');
    // The server and the adapter agree on what was sent.
    expect(adapters.apiCalls().byCall['create jobs']).toBe(1);
    expect(server.cluster.jobs()).toEqual([]);
  });

  it('follows the log of a 1 s block with one request: the kubelet ends the follow after the pod status reported the exit', async () => {
    const clock = new FakeClock();
    // Lines at 0 and 0.5 s, the exit at 1 s; the kubelet's next look at the container is at 1.5 s.
    server = await startFakeApiServer({ clock, scripts: () => [{ runMs: 1000, logs: ['hello', 'bye'] }] });
    const adapters = createClientNodeAdapters({ kubeconfigPath: server.kubeconfigPath, ...FAST });
    const executor = new K8sBlockExecutor({
      configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
      jobClient: adapters.jobClient,
      clock,
    });
    const lines: string[] = [];
    let detected = false;
    const pending = executor.execute(
      { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 1, blockRunId: 42 },
      { onLog: (l) => lines.push(l.line), onDetected: () => (detected = true) },
    );
    const turn = () => new Promise((r) => setTimeout(r, 1));
    // Wait (without moving the clock) for the follow to connect, then for the final state after the exit.
    while (server.stats().openLogStreams < 1) await clock.advance(0).then(turn);
    await clock.advance(1000);
    while (!detected) await turn();
    await clock.advance(500);
    const result = await pending;
    executor.close();

    expect(result.status).toBe('succeeded');
    expect(lines).toEqual(['hello', 'bye']);
    expect(result.lastLogLines).toEqual(['hello', 'bye']);
    // Create, one log follow, delete: the follow ended with the container known ended, so it is not
    // resumed, and nothing is read after the drain.
    expect(server.stats().byCall['get pods/log']).toBe(1);
    expect(server.stats().byCall).toMatchObject({ 'create jobs': 1, 'delete jobs': 1 });
  });

  it('answers a watch from a forgotten resourceVersion with an in-stream 410, which the adapter classifies as API_GONE', async () => {
    server = await startFakeApiServer();
    const { jobClient } = createClientNodeAdapters({ kubeconfigPath: server.kubeconfigPath, ...FAST });
    await jobClient.createJob('default', job('a'));
    const { resourceVersion } = await jobClient.listJobs('default', '');
    await jobClient.createJob('default', job('b'));
    server.expireWatchHistory();
    const events: WatchEvent<Job>[] = [];
    const error = await jobClient
      .watchJobs('default', (e) => events.push(e), { resourceVersion: String(Number(resourceVersion) - 1) })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'API_GONE' });
    expect(events).toEqual([]);
  });

  it('injects 503 with Retry-After, resets and 429 as planned, and the adapter retries through them', async () => {
    server = await startFakeApiServer({
      faults: [
        {
          verbs: ['get'],
          resources: ['jobs'],
          fault: { type: 'status', status: 503, retryAfterSeconds: 0 },
          count: 1,
        },
        { verbs: ['get'], resources: ['jobs'], fault: { type: 'reset' }, count: 1 },
        { verbs: ['get'], resources: ['jobs'], fault: { type: 'status', status: 429 }, count: 1 },
      ],
    });
    const adapters = createClientNodeAdapters({ kubeconfigPath: server.kubeconfigPath, ...FAST });
    await adapters.jobClient.createJob('default', job('a'));
    await expect(adapters.jobClient.getJob('default', 'a')).resolves.toMatchObject({
      metadata: { name: 'a' },
    });
    expect(server.stats().faults).toEqual({ 'get jobs': 3 });
    expect(server.stats().byCall['get jobs']).toBe(4);
    expect(adapters.apiCalls().retriesByCall['get jobs']).toBe(3);
  });

  it('does the work and loses the answer for an "after" fault: a retried create adopts its own Job, no duplicate', async () => {
    server = await startFakeApiServer({
      faults: [{ verbs: ['create'], fault: { type: 'reset' }, count: 1, when: 'after' }],
    });
    const { jobClient } = createClientNodeAdapters({ kubeconfigPath: server.kubeconfigPath, ...FAST });
    await expect(jobClient.createJob('default', job('a'))).resolves.toMatchObject({
      metadata: { name: 'a' },
    });
    expect(server.stats().byCall['create jobs']).toBe(2);
    expect(server.stats().createdJobs).toEqual({ a: 1 });
  });

  it('counts open watch connections and ends them on dropWatches', async () => {
    server = await startFakeApiServer();
    const { jobClient } = createClientNodeAdapters({ kubeconfigPath: server.kubeconfigPath, ...FAST });
    const stop = new AbortController();
    const watches = [0, 1].map(() =>
      jobClient.watchJobs('default', () => undefined, { signal: stop.signal }),
    );
    // Wait (by event-loop turns, not time) until both streams are open on the server.
    while (server.stats().openWatches < 2) await new Promise((r) => setImmediate(r));
    expect(server.stats().maxOpenWatches).toBe(2);
    server.dropWatches();
    // Both watches end normally (the caller would resume them); nothing was aborted.
    await expect(Promise.all(watches)).resolves.toEqual([undefined, undefined]);
    expect(stop.signal.aborted).toBe(false);
    stop.abort();
  });

  it('destroys watch connections mid-stream on an abrupt drop, which the adapter reads as the end of the stream', async () => {
    server = await startFakeApiServer();
    const { jobClient } = createClientNodeAdapters({ kubeconfigPath: server.kubeconfigPath, ...FAST });
    const events: string[] = [];
    const watch = jobClient.watchJobs('default', (e) => events.push(e.object.metadata.name ?? ''), {});
    await jobClient.createJob('default', job('a'));
    while (events.length < 1 || server.stats().openWatches < 1) await new Promise((r) => setImmediate(r));
    server.dropWatches({ abrupt: true });
    await expect(watch).resolves.toBeUndefined();
    expect(events[0]).toBe('a'); // ADDED, then the controller's status updates
    expect(server.stats().openWatches).toBe(0);
  });
});
