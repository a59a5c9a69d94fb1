/**
 * Bounds beyond setTimeout's range (2^31-1 ms, 24.8 days): e.g. `suspendedTimeoutMs: 30 days` for a
 * Kueue queue that may hold Jobs for weeks. Node fires a longer timeout after 1 ms, so a follow would
 * re-arm in a ~1 ms loop for as long as the block waits.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { followJob } from '../../src/monitor/follow-job.js';
import { defaultMonitorPolicy } from '../../src/monitor/reduce.js';
import { WatchHub } from '../../src/monitor/watch-hub.js';
import { type Clock, MAX_TIMER_MS, systemClock } from '../../src/ports/clock.js';
import type { JobClient } from '../../src/ports/job-client.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import type { Job } from '../../src/types/kube.js';

const DAY = 24 * 3_600_000;

const suspended: Job = {
  metadata: {
    name: 'j',
    namespace: 'default',
    uid: 'u1',
    resourceVersion: '5',
    labels: { 'app.kubernetes.io/managed-by': 'k8s-executor' },
  },
  spec: { suspend: true, template: { spec: { containers: [{ name: 'c', image: 'x' }] } } },
  status: {},
};
const untilAborted = (signal?: AbortSignal) =>
  new Promise<void>((_r, reject) =>
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true }),
  );
const client = {
  listJobs: async () => ({ items: [suspended], resourceVersion: '5' }),
  listPods: async () => ({ items: [], resourceVersion: '5' }),
  watchJobs: (_n: string, _e: unknown, o: { signal?: AbortSignal }) => untilAborted(o.signal),
  watchPods: (_n: string, _e: unknown, o: { signal?: AbortSignal }) => untilAborted(o.signal),
} as unknown as JobClient;

afterEach(() => {
  vi.useRealTimers();
});

describe('bounds beyond setTimeout range', () => {
  it('a follow does not spin while a Job waits for a bound weeks away (real timers, 100 ms)', async () => {
    let sleeps = 0;
    let longSleeps = 0;
    const clock: Clock = {
      now: systemClock.now,
      sleep: (ms, s) => {
        sleeps++;
        if (ms > MAX_TIMER_MS) longSleeps++;
        return systemClock.sleep(ms, s);
      },
    };
    const hub = new WatchHub({ jobClient: client, clock, namespace: 'default', labelSelector: '' });
    const stop = new AbortController();
    const follow = followJob({
      hub,
      jobName: 'j',
      clock,
      policy: { ...defaultMonitorPolicy, suspendedTimeoutMs: 30 * DAY },
      submittedAt: clock.now(),
      signal: stop.signal,
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    stop.abort(new Error('end of test'));
    await follow;
    hub.close();
    expect(longSleeps).toBeLessThan(3);
    expect(sleeps).toBeLessThan(10);
  });

  it('a follow sleeps a far bound in chunks and ends the block exactly at it', async () => {
    const clock = new FakeClock();
    const hub = new WatchHub({ jobClient: client, clock, namespace: 'default', labelSelector: '' });
    const start = clock.now();
    const follow = followJob({
      hub,
      jobName: 'j',
      clock,
      policy: { ...defaultMonitorPolicy, suspendedTimeoutMs: 30 * DAY },
      submittedAt: start,
    });
    for (let day = 0; day < 31; day++) await clock.advance(DAY);
    const state = await follow;
    hub.close();
    expect(state).toMatchObject({ phase: 'failed', reason: 'UNSCHEDULABLE', finishedAt: start + 30 * DAY });
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(MAX_TIMER_MS);
  });

  it('systemClock sleeps a delay beyond 2^31-1 ms in chunks instead of firing after 1 ms', async () => {
    vi.useFakeTimers({ now: 0 });
    let woke = false;
    void systemClock.sleep(30 * DAY).then(() => {
      woke = true;
    });
    await vi.advanceTimersByTimeAsync(DAY);
    expect(woke).toBe(false);
    await vi.advanceTimersByTimeAsync(28 * DAY);
    expect(woke).toBe(false);
    await vi.advanceTimersByTimeAsync(DAY);
    expect(woke).toBe(true);
    expect(Date.now()).toBe(30 * DAY);
  });

  it('systemClock rejects at once with the reason when aborted during a chunked sleep', async () => {
    vi.useFakeTimers({ now: 0 });
    const stop = new AbortController();
    const sleeping = systemClock.sleep(60 * DAY, stop.signal);
    await vi.advanceTimersByTimeAsync(40 * DAY);
    stop.abort(new Error('stopped'));
    await expect(sleeping).rejects.toThrow('stopped');
    expect(vi.getTimerCount()).toBe(0);
  });
});
