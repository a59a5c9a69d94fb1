import { isK8sExecutorError } from '../errors/base.js';
import type { Clock } from '../ports/clock.js';
import type { ListResult } from '../ports/job-client.js';
import type { ObjectMeta, WatchEvent } from '../types/kube.js';
import { ReconnectBackoff, type ReconnectBackoffOptions } from './backoff.js';
import { isTransient, type ListHealth, type Unlistable } from './list-health.js';
import { PollFallback } from './poll-fallback.js';
import { isNewerVersion } from './resource-version.js';
import { abortWhenSilent } from './silent-watch.js';

/** Something the hub reports about its watches. Never thrown: the hub keeps going. */
export interface HubEvent {
  /**
   * What happened: a list done, a watch started or ended, a watch silent past `silentWatchMs` (stopped
   * and resumed), a 410 relist, a backoff wait, polling started, an error.
   */
  type:
    | 'listed'
    | 'watch-started'
    | 'watch-ended'
    | 'watch-silent'
    | 'relist'
    | 'reconnect-wait'
    | 'poll-fallback'
    | 'error';
  /** Which of the two shared watches. */
  resource: 'jobs' | 'pods';
  /** One line for a log. */
  detail?: string;
  /** The error, for `error` events. */
  error?: unknown;
}

/** A change of one cached object. */
export type CacheChange<T> = { type: 'upsert'; object: T } | { type: 'delete'; object: T };

/** The counters a reflector bumps. */
export type ReflectorStat = 'lists' | 'watches' | 'relists' | 'reconnects' | 'polls';

/** What a {@link Reflector} needs. */
export interface ReflectorOptions<T extends { metadata: ObjectMeta }> {
  /** Named in every {@link HubEvent}. */
  resource: 'jobs' | 'pods';
  /** Every wait goes through it. */
  clock: Clock;
  /** Lists the objects (with their collection's resourceVersion). */
  list(signal: AbortSignal): Promise<ListResult<T>>;
  /** Watches from `resourceVersion`; resolves when the server ends the stream. */
  watch(onEvent: (event: WatchEvent<T>) => void, resourceVersion: string, signal: AbortSignal): Promise<void>;
  /** The reconnect backoff. */
  reconnect: ReconnectBackoffOptions;
  /** The period of the polling fallback. */
  pollIntervalMs: number;
  /** A watch that delivers no event and no bookmark this long is treated as broken and resumed. */
  silentWatchMs: number;
  /** Whether the resource can be listed, kept across sessions: decides when a failed list is final. */
  listHealth: ListHealth;
  /** Receives each change of the cache once. Must not throw. */
  onChange(change: CacheChange<T>): void;
  /** Receives diagnostics. */
  onHubEvent(event: HubEvent): void;
  /** Bumps a counter. */
  count(stat: ReflectorStat): void;
  /**
   * Told when listing fails in a way retrying cannot fix (401/403/404) from the first list, or for
   * the list health's whole bound: nothing can be observed. Told again on each such failure after.
   */
  onUnlistable(error: unknown, why: Unlistable): void;
}

/** Consecutive watch failures after which lists are polled while the watch keeps retrying. */
const FAILURES_BEFORE_POLLING = 3;

/** A watch that ends normally sooner than this without any event is treated as a failure (no hot loop). */
const MIN_HEALTHY_WATCH_MS = 1000;

/**
 * Keeps a cache of one resource in step with the API server, client-go reflector style, and reports
 * each change once:
 *
 * - list (remember its resourceVersion) → watch from it, with bookmarks;
 * - normal end of a watch (server timeout, dropped connection), or a watch silent (no event, no
 *   bookmark) for `silentWatchMs` → watch again at once from the last resourceVersion seen (event or
 *   bookmark);
 * - a failed list → list again after the reconnect backoff; see {@link ListHealth} for when the
 *   follows are told that the namespace cannot be observed;
 * - error → wait the reconnect backoff (reset once events flow), then watch again;
 * - 410 Gone → list again and diff against the cache: what changed and what was deleted during the
 *   gap is reported;
 * - {@link FAILURES_BEFORE_POLLING} failures in a row, or an error that retrying cannot fix (403) →
 *   also list every `pollIntervalMs` through the same diff, until the watch works again.
 *
 * Objects are deduplicated by resourceVersion, so replays and relists never report a stale object.
 */
