import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_OPTIONS, ExponentialBackoff } from '../../../src/adapters/client-node/backoff.js';

describe('ExponentialBackoff', () => {
  it('doubles the ceiling from the base up to the cap; the delay is random() times the ceiling', () => {
    let backoff = ExponentialBackoff.first(DEFAULT_RETRY_OPTIONS, () => 0.999);
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      delays.push(backoff.delayMs);
      backoff = backoff.next();
    }
    expect(delays).toEqual([199, 399, 799, 1598, 3196, 6393, 9990, 9990, 9990]);
  });

  it('is full jitter: random() = 0 gives no delay at all', () => {
    expect(
      ExponentialBackoff.first(DEFAULT_RETRY_OPTIONS, () => 0)
        .next()
        .next().delayMs,
    ).toBe(0);
  });

  it('is an immutable value: next() leaves the step it came from unchanged', () => {
    const first = ExponentialBackoff.first({ ...DEFAULT_RETRY_OPTIONS, baseDelayMs: 1000 }, () => 0.5);
    const second = first.next();
    expect([first.retry, first.delayMs]).toEqual([0, 500]);
    expect([second.retry, second.delayMs]).toEqual([1, 1000]);
    expect(first.next().delayMs).toBe(1000);
  });
});
