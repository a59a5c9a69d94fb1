import type { Clock } from '../ports/clock.js';

interface Sleeper {
  wakeAt: number;
  seq: number;
  resolve: () => void;
}

/**
 * A clock that only moves when told to. `sleep()` resolves when {@link FakeClock.advance} (or
 * {@link FakeClock.runAll}) moves time past its deadline; every requested sleep is recorded in
 * {@link FakeClock.sleeps} so tests can assert backoff sequences exactly.
 *
 * @example
 * const clock = new FakeClock();
 * const executor = new K8sBlockExecutor({ configSource, jobClient, clock });
 * const result = await runUntil(clock, executor.execute(run));
 */
export class FakeClock implements Clock {
  /** Every duration passed to `sleep()`, in call order. */
  readonly sleeps: number[] = [];
  private current: number;
  private pending: Sleeper[] = [];
  private seq = 0;

  /** @param start the initial time, in ms since the epoch. @default 1_700_000_000_000 */
  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  /** The fake current time. */
  now(): number {
    return this.current;
  }

  /** Resolves when the fake time reaches now + ms; rejects with `signal.reason` on abort. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        wakeAt: this.current + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.pending = this.pending.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.push(sleeper);
    });
  }

  /** How many sleeps are waiting. */
  get pendingSleeps(): number {
    return this.pending.length;
  }

  /**
   * Moves time forward by `ms`, waking sleepers in deadline order. Between wake-ups it lets promise
   * callbacks run, so work started by one wake-up (a new sleep, say) is seen before time moves on.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.current = Math.max(this.current, next.wakeAt);
      this.pending = this.pending.filter((s) => s !== next);
      next.resolve();
      await flushMicrotasks();
    }
    this.current = target;
    await flushMicrotasks();
  }

  /** Advances to the next pending sleep's deadline (if any) and wakes it. Returns false when none is pending. */
  async tick(): Promise<boolean> {
    await flushMicrotasks();
    const next = this.nextDue(Number.POSITIVE_INFINITY);
    if (!next) return false;
    await this.advance(next.wakeAt - this.current);
    return true;
  }

  /** Keeps advancing to the next deadline until nothing sleeps or `maxSteps` wake-ups happened. */
  async runAll(maxSteps = 10_000): Promise<void> {
    for (let i = 0; i < maxSteps; i++) {
      if (!(await this.tick())) return;
    }
    throw new Error(`FakeClock.runAll: still sleeping after ${maxSteps} steps (a loop that never ends?)`);
  }

  private nextDue(limit: number): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.pending) {
      if (s.wakeAt > limit) continue;
      if (!best || s.wakeAt < best.wakeAt || (s.wakeAt === best.wakeAt && s.seq < best.seq)) best = s;
    }
    return best;
  }
}

/** Lets queued promise callbacks (and one macrotask turn) run. */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
