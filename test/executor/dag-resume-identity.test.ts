import { describe, expect, it } from 'vitest';
import { K8sPipelineExecutor } from '../../src/executor/pipeline-executor.js';
import { IDENTITY_KEYS, toLabelValue } from '../../src/naming/labels.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import type { Job } from '../../src/types/kube.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

/**
 * Resume and cleanup select a run's Jobs by labels, whose values are sanitized and can collide, then
 * keep only the Jobs whose annotations carry this run's full ids (cluster, pipeline, pipeline run,
 * block): another run's Jobs are never taken as this run's results, nor deleted by its cleanup.
 */

// Two ISO timestamps that differ only in the sign of the UTC offset: the same label value.
const A = '2026-03-29T02:30:00+01:00';
const B = '2026-03-29T02:30:00-01:00';

function setup(keepJobs: boolean) {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1000 }] });
  const executor = new K8sPipelineExecutor({
    configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
    jobClient,
    clock,
    keepJobs,
    logDrainMs: 10,
  });
  return { clock, jobClient, executor };
}

describe('resume with run ids whose labels collide', () => {
  it("does not take another run's Jobs as this run's", async () => {
    expect(toLabelValue(A)).toBe(toLabelValue(B));
    const { clock, executor } = setup(true);
    const a = await drive(clock, executor.run({ pipelineUuid: 'etl', pipelineRunId: A }));
    const b = await drive(clock, executor.run({ pipelineUuid: 'etl', pipelineRunId: B }));
    executor.close();
    expect(a.status).toBe('succeeded');
    expect(b.blocks[0]?.attempts.some((x) => x.fromEarlierRun)).toBe(false);
    // The Job names do not collide (each run id lost `+`/`:` to normalization, so each name carries a
    // hash of its own run id, docs/naming.md): B runs a Job of its own, never given A's result.
    expect(b.blocks[0]).toMatchObject({ status: 'succeeded' });
    expect(b.blocks[0]!.attempts[0]!.jobName).not.toBe(a.blocks[0]!.attempts[0]!.jobName);
  });

  it("runs its own Job when the Job names differ, and its cleanup leaves the other run's Job alone", async () => {
    const { clock, jobClient, executor } = setup(false);
    const keeper = new K8sPipelineExecutor({
      configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
      jobClient,
      clock,
      keepJobs: true,
      logDrainMs: 10,
    });
    const a = await drive(
      clock,
      keeper.run({ pipelineUuid: 'etl', pipelineRunId: A, blockRunIds: { load: 'a' } }),
    );
    const b = await drive(
      clock,
      executor.run({ pipelineUuid: 'etl', pipelineRunId: B, blockRunIds: { load: 'b' } }),
    );
    keeper.close();
    executor.close();
    expect(a.status).toBe('succeeded');
    expect(b.status).toBe('succeeded');
    expect(b.blocks[0]!.attempts).toEqual([
      expect.objectContaining({ jobName: 'mage-data-prep-block-b', status: 'succeeded' }),
    ]);
    expect(b.blocks[0]!.attempts[0]!.fromEarlierRun).toBeUndefined();
    // B's cleanup listed A's Job too (same labels) and kept it: its annotations are another run's.
    expect(jobClient.jobs().map((j) => j.metadata.name)).toEqual(['mage-data-prep-block-a']);
  });

  it("ignores a Job with this run's labels but without its identity annotations", async () => {
    const { clock, jobClient, executor } = setup(false);
    // A Job someone labelled like ours (by hand, or a tool that copies labels), finished.
    const forged: Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'copied-labels',
        labels: {
          'app.kubernetes.io/managed-by': 'k8s-executor',
          [IDENTITY_KEYS.kind]: 'block',
          [IDENTITY_KEYS.cluster]: 'mage',
          [IDENTITY_KEYS.pipeline]: 'etl',
          [IDENTITY_KEYS.pipelineRunId]: '7',
          [IDENTITY_KEYS.block]: 'load',
          [IDENTITY_KEYS.blockRunId]: '7-load',
          [IDENTITY_KEYS.attempt]: '1',
        },
      },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    };
    await jobClient.createJob('default', forged);
    await clock.advance(5000);
    const result = await drive(clock, executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 }));
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(result.blocks[0]!.attempts).toEqual([
      expect.objectContaining({ jobName: 'mage-data-prep-block-7-load', status: 'succeeded' }),
    ]);
    expect(result.blocks[0]!.attempts[0]!.fromEarlierRun).toBeUndefined();
    expect(jobClient.jobs().map((j) => j.metadata.name)).toEqual(['copied-labels']);
  });
});
