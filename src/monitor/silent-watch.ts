import type { Clock } from '../ports/clock.js';

/**
 * Aborts `silence` once `heardAt()` (the time of the last event or bookmark) is `silentMs` old, checking
 * only when that could first be true; returns when `stop` aborts. Never rejects.
 */
export async function abortWhenSilent(
  clock: Clock,
  silentMs: number,
  heardAt: () => number,
  silence: AbortController,
  stop: AbortSignal,
): Promise<void> {
  try {
    for (;;) {
      const quietMs = clock.now() - heardAt();
      if (quietMs >= silentMs) {
        silence.abort(new Error(`the watch was silent for ${quietMs} ms`));
        return;
      }
      await clock.sleep(silentMs - quietMs, stop);
    }
  } catch {
    // Stopped: the watch ended first.
  }
}
