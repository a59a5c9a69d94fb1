import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/testing/fake-clock.js';

describe('FakeClock', () => {
  it('wakes sleepers in deadline order and records every sleep', async () => {
    const clock = new FakeClock(0);
    const woke: string[] = [];
    void clock.sleep(300).then(() => woke.push(`b@${clock.now()}`));
    void clock.sleep(100).then(() => woke.push(`a@${clock.now()}`));
    await clock.advance(250);
    expect(woke).toEqual(['a@100']);
    expect(clock.now()).toBe(250);
    await clock.advance(100);
    expect(woke).toEqual(['a@100', 'b@300']);
    expect(clock.sleeps).toEqual([300, 100]);
  });

  it('sees sleeps started by a woken sleeper within the same advance', async () => {
    const clock = new FakeClock(0);
    const times: number[] = [];
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(1000);
        times.push(clock.now());
      }
    })();
    await clock.advance(3000);
    expect(times).toEqual([1000, 2000, 3000]);
  });

  it('rejects with the abort reason and forgets the sleeper', async () => {
    const clock = new FakeClock(0);
    const ctl = new AbortController();
    const p = clock.sleep(1000, ctl.signal);
    ctl.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(clock.pendingSleeps).toBe(0);
  });

  it('runAll drains every pending sleep', async () => {
    const clock = new FakeClock(0);
    let done = false;
    void clock.sleep(5000).then(() => {
      done = true;
    });
    await clock.runAll();
    expect(done).toBe(true);
    expect(clock.now()).toBe(5000);
  });
});
