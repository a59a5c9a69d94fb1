import { describe, expect, it } from 'vitest';
import { summary } from '../../src/cli/run.js';
import { renderTimeline } from '../../src/cli/timeline/html.js';
import type { PipelineResult } from '../../src/executor/pipeline-types.js';

const T = 1_700_000_000_000;
const result: PipelineResult = {
  status: 'failed',
  pipelineUuid: 'etl',
  pipelineRunId: '7',
  mode: 'dag',
  startedAt: T,
  finishedAt: T + 65_000,
  blocks: [
    {
      uuid: 'load',
      executor: 'k8s',
      status: 'succeeded',
      attempts: [
        {
          attempt: 1,
          jobName: 'mage-data-prep-block-7-load',
          status: 'failed',
          reason: 'EXIT_CODE',
          exitCode: 1,
          startedAt: T,
          finishedAt: T + 2000,
        },
        {
          attempt: 2,
          jobName: 'mage-data-prep-block-7-load-attempt-2',
          status: 'succeeded',
          startedAt: T + 3000,
          finishedAt: T + 5000,
        },
      ],
      lastLogLines: [],
      warningEvents: [],
      startedAt: T,
      finishedAt: T + 5000,
    },
    {
      uuid: 'train',
      executor: 'k8s',
      status: 'failed',
      reason: 'IMAGE_PULL_FAILED',
      message:
        'Container "c" could not pull image "x:nope" for 1 min (ImagePullBackOff); check the image name and tag.',
      attempts: [
        {
          attempt: 1,
          jobName: 'mage-data-prep-block-7-train',
          status: 'failed',
          reason: 'IMAGE_PULL_FAILED',
          startedAt: T + 5000,
          finishedAt: T + 65_000,
        },
      ],
      lastLogLines: ['pulling <weights> & "data"'],
      warningEvents: [{ object: 'Pod/p', reason: 'Failed', message: 'Error: ImagePullBackOff', count: 3 }],
      startedAt: T + 5000,
      finishedAt: T + 65_000,
    },
    {
      uuid: 'report',
      executor: 'local',
      status: 'skipped',
      reason: 'SKIPPED',
      message: 'Skipped: upstream block "train" did not succeed.',
      attempts: [],
      lastLogLines: [],
      warningEvents: [],
    },
  ],
};

describe('run summary', () => {
  it('has a row per block and the full reason, events and logs of each failed block', () => {
    const text = summary(result);
    expect(text).toMatch(/^load\s+succeeded\s+2\s+5\.0 s/m);
    expect(text).toMatch(/^train\s+failed\s+1\s+60\.0 s\s+IMAGE_PULL_FAILED/m);
    expect(text).toMatch(/^report\s+skipped\s+0\s+-\s+SKIPPED/m);
    expect(text).toContain('train failed [IMAGE_PULL_FAILED] (Job mage-data-prep-block-7-train):');
    expect(text).toContain('check the image name and tag.');
    expect(text).toContain('Pod/p Failed (x3): Error: ImagePullBackOff');
    expect(text).toContain('Pipeline etl FAILED in 65.0 s: 1 succeeded, 1 failed, 1 skipped');
  });
});

describe('timeline', () => {
  it('is one self-contained page: one bar per attempt, escaped text, no script, no external resource', () => {
    const html = renderTimeline(result);
    expect(html.match(/class="attempt /g)).toHaveLength(3);
    expect(html).toContain('data-reason="IMAGE_PULL_FAILED"');
    expect(html).toContain('Job mage-data-prep-block-7-load-attempt-2');
    expect(html).toContain('skipped: upstream block &#34;train&#34; did not succeed.');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });
});
