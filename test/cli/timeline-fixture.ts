import type { PipelineResult } from '../../src/executor/pipeline-types.js';

const T = 1_700_000_000_000;

/**
 * A realistic DAG run for the timeline: pending and running phases, a fast failure retried, an
 * OOM kill, an image that never pulled, skipped blocks (one behind a skipped one), a local block.
 */
export const timelineRun: PipelineResult = {
  status: 'failed',
  pipelineUuid: 'etl_nightly',
  pipelineRunId: '2024-05-01',
  mode: 'dag',
  startedAt: T,
  finishedAt: T + 75_000,
  blocks: [
    {
      uuid: 'extract_users',
      executor: 'k8s',
      status: 'succeeded',
      attempts: [
        {
          attempt: 1,
          jobName: 'mage-data-prep-block-1-extract-users',
          status: 'succeeded',
          startedAt: T,
          runningAt: T + 1200,
          finishedAt: T + 5200,
        },
      ],
      lastLogLines: [],
      warningEvents: [],
      startedAt: T,
      finishedAt: T + 5200,
    },
    {
      uuid: 'extract_orders',
      executor: 'k8s',
      status: 'succeeded',
      attempts: [
        {
          attempt: 1,
          jobName: 'mage-data-prep-block-1-extract-orders',
          status: 'succeeded',
          startedAt: T,
          runningAt: T + 800,
          finishedAt: T + 7800,
        },
      ],
      lastLogLines: [],
      warningEvents: [],
      startedAt: T,
      finishedAt: T + 7800,
    },
    {
      uuid: 'clean_users',
      executor: 'k8s',
      status: 'succeeded',
      attempts: [
        {
          attempt: 1,
          jobName: 'mage-data-prep-block-1-clean-users',
          status: 'succeeded',
          startedAt: T + 5300,
          runningAt: T + 6000,
          finishedAt: T + 9000,
        },
      ],
      lastLogLines: [],
      warningEvents: [],
      startedAt: T + 5300,
      finishedAt: T + 9000,
    },
    {
      uuid: 'join_orders',
      executor: 'k8s',
      status: 'succeeded',
      attempts: [
        {
          attempt: 1,
          jobName: 'mage-data-prep-block-1-join-orders',
          status: 'failed',
          reason: 'EXIT_CODE',
          exitCode: 1,
          message: 'Container "mage-job-container" exited with code 1.',
          startedAt: T + 9100,
          runningAt: T + 9400,
          finishedAt: T + 9600,
        },
        {
          attempt: 2,
          jobName: 'mage-data-prep-block-1-join-orders-attempt-2',
          status: 'succeeded',
          startedAt: T + 10_600,
          runningAt: T + 11_000,
          finishedAt: T + 16_000,
        },
      ],
      lastLogLines: [],
      warningEvents: [],
      startedAt: T + 9100,
      finishedAt: T + 16_000,
    },
    {
      uuid: 'train_model',
      executor: 'k8s',
      status: 'failed',
      reason: 'OOM_KILLED',
      message: 'Container "mage-job-container" was killed for using more than its memory limit (2Gi).',
      attempts: [
        {
          attempt: 1,
          jobName: 'mage-data-prep-block-1-train-model',
          status: 'failed',
          reason: 'OOM_KILLED',
          exitCode: 137,
          startedAt: T + 16_100,
          runningAt: T + 18_000,
          finishedAt: T + 24_000,
        },
      ],
      lastLogLines: ['epoch 1/10', 'loading <embeddings> & "vocab"'],
      warningEvents: [],
      startedAt: T + 16_100,
      finishedAt: T + 24_000,
    },
    {
      uuid: 'check_image',
      executor: 'k8s',
      status: 'failed',
      reason: 'IMAGE_PULL_FAILED',
      message: 'Container "mage-job-container" could not pull image "registry.example/etl:nope" for 1 min.',
      attempts: [
        {
          attempt: 1,
          jobName: 'mage-data-prep-block-1-check-image',
          status: 'failed',
          reason: 'IMAGE_PULL_FAILED',
          startedAt: T + 8000,
          finishedAt: T + 75_000,
        },
      ],
      lastLogLines: [],
      warningEvents: [],
      startedAt: T + 8000,
      finishedAt: T + 75_000,
    },
    {
      uuid: 'revenue_report',
      executor: 'k8s',
      status: 'skipped',
      reason: 'SKIPPED',
      message: 'Skipped: upstream block "train_model" did not succeed.',
      blockedBy: 'train_model',
      attempts: [],
      lastLogLines: [],
      warningEvents: [],
    },
    {
      uuid: 'notify',
      executor: 'local',
      status: 'skipped',
      reason: 'SKIPPED',
      message: 'Skipped: upstream block "revenue_report" did not succeed.',
      blockedBy: 'revenue_report',
      attempts: [],
      lastLogLines: [],
      warningEvents: [],
    },
  ],
};

