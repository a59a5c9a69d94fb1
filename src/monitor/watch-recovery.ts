import type { Clock } from '../ports/clock.js';
import { ReconnectBackoff, type ReconnectBackoffOptions } from './backoff.js';
import type { HubEvent, ReflectorStat } from './hub-event.js';
import { isTransient } from './list-health.js';
import { PollFallback } from './poll-fallback.js';

/** Consecutive watch failures after which lists are polled while the watch keeps retrying. */
const FAILURES_BEFORE_POLLING = 3;

/** What a {@link WatchRecovery} needs. */
export interface WatchRecoveryOptions {
  /** Every wait goes through it. */
  clock: Clock;
  /** The reconnect backoff. */
  reconnect: ReconnectBackoffOptions;
  /** The period of the polling fallback. */
  pollIntervalMs: number;
  /** One poll: a list through the reflector's diff. */
  poll(signal: AbortSignal): Promise<void>;
  /** Told of each failed poll; polling goes on. */
  onPollError(error: unknown): void;
  /** Receives diagnostics (without the resource, which the reflector adds). */
  report(event: Omit<HubEvent, 'resource'>): void;
  /** Bumps a counter. */
  count(stat: ReflectorStat): void;
}

/**
 * How a reflector's failing watch recovers: the reconnect backoff (reset once the watch works), a
 * second 410 in a row waited out, and the polling fallback after {@link FAILURES_BEFORE_POLLING}
 * failures in a row or an error that retrying cannot fix (403), until the watch works again.
 */
export class WatchRecovery {
  private backoff: ReconnectBackoff;
  private failures = 0;
  private goneInARow = 0;
  private readonly polls: PollFallback;

  constructor(private readonly options: WatchRecoveryOptions) {
    this.backoff = ReconnectBackoff.create(options.reconnect);
    this.polls = new PollFallback({
      clock: options.clock,
      intervalMs: options.pollIntervalMs,
      poll: (signal) => {
        options.count('polls');
        return options.poll(signal);
      },
      onError: (error) => options.onPollError(error),
    });
  }

  /** A watch or list failed: report it, poll when it is time to, wait the backoff. */
  async failed(error: unknown, signal: AbortSignal): Promise<void> {
    this.failures++;
    this.options.report({ type: 'error', detail: `failure ${this.failures} in a row`, error });
    if (!this.polls.active && (this.failures >= FAILURES_BEFORE_POLLING || !isTransient(error))) {
      this.options.report({
        type: 'poll-fallback',
        detail: `listing every ${this.options.pollIntervalMs} ms`,
      });
      this.polls.start(signal);
    }
    await this.waitBackoff(signal, `after failure ${this.failures}`);
  }

  /** 410 Gone: the caller relists at once; a second 410 in a row backs off first. */
  async gone(signal: AbortSignal): Promise<void> {
    this.goneInARow++;
    if (this.goneInARow > 1) await this.waitBackoff(signal, '410 Gone again right after a relist');
  }

  /** Waits the backoff, which then doubles. */
  async waitBackoff(signal: AbortSignal, why: string): Promise<void> {
    const delay = this.backoff.delayMs;
    this.backoff = this.backoff.next();
    this.options.count('reconnects');
    this.options.report({ type: 'reconnect-wait', detail: `${delay} ms, ${why}` });
    await this.options.clock.sleep(delay, signal);
  }

  /** The watch works: forget failures, stop polling. */
  healthy(): void {
    this.backoff = this.backoff.reset();
    this.failures = 0;
    this.goneInARow = 0;
    this.polls.stop();
  }

  /** Stops polling (the reflector stops). */
  stop(): void {
    this.polls.stop();
  }
}
