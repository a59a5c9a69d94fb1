import { describe, expect, it } from 'vitest';
import { ClientNodeJobClient } from '../../../src/adapters/client-node/job-client.js';
import { flushMicrotasks } from '../../../src/testing/fake-clock.js';
import { server, testApi, useNock } from './helpers.js';

useNock();

describe('rate limit and the shared watch', () => {
  it('a list is not queued behind a burst of limited requests (detection must not lag)', async () => {
    const { api, clock } = testApi({ rateLimit: { qps: 1, burst: 1 } });
    const jobs = new ClientNodeJobClient(api);
    server()
      .get('/apis/batch/v1/namespaces/ml/jobs/a')
      .times(3)
      .reply(200, { metadata: { name: 'a' } });
    server()
      .get('/apis/batch/v1/namespaces/ml/jobs')
      .query(true)
      .reply(200, { metadata: { resourceVersion: '7' }, items: [] });
    // Three gets: the first takes the only token, the others wait 1 s and 2 s for theirs.
    const gets = [jobs.getJob('ml', 'a'), jobs.getJob('ml', 'a'), jobs.getJob('ml', 'a')];
    let listed = false;
    const list = jobs.listJobs('ml', 'app.kubernetes.io/managed-by=k8s-executor').then((r) => {
      listed = true;
      return r;
    });
    for (let i = 0; i < 20 && !listed; i++) await flushMicrotasks();
    expect(listed).toBe(true);
    expect(clock.now()).toBe(0); // no fake time passed: the list did not wait for a token
    expect((await list).resourceVersion).toBe('7');
    await clock.advance(2000);
    await Promise.all(gets);
  });
});
