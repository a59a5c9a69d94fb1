// Block results on a real control plane (issue 12): KWOK writes the container's
// `state.terminated.message` (fate option `terminationMessage`, test/e2e/cluster/fates.ts), the
// executor reads it from the pod as `terminationMessage` and, parsed, as `output`; a DAG hands a
// succeeded block's output to its downstream blocks in the run variable `upstream_outputs`
// (docs/pipelines.md "Outputs"), rendered here into the downstream Job's args. Needs `bash test/e2e/run.sh`.
import type * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigDriftEvent, PipelineRun } from '../../../src/executor/pipeline-types.js';
import type { BlockRun } from '../../../src/executor/types.js';
import { adminKubeConfig, fatesAvailable, useTestNamespace } from './support/cluster.js';
import { E2E_PIPELINE, e2eExecutors, e2eProject } from './support/executors.js';
import { ClusterRecorder } from './support/recorder.js';

/** Every block passes its `upstream_outputs` as its one argument. */
const PASS_OUTPUTS = { container: { args: ["{{ variables('upstream_outputs') }}"] } };

function argsOf(job: k8s.V1Job | undefined): string[] | undefined {
  return job?.spec?.template.spec?.containers[0]?.args;
}

describe.skipIf(!fatesAvailable())('block results on a real control plane', () => {
  const ns = useTestNamespace('e2e-outputs');
  const recorder = new ClusterRecorder(adminKubeConfig(), ns.name);
  beforeAll(() => recorder.start());
  afterAll(() => recorder.stop());

  /** Runs pipeline run `outputs` of a → b (kept Jobs); resolves the result and its config-drift events. */
  async function runAtoB(bConfig: Record<string, unknown>, run: Partial<PipelineRun> = {}) {
    const executors = e2eExecutors({
      files: e2eProject(ns.name, [
        { uuid: 'a', fate: { fate: 'succeed', terminationMessage: '{"rows": 3}' }, config: PASS_OUTPUTS },
        { uuid: 'b', upstream: ['a'], fate: { fate: 'succeed' }, config: bConfig },
      ]),
      keepJobs: true,
    });
    const drift: ConfigDriftEvent[] = [];
    try {
      const result = await executors.pipelines.run(
        { pipelineUuid: E2E_PIPELINE, pipelineRunId: 'outputs', ...run },
        {
          onEvent: (event) => {
            if (event.type === 'config-drift') drift.push(event);
          },
        },
      );
      return { result, drift };
    } finally {
      executors.close();
    }
  }

  it.concurrent("a → b: a's JSON termination message is its output, and b's Job gets it as upstream_outputs", async () => {
    const { result } = await runAtoB(PASS_OUTPUTS);

    expect(result.status).toBe('succeeded');
    const [a, b] = result.blocks;
    expect(a).toMatchObject({ uuid: 'a', terminationMessage: '{"rows": 3}', output: { rows: 3 } });
    expect(a?.outputError).toBeUndefined();
    // b wrote no message: no output of its own.
    expect(b?.status).toBe('succeeded');
    expect(b?.output).toBeUndefined();

    // What the API server held: KWOK's message on a's pod, and b's Job rendered with a's output.
    const aJob = a?.attempts[0]?.jobName ?? '';
    const bJob = b?.attempts[0]?.jobName ?? '';
    expect(
      recorder.podsOf(aJob).map((p) => p.status?.containerStatuses?.[0]?.state?.terminated?.message),
    ).toEqual(['{"rows": 3}']);
    const [rendered] = argsOf(await ns.readJob(bJob)) ?? [];
    expect(JSON.parse(rendered ?? 'null')).toEqual({ a: { rows: 3 } });
    // A root block's upstream_outputs is {}.
    expect(argsOf(await ns.readJob(aJob))).toEqual(['{}']);

    // Resumed, the same project: a's output is read back from its pod, so b's record (rendered from it)
    // matches the config now: no drift, nothing run again.
    const resumed = await runAtoB(PASS_OUTPUTS);
    expect(resumed.drift).toEqual([]);
    expect(
      resumed.result.blocks.map((block) => [block.uuid, block.attempts.map((at) => at.fromEarlierRun)]),
    ).toEqual([
      ['a', [true]],
      ['b', [true]],
    ]);
    expect(resumed.result.blocks[0]?.output).toEqual({ rows: 3 });

    // b's config changed and run again: its new attempt gets a's output from the earlier run's pod.
    const changed = await runAtoB(
      { container: { ...PASS_OUTPUTS.container, resources: { limits: { memory: '1Gi' } } } },
      { rerunChanged: ['b'] },
    );
    expect(changed.drift.map((e) => [e.blockUuid, e.action, e.changes.map((c) => c.split(' ')[0])])).toEqual([
      ['b', 'rerun', ['container.resources.limits.memory']],
    ]);
    const rerun = changed.result.blocks[1]?.attempts.at(-1);
    expect(rerun).toMatchObject({ attempt: 2, status: 'succeeded', jobName: `${bJob}-attempt-2` });
    const [again] = argsOf(await ns.readJob(rerun?.jobName ?? '')) ?? [];
    expect(JSON.parse(again ?? 'null')).toEqual({ a: { rows: 3 } });
  });

  it.concurrent('a failed block reports its termination message, without output', async () => {
    const executors = e2eExecutors({
      files: e2eProject(ns.name, [
        { uuid: 'broken', fate: { fate: 'fail', exitCode: 4, terminationMessage: 'disk full on /data' } },
      ]),
    });
    const run: BlockRun = {
      pipelineUuid: E2E_PIPELINE,
      blockUuid: 'broken',
      pipelineRunId: 1,
      blockRunId: 'broken',
    };
    try {
      const result = await executors.blocks.execute(run);
      expect(result).toMatchObject({
        status: 'failed',
        reason: 'EXIT_CODE',
        exitCode: 4,
        terminationMessage: 'disk full on /data',
      });
      expect(result.output).toBeUndefined();
      expect(result.outputError).toBeUndefined();
    } finally {
      executors.close();
    }
  });
});
