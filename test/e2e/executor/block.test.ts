// K8sBlockExecutor against a real kube-apiserver, Job controller and scheduler, with KWOK as the
// kubelet (pod fates from annotations, see test/e2e/cluster/fates.ts). Each case checks the reason the
// executor reports AND what the real controller wrote (Job conditions, pod states), recorded by the
// test's own watches or read back with `keepJob`. Needs `bash test/e2e/run.sh` (or KUBECONFIG and
// E2E_KWOK_FATES=1 of a cluster started with test/e2e/cluster/up.sh).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlockEvent, BlockRun, LogLine } from '../../../src/executor/types.js';
import { knownLogLines } from '../cluster/fates.js';
import {
  adminKubeConfig,
  eventually,
  fatesAvailable,
  trueCondition,
  useTestNamespace,
} from './support/cluster.js';
import { E2E_IMAGE, E2E_PIPELINE, type E2eBlock, e2eExecutors, e2eProject } from './support/executors.js';
import { ClusterRecorder } from './support/recorder.js';

const BLOCKS: readonly E2eBlock[] = [
  { uuid: 'succeed', fate: { fate: 'succeed' } },
  { uuid: 'exit3', fate: { fate: 'fail', exitCode: 3 } },
  { uuid: 'oom', fate: { fate: 'oom' } },
  { uuid: 'image_pull', fate: { fate: 'image-pull' } },
  { uuid: 'deadline', fate: { fate: 'hang' }, config: { job: { active_deadline_seconds: 2 } } },
  { uuid: 'retry', fate: { fate: 'fail', exitCode: 2 }, config: { job: { backoff_limit: 1 } } },
  { uuid: 'cancel', fate: { fate: 'hang' } },
  // Long enough to still run when the second executor takes over.
  { uuid: 'adopt', fate: { fate: 'succeed', runSeconds: 8 } },
];

/** The known lines every KWOK container "prints". */
const KNOWN_LINES = knownLogLines().map((line) => line.text);

/** A block run of pipeline `e2e`, its block run id being the block's uuid (so Job names are readable). */
function runOf(blockUuid: string): BlockRun {
  return { pipelineUuid: E2E_PIPELINE, blockUuid, pipelineRunId: 1, blockRunId: blockUuid.replace('_', '-') };
}

