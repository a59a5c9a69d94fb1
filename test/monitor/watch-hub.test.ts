import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/monitor/types.js';
import { type HubEvent, WatchHub, type WatchHubOptions, WatchHubs } from '../../src/monitor/watch-hub.js';
import { FakeClock, flushMicrotasks } from '../../src/testing/fake-clock.js';
import type { Job } from '../../src/types/kube.js';
import { job, NAMESPACE, pod, running, T0 } from './kube-fixtures.js';
import { forbidden, gone, ScriptedJobClient, unavailable } from './scripted-job-client.js';

const SELECTOR = 'app.kubernetes.io/managed-by=k8s-executor';
/** The silent-watch bound of the tests: an hour, so that only the tests about it ever reach it. */
const SILENT_MS = 3_600_000;

/** The clock's sleeps but the silent-watch watchdog's. */
const waits = (clock: FakeClock) => clock.sleeps.filter((ms) => ms !== SILENT_MS);

function setup(options: Partial<WatchHubOptions> = {}) {
  const clock = new FakeClock(T0);
  const client = new ScriptedJobClient();
  const events: HubEvent[] = [];
  const hub = new WatchHub({
    jobClient: client,
    clock,
    namespace: NAMESPACE,
    labelSelector: SELECTOR,
    silentWatchMs: SILENT_MS,
    onHubEvent: (e) => events.push(e),
    ...options,
  });
  return { clock, client, hub, events };
}

function record(hub: WatchHub, jobName: string) {
  const seen: string[] = [];
  const sub = hub.subscribe(jobName, (o) => seen.push(describeObservation(o)));
  return { seen, sub };
}

function describeObservation(o: Observation): string {
  switch (o.kind) {
    case 'job':
      return `job ${o.job.metadata.name}@${o.job.metadata.resourceVersion}`;
    case 'pod':
      return `pod ${o.pod.metadata.name}@${o.pod.metadata.resourceVersion}`;
    case 'pod-deleted':
      return `pod-deleted ${o.podName}`;
    default:
      return o.kind;
  }
}

const namedJob = (name: string, rv: string) => job({ name, rv, uid: `uid-${name}` });
const bookmark = (rv: string): Job => ({ metadata: { resourceVersion: rv } });
const podOf = (jobName: string, name: string, rv: string) =>
  pod({ name, jobName, jobUid: `uid-${jobName}`, created: T0, rv, phase: 'Running', main: running(T0) });

