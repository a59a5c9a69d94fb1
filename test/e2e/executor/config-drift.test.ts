// Config drift on resume on a real control plane (issue 12, docs/pipelines.md "Config drift on
// resume"): a pipeline run leaves a block's Job behind (succeeded and kept, or still running when its
// executor closed), the block's memory limit is changed in the project, and the same pipeline run is
// run again: the `config-drift` event names the change, its values and where it is set now, from the
// config record the real API server kept on the Job. Needs `bash test/e2e/run.sh`.
import type * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ConfigDriftEvent,
  PipelineEvent,
  PipelineResult,
} from '../../../src/executor/pipeline-types.js';
import type { FateOptions } from '../cluster/fates.js';
import { adminKubeConfig, fatesAvailable, useTestNamespace } from './support/cluster.js';
import { E2E_PIPELINE, e2eExecutors, e2eProject, lineOf } from './support/executors.js';
import { ClusterRecorder } from './support/recorder.js';

const PIPELINE_FILE = `pipelines/${E2E_PIPELINE}/metadata.yaml`;

/** A one-block project whose block sets its memory limit. */
function sizedProject(namespace: string, uuid: string, memory: string, fate: FateOptions) {
  return e2eProject(namespace, [
    { uuid, fate, config: { container: { resources: { limits: { memory } } } } },
  ]);
}

/** The memory limit of a Job's container. */
function memoryLimitOf(job: k8s.V1Job | undefined): string | undefined {
  return job?.spec?.template.spec?.containers[0]?.resources?.limits?.['memory'];
}

describe.skipIf(!fatesAvailable())('config drift on resume on a real control plane', () => {
  const ns = useTestNamespace('e2e-drift');
  const recorder = new ClusterRecorder(adminKubeConfig(), ns.name);
  beforeAll(() => recorder.start());
  afterAll(() => recorder.stop());

  /** Runs pipeline run `runId` of `files` to its end; resolves the result and the drift events. */
  async function runPipeline(
    files: Record<string, string>,
    runId: string,
    options: { rerunChanged?: boolean } = {},
  ): Promise<{ result: PipelineResult; drift: ConfigDriftEvent[] }> {
    const executors = e2eExecutors({ files, keepJobs: true });
    const events: PipelineEvent[] = [];
    try {
      const result = await executors.pipelines.run(
        { pipelineUuid: E2E_PIPELINE, pipelineRunId: runId, ...options },
        { onEvent: (event) => events.push(event) },
      );
      return { result, drift: events.filter((e): e is ConfigDriftEvent => e.type === 'config-drift') };
    } finally {
      executors.close();
    }
  }

  it.concurrent('a succeeded block whose memory limit changed is kept, and named; --rerun-changed runs it anew', async () => {
    const before = sizedProject(ns.name, 'sized', '2Gi', { fate: 'succeed' });
    const after = sizedProject(ns.name, 'sized', '4Gi', { fate: 'succeed' });
    const line = lineOf(after[PIPELINE_FILE] ?? '', 'memory: 4Gi');
    const change = `container.resources.limits.memory 2Gi → 4Gi, set in ${PIPELINE_FILE}:${line}`;

    const first = await runPipeline(before, 'drift-done');
    expect(first.result.status).toBe('succeeded');
    expect(first.drift).toEqual([]);
    const jobName = first.result.blocks[0]?.attempts[0]?.jobName ?? '';
    expect(memoryLimitOf(await ns.readJob(jobName))).toBe('2Gi');

    // The same run again with the same config: nothing changed, nothing to say.
    const same = await runPipeline(before, 'drift-done');
    expect(same.drift).toEqual([]);
    expect(same.result.blocks[0]?.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status: 'succeeded', fromEarlierRun: true }),
    ]);
    expect(same.result.blocks[0]?.attempts[0]?.configDrift).toBeUndefined();

    const kept = await runPipeline(after, 'drift-done');
    expect(kept.drift).toEqual([
      expect.objectContaining({
        blockUuid: 'sized',
        attempt: 1,
        jobName,
        earlier: 'succeeded',
        action: 'kept',
        changes: [change],
      }),
    ]);
    expect(kept.result.status).toBe('succeeded');
    expect(kept.result.blocks[0]?.attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        status: 'succeeded',
        fromEarlierRun: true,
        configDrift: [change],
      }),
    ]);
    // Kept: no second Job was made.
    expect(recorder.jobUids(`${jobName}-attempt-2`)).toEqual([]);

    const rerun = await runPipeline(after, 'drift-done', { rerunChanged: true });
    expect(rerun.drift).toEqual([
      expect.objectContaining({
        blockUuid: 'sized',
        attempt: 1,
        earlier: 'succeeded',
        action: 'rerun',
        changes: [change],
      }),
    ]);
    const [earlier, fresh] = rerun.result.blocks[0]?.attempts ?? [];
    expect(earlier).toMatchObject({ attempt: 1, fromEarlierRun: true });
    expect(fresh).toMatchObject({ attempt: 2, status: 'succeeded', jobName: `${jobName}-attempt-2` });
    expect(fresh?.fromEarlierRun).toBeUndefined();
    expect(memoryLimitOf(await ns.readJob(`${jobName}-attempt-2`))).toBe('4Gi');
    expect(memoryLimitOf(await ns.readJob(jobName))).toBe('2Gi');
  });

  it.concurrent('a block still running when its executor closed is adopted with a warning naming the change', async () => {
    const fate: FateOptions = { fate: 'succeed', runSeconds: 15 };
    const before = sizedProject(ns.name, 'sized_running', '2Gi', fate);
    const after = sizedProject(ns.name, 'sized_running', '4Gi', fate);
    const line = lineOf(after[PIPELINE_FILE] ?? '', 'memory: 4Gi');
    const change = `container.resources.limits.memory 2Gi → 4Gi, set in ${PIPELINE_FILE}:${line}`;

    const leaving = e2eExecutors({ files: before });
    let jobName = '';
    let left: PipelineResult;
    try {
      left = await leaving.pipelines.run(
        { pipelineUuid: E2E_PIPELINE, pipelineRunId: 'drift-running' },
        {
          onEvent: (event) => {
            if (event.type === 'block-event' && event.event.type === 'running' && !jobName) {
              jobName = event.event.jobName;
              leaving.pipelines.close();
            }
          },
        },
      );
    } finally {
      leaving.close();
    }
    expect(left.closed).toBe(true);
    expect(left.blocks[0]?.attempts[0]).toMatchObject({ status: 'cancelled', leftRunning: true });
    expect(memoryLimitOf(await ns.readJob(jobName))).toBe('2Gi');

    const resumed = await runPipeline(after, 'drift-running');
    expect(resumed.drift).toEqual([
      expect.objectContaining({
        blockUuid: 'sized_running',
        attempt: 1,
        jobName,
        earlier: 'active',
        action: 'adopted',
        changes: [change],
      }),
    ]);
    const [block] = resumed.result.blocks;
    expect(resumed.result.status, `${block?.reason} ${block?.message}`).toBe('succeeded');
    expect(block?.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status: 'succeeded', adopted: true, configDrift: [change] }),
    ]);
    // Adopted, not made again: one Job, one uid, still with the limit it was made with.
    expect(recorder.jobUids(jobName)).toHaveLength(1);
    expect(memoryLimitOf(await ns.readJob(jobName))).toBe('2Gi');
  });
});
