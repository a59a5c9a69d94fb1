// The @example of InMemoryJobClient (src/testing/in-memory-job-client.ts), run as written.
import type { Job } from 'k8s-executor';
import { FakeClock, InMemoryJobClient } from 'k8s-executor/testing';
import { describe, expect, it } from 'vitest';

describe('the @example of InMemoryJobClient', () => {
  it('a pod that exits 3 fails a Job with backoffLimit 0 one second later: FailureTarget, then Failed', async () => {
    const clock = new FakeClock();
    const client = new InMemoryJobClient({ clock, scripts: { 'etl-1': [{ runMs: 1_000, exitCode: 3 }] } });
    const job: Job = {
      metadata: { name: 'etl-1' },
      spec: {
        backoffLimit: 0,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'x/y:1' }] } },
      },
    };
    await client.createJob('default', job);
    await clock.advance(1_000);
    expect(client.jobs()[0]?.status?.conditions?.map((c) => [c.type, c.reason])).toEqual([
      ['FailureTarget', 'BackoffLimitExceeded'],
      ['Failed', 'BackoffLimitExceeded'],
    ]);
  });
});