describe('WatchHub: one shared watch', () => {
  it('serves 50 subscribers with one list and one watch per resource', async () => {
    const { client, hub } = setup();
    client.setJob(namedJob('job-7', '90'));
    const subs = Array.from({ length: 50 }, (_, i) => record(hub, `job-${i}`));
    await flushMicrotasks();

    expect(['listJobs', 'watchJobs', 'listPods', 'watchPods'].map((c) => client.count(c))).toEqual([
      1, 1, 1, 1,
    ]);
    expect(client.jobWatch.options).toMatchObject({
      labelSelector: SELECTOR,
      resourceVersion: '100',
      allowBookmarks: true,
      timeoutSeconds: 300,
    });
    client.jobWatch.emit('MODIFIED', namedJob('job-7', '101'));
    client.podWatch.emit('ADDED', podOf('job-7', 'job-7-x2k9d', '102'));
    expect(subs[7]?.seen).toEqual(['job job-7@90', 'job job-7@101', 'pod job-7-x2k9d@102']);
    expect(subs.filter((s) => s.seen.length > 0)).toHaveLength(1);

    // A late subscriber gets the cache at once, without any new call: the pods first, then the Job.
    const late = record(hub, 'job-7');
    expect(late.seen).toEqual(['pod job-7-x2k9d@102', 'job job-7@101']);
    expect(client.calls).toHaveLength(4);
    expect(hub.stats).toEqual({
      lists: 2,
      watches: 2,
      watchLists: 0,
      relists: 0,
      reconnects: 0,
      polls: 0,
      syncs: 0,
    });
  });

  it('keeps both watches for idleTimeoutMs after the last subscriber leaves, then stops them and starts afresh after', async () => {
    const { client, hub, clock } = setup({ idleTimeoutMs: 60_000 });
    const a = record(hub, 'job-1');
    const b = record(hub, 'job-2');
    await flushMicrotasks();

    a.sub.dispose();
    b.sub.dispose();
    b.sub.dispose();
    await clock.advance(59_999);
    expect([client.jobWatch.aborted, client.podWatch.aborted]).toEqual([false, false]);
    await clock.advance(1);
    expect([client.jobWatch.aborted, client.podWatch.aborted]).toEqual([true, true]);
    await clock.advance(600_000);
    expect(client.calls).toHaveLength(4);
    expect(clock.pendingSleeps).toBe(0);
    expect(hub.sizes).toEqual({ subscribedJobs: 0, cachedJobs: 0, cachedPods: 0, watching: false });

    record(hub, 'job-1');
    await flushMicrotasks();
    expect([client.count('listJobs'), client.count('watchJobs')]).toEqual([2, 2]);
  });

  it('with idleTimeoutMs 0, stops both watches with the last subscriber', async () => {
    const { client, hub, clock } = setup({ idleTimeoutMs: 0 });
    const a = record(hub, 'job-1');
    await flushMicrotasks();
    a.sub.dispose();
    expect([client.jobWatch.aborted, client.podWatch.aborted]).toEqual([true, true]);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('a detached dispose works (an abort listener, say), and the same listener subscribed twice is two subscriptions', async () => {
    const { client, hub } = setup({ idleTimeoutMs: 0 });
    const seen: string[] = [];
    const listener = (o: Observation) => seen.push(describeObservation(o));
    const first = hub.subscribe('job-1', listener);
    const { dispose } = hub.subscribe('job-1', listener);
    await flushMicrotasks();
    client.jobWatch.emit('ADDED', namedJob('job-1', '101'));
    expect(seen).toEqual(['job job-1@101', 'job job-1@101']);
    const stop = new AbortController();
    stop.signal.addEventListener('abort', dispose);
    stop.abort();
    client.jobWatch.emit('MODIFIED', namedJob('job-1', '102'));
    expect(seen.slice(2)).toEqual(['job job-1@102']);
    expect(client.jobWatch.aborted).toBe(false);
    first.dispose();
    expect(client.jobWatch.aborted).toBe(true);
  });

  it('reports a throwing subscriber and keeps serving the others', async () => {
    const { client, hub, events } = setup();
    hub.subscribe('job-1', () => {
      throw new Error('subscriber bug');
    });
    const other = record(hub, 'job-1');
    await flushMicrotasks();
    client.jobWatch.emit('ADDED', namedJob('job-1', '101'));
    expect(other.seen).toEqual(['job job-1@101']);
    expect(events.find((e) => e.type === 'error')).toMatchObject({
      resource: 'jobs',
      detail: 'a subscriber threw',
    });
    expect(client.jobWatch.open).toBe(true);
  });

  it('does not tell a subscriber that another one disposed during the same delivery, nor during the first replay', async () => {
    const { client, hub } = setup();
    client.setJob(namedJob('job-1', '90'));
    let second: { seen: string[]; sub: { dispose(): void } } | undefined;
    const first: string[] = [];
    hub.subscribe('job-1', (o) => {
      first.push(describeObservation(o));
      if (o.kind === 'job' && o.job.metadata.resourceVersion === '90') second?.sub.dispose();
    });
    second = record(hub, 'job-1');
    await flushMicrotasks(); // the first sync's replay: the first listener disposes the second
    expect(first).toEqual(['job job-1@90']);
    expect(second.seen).toEqual([]);

    // A watch event: the listener that disposes comes before the one it disposes, which is not told.
    let last: { seen: string[]; sub: { dispose(): void } } | undefined;
    hub.subscribe('job-1', (o) => {
      if (o.kind === 'job' && o.job.metadata.resourceVersion === '101') last?.sub.dispose();
    });
    last = record(hub, 'job-1');
    last.seen.length = 0; // the replay at subscribe
    client.jobWatch.emit('MODIFIED', namedJob('job-1', '101'));
    expect(last.seen).toEqual([]);
    expect(first).toEqual(['job job-1@90', 'job job-1@101']);
  });

  it('survives a listener that closes the hub during its own replay at subscribe', async () => {
    const { client, hub } = setup();
    client.setJob(namedJob('job-1', '90'));
    record(hub, 'job-1');
    await flushMicrotasks();
    const seen: string[] = [];
    const subscribe = () =>
      hub.subscribe('job-1', (o) => {
        seen.push(describeObservation(o));
        if (o.kind === 'job') hub.close(); // executor.close() from onEvent, on the replayed Job
      });
    expect(subscribe).not.toThrow();
    expect(seen).toEqual(['job job-1@90', 'unobservable']);
  });

  it('replays a subscriber made during the first replay once, not twice', async () => {
    const { client, hub } = setup();
    client.setJob(namedJob('job-a', '90'));
    client.setJob(namedJob('job-b', '91'));
    let late: { seen: string[] } | undefined;
    hub.subscribe('job-a', () => {
      late ??= record(hub, 'job-b'); // a block started from onEvent
    });
    record(hub, 'job-b');
    await flushMicrotasks();
    expect(late?.seen).toEqual(['job job-b@91']);
  });

  it('tells nothing more after close, when a listener closed the hub during a delivery', async () => {
    const { client, hub } = setup();
    hub.subscribe('job-1', (o) => {
      if (o.kind === 'job') hub.close();
    });
    const other = record(hub, 'job-1');
    await flushMicrotasks();
    client.jobWatch.emit('ADDED', namedJob('job-1', '101'));
    expect(other.seen).toEqual(['unobservable']);
  });
});

describe('WatchHub: resume, relist, dedupe', () => {
  it('resumes at once from the last resourceVersion after the server ends the watch', async () => {
    const { client, hub, clock } = setup();
    const s = record(hub, 'job-1');
    await flushMicrotasks();
    client.jobWatch.emit('ADDED', namedJob('job-1', '105'));
    client.jobWatch.end();
    await flushMicrotasks();

    expect(client.jobWatches).toHaveLength(2);
    expect(client.jobWatch.options.resourceVersion).toBe('105');
    expect(client.count('listJobs')).toBe(1);
    expect(waits(clock)).toEqual([]);

    // Replayed (same version) and stale (older version) objects are not delivered again.
    client.jobWatch.emit('MODIFIED', namedJob('job-1', '105'));
    client.jobWatch.emit('MODIFIED', namedJob('job-1', '104'));
    expect(s.seen).toEqual(['job job-1@105']);
  });

  it('resumes from the version of a bookmark, which reaches no subscriber', async () => {
    const { client, hub } = setup();
    const s = record(hub, 'job-1');
    await flushMicrotasks();
    client.jobWatch.emit('BOOKMARK', bookmark('250'));
    client.jobWatch.end();
    await flushMicrotasks();
    expect(client.jobWatch.options.resourceVersion).toBe('250');
    expect(s.seen).toEqual([]);
  });

  it('relists on 410 Gone and reports what changed during the gap, deletions included', async () => {
    const { client, hub, clock, events } = setup();
    client.setJob(namedJob('job-a', '10'));
    client.setJob(namedJob('job-b', '11'));
    client.setJob(namedJob('job-d', '12'));
    client.setPod(podOf('job-b', 'job-b-7fz2q', '13'));
    const [a, b, c, d] = ['job-a', 'job-b', 'job-c', 'job-d'].map((name) => record(hub, name));
    await flushMicrotasks();

    // While the watches were away: a changed, b and its pod were deleted, c was created, d is unchanged.
    client.setJob(namedJob('job-a', '50'));
    client.jobs.delete('job-b');
    client.pods.delete('job-b-7fz2q');
    client.setJob(namedJob('job-c', '51'));
    client.listVersion = '60';
    client.jobWatch.fail(gone());
    client.podWatch.fail(gone());
    await flushMicrotasks();

    expect(a?.seen).toEqual(['job job-a@10', 'job job-a@50']);
    // The first sync reaches the subscribers once both caches have it: pods first, then the Job.
    expect(b?.seen).toEqual(['pod job-b-7fz2q@13', 'job job-b@11', 'job-deleted', 'pod-deleted job-b-7fz2q']);
    expect(c?.seen).toEqual(['job job-c@51']);
    expect(d?.seen).toEqual(['job job-d@12']);
    expect(client.jobWatch.options.resourceVersion).toBe('60');
    expect(hub.stats).toMatchObject({ lists: 4, relists: 2, reconnects: 0 });
    expect(waits(clock)).toEqual([]);
    expect(events.filter((e) => e.type === 'relist').map((e) => e.resource)).toEqual(['jobs', 'pods']);
  });

  it('keeps an object that a relist does not know yet but a newer watch event delivered', async () => {
    const { client, hub } = setup();
    const s = record(hub, 'job-1');
    await flushMicrotasks();
    client.jobWatch.emit('ADDED', namedJob('job-1', '150'));
    client.listVersion = '140'; // a lagging cache answered the relist
    client.jobWatch.fail(gone());
    await flushMicrotasks();
    expect(s.seen).toEqual(['job job-1@150']);
  });
});

describe('WatchHub: failures', () => {
  const POLL_MS = 600_000;

  it('waits 1 s doubling to 30 s between failed watches, and resets once events flow', async () => {
    const { client, hub, clock } = setup({ pollIntervalMs: POLL_MS });
    record(hub, 'job-1');
    await flushMicrotasks();
    for (const delay of [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]) {
      client.jobWatch.fail(unavailable());
      await clock.advance(delay);
    }
    client.jobWatch.emit('ADDED', namedJob('job-1', '101'));
    client.jobWatch.fail(unavailable());
    await clock.advance(1000);

    const backoffs = waits(clock).filter((ms) => ms !== POLL_MS);
    expect(backoffs).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 1000]);
    expect(client.jobWatches).toHaveLength(9);
    expect(client.jobWatch.options.resourceVersion).toBe('101');
    expect(client.count('listJobs')).toBe(1);
    expect(hub.stats.reconnects).toBe(8);
  });

  it('retries a failed first list with the backoff', async () => {
    const { client, hub, clock } = setup();
    client.listFailures.push(unavailable());
    record(hub, 'job-1');
    await flushMicrotasks();
    expect(client.count('watchJobs')).toBe(0);
    await clock.advance(1000);
    expect([client.count('listJobs'), client.count('watchJobs')]).toEqual([2, 1]);
  });

  it('backs off when a watch ends at once without events, instead of spinning', async () => {
    const { client, hub, clock } = setup();
    record(hub, 'job-1');
    await flushMicrotasks();
    client.jobWatch.end();
    await flushMicrotasks();
    expect(client.jobWatches).toHaveLength(1);
    expect(waits(clock)).toEqual([1000]);
  });

  it('polls the list after 3 failures, reports a deletion through the diff, and goes back to the watch', async () => {
    const { client, hub, clock, events } = setup({ pollIntervalMs: 10_000 });
    client.setJob(namedJob('job-1', '10'));
    const s = record(hub, 'job-1');
    await flushMicrotasks();
    client.jobWatch.fail(unavailable());
    await clock.advance(1000);
    client.jobWatch.fail(unavailable());
    await clock.advance(2000);
    expect(events.some((e) => e.type === 'poll-fallback')).toBe(false);
    client.jobWatch.fail(unavailable());
    await flushMicrotasks();
    expect(events.filter((e) => e.type === 'poll-fallback')).toHaveLength(1);

    client.jobs.delete('job-1');
    client.listVersion = '200';
    await clock.advance(10_000); // the watch retries at +4 s (and hangs), the poll lists at +10 s
    expect(s.seen).toEqual(['job job-1@10', 'job-deleted']);
    expect(hub.stats.polls).toBe(1);

    client.jobWatch.emit('BOOKMARK', bookmark('201'));
    await clock.advance(60_000);
    expect(hub.stats.polls).toBe(1);
    expect(client.count('listJobs')).toBe(2);
    client.jobWatch.end();
    await flushMicrotasks();
    expect(client.jobWatch.options.resourceVersion).toBe('201');
  });

  it('polls at once after an error that retrying cannot fix (403 on watch), still retrying the watch', async () => {
    const { client, hub, clock } = setup({ pollIntervalMs: 10_000 });
    record(hub, 'job-1');
    await flushMicrotasks();
    client.jobWatch.fail(forbidden());
    await clock.advance(1000);
    client.jobWatch.fail(forbidden());
    await clock.advance(9000);
    expect(hub.stats).toMatchObject({ polls: 1, reconnects: 2 });
    expect(client.count('watchJobs')).toBe(3);
  });
});

describe('WatchHubs', () => {
  it('makes one hub per namespace and closes them all', async () => {
    const clock = new FakeClock(T0);
    const client = new ScriptedJobClient();
    const hubs = new WatchHubs({ jobClient: client, clock, labelSelector: SELECTOR });
    expect(hubs.hub('etl')).toBe(hubs.hub('etl'));
    expect(hubs.hub('ml')).not.toBe(hubs.hub('etl'));
    hubs.hub('etl').subscribe('job-1', () => {});
    hubs.hub('ml').subscribe('job-2', () => {});
    await flushMicrotasks();
    expect(client.count('watchJobs')).toBe(2);
    hubs.close();
    expect(client.jobWatches.every((w) => w.aborted)).toBe(true);
  });
});
