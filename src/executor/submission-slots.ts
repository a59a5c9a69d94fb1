/**
 * A bound on the Jobs being submitted at once by one executor (first come, first served). A run builds
 * its Job's body only once it holds a slot, and lets the slot go when the create has been answered: when
 * thousands of blocks start together, only the Jobs being sent exist as bodies, while the others wait as
 * their resolved config (shared, frozen) and name. The client's own rate limit still paces the creates;
 * this only keeps the ones it holds back from being built early.
 */
export class SubmissionSlots {
  private free: number;
  /** The runs waiting, oldest first (a Set keeps its order); a cancelled one leaves it at once. */
  private readonly waiting = new Set<() => void>();

  /** @param limit how many submissions may be in flight at once (at least 1) */
  constructor(limit: number) {
    this.free = Math.max(1, Math.floor(limit));
  }

  /**
   * Resolves with the function that gives the slot back (call it once) when a slot is free; rejects
   * with the reason of the first of `signals` to abort, holding nothing (several signals are listened
   * to directly: a combined signal per wait would be one more object per queued run).
   */
  acquire(...signals: (AbortSignal | undefined)[]): Promise<() => void> {
    const aborted = signals.find((signal) => signal?.aborted);
    if (aborted) return Promise.reject(aborted.reason);
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const stopListening = () => {
        for (const signal of signals) signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (event: Event) => {
        stopListening();
        this.waiting.delete(grant);
        reject((event.target as AbortSignal).reason);
      };
      const grant = () => {
        stopListening();
        resolve(this.releaser());
      };
      // Queued first: a signal that aborts while its listener is added takes the waiter out again.
      this.waiting.add(grant);
      try {
        for (const signal of signals) signal?.addEventListener('abort', onAbort, { once: true });
      } catch (error) {
        // A signal that refuses a listener (its own addEventListener throws): this run does not wait,
        // so no slot is ever granted to it.
        this.waiting.delete(grant);
        try {
          stopListening();
        } catch {
          // nothing more to undo
        }
        throw error;
      }
    });
  }

  /** How many runs wait for a slot now. */
  get queued(): number {
    return this.waiting.size;
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.values().next();
      if (next.done) {
        this.free++;
        return;
      }
      this.waiting.delete(next.value);
      next.value();
    };
  }
}

/**
 * The submissions one executor has in flight at most. Enough that the creates are paced by the client's
 * rate limit, not by this bound, as long as a create takes less than a second at 128 creates/s (the
 * adapter's default qps is 20); small enough that 128 Job bodies are a few hundred KiB.
 */
export const SUBMISSIONS_IN_FLIGHT = 128;
