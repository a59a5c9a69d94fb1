/**
 * How the hub syncs: a streaming list (watch-list: `sendInitialEvents`) when the JobClient passes it on,
 * falling back to list + watch, for the hub's life, when the server refuses it or ignores it; lists
 * from the watch cache (`resourceVersion=0`) first, the latest state after a 410.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors/api-error.js';
import type { HubEvent } from '../../src/monitor/hub-event.js';
import { STREAMING_LIST_BOUND_MS } from '../../src/monitor/streaming-list.js';
import type { Observation } from '../../src/monitor/types.js';
import { WatchHub, type WatchHubOptions } from '../../src/monitor/watch-hub.js';
import { FakeClock, flushMicrotasks } from '../../src/testing/fake-clock.js';
import type { Job, Pod } from '../../src/types/kube.js';
import { job, NAMESPACE, pod, running, T0 } from './kube-fixtures.js';
import { gone, ScriptedJobClient, type ScriptedWatch } from './scripted-job-client.js';

const S = 1000;

function setup(options: Partial<WatchHubOptions> & { watchList?: boolean } = {}) {
  const clock = new FakeClock(T0);
  const client = new ScriptedJobClient();
  client.supportsWatchList = options.watchList ?? true;
  const events: HubEvent[] = [];
  const hub = new WatchHub({
    jobClient: client,
    clock,
    namespace: NAMESPACE,
    labelSelector: 'app.kubernetes.io/managed-by=k8s-executor',
    silentWatchMs: Number.POSITIVE_INFINITY,
    onHubEvent: (e) => events.push(e),
    ...options,
  });
  return { clock, client, hub, events };
}

function follow(hub: WatchHub, jobName: string) {
  const seen: string[] = [];
  const sub = hub.subscribe(jobName, (o: Observation) =>
    seen.push(
      o.kind === 'job'
        ? `job@${o.job.metadata.resourceVersion}`
        : o.kind === 'pod'
          ? `pod@${o.pod.metadata.resourceVersion}`
          : o.kind,
    ),
  );
  return { seen, sub };
}

const initialEventsEnd = (rv: string) => ({
  metadata: { resourceVersion: rv, annotations: { 'k8s.io/initial-events-end': 'true' } },
});
const plainBookmark = (rv: string) => ({ metadata: { resourceVersion: rv } });
const podOf = (jobName: string, rv: string): Pod =>
  pod({ name: `${jobName}-x`, jobName, created: T0, rv, phase: 'Running', main: running(T0) });

/** Plays a streaming list's initial events and its end on `watch`. */
function serve<T>(watch: ScriptedWatch<T>, objects: T[], rv: string): void {
  for (const object of objects) watch.emit('ADDED', object);
  watch.emit('BOOKMARK', initialEventsEnd(rv) as T);
}

const refused = () =>
  new ApiError(
    'API_INVALID',
    'sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled',
    {
      status: 422,
      operation: { verb: 'watch', resource: 'jobs', group: 'batch', namespace: NAMESPACE },
    },
  );

