// K8sPipelineExecutor against a real control plane: a 10-block DAG run block by block as Jobs, with a
// concurrency limit, in dependency order, cleaned up at the end. Needs `bash test/e2e/run.sh`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineEvent } from '../../../src/executor/pipeline-types.js';
import {
  adminKubeConfig,
  eventually,
  fatesAvailable,
  trueCondition,
  useTestNamespace,
} from './support/cluster.js';
import { E2E_PIPELINE, type E2eBlock, e2eExecutors, e2eProject } from './support/executors.js';
import { ClusterRecorder } from './support/recorder.js';

/**
 * b01 fans out to five blocks (more than the limit of 3 are ready at once), which join again:
 *
 *   b01 → b02, b03, b04, b05, b09;  b06 ← b02 b03;  b07 ← b04 b05;  b08 ← b06 b07;  b10 ← b08 b09
 */
const UPSTREAM: Readonly<Record<string, readonly string[]>> = {
  b01: [],
  b02: ['b01'],
  b03: ['b01'],
  b04: ['b01'],
  b05: ['b01'],
  b06: ['b02', 'b03'],
  b07: ['b04', 'b05'],
  b08: ['b06', 'b07'],
  b09: ['b01'],
  b10: ['b08', 'b09'],
};
const BLOCKS: readonly E2eBlock[] = Object.entries(UPSTREAM).map(([uuid, upstream]) => ({
  uuid,
  upstream,
  fate: { fate: 'succeed' },
}));
const CONCURRENCY = 3;

/** The most Jobs that were unfinished at once in the recorded (ordered) stream of Job events. */
function mostJobsActiveAtOnce(events: ReturnType<ClusterRecorder['jobEvents']>): number {
  const active = new Set<string>();
  let most = 0;
  for (const { type, object } of events) {
    const name = object.metadata?.name ?? '';
    const finished = ['Complete', 'SuccessCriteriaMet', 'Failed', 'FailureTarget'].some(
      (t) => trueCondition(object, t) !== undefined,
    );
    if (type === 'DELETED' || finished) active.delete(name);
    else active.add(name);
    most = Math.max(most, active.size);
  }
  return most;
}

describe.skipIf(!fatesAvailable())('K8sPipelineExecutor on a real control plane', () => {
  const ns = useTestNamespace('e2e-pipeline');
  const recorder = new ClusterRecorder(adminKubeConfig(), ns.name);

  beforeAll(() => recorder.start());
  afterAll(() => recorder.stop());

  it('runs a 10-block DAG with concurrency 3, in dependency order, and deletes every Job', async () => {
    const executors = e2eExecutors({ files: e2eProject(ns.name, BLOCKS), concurrency: CONCURRENCY });
    const events: PipelineEvent[] = [];
    try {
      const result = await executors.pipelines.run(
        { pipelineUuid: E2E_PIPELINE, pipelineRunId: 9 },
        { onEvent: (event) => events.push(event) },
      );

      expect(result.status).toBe('succeeded');
      expect(result.blocks.map((b) => [b.uuid, b.status])).toEqual(
        Object.keys(UPSTREAM).map((u) => [u, 'succeeded']),
      );
    } finally {
      executors.close();
    }

    // Order and concurrency, from the executor's own events (in the order they were emitted).
    const blockEvents = events.flatMap((e, index) => (e.type === 'block-event' ? [{ ...e, index }] : []));
    const indexOf = (uuid: string, type: string) =>
      blockEvents.find((e) => e.blockUuid === uuid && e.event.type === type)?.index ?? Number.NaN;
    for (const [uuid, upstream] of Object.entries(UPSTREAM)) {
      for (const up of upstream) expect(indexOf(uuid, 'submitted')).toBeGreaterThan(indexOf(up, 'succeeded'));
    }
    let running = 0;
    let most = 0;
    for (const { event } of blockEvents) {
      if (event.type === 'submitted') running++;
      if (event.type === 'succeeded' || event.type === 'failed') running--;
      most = Math.max(most, running);
    }
    expect(most).toBeLessThanOrEqual(CONCURRENCY);
    // The fan-out makes more blocks ready than the limit: the limit was actually reached.
    expect(most).toBe(CONCURRENCY);

    // The same from the API server's side: every Job was created once and completed.
    const names = [...new Set(recorder.jobEvents().map((e) => e.object.metadata?.name ?? ''))];
    expect(names).toHaveLength(10);
    for (const name of names) {
      expect(recorder.jobUids(name)).toHaveLength(1);
      expect(
        recorder.sawCondition(name, 'Complete') || recorder.sawCondition(name, 'SuccessCriteriaMet'),
      ).toBe(true);
    }
    expect(mostJobsActiveAtOnce(recorder.jobEvents())).toBeLessThanOrEqual(CONCURRENCY);

    await eventually(
      'every Job to be deleted',
      async () => (await ns.batch.listNamespacedJob({ namespace: ns.name })).items.length,
      (count) => count === 0,
    );
    await eventually(
      'every pod to be deleted',
      async () => (await ns.core.listNamespacedPod({ namespace: ns.name })).items.length,
      (count) => count === 0,
    );
  });
});
