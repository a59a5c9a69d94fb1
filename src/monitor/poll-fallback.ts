import type { Clock } from '../ports/clock.js';

/** What a {@link PollFallback} needs. */
export interface PollFallbackOptions {
  /** Every wait goes through it. */
  clock: Clock;
  /** The period of the polls. */
  intervalMs: number;
  /** One poll (a list through the reflector's diff). */
  poll(signal: AbortSignal): Promise<void>;
  /** Told of each failed poll; polling goes on. */
  onError(error: unknown): void;
}

/**
 * The polling fallback of a watch that keeps failing: lists every `intervalMs` until stopped, while
 * the watch keeps being retried. At most one loop runs at a time.
 */
export class PollFallback {
  private running: AbortController | undefined;

  constructor(private readonly options: PollFallbackOptions) {}

  /** Whether polls are being made. */
  get active(): boolean {
    return this.running !== undefined;
  }

  /** Starts polling (until {@link stop} or `signal`), unless it already runs. */
  start(signal: AbortSignal): void {
    if (this.running) return;
    const running = new AbortController();
    this.running = running;
    void this.loop(AbortSignal.any([signal, running.signal]));
  }

  /** Stops polling. */
  stop(): void {
    this.running?.abort();
    this.running = undefined;
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.options.clock.sleep(this.options.intervalMs, signal);
        await this.options.poll(signal);
      } catch (error) {
        if (signal.aborted) return;
        this.options.onError(error);
      }
    }
  }
}