export class Reflector<T extends { metadata: ObjectMeta }> {
  private readonly cache = new Map<string, T>();
  private resourceVersion: string | undefined;
  private backoff: ReconnectBackoff;
  private failures = 0;
  private goneInARow = 0;
  private eventsInWatch = 0;
  private heardAt = 0;
  private readonly polls: PollFallback;

  constructor(private readonly options: ReflectorOptions<T>) {
    this.backoff = ReconnectBackoff.create(options.reconnect);
    this.polls = new PollFallback({
      clock: options.clock,
      intervalMs: options.pollIntervalMs,
      poll: (signal) => {
        options.count('polls');
        return this.list(signal);
      },
      onError: (error) => {
        this.report({ type: 'error', detail: 'poll failed', error });
        this.listFailed(error);
      },
    });
  }

  /** The cached object of that name. */
  get(name: string): T | undefined {
    return this.cache.get(name);
  }

  /** Every cached object. */
  values(): IterableIterator<T> {
    return this.cache.values();
  }

  /** Lists and watches until `signal` aborts. Never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    try {
      await this.loop(signal);
    } catch (error) {
      if (!signal.aborted) this.report({ type: 'error', detail: 'the watch loop stopped', error });
    } finally {
      this.polls.stop();
    }
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.resourceVersion === undefined) {
        try {
          await this.list(signal);
        } catch (error) {
          if (signal.aborted) return;
          this.listFailed(error);
          await this.failed(error, signal);
          continue;
        }
      }
      await this.watchOnce(this.resourceVersion ?? '', signal);
    }
  }

  private async watchOnce(from: string, signal: AbortSignal): Promise<void> {
    const started = this.options.clock.now();
    this.eventsInWatch = 0;
    this.heardAt = started;
    this.options.count('watches');
    this.report({ type: 'watch-started', detail: `from resourceVersion ${from}` });
    const silence = new AbortController();
    const stopWatchdog = new AbortController();
    void abortWhenSilent(
      this.options.clock,
      this.options.silentWatchMs,
      () => this.heardAt,
      silence,
      AbortSignal.any([signal, stopWatchdog.signal]),
    );
    try {
      await this.options.watch(
        (event) => this.onWatchEvent(event, signal),
        from,
        AbortSignal.any([signal, silence.signal]),
      );
    } catch (error) {
      if (signal.aborted) return;
      if (silence.signal.aborted) {
        // No event and no bookmark for too long: the connection is dead without saying so. Resume.
        this.report({
          type: 'watch-silent',
          detail: `no event or bookmark for ${this.options.silentWatchMs} ms`,
        });
        return;
      }
      if (isGone(error)) {
        await this.gone(signal);
        return;
      }
      await this.failed(error, signal);
      return;
    } finally {
      stopWatchdog.abort();
    }
    if (signal.aborted) return;
    this.report({ type: 'watch-ended', detail: `after ${this.eventsInWatch} events` });
    if (this.eventsInWatch === 0 && this.options.clock.now() - started < MIN_HEALTHY_WATCH_MS) {
      await this.waitBackoff(signal, 'the watch ended at once without events');
      return;
    }
    this.healthy();
  }

  private onWatchEvent(event: WatchEvent<T>, signal: AbortSignal): void {
    if (signal.aborted) return;
    this.heardAt = this.options.clock.now();
    this.eventsInWatch++;
    this.healthy();
    const version = event.object.metadata.resourceVersion;
    if (event.type === 'DELETED') this.remove(event.object);
    else if (event.type !== 'BOOKMARK') this.upsert(event.object);
    if (version) this.resourceVersion = version;
  }

  /** 410: the resourceVersion is too old. Relist at once; a second 410 in a row backs off first. */
  private async gone(signal: AbortSignal): Promise<void> {
    this.options.count('relists');
    this.report({ type: 'relist', detail: `resourceVersion ${this.resourceVersion} is too old (410 Gone)` });
    this.resourceVersion = undefined;
    this.goneInARow++;
    if (this.goneInARow > 1) await this.waitBackoff(signal, '410 Gone again right after a relist');
  }

