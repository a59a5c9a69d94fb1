/**
 * The shared watches outlive their last subscriber by `idleTimeoutMs`, so consecutive blocks share
 * them; what a fresh session used to give a new subscriber (a first list that fails fast, the
 * unlistable bound, close()) still holds.
 */
import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/monitor/types.js';
import { WatchHub, type WatchHubOptions, WatchHubs } from '../../src/monitor/watch-hub.js';
import { FakeClock, flushMicrotasks } from '../../src/testing/fake-clock.js';
import { completedJob, job, NAMESPACE, pod, running, T0 } from './kube-fixtures.js';
import { forbidden, gone, ScriptedJobClient, unavailable } from './scripted-job-client.js';

const S = 1000;
const MIN = 60 * S;
const SELECTOR = 'app.kubernetes.io/managed-by=k8s-executor';

function setup(options: Partial<WatchHubOptions> = {}) {
  const clock = new FakeClock(T0);
  const client = new ScriptedJobClient();
  const hub = new WatchHub({
    jobClient: client,
    clock,
    namespace: NAMESPACE,
    labelSelector: SELECTOR,
    silentWatchMs: Number.POSITIVE_INFINITY,
    ...options,
  });
  return { clock, client, hub };
}

function follow(hub: WatchHub, jobName: string) {
  const seen: Observation[] = [];
  const sub = hub.subscribe(jobName, (o) => seen.push(o));
  return { seen, sub, kinds: () => seen.map((o) => o.kind) };
}

const calls = (client: ScriptedJobClient) =>
  ['listJobs', 'listPods', 'watchJobs', 'watchPods'].map((c) => client.count(c));

