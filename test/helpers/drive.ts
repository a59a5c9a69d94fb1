import type { FakeClock } from '../../src/testing/fake-clock.js';

/**
 * Advances the fake clock in steps until `work` settles (or `maxMs` of fake time passed), so code that
 * waits on the clock (scripted pods, timeouts, retry delays) makes progress without real waiting.
 */
export async function drive<T>(
  clock: FakeClock,
  work: Promise<T>,
  stepMs = 250,
  maxMs = 3_600_000,
): Promise<T> {
  let settled = false;
  const tracked = work.finally(() => {
    settled = true;
  });
  tracked.catch(() => undefined);
  for (let waited = 0; !settled && waited <= maxMs; waited += stepMs) {
    await clock.advance(stepMs);
  }
  if (!settled) throw new Error(`work did not settle within ${maxMs} ms of fake time`);
  return tracked;
}
