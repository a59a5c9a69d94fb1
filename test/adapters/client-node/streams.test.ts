import { describe, expect, it } from 'vitest';
import { ClientNodeJobClient } from '../../../src/adapters/client-node/job-client.js';
import { ApiError } from '../../../src/errors/api-error.js';
import type { Job, WatchEvent } from '../../../src/types/kube.js';
import { brokenStream, controlledStream, server, status, testApi, useNock } from './helpers.js';

useNock();

const JOBS = '/apis/batch/v1/namespaces/ml/jobs';
const LOG = '/api/v1/namespaces/ml/pods/p1/log';

function line(type: string, object: unknown): string {
  return `${JSON.stringify({ type, object })}\n`;
}

function jobs() {
  return new ClientNodeJobClient(testApi().api);
}

describe('watchJobs / watchPods', () => {
  it('sends watch=true, the selector, resourceVersion, bookmarks and timeoutSeconds, and delivers events in order', async () => {
    server()
      .get(JOBS)
      .query({
        watch: 'true',
        labelSelector: 'app.kubernetes.io/managed-by=k8s-executor',
        resourceVersion: '100',
        allowWatchBookmarks: 'true',
        timeoutSeconds: '300',
      })
      .reply(
        200,
        line('ADDED', { metadata: { name: 'j1', resourceVersion: '101' } }) +
          line('MODIFIED', { metadata: { name: 'j1', resourceVersion: '102' }, status: { active: 1 } }) +
          line('BOOKMARK', { kind: 'Job', metadata: { resourceVersion: '150' } }) +
          line('DELETED', { metadata: { name: 'j1', resourceVersion: '151' } }),
        { 'Content-Type': 'application/json' },
      );
    const events: WatchEvent<Job>[] = [];
    await jobs().watchJobs('ml', (e) => events.push(e), {
      labelSelector: 'app.kubernetes.io/managed-by=k8s-executor',
      resourceVersion: '100',
      timeoutSeconds: 300,
    });
    expect(events.map((e) => `${e.type}@${e.object.metadata.resourceVersion}`)).toEqual([
      'ADDED@101',
      'MODIFIED@102',
      'BOOKMARK@150',
      'DELETED@151',
    ]);
  });

  it('leaves bookmarks off when asked and watches pods at the core path', async () => {
    server()
      .get('/api/v1/namespaces/ml/pods')
      .query({ watch: 'true', allowWatchBookmarks: 'false', labelSelector: 'job-name=j1' })
      .reply(200, line('ADDED', { metadata: { name: 'p1' } }));
    const names: string[] = [];
    await jobs().watchPods('ml', (e) => names.push(e.object.metadata.name ?? ''), {
      labelSelector: 'job-name=j1',
      allowBookmarks: false,
    });
    expect(names).toEqual(['p1']);
  });

  it('resolves when the connection drops mid-stream, after delivering what arrived', async () => {
    server()
      .get(JOBS)
      .query(true)
      .reply(
        200,
        brokenStream(line('ADDED', { metadata: { name: 'j1', resourceVersion: '5' } }), '{"type":"MODI'),
      );
    const events: WatchEvent<Job>[] = [];
    await expect(jobs().watchJobs('ml', (e) => events.push(e), {})).resolves.toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(['ADDED']);
  });

  it('rejects with API_GONE on HTTP 410', async () => {
    server()
      .get(JOBS)
      .query(true)
      .reply(410, status(410, 'Expired', 'too old resource version: 1 (500)'));
    const error = await jobs()
      .watchJobs('ml', () => {}, { resourceVersion: '1' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'API_GONE', status: 410, transient: false });
  });

  it('rejects with API_GONE on an in-stream ERROR event with code 410, after the events before it', async () => {
    server()
      .get(JOBS)
      .query(true)
      .reply(
        200,
        line('ADDED', { metadata: { name: 'j1' } }) +
          line('ERROR', status(410, 'Expired', 'too old resource version: 1 (500)')) +
          line('MODIFIED', { metadata: { name: 'j1' } }),
      );
    const types: string[] = [];
    const error = await jobs()
      .watchJobs('ml', (e) => types.push(e.type), { resourceVersion: '1' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'API_GONE', operation: { verb: 'watch', resource: 'jobs' } });
    expect(types).toEqual(['ADDED']);
  });

  it('classifies other in-stream ERROR events by their code', async () => {
    server()
      .get(JOBS)
      .query(true)
      .reply(200, line('ERROR', status(500, 'InternalError', 'etcd leader changed')));
    const error = await jobs()
      .watchJobs('ml', () => {}, {})
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'API_UNAVAILABLE', transient: true });
  });

  it('stops on abort and rejects with the abort reason', async () => {
    const stream = controlledStream();
    server().get(JOBS).query(true).reply(200, stream.reply);
    const controller = new AbortController();
    const events: string[] = [];
    const watching = jobs().watchJobs(
      'ml',
      (e) => {
        events.push(e.type);
        controller.abort(new Error('executor closed'));
      },
      { signal: controller.signal },
    );
    stream.body.push(line('ADDED', { metadata: { name: 'j1' } }));
    await expect(watching).rejects.toThrow('executor closed');
    expect(events).toEqual(['ADDED']);
  });
});

