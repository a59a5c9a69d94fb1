import { describe, expect, it } from 'vitest';
import { ClientNodeJobClient } from '../../../src/adapters/client-node/job-client.js';
import type { Job } from '../../../src/types/kube.js';
import { server, status, testApi, useNock } from './helpers.js';

useNock();

const JOBS = '/apis/batch/v1/namespaces/ml/jobs';

function job(name = 'mage-data-prep-block-42'): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      labels: { 'app.kubernetes.io/managed-by': 'k8s-executor', 'k8s-executor/block-run-id': '42' },
    },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'mage-job-container', image: 'mage:1', env: [{ name: 'A', value: 'x' }] }],
        },
      },
    },
  };
}

function client() {
  const { api, clock } = testApi();
  return { jobs: new ClientNodeJobClient(api), api, clock };
}

describe('ClientNodeJobClient requests', () => {
  it('creates a Job: POST with the Job as JSON body, returning the stored Job as plain JSON', async () => {
    const sent = job();
    server()
      .post(JOBS, (body) => JSON.stringify(body) === JSON.stringify(sent))
      .matchHeader('content-type', 'application/json')
      .reply(201, async (req: Request) => ({
        ...((await req.json()) as object),
        metadata: { ...sent.metadata, uid: 'u1', creationTimestamp: '2024-05-01T10:00:00Z' },
      }));
    const created = await client().jobs.createJob('ml', sent);
    expect(created.metadata.uid).toBe('u1');
    // timestamps stay RFC 3339 strings (no Date objects from a model serializer)
    expect(created.metadata.creationTimestamp).toBe('2024-05-01T10:00:00Z');
    expect(created.spec?.template.spec.containers[0]?.image).toBe('mage:1');
  });

  it('asks for server-side validation only with dryRun=All', async () => {
    server().post(JOBS).query({ dryRun: 'All' }).reply(201, job());
    await expect(client().jobs.createJob('ml', job(), { dryRun: true })).resolves.toMatchObject({
      metadata: { name: 'mage-data-prep-block-42' },
    });
  });

  it('reads a Job, and resolves undefined on 404', async () => {
    server()
      .get(`${JOBS}/j1`)
      .reply(200, { metadata: { name: 'j1' }, status: { active: 1 } });
    server()
      .get(`${JOBS}/gone`)
      .reply(404, status(404, 'NotFound', 'jobs.batch "gone" not found'));
    const { jobs } = client();
    await expect(jobs.getJob('ml', 'j1')).resolves.toEqual({
      metadata: { name: 'j1' },
      status: { active: 1 },
    });
    await expect(jobs.getJob('ml', 'gone')).resolves.toBeUndefined();
  });

  it('lists Jobs by label selector and returns the list resourceVersion', async () => {
    server()
      .get(JOBS)
      .query({ labelSelector: 'app.kubernetes.io/managed-by=k8s-executor', limit: '500' })
      .reply(200, {
        kind: 'JobList',
        metadata: { resourceVersion: '1234' },
        items: [{ metadata: { name: 'a' } }],
      });
    await expect(client().jobs.listJobs('ml', 'app.kubernetes.io/managed-by=k8s-executor')).resolves.toEqual({
      items: [{ metadata: { name: 'a' } }],
      resourceVersion: '1234',
    });
  });

  it('lists Pods of a Job by label selector', async () => {
    server()
      .get('/api/v1/namespaces/ml/pods')
      .query({ labelSelector: 'job-name=j1', limit: '500' })
      .reply(200, { metadata: { resourceVersion: '7' }, items: [{ metadata: { name: 'j1-abc' } }] });
    const pods = await client().jobs.listPods('ml', 'job-name=j1');
    expect(pods).toEqual({ items: [{ metadata: { name: 'j1-abc' } }], resourceVersion: '7' });
  });

  it('deletes with propagationPolicy Foreground by default, Background when asked; 404 → false', async () => {
    server()
      .delete(`${JOBS}/j1`)
      .query({ propagationPolicy: 'Foreground' })
      .reply(200, status(200, '', ''));
    server()
      .delete(`${JOBS}/j2`)
      .query({ propagationPolicy: 'Background' })
      .reply(200, status(200, '', ''));
    server()
      .delete(`${JOBS}/j3`)
      .query(true)
      .reply(404, status(404, 'NotFound', 'jobs.batch "j3" not found'));
    const { jobs } = client();
    await expect(jobs.deleteJob('ml', 'j1')).resolves.toBe(true);
    await expect(jobs.deleteJob('ml', 'j2', { propagationPolicy: 'Background' })).resolves.toBe(true);
    await expect(jobs.deleteJob('ml', 'j3')).resolves.toBe(false);
  });

  it('deletes with a uid precondition in a DeleteOptions body', async () => {
    server()
      .delete(`${JOBS}/j1`, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: 'Background',
        preconditions: { uid: 'uid-1' },
      })
      .query({ propagationPolicy: 'Background' })
      .reply(200, status(200, '', ''));
    const { jobs } = client();
    await expect(jobs.deleteJob('ml', 'j1', { uid: 'uid-1', propagationPolicy: 'Background' })).resolves.toBe(
      true,
    );
  });

  it('a failed uid precondition is API_CONFLICT saying the Job of that name is another one', async () => {
    server()
      .delete(`${JOBS}/j1`)
      .query(true)
      .reply(
        409,
        status(409, 'Conflict', 'Precondition failed: UID in precondition: uid-1, UID in object meta: uid-2'),
      );
    const { jobs, api } = client();
    const error = await jobs.deleteJob('ml', 'j1', { uid: 'uid-1' }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'API_CONFLICT',
      status: 409,
      operation: { verb: 'delete', name: 'j1' },
    });
    expect((error as Error).message).toContain(
      'The Job "j1" in namespace "ml" was not deleted: it is not the Job with uid uid-1',
    );
    expect(api.stats().requests).toBe(1);
  });

  it('reads a paginated list to its end: limit and continue, the resourceVersion on the first page only', async () => {
    server()
      .get(JOBS)
      .query({ labelSelector: 'a=b', limit: '500', resourceVersion: '0' })
      .reply(200, {
        metadata: { resourceVersion: '10', continue: 'page-2' },
        items: [{ metadata: { name: 'a' } }],
      });
    server()
      .get(JOBS)
      .query({ labelSelector: 'a=b', limit: '500', continue: 'page-2' })
      .reply(200, {
        metadata: { resourceVersion: '10', continue: 'page-3' },
        items: [{ metadata: { name: 'b' } }],
      });
    server()
      .get(JOBS)
      .query({ labelSelector: 'a=b', limit: '500', continue: 'page-3' })
      .reply(200, { metadata: { resourceVersion: '10' }, items: [{ metadata: { name: 'c' } }] });
    const list = await client().jobs.listJobs('ml', 'a=b', { resourceVersion: '0' });
    expect(list).toEqual({
      items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }, { metadata: { name: 'c' } }],
      resourceVersion: '10',
    });
  });

  it('an expired continue token (410) falls back to one unpaginated list, as client-go does', async () => {
    server()
      .get('/api/v1/namespaces/ml/pods')
      .query({ labelSelector: 'job-name=j1', limit: '500' })
      .reply(200, {
        metadata: { resourceVersion: '10', continue: 'old' },
        items: [{ metadata: { name: 'p1' } }],
      });
    server()
      .get('/api/v1/namespaces/ml/pods')
      .query({ labelSelector: 'job-name=j1', limit: '500', continue: 'old' })
      .reply(410, status(410, 'Expired', 'The provided continue parameter is too old'));
    server()
      .get('/api/v1/namespaces/ml/pods')
      .query({ labelSelector: 'job-name=j1' })
      .reply(200, {
        metadata: { resourceVersion: '99' },
        items: [{ metadata: { name: 'p1' } }, { metadata: { name: 'p2' } }],
      });
    const list = await client().jobs.listPods('ml', 'job-name=j1');
    expect(list).toEqual({
      items: [{ metadata: { name: 'p1' } }, { metadata: { name: 'p2' } }],
      resourceVersion: '99',
    });
  });

  it('reads a log once with container, tailLines and sinceTime', async () => {
    server()
      .get('/api/v1/namespaces/ml/pods/p1/log')
      .query({ container: 'main', tailLines: '50', sinceTime: '2024-05-01T10:00:00Z' })
      .reply(200, 'one\ntwo\n', { 'Content-Type': 'text/plain' });
    const text = await client().jobs.readPodLog('ml', 'p1', {
      container: 'main',
      tailLines: 50,
      sinceTime: '2024-05-01T10:00:00Z',
    });
    expect(text).toBe('one\ntwo\n');
  });

  it('lists the Warning events of one object by field selector, oldest first', async () => {
    server()
      .get('/api/v1/namespaces/ml/events')
      .query({
        fieldSelector: 'involvedObject.kind=Pod,involvedObject.name=p1,involvedObject.uid=u9,type=Warning',
        limit: '500',
      })
      .reply(200, {
        metadata: { resourceVersion: '3' },
        items: [
          { reason: 'BackOff', lastTimestamp: '2024-05-01T10:05:00Z' },
          { reason: 'Failed', eventTime: '2024-05-01T10:01:00.500000Z' },
          {
            reason: 'FailedScheduling',
            firstTimestamp: '2024-05-01T09:00:00Z',
            lastTimestamp: '2024-05-01T10:01:00Z',
          },
        ],
      });
    const events = await client().jobs.listWarningEvents('ml', { kind: 'Pod', name: 'p1', uid: 'u9' });
    expect(events.map((e) => e.reason)).toEqual(['FailedScheduling', 'Failed', 'BackOff']);
  });

  it('counts requests by verb and resource', async () => {
    server()
      .get(`${JOBS}/j1`)
      .reply(200, { metadata: { name: 'j1' } });
    server()
      .get(JOBS)
      .query(true)
      .reply(200, { metadata: { resourceVersion: '1' }, items: [] });
    const { jobs, api } = client();
    await jobs.getJob('ml', 'j1');
    await jobs.listJobs('ml', '');
    expect(api.stats()).toEqual({
      requests: 2,
      retries: 0,
      byCall: { 'get jobs': 1, 'list jobs': 1 },
      retriesByCall: {},
    });
  });
});
