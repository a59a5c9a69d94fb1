import { describe, expect, it } from 'vitest';
import { runDemo } from '../examples/run-pipeline-locally.js';
import { imagePullFailureIsReported } from '../examples/test-an-orchestrator.js';

describe('examples', () => {
  it('run-pipeline-locally runs the demo DAG on the local backend, retrying the flaky block', async () => {
    const lines: string[] = [];
    const result = await runDemo((l) => lines.push(l));
    expect(result.status).toBe('succeeded');
    expect(result.blocks.map((b) => [b.uuid, b.status, b.attempts.length])).toEqual([
      ['extract_users', 'succeeded', 1],
      ['extract_orders', 'succeeded', 1],
      ['clean_users', 'succeeded', 1],
      ['join_orders', 'succeeded', 2],
      ['revenue_report', 'succeeded', 1],
      ['notify', 'succeeded', 1],
    ]);
    expect(lines).toContain('  [notify] (orchestrator) would notify for run ' + result.pipelineRunId);
    expect(lines.some((l) => l.includes('[join_orders] joined'))).toBe(true);
  }, 60_000);

  it('test-an-orchestrator reports a missing image as IMAGE_PULL_FAILED', async () => {
    const outcome = await imagePullFailureIsReported();
    expect(outcome.reason).toBe('IMAGE_PULL_FAILED');
    expect(outcome.message).toMatch(/does-not-exist/);
  });
});