describe('followPodLog', () => {
  it('calls onLine per line, joining a line split across chunks and flushing the partial last line', async () => {
    const stream = controlledStream();
    server()
      .get(LOG)
      .query({ follow: 'true', container: 'main' })
      .reply(200, stream.reply, { 'Content-Type': 'text/plain' });
    const lines: string[] = [];
    const following = jobs().followPodLog('ml', 'p1', (l) => lines.push(l), { container: 'main' });
    for (const chunk of [
      'epoch 1 lo',
      'ss=0.5\nepoch 2 ',
      'loss=0.3\r\n',
      'caf',
      '\u00e9\n',
      'done without newline',
    ]) {
      stream.body.push(Buffer.from(chunk));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    stream.body.push(null);
    await following;
    expect(lines).toEqual(['epoch 1 loss=0.5', 'epoch 2 loss=0.3', 'café', 'done without newline']);
  });

  it('asks for timestamps and sinceTime, and delivers the stamped lines as sent', async () => {
    server()
      .get(LOG)
      .query({
        follow: 'true',
        container: 'main',
        timestamps: 'true',
        sinceTime: '2026-12-01T20:13:42.123456789Z',
      })
      .reply(200, '2026-12-01T20:13:42.123456789Z again\n2026-12-01T20:13:43.000000001Z new\n');
    const lines: string[] = [];
    await jobs().followPodLog('ml', 'p1', (l) => lines.push(l), {
      container: 'main',
      timestamps: true,
      sinceTime: '2026-12-01T20:13:42.123456789Z',
    });
    expect(lines).toEqual(['2026-12-01T20:13:42.123456789Z again', '2026-12-01T20:13:43.000000001Z new']);
  });

  it('rejects with the classified error when the log cannot be opened', async () => {
    server()
      .get(LOG)
      .query(true)
      .reply(
        400,
        status(400, 'BadRequest', 'container "main" in pod "p1" is waiting to start: ContainerCreating'),
      );
    const error = await jobs()
      .followPodLog('ml', 'p1', () => {}, {})
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'API_INVALID',
      operation: { verb: 'get', resource: 'pods/log', name: 'p1' },
    });
    expect((error as Error).message).toContain('waiting to start');
  });
});

describe('watch events larger than a log line', () => {
  it('delivers an event of 200 KiB whole (log lines are cut at 64 KiB, watch events are not)', async () => {
    const big = 'x'.repeat(200 * 1024);
    server()
      .get(JOBS)
      .query(true)
      .reply(200, line('MODIFIED', { metadata: { name: 'j1', annotations: { big } } }));
    const events: WatchEvent<Job>[] = [];
    await jobs().watchJobs('ml', (e) => events.push(e), {});
    expect(events.map((e) => e.object.metadata.annotations?.big?.length)).toEqual([big.length]);
  });
});