  private async failed(error: unknown, signal: AbortSignal): Promise<void> {
    this.failures++;
    this.report({ type: 'error', detail: `failure ${this.failures} in a row`, error });
    if (!this.polls.active && (this.failures >= FAILURES_BEFORE_POLLING || !isTransient(error))) {
      this.report({ type: 'poll-fallback', detail: `listing every ${this.options.pollIntervalMs} ms` });
      this.polls.start(signal);
    }
    await this.waitBackoff(signal, `after failure ${this.failures}`);
  }

  private async waitBackoff(signal: AbortSignal, why: string): Promise<void> {
    const delay = this.backoff.delayMs;
    this.backoff = this.backoff.next();
    this.options.count('reconnects');
    this.report({ type: 'reconnect-wait', detail: `${delay} ms, ${why}` });
    await this.options.clock.sleep(delay, signal);
  }

  /** The watch works: forget failures, stop polling. */
  private healthy(): void {
    this.backoff = this.backoff.reset();
    this.failures = 0;
    this.goneInARow = 0;
    this.polls.stop();
  }

  /** Tells the follows when a failed list makes the resource unobservable (see {@link ListHealth}). */
  private listFailed(error: unknown): void {
    const why = this.options.listHealth.failed(error, this.options.clock.now());
    if (why) this.options.onUnlistable(error, why);
  }

  /** Lists and diffs the result against the cache. */
  private async list(signal: AbortSignal): Promise<void> {
    this.options.count('lists');
    const result = await this.options.list(signal);
    if (signal.aborted) return;
    this.options.listHealth.listed();
    const listed = new Set<string>();
    for (const object of result.items) {
      listed.add(nameOf(object));
      this.upsert(object);
    }
    for (const cached of [...this.cache.values()]) {
      // An object the list does not know may be newer than the list (a watch event beat it): keep it.
      if (
        !listed.has(nameOf(cached)) &&
        !isNewerVersion(cached.metadata.resourceVersion, result.resourceVersion)
      ) {
        this.remove(cached);
      }
    }
    if (this.resourceVersion === undefined || !isNewerVersion(this.resourceVersion, result.resourceVersion)) {
      this.resourceVersion = result.resourceVersion;
    }
    this.report({
      type: 'listed',
      detail: `${result.items.length} objects at resourceVersion ${result.resourceVersion}`,
    });
  }

  private upsert(object: T): void {
    const name = nameOf(object);
    const cached = this.cache.get(name);
    const version = object.metadata.resourceVersion;
    if (
      cached &&
      (version === cached.metadata.resourceVersion ||
        isNewerVersion(cached.metadata.resourceVersion, version))
    ) {
      return;
    }
    this.cache.set(name, object);
    this.options.onChange({ type: 'upsert', object });
  }

  private remove(object: T): void {
    const name = nameOf(object);
    const cached = this.cache.get(name);
    if (!cached) return;
    this.cache.delete(name);
    this.options.onChange({ type: 'delete', object: cached });
  }

  private report(event: Omit<HubEvent, 'resource'>): void {
    try {
      this.options.onHubEvent({ ...event, resource: this.options.resource });
    } catch {
      // A throwing observer must not stop the watch that every running block depends on (the hub
      // isolates the user's callback; this guards any other caller of the reflector).
    }
  }
}

function nameOf(object: { metadata: ObjectMeta }): string {
  return object.metadata.name ?? '';
}

function isGone(error: unknown): boolean {
  return isK8sExecutorError(error) && error.code === 'API_GONE';
}