describe.skipIf(!fatesAvailable())('K8sBlockExecutor on a real control plane', () => {
  const ns = useTestNamespace('e2e-block');
  const recorder = new ClusterRecorder(adminKubeConfig(), ns.name);
  // A short image-pull grace, so that bound fires well within the test.
  const executors = () =>
    e2eExecutors({ files: e2eProject(ns.name, BLOCKS), monitorPolicy: { imagePullGraceMs: 3000 } });
  let shared: ReturnType<typeof executors>;

  beforeAll(async () => {
    await recorder.start();
    shared = executors();
  });
  afterAll(() => {
    shared?.close();
    recorder.stop();
  });

  /** Deletes a Job the test kept with `keepJob`. */
  const deleteKept = (name: string) =>
    ns.batch.deleteNamespacedJob({ name, namespace: ns.name, propagationPolicy: 'Background' });

  it.concurrent('a succeeding block streams its log, the Job completes and is deleted', async () => {
    const lines: LogLine[] = [];
    const events: BlockEvent[] = [];
    const result = await shared.blocks.execute(runOf('succeed'), {
      onLog: (line) => lines.push(line),
      onEvent: (event) => events.push(event),
    });

    expect(result).toMatchObject({ status: 'succeeded', adopted: false, failedPods: 0, exitCode: 0 });
    expect(result.reason).toBeUndefined();
    expect(lines.map((l) => l.line)).toEqual(KNOWN_LINES);
    expect(new Set(lines.map((l) => l.jobName))).toEqual(new Set([result.jobName]));
    expect(result.lastLogLines).toEqual(KNOWN_LINES);
    expect(events[0]?.type).toBe('submitted');
    expect(events.map((e) => e.type)).toContain('running');
    expect(events.at(-1)?.type).toBe('succeeded');

    await eventually(
      'the Job to be deleted',
      () => ns.readJob(result.jobName),
      (job) => job === undefined,
    );
    await eventually('the recorded deletion', async () => recorder.sawJobDeleted(result.jobName), Boolean);
    expect(recorder.sawCondition(result.jobName, 'SuccessCriteriaMet')).toBe(true);
    expect(recorder.sawCondition(result.jobName, 'Complete')).toBe(true);
    const pods = recorder.podsOf(result.jobName);
    expect(pods).toHaveLength(1);
    expect(pods[0]?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
  });

  it.concurrent('exit code 3 is reported as EXIT_CODE; the Job failed with BackoffLimitExceeded', async () => {
    const result = await shared.blocks.execute(runOf('exit3'), { keepJob: true });

    expect(result).toMatchObject({ status: 'failed', reason: 'EXIT_CODE', exitCode: 3, failedPods: 1 });
    expect(result.message).toContain('exited with code 3');
    // Read once on failure (no log sink was given).
    expect(result.lastLogLines).toEqual(KNOWN_LINES);
    const job = await ns.jobWithCondition(result.jobName, 'Failed');
    expect(trueCondition(job, 'Failed')?.reason).toBe('BackoffLimitExceeded');
    expect(job.status?.failed).toBe(1);
    const pods = await ns.podsOf(result.jobName);
    expect(
      pods.map((p) => [p.status?.phase, p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode]),
    ).toEqual([['Failed', 3]]);
    await deleteKept(result.jobName);
  });

  it.concurrent('an OOMKilled container is named: OOM_KILLED', async () => {
    const result = await shared.blocks.execute(runOf('oom'), { keepJob: true });

    expect(result).toMatchObject({ status: 'failed', reason: 'OOM_KILLED', exitCode: 137 });
    expect(result.message).toContain('Container "mage-job-container"');
    expect(result.message).toContain('OOMKilled');
    const job = await ns.jobWithCondition(result.jobName, 'Failed');
    expect(trueCondition(job, 'Failed')?.reason).toBe('BackoffLimitExceeded');
    const [pod] = await ns.podsOf(result.jobName);
    expect(pod?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 137,
      reason: 'OOMKilled',
    });
    await deleteKept(result.jobName);
  });

  it.concurrent('ImagePullBackOff fails fast after the grace: IMAGE_PULL_FAILED, warning kept, Job deleted', async () => {
    const events: BlockEvent[] = [];
    // keepJob is ignored for a fail-fast reason: a Job left behind could still start later.
    const result = await shared.blocks.execute(runOf('image_pull'), {
      keepJob: true,
      onEvent: (event) => events.push(event),
    });

    expect(result).toMatchObject({ status: 'failed', reason: 'IMAGE_PULL_FAILED' });
    expect(result.message).toContain(E2E_IMAGE);
    // Far below the default grace (60 s): the configured 3 s bound decided, not a Job deadline (none is set).
    expect(result.timings.durationMs).toBeLessThan(60_000);
    expect(result.warningEvents).toContainEqual(
      expect.objectContaining({
        object: expect.stringMatching(/^Pod\//),
        reason: 'Failed',
        message: 'Error: ImagePullBackOff',
      }),
    );
    const failed = events.find((e) => e.type === 'failed');
    expect(Object.values(failed?.state?.pods ?? {}).map((p) => [p.phase, p.waitingReason])).toEqual([
      ['Pending', 'ImagePullBackOff'],
    ]);

    await eventually(
      'the Job to be deleted',
      () => ns.readJob(result.jobName),
      (job) => job === undefined,
    );
    // The controller never finished this Job: the executor decided, and deleted it.
    for (const type of ['Complete', 'Failed', 'FailureTarget']) {
      expect(recorder.sawCondition(result.jobName, type)).toBe(false);
    }
    expect(
      recorder
        .podVersions(result.jobName)
        .some((p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff'),
    ).toBe(true);
  });

  it.concurrent('activeDeadlineSeconds gives DEADLINE_EXCEEDED (Job Failed, DeadlineExceeded)', async () => {
    const result = await shared.blocks.execute(runOf('deadline'), { keepJob: true });

    expect(result).toMatchObject({ status: 'failed', reason: 'DEADLINE_EXCEEDED' });
    expect(result.message).toContain('activeDeadlineSeconds of 2 s');
    const job = await ns.jobWithCondition(result.jobName, 'Failed');
    expect(trueCondition(job, 'Failed')?.reason).toBe('DeadlineExceeded');
    expect(recorder.podVersions(result.jobName).some((p) => p.status?.phase === 'Running')).toBe(true);
    await deleteKept(result.jobName);
  });

  it.concurrent('backoffLimit 1 retries once: two failed pods, then EXIT_CODE', async () => {
    const result = await shared.blocks.execute(runOf('retry'), { keepJob: true });

    expect(result).toMatchObject({ status: 'failed', reason: 'EXIT_CODE', exitCode: 2, failedPods: 2 });
    expect(result.message).toContain('after 2 of 2 allowed pods failed');
    const job = await ns.jobWithCondition(result.jobName, 'Failed');
    expect(trueCondition(job, 'Failed')?.reason).toBe('BackoffLimitExceeded');
    expect(job.status?.failed).toBe(2);
    const pods = await ns.podsOf(result.jobName);
    expect(
      pods.map((p) => [p.status?.phase, p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode]),
    ).toEqual([
      ['Failed', 2],
      ['Failed', 2],
    ]);
    await deleteKept(result.jobName);
  });

  it.concurrent('cancel while running deletes the Job and its pods', async () => {
    const abort = new AbortController();
    const result = await shared.blocks.execute(runOf('cancel'), {
      signal: abort.signal,
      onEvent: (event) => {
        if (event.type === 'running') abort.abort(new Error('the test cancels'));
      },
    });

    expect(result).toMatchObject({ status: 'cancelled', reason: 'CANCELLED' });
    expect(recorder.podVersions(result.jobName).some((p) => p.status?.phase === 'Running')).toBe(true);
    await eventually(
      'the Job to be gone',
      () => ns.readJob(result.jobName),
      (job) => job === undefined,
    );
    await eventually(
      'its pods to be gone',
      () => ns.podsOf(result.jobName),
      (pods) => pods.length === 0,
    );
  });

  it.concurrent('a restarted executor adopts the running Job instead of creating a second one', async () => {
    // Executor A: starts the block, then "dies" (closed, not cancelled) while the pod runs.
    const first = executors();
    let running!: () => void;
    const isRunning = new Promise<void>((resolve) => {
      running = resolve;
    });
    const abandoned = first.blocks.execute(runOf('adopt'), {
      onEvent: (event) => {
        if (event.type === 'running') running();
      },
    });
    await isRunning;
    first.close();
    // A closed executor ends its runs without touching their Jobs (a shutdown, not a cancel).
    await expect(abandoned).rejects.toMatchObject({ code: 'CANCELLED' });

    // Executor B: runs the same block run.
    const second = executors();
    const events: BlockEvent[] = [];
    try {
      const result = await second.blocks.execute(runOf('adopt'), { onEvent: (event) => events.push(event) });

      expect(result).toMatchObject({ status: 'succeeded', adopted: true });
      expect(events[0]?.type).toBe('adopted');
      expect(events.map((e) => e.type)).not.toContain('submitted');
      // B followed a live Job, not a finished one.
      expect(events.map((e) => e.type)).toContain('running');
      await eventually(
        'the Job to be deleted',
        () => ns.readJob(result.jobName),
        (job) => job === undefined,
      );
      await eventually('the recorded deletion', async () => recorder.sawJobDeleted(result.jobName), Boolean);
      expect(recorder.jobUids(result.jobName)).toHaveLength(1);
      expect(recorder.podsOf(result.jobName)).toHaveLength(1);
      expect(recorder.sawCondition(result.jobName, 'SuccessCriteriaMet')).toBe(true);
    } finally {
      second.close();
    }
  });
});
