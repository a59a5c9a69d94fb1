import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { timeLimit } from '../../../src/adapters/client-node/time-limit.js';

describe('timeLimit (the time limit of one request)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('aborts with a TimeoutError, as AbortSignal.timeout does, once the time is over', () => {
    const { signal } = timeLimit(30_000);
    vi.advanceTimersByTime(29_999);
    expect(signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).name).toBe('TimeoutError');
  });

  it("aborts with the caller's reason when the caller's signal aborts first", () => {
    const caller = new AbortController();
    const { signal } = timeLimit(30_000, caller.signal);
    const reason = new Error('cancelled');
    caller.abort(reason);
    expect(signal.reason).toBe(reason);
  });

  it('starts aborted when the caller already is, with its reason', () => {
    const reason = new Error('gone');
    expect(timeLimit(30_000, AbortSignal.abort(reason)).signal.reason).toBe(reason);
  });

  it('once disposed (the request is over), holds nothing: no timer, no listener on the caller', () => {
    const caller = new AbortController();
    const limit = timeLimit(30_000, caller.signal);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(1);
    limit.dispose();
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
    caller.abort();
    vi.advanceTimersByTime(60_000);
    expect(limit.signal.aborted).toBe(false);
  });
});
