import { Job as JobModel } from 'kubernetes-models/batch/v1';
import { describe, expect, it } from 'vitest';
import type { ConfigOverrides } from '../../src/config/index.js';
import { prepareJob } from '../../src/executor/prepare.js';
import { KUEUE_PRIORITY_CLASS_LABEL, KUEUE_QUEUE_LABEL } from '../../src/spec/build-job.js';
import type { Job } from '../../src/types/kube.js';
import { pipelineWithBlock, projectWith, snapshotOf } from '../config/snapshot-helper.js';

// GIVEN block configs that use the executor's own features (identity env, tmpfs and TMPDIR, Kueue, the
//   built-in or a user's podFailurePolicy, the termination message, runtime overrides)
// WHEN the Job is built as a run builds it
// THEN it is what the feature promises, and valid against the official batch/v1 Job schema.

function build(block: string, overrides?: ConfigOverrides, mode: 'block' | 'pipeline' = 'block'): Job {
  return prepareJob({
    snapshot: snapshotOf({
      project: projectWith('image: img:1\nmemory: 2048'),
      pipeline: pipelineWithBlock(block),
    }),
    mode,
    identity: { pipelineUuid: 'p', pipelineRunId: '7', blockUuid: 'b', blockRunId: '1' },
    command: ['python', 'b.py'],
    ...(overrides ? { overrides } : {}),
  }).job;
}

const valid = (job: Job) => expect(() => new JobModel(job as never).validate()).not.toThrow();
const containerOf = (job: Job) => job.spec!.template.spec.containers[0]!;
const envOf = (job: Job) => (containerOf(job).env ?? []) as { name: string; value?: string }[];

describe('Jobs with the executor features', () => {
  it('every Job: identity env, the flag, FallbackToLogsOnError, the disruption rule with restartPolicy Never', () => {
    for (const job of [build(''), build('', undefined, 'pipeline')]) {
      valid(job);
      expect(envOf(job).map((e) => e.name)).toEqual([
        'K8S_EXECUTOR',
        'K8S_EXECUTOR_POD_NAME',
        'K8S_EXECUTOR_POD_NAMESPACE',
        'K8S_EXECUTOR_POD_UID',
        'K8S_EXECUTOR_NODE_NAME',
        'K8S_EXECUTOR_NODE_IP',
        'K8S_EXECUTOR_SERVICE_ACCOUNT',
        'K8S_EXECUTOR_TERMINATION_MESSAGE_PATH',
      ]);
      expect(containerOf(job).terminationMessagePolicy).toBe('FallbackToLogsOnError');
      expect(job.spec?.podFailurePolicy).toEqual({
        rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }],
      });
      expect(job.spec?.template.spec.restartPolicy).toBe('Never');
      expect(job.spec?.backoffLimit).toBe(0);
    }
  });

  it("use_tmpfs: a memory-backed volume at tmpfs_path, half its layer's memory by default, and TMPDIR there", () => {
    const job = build('memory: 2048\nuse_tmpfs: true\ntmpfs_path: /scratch');
    valid(job);
    expect(job.spec?.template.spec.volumes).toEqual([
      { name: 'tmpfs', emptyDir: { medium: 'Memory', sizeLimit: '1024M' } },
    ]);
    expect(containerOf(job).volumeMounts).toEqual([{ name: 'tmpfs', mountPath: '/scratch' }]);
    expect(envOf(job).find((e) => e.name === 'TMPDIR')).toEqual({ name: 'TMPDIR', value: '/scratch' });
  });

  it('Kueue: the queue and priority class labels on the Job (not its pods); not suspended by us', () => {
    const job = build('queue_name: team-a\nworkload_priority_class: batch-low');
    valid(job);
    expect(job.metadata.labels).toMatchObject({
      [KUEUE_QUEUE_LABEL]: 'team-a',
      [KUEUE_PRIORITY_CLASS_LABEL]: 'batch-low',
    });
    expect(job.spec?.template.metadata?.labels).not.toHaveProperty(KUEUE_QUEUE_LABEL);
    expect(job.spec?.template.metadata?.labels).not.toHaveProperty(KUEUE_PRIORITY_CLASS_LABEL);
    // Kueue's webhook suspends a Job with a queue name at creation (docs/configuration.md §14).
    expect(job.spec).not.toHaveProperty('suspend');
    expect(build('queue_name: team-a\njob: {suspend: true}').spec?.suspend).toBe(true);
  });

  it("a user's podFailurePolicy is the Job's, as written (camelCase), and valid", () => {
    const job = build(`job:
  backoff_limit: 3
  pod_failure_policy:
    rules:
      - {action: FailJob, on_exit_codes: {container_name: mage-job-container, operator: In, values: [42, 43]}}
      - {action: Ignore, on_pod_conditions: [{type: DisruptionTarget}]}`);
    valid(job);
    expect(job.spec?.podFailurePolicy).toEqual({
      rules: [
        {
          action: 'FailJob',
          onExitCodes: { containerName: 'mage-job-container', operator: 'In', values: [42, 43] },
        },
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
      ],
    });
  });

  it('retry_disruptions: false, or restartPolicy OnFailure: no podFailurePolicy, still valid', () => {
    for (const block of ['retry_disruptions: false', 'pod: {restart_policy: OnFailure}']) {
      const job = build(block);
      valid(job);
      expect(job.spec).not.toHaveProperty('podFailurePolicy');
    }
  });

  it('overrides change the Job as the same keys in a file would', () => {
    const fromFile = build('cpu: 4\nnode_selector: {pool: gpu}');
    const fromOverrides = build('', { cpu: 4, node_selector: { pool: 'gpu' } });
    valid(fromOverrides);
    expect(fromOverrides.spec).toEqual(fromFile.spec);
  });
});

describe('the batch/v1 schema check on these fields', () => {
  it('rejects what the API server would: a rule without action, a pattern without type, a bad policy', () => {
    const job = build('');
    for (const rules of [
      [{ onPodConditions: [{ type: 'DisruptionTarget' }] }],
      [{ action: 'Ignore', onPodConditions: [{ status: 'True' }] }],
      [{ action: 'Retry', onPodConditions: [{ type: 'DisruptionTarget' }] }],
      [{ action: 'FailJob', onExitCodes: { values: [1] } }],
    ]) {
      const broken = structuredClone(job);
      broken.spec!.podFailurePolicy = { rules };
      expect(() => new JobModel(broken as never).validate(), JSON.stringify(rules)).toThrow();
    }
  });
});