describe('WatchHub: streaming lists', () => {
  it('syncs with a streaming list per resource, no list, and goes on watching on the same stream', async () => {
    const { client, hub, clock } = setup();
    const f = follow(hub, 'job-1');
    await flushMicrotasks();
    expect(client.calls).toEqual(['watchJobs', 'watchPods']);
    expect(client.jobWatch.options).toMatchObject({
      sendInitialEvents: true,
      resourceVersion: '',
      allowBookmarks: true,
    });

    serve<Job>(client.jobWatch, [job({ name: 'job-1', rv: '90' })], '120');
    expect(f.seen).toEqual([]); // the pods are not synced yet: a Job never comes before its pods
    serve<Pod>(client.podWatch, [podOf('job-1', '95')], '120');
    expect(f.seen).toEqual(['pod@95', 'job@90']);
    client.jobWatch.emit('MODIFIED', job({ name: 'job-1', rv: '121' }));
    expect(f.seen.at(-1)).toBe('job@121');

    // The server ends the stream: resumed as a plain watch from the last version seen.
    client.jobWatch.end();
    await clock.advance(S);
    expect(client.jobWatch.options).toMatchObject({ resourceVersion: '121' });
    expect(client.jobWatch.options.sendInitialEvents).toBeUndefined();
    expect(hub.stats).toMatchObject({ lists: 0, watchLists: 2, watches: 3 });
  });

  it('after a 410, syncs again by streaming list and reports what was deleted meanwhile', async () => {
    const { client, hub } = setup();
    const one = follow(hub, 'job-1');
    const two = follow(hub, 'job-2');
    await flushMicrotasks();
    serve<Job>(client.jobWatch, [job({ name: 'job-1', rv: '90' }), job({ name: 'job-2', rv: '91' })], '100');
    serve<Pod>(client.podWatch, [], '100');
    client.jobWatch.fail(gone());
    await flushMicrotasks();
    expect(client.jobWatch.options.sendInitialEvents).toBe(true);
    serve<Job>(client.jobWatch, [job({ name: 'job-1', rv: '150' })], '160');
    expect(one.seen).toEqual(['job@90', 'job@150']);
    expect(two.seen).toEqual(['job@91', 'job-deleted']);
    expect(client.count('listJobs')).toBe(0);
  });

  it('falls back to list + watch at once when the server refuses it (422), and remembers it', async () => {
    const { client, hub, events } = setup();
    client.watchListRefusal = refused();
    const f = follow(hub, 'job-1');
    client.setJob(job({ name: 'job-1', rv: '90' }));
    await flushMicrotasks();
    expect(client.calls.slice(0, 2)).toEqual(['watchJobs', 'watchPods']);
    expect(client.count('listJobs')).toBe(1);
    expect(client.jobWatches).toHaveLength(1);
    expect(f.seen).toEqual(['job@90']);
    expect(events.filter((e) => e.type === 'watch-list-fallback')).toHaveLength(2);

    // A 410 later: a list, not another streaming list.
    client.jobWatch.fail(gone());
    await flushMicrotasks();
    expect(client.count('listJobs')).toBe(2);
    expect(client.count('watchJobs')).toBe(3);
    expect(client.jobWatch.options.sendInitialEvents).toBeUndefined();
  });

  it('falls back when the server ignores it: a bookmark that does not end the initial events', async () => {
    const { client, hub } = setup();
    follow(hub, 'job-1');
    await flushMicrotasks();
    const ignoring = client.jobWatch;
    ignoring.emit('ADDED', job({ name: 'job-1', rv: '90' }));
    ignoring.emit('BOOKMARK', plainBookmark('100') as Job);
    await flushMicrotasks();
    expect(ignoring.aborted).toBe(true);
    expect(client.count('listJobs')).toBe(1);
    expect(client.jobWatch).not.toBe(ignoring);
    expect(client.jobWatch.options.sendInitialEvents).toBeUndefined();
  });

  it(`falls back when the initial events do not end within ${STREAMING_LIST_BOUND_MS / S} s`, async () => {
    const { client, hub, clock } = setup();
    follow(hub, 'job-1');
    await flushMicrotasks();
    serve<Pod>(client.podWatch, [], '100');
    const silent = client.jobWatch;
    await clock.advance(STREAMING_LIST_BOUND_MS - 1);
    expect(client.count('listJobs')).toBe(0);
    await clock.advance(1);
    expect(silent.aborted).toBe(true);
    expect(client.count('listJobs')).toBe(1);
    // Remembered by the hub: the Pods watch lists too, next time it syncs.
    client.podWatch.fail(gone());
    await flushMicrotasks();
    expect(client.count('listPods')).toBe(1);
  });

  it('a streaming list cut before its end is followed by a list, and streaming is tried again next time', async () => {
    const { client, hub } = setup();
    follow(hub, 'job-1');
    await flushMicrotasks();
    client.jobWatch.emit('ADDED', job({ name: 'job-1', rv: '90' }));
    client.jobWatch.fail(new Error('socket hang up'));
    await flushMicrotasks();
    expect(client.count('listJobs')).toBe(1);
    client.jobWatch.fail(gone());
    await flushMicrotasks();
    expect(client.jobWatch.options.sendInitialEvents).toBe(true);
  });

  it('is never asked of a JobClient that does not pass it on', async () => {
    const { client, hub } = setup({ watchList: false });
    follow(hub, 'job-1');
    await flushMicrotasks();
    expect(client.calls).toEqual(['listJobs', 'listPods', 'watchJobs', 'watchPods']);
    expect(client.jobWatch.options.sendInitialEvents).toBeUndefined();
  });
});

describe('WatchHub: list versions', () => {
  it('lists first from the watch cache (resourceVersion 0), then the latest state after a 410 and in polls', async () => {
    const { client, hub, clock } = setup({ watchList: false, pollIntervalMs: 10 * S });
    follow(hub, 'job-1');
    await flushMicrotasks();
    expect(client.listOptions.map((o) => o.resourceVersion)).toEqual(['0', '0']);
    client.jobWatch.fail(gone());
    await flushMicrotasks();
    expect(client.listOptions.at(-1)?.resourceVersion).toBeUndefined();
    // Three failed watches: polls start, each a list of the latest state.
    for (let i = 0; i < 3; i++) {
      client.jobWatch.fail(new Error('connection refused'));
      await clock.advance(30 * S);
    }
    const polls = client.listOptions.slice(3);
    expect(polls.length).toBeGreaterThan(0);
    expect(polls.every((o) => o.resourceVersion === undefined)).toBe(true);
  });
});
