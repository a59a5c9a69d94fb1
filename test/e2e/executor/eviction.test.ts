// A pod evicted mid-run through the eviction API (as `kubectl drain` does) on a real control plane
// (issue 12): the API server marks the pod `DisruptionTarget` (reason `EvictionByEvictionAPI`), KWOK
// plays the kill, and the real Job controller applies the Job's podFailurePolicy. With the default
// policy (`DisruptionTarget → Ignore`, docs/configuration.md §8) the Job replaces the pod itself and
// `backoffLimit` stays unspent; with `retry_disruptions: false` the Job fails and the DAG runs a new
// attempt at once without using `retry_config` (docs/pipelines.md "Infrastructure failures do not use
// retry_config"). Needs `bash test/e2e/run.sh`.
import type * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineEvent } from '../../../src/executor/pipeline-types.js';
import { adminKubeConfig, fatesAvailable, trueCondition, useTestNamespace } from './support/cluster.js';
import { evictRunningPod } from './support/eviction.js';
import { E2E_PIPELINE, e2eExecutors, e2eProject } from './support/executors.js';
import { ClusterRecorder } from './support/recorder.js';

/** Long enough for the eviction to land while the container runs. */
const RUN_SECONDS = 8;

/** The `DisruptionTarget=True` condition some recorded version of the pod had. */
function disruptionOf(versions: readonly k8s.V1Pod[], podName: string): k8s.V1PodCondition | undefined {
  return versions
    .filter((pod) => pod.metadata?.name === podName)
    .flatMap((pod) => pod.status?.conditions ?? [])
    .find((c) => c.type === 'DisruptionTarget' && c.status === 'True');
}