/** The DAG of {@link timelineRun}. */
export const timelineUpstream: Record<string, string[]> = {
  extract_users: [],
  extract_orders: [],
  clean_users: ['extract_users'],
  join_orders: ['clean_users', 'extract_orders'],
  train_model: ['join_orders'],
  check_image: ['extract_orders'],
  revenue_report: ['train_model'],
  notify: ['revenue_report'],
};

/**
 * A run on a cluster with Kueue: a GPU block held by its queue, admitted, preempted and admitted again;
 * a block evicted (an infrastructure failure) and run again at once; a block after both.
 */
export const kueueRun: PipelineResult = {
  status: 'succeeded',
  pipelineUuid: 'gpu_training',
  pipelineRunId: '2024-05-02',
  mode: 'dag',
  startedAt: T,
  finishedAt: T + 80_000,
  blocks: [
    {
      uuid: 'load',
      executor: 'k8s',
      status: 'succeeded',
      attempts: [
        {
          attempt: 1,
          jobName: 'mage-data-prep-block-2-load',
          status: 'failed',
          reason: 'EVICTED',
          message:
            'Pod "mage-data-prep-block-2-load-x7k2p" was evicted by the kubelet: The node was low on resource: memory.',
          infrastructure: {
            pod: 'mage-data-prep-block-2-load-x7k2p',
            source: 'podReason',
            reason: 'Evicted',
            message: 'The node was low on resource: memory.',
          },
          startedAt: T,
          runningAt: T + 1000,
          finishedAt: T + 7000,
        },
        {
          attempt: 2,
          jobName: 'mage-data-prep-block-2-load-attempt-2',
          status: 'succeeded',
          startedAt: T + 7000,
          runningAt: T + 8000,
          finishedAt: T + 19_000,
        },
      ],
      lastLogLines: [],
      warningEvents: [],
      startedAt: T,
      finishedAt: T + 19_000,
    },
    {
      uuid: 'train_gpu',
      executor: 'k8s',
      status: 'succeeded',
      attempts: [
        {
          attempt: 1,
          jobName: 'mage-data-prep-block-2-train-gpu',
          status: 'succeeded',
          startedAt: T,
          queued: [
            { from: T, to: T + 20_000 },
            { from: T + 40_000, to: T + 55_000 },
          ],
          queuedMs: 35_000,
          runningAt: T + 22_000,
          finishedAt: T + 70_000,
        },
      ],
      lastLogLines: [],
      warningEvents: [],
      startedAt: T,
      finishedAt: T + 70_000,
    },
    {
      uuid: 'publish',
      executor: 'k8s',
      status: 'succeeded',
      attempts: [
        {
          attempt: 1,
          jobName: 'mage-data-prep-block-2-publish',
          status: 'succeeded',
          startedAt: T + 70_000,
          runningAt: T + 71_000,
          finishedAt: T + 80_000,
        },
      ],
      lastLogLines: [],
      warningEvents: [],
      startedAt: T + 70_000,
      finishedAt: T + 80_000,
    },
  ],
};

/** The DAG of {@link kueueRun}. */
export const kueueUpstream: Record<string, string[]> = {
  load: [],
  train_gpu: [],
  publish: ['load', 'train_gpu'],
};
