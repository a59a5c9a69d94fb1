import { type FakeClock, flushMicrotasks } from './fake-clock.js';

/** Bounds of {@link runUntil}. */
export interface RunUntilOptions {
  /** Gives up once the fake time moved this far. @default 3_600_000 (one hour) */
  timeoutMs?: number;
  /** Gives up after this many steps. @default 100_000 */
  maxSteps?: number;
  /**
   * Moves time by this much per step instead of jumping to the next sleep's deadline: for code that
   * reads `now()` without sleeping.
   */
  stepMs?: number;
  /**
   * Real macrotask turns to wait, when nothing sleeps on the clock, for work that is not on it (a
   * socket, a child process) before giving up. @default 200
   */
  maxIdleTurns?: number;
}

/**
 * Advances `clock` until `promise` settles, then returns its value (or throws its error): the loop a
 * test would write by hand (`while (!done) await clock.advance(...)`), bounded. Each step jumps to
 * the next pending sleep's deadline, so a run that waits minutes of fake time takes milliseconds;
 * promise callbacks run between steps. It rejects with a message saying why when the promise is still
 * pending after `timeoutMs` of fake time or `maxSteps` steps, or when nothing sleeps on the clock and
 * the promise waits on something else.
 *
 * @example
 * const clock = new FakeClock();
 * const jobClient = new InMemoryJobClient({ clock, scripts: { 'mage-data-prep-block-1': [{ pendingMs: 2_000, runMs: 30_000 }] } });
 * const executor = new K8sBlockExecutor({ configSource, jobClient, clock });
 * const result = await runUntil(clock, executor.execute({ pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 1, blockRunId: 1 }));
 * result.status; // 'succeeded', after 32 s of fake time and no real waiting
 */
export async function runUntil<T>(
  clock: FakeClock,
  promise: Promise<T>,
  options: RunUntilOptions = {},
): Promise<T> {
  const { timeoutMs = 3_600_000, maxSteps = 100_000, stepMs, maxIdleTurns = 200 } = options;
  let settled = false;
  const watched = promise.then(
    (value) => {
      settled = true;
      return value;
    },
    (error: unknown) => {
      settled = true;
      throw error;
    },
  );
  // The caller sees the rejection through the returned promise; until then it is not "unhandled".
  watched.catch(() => undefined);
  const start = clock.now();
  let idle = 0;
  for (let step = 0; ; step++) {
    await flushMicrotasks();
    if (settled) return watched;
    const elapsed = clock.now() - start;
    if (elapsed >= timeoutMs) {
      throw new Error(
        `runUntil: still pending after ${elapsed} ms of fake time (timeoutMs ${timeoutMs}); ${clock.pendingSleeps} sleep(s) waiting`,
      );
    }
    if (step >= maxSteps) {
      throw new Error(
        `runUntil: still pending after ${maxSteps} steps (${elapsed} ms of fake time): a loop that never ends?`,
      );
    }
    if (stepMs !== undefined) {
      await clock.advance(Math.min(stepMs, timeoutMs - elapsed));
      continue;
    }
    if (await clock.tick()) {
      idle = 0;
      continue;
    }
    if (++idle > maxIdleTurns) {
      throw new Error(
        'runUntil: nothing sleeps on the clock and the promise is still pending: it waits on something the FakeClock does not drive (real IO, a real timer, a promise nobody settles)',
      );
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
}
