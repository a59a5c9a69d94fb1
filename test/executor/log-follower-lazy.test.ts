// The lazy follow state of LogFollower (src/executor/log-follower.ts).
import { describe, expect, it } from 'vitest';
import { LogFollower } from '../../src/executor/log-follower.js';
import { initialBlockState } from '../../src/monitor/reduce.js';
import type { BlockState } from '../../src/monitor/types.js';
import { TIMER_STOPPED } from '../../src/ports/clock.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';

function follower(onLog?: () => void) {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock });
  const f = new LogFollower({
    jobClient,
    clock,
    namespace: 'default',
    jobName: 'j',
    container: 'c',
    keepLines: 5,
    ...(onLog ? { onLog } : {}),
  });
  return { clock, jobClient, f };
}

const running = (): BlockState => {
  const state = initialBlockState('j', 0);
  return {
    ...state,
    phase: 'running',
    currentPod: 'j-abc',
    pods: { 'j-abc': { name: 'j-abc', phase: 'Running' } as never },
  } as BlockState;
};

describe('LogFollower without a follow', () => {
  it('finish() with no sink resolves, and a drain timer that rejects later is no unhandled rejection', async () => {
    const { f } = follower();
    const stop = new AbortController();
    const drain = new FakeClock().sleep(1000, stop.signal);
    await f.finish(initialBlockState('j', 0), drain);
    stop.abort(TIMER_STOPPED);
    await new Promise((resolve) => setImmediate(resolve));
    expect(f.completed).toBe(false);
    expect(f.active).toBe(false);
    expect(f.lastLines()).toEqual([]);
  });

  it('no follow starts after abort(), even when no follow ever started before it', async () => {
    const { f, jobClient } = follower(() => undefined);
    await f.abort();
    f.observe(running());
    expect(f.active).toBe(false);
    expect(jobClient.calls.filter((c) => c.method === 'followPodLog')).toEqual([]);
  });

  it('(control) the same observe() without the abort does start a follow', async () => {
    const { f } = follower(() => undefined);
    f.observe(running());
    expect(f.active).toBe(true);
    await f.abort();
  });
});
