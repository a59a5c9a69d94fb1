import { describe, expect, it } from 'vitest';
import { ReconnectBackoff } from '../../src/monitor/backoff.js';

function delays(start: ReconnectBackoff, count: number): number[] {
  const out: number[] = [];
  let b = start;
  for (let i = 0; i < count; i++) {
    out.push(b.delayMs);
    b = b.next();
  }
  return out;
}

describe('ReconnectBackoff', () => {
  it('doubles from 1 s and caps at 30 s by default', () => {
    expect(delays(ReconnectBackoff.create(), 8)).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('is immutable: next() and reset() return new values', () => {
    const first = ReconnectBackoff.create({ initialMs: 500, maxMs: 1500 });
    const third = first.next().next();
    expect(first.delayMs).toBe(500);
    expect(third).toMatchObject({ delayMs: 1500, attempt: 2 });
    expect(third.reset()).toMatchObject({ delayMs: 500, attempt: 0 });
    expect(third.delayMs).toBe(1500);
  });

  it('never spins on a zero delay and never caps below the first delay', () => {
    expect(delays(ReconnectBackoff.create({ initialMs: 0 }), 3)).toEqual([1, 2, 4]);
    expect(delays(ReconnectBackoff.create({ initialMs: 5000, maxMs: 1000 }), 2)).toEqual([5000, 5000]);
  });
});
