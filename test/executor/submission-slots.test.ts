import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SubmissionSlots } from '../../src/executor/submission-slots.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Gives `signal` an own `addEventListener` (a caller's tampered signal). */
function withOwnAddEventListener(signal: AbortSignal, add: AbortSignal['addEventListener']): AbortSignal {
  return Object.defineProperty(signal, 'addEventListener', { value: add });
}

/** The slot `release` gives back goes to the next waiter: nothing was left holding it. */
async function expectNextGranted(slots: SubmissionSlots, release: () => void): Promise<void> {
  const next = slots.acquire();
  release();
  await expect(next).resolves.toBeTypeOf('function');
}

describe('SubmissionSlots', () => {
  it('grants up to its limit at once, then one per release, oldest first', async () => {
    const slots = new SubmissionSlots(2);
    const granted: number[] = [];
    const releases = new Map<number, () => void>();
    for (const i of [0, 1, 2, 3, 4]) {
      void slots.acquire().then((release) => {
        granted.push(i);
        releases.set(i, release);
      });
    }
    await tick();
    expect(granted).toEqual([0, 1]);
    expect(slots.queued).toBe(3);
    releases.get(1)!();
    releases.get(1)!(); // a second release of the same slot gives nothing back
    await tick();
    expect(granted).toEqual([0, 1, 2]);
    releases.get(0)!();
    await tick();
    expect(granted).toEqual([0, 1, 2, 3]);
    expect(slots.queued).toBe(1);
  });

  it('a waiter whose signal refuses a listener is rejected and never queued: the next release goes on', async () => {
    const slots = new SubmissionSlots(1);
    const first = await slots.acquire();
    const fine = new AbortController();
    const refusing = withOwnAddEventListener(new AbortController().signal, () => {
      throw new Error('listener refused');
    });
    await expect(slots.acquire(fine.signal, refusing)).rejects.toThrow('listener refused');
    expect(slots.queued).toBe(0);
    expect(getEventListeners(fine.signal, 'abort')).toHaveLength(0); // the listener it did add is gone
    await expectNextGranted(slots, first);
  });

  it('a waiter whose signal aborts while its listener is added is rejected and not left queued', async () => {
    const slots = new SubmissionSlots(1);
    const first = await slots.acquire();
    const cancel = new AbortController();
    const realAdd = cancel.signal.addEventListener.bind(cancel.signal);
    withOwnAddEventListener(cancel.signal, (...args: Parameters<AbortSignal['addEventListener']>) => {
      realAdd(...args);
      cancel.abort(new Error('aborted at once'));
    });
    await expect(slots.acquire(cancel.signal)).rejects.toThrow('aborted at once');
    expect(slots.queued).toBe(0);
    await expectNextGranted(slots, first);
  });

  it('a waiter whose signal aborts is rejected with its reason, holds nothing, and is skipped', async () => {
    const slots = new SubmissionSlots(1);
    const first = await slots.acquire();
    const cancel = new AbortController();
    const cancelled = slots.acquire(cancel.signal);
    const next = slots.acquire();
    cancel.abort(new Error('stop'));
    await expect(cancelled).rejects.toThrow('stop');
    expect(slots.queued).toBe(1);
    first();
    const release = await next;
    release();
    // All free again: two acquires in a row get one at once, the second waits.
    const again = await slots.acquire();
    let waited = false;
    void slots.acquire().then(() => {
      waited = true;
    });
    await tick();
    expect(waited).toBe(false);
    again();
    await tick();
    expect(waited).toBe(true);
  });

  it('waits under several signals: the first to abort ends the wait with its reason, and leaves no listener', async () => {
    const slots = new SubmissionSlots(1);
    const held = await slots.acquire();
    const closed = new AbortController();
    const cancel = new AbortController();
    const waiting = slots.acquire(closed.signal, undefined, cancel.signal);
    expect(getEventListeners(closed.signal, 'abort')).toHaveLength(1);
    cancel.abort(new Error('Ctrl-C'));
    await expect(waiting).rejects.toThrow('Ctrl-C');
    expect(slots.queued).toBe(0);
    expect(getEventListeners(closed.signal, 'abort')).toHaveLength(0);
    // A grant, too, stops listening.
    const next = slots.acquire(closed.signal);
    held();
    (await next)();
    expect(getEventListeners(closed.signal, 'abort')).toHaveLength(0);
  });

  it('an aborted signal is refused at once', async () => {
    const slots = new SubmissionSlots(1);
    await expect(slots.acquire(AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
    expect(slots.queued).toBe(0);
  });

  it('under steady contention (a queue that never empties) it holds only the runs still waiting', async () => {
    const slots = new SubmissionSlots(1);
    let held = await slots.acquire();
    let waiting = slots.acquire(new AbortController().signal);
    for (let i = 0; i < 5_000; i++) {
      const next = slots.acquire(new AbortController().signal);
      held();
      held = await waiting;
      waiting = next;
    }
    const internal = slots as unknown as { waiting: Set<unknown> };
    expect(slots.queued).toBe(1);
    expect(internal.waiting.size).toBe(1);
    held();
    (await waiting)();
  });
});