describe.skipIf(!fatesAvailable())('a pod evicted mid-run on a real control plane', () => {
  const ns = useTestNamespace('e2e-eviction');
  const recorder = new ClusterRecorder(adminKubeConfig(), ns.name);
  beforeAll(() => recorder.start());
  afterAll(() => recorder.stop());

  /**
   * Runs pipeline `e2e` (one block, kept Jobs) and evicts the block's pod the first time it runs;
   * resolves the result, the events and the evicted pod's name.
   */
  async function runAndEvictOnce(
    blockUuid: string,
    config: Record<string, unknown>,
    retryConfig: Record<string, unknown>,
  ) {
    const executors = e2eExecutors({
      files: e2eProject(ns.name, [
        { uuid: blockUuid, fate: { fate: 'succeed', runSeconds: RUN_SECONDS }, config, retryConfig },
      ]),
      keepJobs: true,
    });
    const events: PipelineEvent[] = [];
    let eviction: Promise<string> | undefined;
    try {
      const result = await executors.pipelines.run(
        { pipelineUuid: E2E_PIPELINE, pipelineRunId: blockUuid },
        {
          onEvent: (event) => {
            events.push(event);
            if (event.type === 'block-event' && event.event.type === 'running' && !eviction) {
              eviction = evictRunningPod(ns, event.event.jobName);
              eviction.catch(() => {}); // awaited below, after the run
            }
          },
        },
      );
      if (!eviction) throw new Error(`block ${blockUuid} never ran: ${JSON.stringify(result)}`);
      return { result, events, evicted: await eviction };
    } finally {
      executors.close();
    }
  }

  it.concurrent('default podFailurePolicy: the Job replaces the evicted pod, attempt 1 succeeds, backoffLimit unspent', async () => {
    const { result, events, evicted } = await runAndEvictOnce(
      'evicted_ignored',
      {},
      { retries: 2, delay: 1 },
    );

    const [block] = result.blocks;
    expect(result.status, `${block?.reason} ${block?.message}`).toBe('succeeded');
    expect(block?.attempts).toHaveLength(1);
    const [attempt] = block?.attempts ?? [];
    expect(attempt).toMatchObject({ attempt: 1, status: 'succeeded' });
    expect(attempt?.infrastructure).toBeUndefined();
    expect(events.filter((e) => e.type === 'retry-scheduled')).toEqual([]);

    // What the real controllers wrote: the API server's condition on the evicted pod, the Job
    // controller's replacement pod and counts (an ignored pod is not counted as failed).
    const jobName = attempt?.jobName ?? '';
    const job = await ns.jobWithCondition(jobName, 'Complete');
    expect(job.spec?.backoffLimit).toBe(0);
    expect(job.spec?.podFailurePolicy?.rules).toEqual([
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    ]);
    expect(job.status?.succeeded).toBe(1);
    expect(job.status?.failed ?? 0).toBe(0);
    expect(disruptionOf(recorder.podVersions(jobName), evicted)).toMatchObject({
      reason: 'EvictionByEvictionAPI',
    });
    const pods = recorder.podsOf(jobName);
    expect(pods.map((p) => p.metadata?.name)).toContain(evicted);
    expect(pods).toHaveLength(2);
    const replacement = pods.find((p) => p.metadata?.name !== evicted);
    expect(replacement?.status?.phase).toBe('Succeeded');
    expect(disruptionOf(recorder.podVersions(jobName), replacement?.metadata?.name ?? '')).toBeUndefined();
  });

  it.concurrent('retry_disruptions: false: the Job fails, the DAG retries at once without using retry_config', async () => {
    // An ordinary retry would wait 30 s (`delay`) and use the one retry; the infrastructure one does not.
    const { result, events, evicted } = await runAndEvictOnce(
      'evicted_counted',
      { retry_disruptions: false },
      { retries: 1, delay: 30, exponential_backoff: false },
    );

    const [block] = result.blocks;
    expect(result.status, `${block?.reason} ${block?.message}`).toBe('succeeded');
    const [first, second] = block?.attempts ?? [];
    expect(block?.attempts).toHaveLength(2);
    // The reason stays as precise as ever (KWOK reports the killed container as exit 137), the cause beside it.
    expect(first).toMatchObject({ attempt: 1, status: 'failed', reason: 'EXIT_CODE', exitCode: 137 });
    expect(first?.message).toContain(
      "its pod was evicted (EvictionByEvictionAPI: Eviction API: evicting), not failed by the block's code",
    );
    expect(first?.infrastructure).toMatchObject({
      pod: evicted,
      source: 'DisruptionTarget',
      reason: 'EvictionByEvictionAPI',
    });
    expect(second).toMatchObject({ attempt: 2, status: 'succeeded' });
    expect(second?.infrastructure).toBeUndefined();
    expect(second?.jobName).toBe(`${first?.jobName}-attempt-2`);
    const retries = events.filter((e) => e.type === 'retry-scheduled');
    expect(retries).toEqual([
      expect.objectContaining({
        blockUuid: 'evicted_counted',
        nextAttempt: 2,
        delayMs: 0,
        infrastructure: expect.objectContaining({ pod: evicted, reason: 'EvictionByEvictionAPI' }),
      }),
    ]);

    // Without the built-in policy the Job controller counted the evicted pod against backoffLimit 0.
    const firstJob = await ns.jobWithCondition(first?.jobName ?? '', 'Failed');
    expect(firstJob.spec?.podFailurePolicy).toBeUndefined();
    expect(trueCondition(firstJob, 'Failed')?.reason).toBe('BackoffLimitExceeded');
    expect(firstJob.status?.failed).toBe(1);
    expect(firstJob.status?.succeeded ?? 0).toBe(0);
    expect(disruptionOf(recorder.podVersions(first?.jobName ?? ''), evicted)).toMatchObject({
      reason: 'EvictionByEvictionAPI',
    });
    const secondJob = await ns.jobWithCondition(second?.jobName ?? '', 'Complete');
    expect(secondJob.status?.succeeded).toBe(1);
    expect(secondJob.status?.failed ?? 0).toBe(0);
  });

  it.concurrent('execute(): the replacement of an evicted pod fails: its own failure, counted as the Job counts it', async () => {
    const executors = e2eExecutors({
      files: e2eProject(ns.name, [
        { uuid: 'evicted_then_fails', fate: { fate: 'fail', exitCode: 3, runSeconds: RUN_SECONDS } },
      ]),
    });
    let eviction: Promise<string> | undefined;
    try {
      const result = await executors.blocks.execute(
        { pipelineUuid: E2E_PIPELINE, blockUuid: 'evicted_then_fails', pipelineRunId: 1, blockRunId: 'etf' },
        {
          keepJob: true,
          onEvent: (event) => {
            if (event.type === 'running' && !eviction) {
              eviction = evictRunningPod(ns, event.jobName);
              eviction.catch(() => {}); // awaited below
            }
          },
        },
      );
      const evicted = await eviction;
      // The last failed pod is the replacement, which failed on its own: not an infrastructure failure,
      // and the tally is the Job controller's (the ignored eviction is not one of the allowed pods).
      expect(result).toMatchObject({ status: 'failed', reason: 'EXIT_CODE', exitCode: 3 });
      expect(result.message).toContain('exited with code 3 after 1 of 1 allowed pods failed');
      expect(result.infrastructure).toBeUndefined();
      const job = await ns.jobWithCondition(result.jobName, 'Failed');
      expect(trueCondition(job, 'Failed')?.reason).toBe('BackoffLimitExceeded');
      expect(job.status?.failed).toBe(1);
      expect(disruptionOf(recorder.podVersions(result.jobName), evicted ?? '')).toMatchObject({
        reason: 'EvictionByEvictionAPI',
      });
      expect(recorder.podsOf(result.jobName)).toHaveLength(2);
    } finally {
      executors.close();
    }
  });
});
