/**
 * Streaming lists (watch-list) and watch-cache lists through the client-node adapter: the query it
 * sends, and what it hands on.
 */
import { describe, expect, it } from 'vitest';
import { ClientNodeJobClient } from '../../../src/adapters/client-node/job-client.js';
import type { Job, WatchEvent } from '../../../src/types/kube.js';
import { server, testApi, useNock } from './helpers.js';

const JOBS = '/apis/batch/v1/namespaces/ml/jobs';

describe('the request of a streaming list', () => {
  useNock();

  it('sends sendInitialEvents=true with resourceVersionMatch=NotOlderThan and no resourceVersion, and hands on the end bookmark', async () => {
    const end = {
      kind: 'Job',
      apiVersion: 'batch/v1',
      metadata: { resourceVersion: '150', annotations: { 'k8s.io/initial-events-end': 'true' } },
    };
    server()
      .get(JOBS)
      .query({
        watch: 'true',
        labelSelector: 'app.kubernetes.io/managed-by=k8s-executor',
        allowWatchBookmarks: 'true',
        timeoutSeconds: '300',
        sendInitialEvents: 'true',
        resourceVersionMatch: 'NotOlderThan',
      })
      .reply(
        200,
        `${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'j1', resourceVersion: '101' } } })}\n${JSON.stringify({ type: 'BOOKMARK', object: end })}\n`,
        { 'Content-Type': 'application/json' },
      );
    const jobs = new ClientNodeJobClient(testApi().api);
    expect(jobs.supportsWatchList).toBe(true);
    const events: WatchEvent<Job>[] = [];
    await jobs.watchJobs('ml', (e) => events.push(e), {
      labelSelector: 'app.kubernetes.io/managed-by=k8s-executor',
      resourceVersion: '',
      timeoutSeconds: 300,
      sendInitialEvents: true,
    });
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(events[1]?.object).toEqual(end);
  });

  it('sends a list’s resourceVersion=0 with its first page, so the API server answers from its watch cache', async () => {
    server()
      .get(JOBS)
      .query({ labelSelector: 'a=b', limit: '500', resourceVersion: '0' })
      .reply(200, { metadata: { resourceVersion: '77' }, items: [] });
    const jobs = new ClientNodeJobClient(testApi().api);
    await expect(jobs.listJobs('ml', 'a=b', { resourceVersion: '0' })).resolves.toEqual({
      items: [],
      resourceVersion: '77',
    });
  });
});
