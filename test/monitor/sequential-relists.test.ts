/**
 * Regression (review repro `sequential-relists`): the shared hub stopped with its last subscriber, so a
 * linear DAG paid a fresh LIST jobs + LIST pods + 2 WATCHes for every block. The watches now stay open
 * for `idleTimeoutMs` after the last block left, and a chain of blocks pays the shared part once.
 */
import { describe, expect, it } from 'vitest';
import type { WatchListSupport } from '../../src/adapters/local/sim/sim-cluster.js';
import { K8sPipelineExecutor } from '../../src/executor/pipeline-executor.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { type CallRecord, InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

const MANAGED = 'app.kubernetes.io/managed-by=k8s-executor';

async function chainOfTen(watchList?: WatchListSupport) {
  const chain = Array.from(
    { length: 10 },
    (_, i) => `  - uuid: b${i}\n    upstream_blocks: [${i === 0 ? '' : `b${i - 1}`}]\n`,
  ).join('');
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({
    clock,
    defaultScript: [{ runMs: 1000 }],
    ...(watchList ? { watchList } : {}),
  });
  const executor = new K8sPipelineExecutor({
    configSource: new StaticConfigSource(projectFiles(chain)),
    jobClient,
    clock,
    logDrainMs: 10,
  });
  const result = await drive(clock, executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 }));
  executor.close();
  const shared = jobClient.calls.filter((c) => c.labelSelector === MANAGED);
  const count = (method: CallRecord['method']) => shared.filter((c) => c.method === method).length;
  return {
    status: result.status,
    counts: {
      listJobs: count('listJobs'),
      listPods: count('listPods'),
      watchJobs: count('watchJobs'),
      watchPods: count('watchPods'),
    },
    shared,
    jobClient,
  };
}

describe('a chain of 10 blocks', () => {
  it('lists and opens the shared watches once, not once per block', async () => {
    const { status, counts, shared } = await chainOfTen();
    expect(status).toBe('succeeded');
    expect(counts).toEqual({ listJobs: 1, listPods: 1, watchJobs: 1, watchPods: 1 });
    // The first list is answered from the API server's watch cache.
    expect(shared.filter((c) => c.method.startsWith('list')).map((c) => c.resourceVersion)).toEqual([
      '0',
      '0',
    ]);
  });

  it('with a server that serves streaming lists: no list at all, one streaming list per resource', async () => {
    const { status, counts, shared } = await chainOfTen('serve');
    expect(status).toBe('succeeded');
    expect(counts).toEqual({ listJobs: 0, listPods: 0, watchJobs: 1, watchPods: 1 });
    expect(shared.every((c) => c.sendInitialEvents === true)).toBe(true);
  });

  it('with a server that refuses streaming lists (422): refused once per resource, then list + watch, remembered', async () => {
    const { status, counts, shared } = await chainOfTen('refuse');
    expect(status).toBe('succeeded');
    expect(counts).toEqual({ listJobs: 1, listPods: 1, watchJobs: 2, watchPods: 2 });
    expect(shared.filter((c) => c.sendInitialEvents).map((c) => c.method)).toEqual([
      'watchJobs',
      'watchPods',
    ]);
  });

  it('with a server that ignores streaming lists (before 1.27): given up after the bound, then list + watch, remembered', async () => {
    const { status, counts, shared } = await chainOfTen('ignore');
    expect(status).toBe('succeeded');
    expect(counts).toEqual({ listJobs: 1, listPods: 1, watchJobs: 2, watchPods: 2 });
    expect(shared.filter((c) => c.sendInitialEvents)).toHaveLength(2);
  });
});