describe('WatchHub: the watches kept across blocks', () => {
  it('serves the next subscriber from the open watches and the cache, with no new request', async () => {
    const { client, hub, clock } = setup();
    const first = follow(hub, 'job-1');
    await flushMicrotasks();
    client.jobWatch.emit('ADDED', job({ name: 'job-2', rv: '101' }));
    first.sub.dispose();
    await clock.advance(30 * S);

    const second = follow(hub, 'job-2');
    expect(second.kinds()).toEqual(['job']);
    expect(calls(client)).toEqual([1, 1, 1, 1]);
    // Subscribed again: the idle time no longer runs, however long this block takes.
    await clock.advance(10 * MIN);
    expect([client.jobWatch.open, client.podWatch.open]).toEqual([true, true]);
    expect(calls(client)).toEqual([1, 1, 1, 1]);
  });

  it('counts the idle time from the last subscriber that left', async () => {
    const { client, hub, clock } = setup({ idleTimeoutMs: MIN });
    const a = follow(hub, 'job-1');
    await flushMicrotasks();
    a.sub.dispose();
    await clock.advance(50 * S);
    const b = follow(hub, 'job-2');
    b.sub.dispose();
    await clock.advance(50 * S);
    expect(client.jobWatch.open).toBe(true);
    await clock.advance(10 * S);
    expect([client.jobWatch.aborted, client.podWatch.aborted]).toEqual([true, true]);
    expect(hub.sizes.watching).toBe(false);
  });

  it('keeps the cache current while idle: a Job that finished meanwhile is replayed with its pod, pod first', async () => {
    const { client, hub, clock } = setup();
    const a = follow(hub, 'other');
    await flushMicrotasks();
    a.sub.dispose();
    const p = pod({
      name: 'job-1-x',
      jobName: 'job-1',
      created: T0,
      rv: '102',
      phase: 'Running',
      main: running(T0),
    });
    client.podWatch.emit('ADDED', p);
    client.jobWatch.emit('MODIFIED', {
      ...completedJob('103', T0 + S),
      metadata: { ...completedJob('103', T0 + S).metadata, name: 'job-1' },
    });
    // The server ends the watch meanwhile: it is resumed, idle or not.
    client.jobWatch.end();
    await clock.advance(2 * S);
    expect(client.jobWatches).toHaveLength(2);
    expect(client.jobWatch.options.resourceVersion).toBe('103');

    const b = follow(hub, 'job-1');
    expect(b.kinds()).toEqual(['pod', 'job']);
  });

  it('stops at once when the watches never listed: the next subscriber gets a fresh first list', async () => {
    const { client, hub, clock } = setup();
    client.jobListFailures.push(unavailable());
    const a = follow(hub, 'job-1');
    await flushMicrotasks();
    a.sub.dispose();
    expect(client.podWatch.aborted).toBe(true);
    expect(hub.sizes.watching).toBe(false);
    await clock.advance(5 * MIN);
    expect(client.count('listJobs')).toBe(1);
    follow(hub, 'job-2');
    await flushMicrotasks();
    expect(client.count('listJobs')).toBe(2);
  });

  it('close() stops idle watches at once and leaves nothing waiting on the clock', async () => {
    const { client, hub, clock } = setup();
    const a = follow(hub, 'job-1');
    await flushMicrotasks();
    a.sub.dispose();
    expect(clock.pendingSleeps).toBeGreaterThan(0);
    hub.close();
    expect([client.jobWatch.aborted, client.podWatch.aborted]).toEqual([true, true]);
    await flushMicrotasks();
    expect(clock.pendingSleeps).toBe(0);
  });

  it('WatchHubs.close() stops the idle hubs of every namespace', async () => {
    const clock = new FakeClock(T0);
    const client = new ScriptedJobClient();
    const hubs = new WatchHubs({
      jobClient: client,
      clock,
      labelSelector: SELECTOR,
      silentWatchMs: Number.POSITIVE_INFINITY,
    });
    const a = follow(hubs.hub('a'), 'job-1');
    const b = follow(hubs.hub('b'), 'job-1');
    await flushMicrotasks();
    a.sub.dispose();
    b.sub.dispose();
    expect(client.jobWatches.map((w) => w.open)).toEqual([true, true]);
    hubs.close();
    expect(client.jobWatches.map((w) => w.aborted)).toEqual([true, true]);
  });

  it('a new subscriber of a kept session that has been refused every list for the bound is told at once', async () => {
    const { client, hub, clock } = setup({ pollIntervalMs: 10 * S, idleTimeoutMs: 10 * MIN });
    const a = follow(hub, 'job-1');
    await flushMicrotasks();
    a.sub.dispose();
    // The Role goes away while the watches are idle: every Pods list is refused from now on.
    for (let i = 0; i < 100; i++) client.podListFailures.push(forbidden());
    client.podWatch.fail(gone());
    await clock.advance(5 * MIN + 31 * S);
    const b = follow(hub, 'job-2');
    const told = b.seen.filter((o) => o.kind === 'unobservable');
    expect(told).toHaveLength(1);
    expect(String((told[0] as { error: Error }).error.message)).toMatch(
      /Every list of pods in namespace "etl" was refused for 300 s/,
    );
  });

  it('after the idle time, the next session is told at its first refused list (the hub remembers the namespace was listable)', async () => {
    const { client, hub, clock } = setup({ pollIntervalMs: 10 * S });
    const a = follow(hub, 'job-1');
    await flushMicrotasks();
    a.sub.dispose();
    for (let i = 0; i < 100; i++) client.podListFailures.push(forbidden());
    client.podWatch.fail(gone());
    await clock.advance(5 * MIN + 31 * S);
    expect(hub.sizes.watching).toBe(false);
    const b = follow(hub, 'job-2');
    await flushMicrotasks();
    expect(b.kinds()).toEqual(['unobservable']);
  });

  it('holds nothing per block once their follows ended and their Jobs were deleted', async () => {
    const { client, hub } = setup();
    const subs = Array.from({ length: 50 }, (_, i) => follow(hub, `job-${i}`));
    await flushMicrotasks();
    for (let i = 0; i < 50; i++) {
      client.jobWatch.emit('ADDED', job({ name: `job-${i}`, rv: String(200 + 3 * i) }));
      client.podWatch.emit(
        'ADDED',
        pod({
          name: `job-${i}-p`,
          jobName: `job-${i}`,
          created: T0,
          rv: String(201 + 3 * i),
          phase: 'Running',
          main: running(T0),
        }),
      );
    }
    expect(hub.sizes).toMatchObject({ subscribedJobs: 50, cachedJobs: 50, cachedPods: 50 });
    for (const [i, s] of subs.entries()) {
      s.sub.dispose();
      client.podWatch.emit(
        'DELETED',
        pod({
          name: `job-${i}-p`,
          jobName: `job-${i}`,
          created: T0,
          rv: String(400 + 2 * i),
          phase: 'Succeeded',
        }),
      );
      client.jobWatch.emit('DELETED', job({ name: `job-${i}`, rv: String(401 + 2 * i) }));
    }
    expect(hub.sizes).toEqual({ subscribedJobs: 0, cachedJobs: 0, cachedPods: 0, watching: true });
  });
});
