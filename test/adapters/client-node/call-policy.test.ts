import { describe, expect, it } from 'vitest';
import { ClientNodeJobClient } from '../../../src/adapters/client-node/job-client.js';
import { ApiError } from '../../../src/errors/api-error.js';
import type { Job } from '../../../src/types/kube.js';
import { brokenStream, drive, server, status, TOKEN, testApi, useNock } from './helpers.js';

useNock();

const JOB_PATH = '/apis/batch/v1/namespaces/ml/jobs/j1';
const LABELS = { 'app.kubernetes.io/managed-by': 'k8s-executor', 'k8s-executor/block-run-id': '42' };
const SECRET_ENV = 'postgres://admin:hunter2@db/prod';

function job(): Job {
  return {
    metadata: { name: 'j1', labels: LABELS },
    spec: {
      template: {
        spec: {
          containers: [{ name: 'main', image: 'mage:1', env: [{ name: 'DB_URL', value: SECRET_ENV }] }],
        },
      },
    },
  };
}

function setup(options: Parameters<typeof testApi>[0] = {}) {
  const { api, clock } = testApi(options);
  return { jobs: new ClientNodeJobClient(api), api, clock };
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('classification of API failures', () => {
  it.each([
    [403, 'API_FORBIDDEN', false],
    [409, 'API_CONFLICT', false],
    [410, 'API_GONE', false],
    [422, 'API_INVALID', false],
    [400, 'API_INVALID', false],
  ] as const)('HTTP %i → %s, sent once (never retried)', async (code, expected, transient) => {
    server()
      .get(JOB_PATH)
      .reply(code, status(code, 'X', 'nope'));
    const { jobs, api } = setup();
    const error = await failure(jobs.getJob('ml', 'j1'));
    expect(error.code).toBe(expected);
    expect(error.status).toBe(code);
    expect(error.transient).toBe(transient);
    expect(error.operation).toEqual({
      verb: 'get',
      resource: 'jobs',
      group: 'batch',
      namespace: 'ml',
      name: 'j1',
    });
    expect(error.message).not.toContain(TOKEN);
    expect(api.stats().requests).toBe(1);
  });

  it('HTTP 401 → API_UNAUTHORIZED after one immediate retry with a refreshed credential', async () => {
    server()
      .get(JOB_PATH)
      .times(2)
      .reply(401, status(401, 'Unauthorized', 'Unauthorized'));
    const { jobs, api, clock } = setup();
    const error = await failure(jobs.getJob('ml', 'j1'));
    expect(error).toMatchObject({ code: 'API_UNAUTHORIZED', status: 401, transient: false });
    expect(error.message).toContain('sent once more');
    expect(error.message).not.toContain(TOKEN);
    expect(api.stats()).toMatchObject({ requests: 2, retries: 1 });
    expect(clock.sleeps).toEqual([]);
  });

  it('a 401 followed by a success is no error', async () => {
    server()
      .get(JOB_PATH)
      .reply(401, status(401, 'Unauthorized', 'Unauthorized'));
    server()
      .get(JOB_PATH)
      .reply(200, { metadata: { name: 'j1' } });
    const { jobs, api } = setup();
    await expect(jobs.getJob('ml', 'j1')).resolves.toEqual({ metadata: { name: 'j1' } });
    expect(api.stats()).toMatchObject({ requests: 2, retries: 1 });
  });

  it('404 on a call that does not map it to undefined → API_NOT_FOUND', async () => {
    server()
      .get('/api/v1/namespaces/ml/pods/p1/log')
      .reply(404, status(404, 'NotFound', 'pods "p1" not found'));
    const error = await failure(setup().jobs.readPodLog('ml', 'p1'));
    expect(error.code).toBe('API_NOT_FOUND');
    expect(error.message).toContain('pods "p1" not found');
  });

  it('403 names the verb, resource and group to grant, and points at docs/rbac.md', async () => {
    server()
      .get('/apis/batch/v1/namespaces/ml/jobs')
      .query(true)
      .reply(
        403,
        status(
          403,
          'Forbidden',
          'jobs.batch is forbidden: User "system:serviceaccount:ml:default" cannot watch resource "jobs" in API group "batch" in the namespace "ml"',
        ),
      );
    const error = await failure(setup().jobs.watchJobs('ml', () => {}, {}));
    expect(error.code).toBe('API_FORBIDDEN');
    expect(error.message).toContain(
      'cannot "watch" "jobs" (group "batch") in namespace "ml": grant it with a Role rule ' +
        '{apiGroups: ["batch"], resources: ["jobs"], verbs: ["watch"]}',
    );
    expect(error.message).toContain('see docs/rbac.md');
    expect(error.message).toContain('system:serviceaccount:ml:default');
  });

  it('403 on a core resource names the core group', async () => {
    server()
      .get('/api/v1/namespaces/ml/events')
      .query(true)
      .reply(403, status(403, 'Forbidden', 'forbidden'));
    const error = await failure(setup().jobs.listWarningEvents('ml', { kind: 'Job', name: 'j1' }));
    expect(error.message).toContain('cannot "list" "events" (group "" (core)) in namespace "ml"');
  });

  it('422 lists the server field causes and never shows env values', async () => {
    server()
      .post('/apis/batch/v1/namespaces/ml/jobs')
      .reply(
        422,
        status(422, 'Invalid', `Job.batch "j1" is invalid: env value "${SECRET_ENV}" ...`, {
          details: {
            name: 'j1',
            group: 'batch',
            kind: 'Job',
            causes: [
              {
                reason: 'FieldValueRequired',
                message: 'Required value',
                field: 'spec.template.spec.containers[0].image',
              },
              { reason: 'FieldValueInvalid', message: `Invalid value: "${SECRET_ENV}"`, field: 'spec.x' },
            ],
          },
        }),
      );
    const error = await failure(setup().jobs.createJob('ml', job()));
    expect(error.code).toBe('API_INVALID');
    expect(error.message).toContain('spec.template.spec.containers[0].image: Required value');
    expect(error.message).toContain('spec.x: Invalid value: "***"');
    expect(error.message).not.toContain(SECRET_ENV);
  });
});

describe('retries of transient failures', () => {
  it.each([429, 500, 502, 503, 504])(
    'retries HTTP %i and succeeds, sleeping the jittered backoff',
    async (code) => {
      server()
        .get(JOB_PATH)
        .times(2)
        .reply(code, status(code, 'ServiceUnavailable', 'busy'));
      server()
        .get(JOB_PATH)
        .reply(200, { metadata: { name: 'j1' } });
      const { jobs, api, clock } = setup();
      await expect(drive(jobs.getJob('ml', 'j1'), clock)).resolves.toEqual({ metadata: { name: 'j1' } });
      // random() = 0.5: half of 200 ms, then half of 400 ms
      expect(clock.sleeps).toEqual([100, 200]);
      expect(api.stats()).toMatchObject({ requests: 3, retries: 2, retriesByCall: { 'get jobs': 2 } });
    },
  );

  it('honours Retry-After seconds on 429', async () => {
    server()
      .get(JOB_PATH)
      .reply(429, status(429, 'TooManyRequests', 'slow down'), { 'Retry-After': '3' });
    server()
      .get(JOB_PATH)
      .reply(200, { metadata: { name: 'j1' } });
    const { jobs, clock } = setup();
    await drive(jobs.getJob('ml', 'j1'), clock);
    expect(clock.sleeps).toEqual([3000]);
  });

  it('retries a connection reset', async () => {
    server().get(JOB_PATH).reply(200, brokenStream());
    server()
      .get(JOB_PATH)
      .reply(200, { metadata: { name: 'j1' } });
    const { jobs, clock } = setup();
    await expect(drive(jobs.getJob('ml', 'j1'), clock)).resolves.toEqual({ metadata: { name: 'j1' } });
    expect(clock.sleeps).toEqual([100]);
  });

  it('gives up after maxAttempts with API_UNAVAILABLE naming the attempt count', async () => {
    server()
      .get(JOB_PATH)
      .times(6)
      .reply(503, status(503, 'ServiceUnavailable', 'etcd is down'));
    const { jobs, clock } = setup();
    const error = await failure(drive(jobs.getJob('ml', 'j1'), clock));
    expect(error.code).toBe('API_UNAVAILABLE');
    expect(error.transient).toBe(true);
    expect(error.message).toContain('after 6 attempts');
    expect(error.message).toContain('etcd is down');
    // 200·2^n capped at 10 s, times the fixed jitter 0.5
    expect(clock.sleeps).toEqual([100, 200, 400, 800, 1600]);
  });

  it('gives up when the next sleep would pass the time budget', async () => {
    server()
      .get(JOB_PATH)
      .times(2)
      .reply(429, status(429, 'TooManyRequests', 'later'), { 'Retry-After': '40' });
    const { jobs, clock } = setup();
    const error = await failure(drive(jobs.getJob('ml', 'j1'), clock));
    expect(error.message).toContain('after 2 attempts in 40.0 s');
    expect(clock.sleeps).toEqual([40_000]);
  });

  it('a connection reset after the retry budget is API_UNAVAILABLE too', async () => {
    server().get(JOB_PATH).times(2).reply(200, brokenStream());
    const { jobs, clock } = setup({ retry: { maxAttempts: 2 } });
    const error = await failure(drive(jobs.getJob('ml', 'j1'), clock));
    expect(error).toMatchObject({ code: 'API_UNAVAILABLE', transient: true, status: undefined });
    expect(error.message).toContain('after 2 attempts');
    expect(error.message).toContain('failed with UND_ERR_SOCKET');
  });

  it('an abort during the backoff sleep rejects with the abort reason', async () => {
    server()
      .get(JOB_PATH)
      .reply(503, status(503, 'ServiceUnavailable', 'busy'));
    const { jobs, clock } = setup();
    const controller = new AbortController();
    const pending = jobs.getJob('ml', 'j1', { signal: controller.signal });
    while (clock.pendingSleeps === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    controller.abort(new Error('user cancelled'));
    await expect(pending).rejects.toThrow('user cancelled');
  });
});

describe('idempotent create', () => {
  it('a 409 on a RETRY of create adopts the Job our first attempt created', async () => {
    server()
      .post('/apis/batch/v1/namespaces/ml/jobs')
      .reply(503, status(503, 'ServiceUnavailable', 'timeout'));
    server()
      .post('/apis/batch/v1/namespaces/ml/jobs')
      .reply(409, status(409, 'AlreadyExists', 'jobs.batch "j1" already exists'));
    server()
      .get(JOB_PATH)
      .reply(200, { metadata: { name: 'j1', uid: 'u1', labels: LABELS } });
    const { jobs, clock } = setup();
    const adopted = await drive(jobs.createJob('ml', job()), clock);
    expect(adopted.metadata.uid).toBe('u1');
  });

  it('a 409 on a retry for a Job with other labels stays a conflict', async () => {
    server()
      .post('/apis/batch/v1/namespaces/ml/jobs')
      .reply(500, status(500, 'InternalError', 'oops'));
    server()
      .post('/apis/batch/v1/namespaces/ml/jobs')
      .reply(409, status(409, 'AlreadyExists', 'jobs.batch "j1" already exists'));
    server()
      .get(JOB_PATH)
      .reply(200, { metadata: { name: 'j1', labels: { other: 'x' } } });
    const { jobs, clock } = setup();
    const error = await failure(drive(jobs.createJob('ml', job()), clock));
    expect(error.code).toBe('API_CONFLICT');
  });

  it('a 409 on the FIRST attempt is a conflict (the caller decides whether to adopt)', async () => {
    server()
      .post('/apis/batch/v1/namespaces/ml/jobs')
      .reply(409, status(409, 'AlreadyExists', 'jobs.batch "j1" already exists'));
    const error = await failure(setup().jobs.createJob('ml', job()));
    expect(error.code).toBe('API_CONFLICT');
    expect(error.message).toContain('already exists');
  });
});
