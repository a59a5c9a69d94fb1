import { isK8sExecutorError } from '../errors/base.js';
import type { Clock } from '../ports/clock.js';
import type { ListResult } from '../ports/job-client.js';
import type { ObjectMeta, WatchEvent } from '../types/kube.js';
import type { ReconnectBackoffOptions } from './backoff.js';
import type { CacheChange, HubEvent, ReflectorStat } from './hub-event.js';
import type { ListHealth, Unlistable } from './list-health.js';
import { nameOf, ObjectCache } from './object-cache.js';
import { isNewerVersion } from './resource-version.js';
import { abortWhenSilent } from './silent-watch.js';
import {
  InitialEvents,
  isInitialEventsEnd,
  STREAMING_LIST_BOUND_MS,
  type StreamingLists,
} from './streaming-list.js';
import { WatchRecovery } from './watch-recovery.js';

export type { CacheChange, HubEvent, ReflectorStat } from './hub-event.js';

/** Why the follows were last told that nothing can be observed, and with what error. */
export interface Refusal {
  error: unknown;
  why: Unlistable;
}

/** What a {@link Reflector} needs. */
export interface ReflectorOptions<T extends { metadata: ObjectMeta }> {
  /** Named in every {@link HubEvent}. */
  resource: 'jobs' | 'pods';
  /** Every wait goes through it. */
  clock: Clock;
  /**
   * Lists the objects (with their collection's resourceVersion); `resourceVersion` is the list's:
   * `"0"` (any state the API server has cached) or undefined (the latest).
   */
  list(signal: AbortSignal, resourceVersion: string | undefined): Promise<ListResult<T>>;
  /**
   * Watches from `resourceVersion`; resolves when the server ends the stream. `streamingList`: a
   * streaming list (`sendInitialEvents`) from the latest state instead.
   */
  watch(
    onEvent: (event: WatchEvent<T>) => void,
    resourceVersion: string,
    signal: AbortSignal,
    streamingList: boolean,
  ): Promise<void>;
  /** Whether to sync with streaming lists; told when the server refuses or ignores one. */
  streamingLists: StreamingLists;
  /** What of each object is kept (applied to every listed and watched object before it is cached). */
  transform(object: T): T;
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
  /** The group of an object, for {@link Reflector.inGroup} (the Job of a pod). */
  groupOf?(object: T): string | undefined;
  /** Receives diagnostics. */
  onHubEvent(event: HubEvent): void;
  /** Bumps a counter. */
  count(stat: ReflectorStat): void;
  /**
   * Told when listing fails in a way retrying cannot fix (401/403/404) from the first list, or for
   * the list health's whole bound: nothing can be observed. Told again on each such failure after.
   */
  onUnlistable(error: unknown, why: Unlistable): void;
  /** Told after each sync (list or streaming list) that worked, and after each list that failed. */
  onSyncOutcome(): void;
}

/** A watch that ends normally sooner than this without any event is treated as a failure (no hot loop). */
const MIN_HEALTHY_WATCH_MS = 1000;

/**
 * Keeps a cache of one resource in step with the API server, client-go reflector style, and reports
 * each change once:
 *
 * - sync: a streaming list when {@link StreamingLists} allows it (its initial events, up to the
 *   initial-events-end bookmark, stand for a list; the same stream then goes on as the watch), else
 *   (or when the streaming list ends before its initial events did) a list: the first one with
 *   `resourceVersion=0` (served from the API server's watch cache), later ones (after a 410, polls)
 *   the latest state; the objects go through `transform` before they are cached;
 * - watch from the resourceVersion of the sync, with bookmarks;
 * - normal end of a watch (server timeout, dropped connection), or a watch silent (no event, no
 *   bookmark) for `silentWatchMs` → watch again at once from the last resourceVersion seen (event or
 *   bookmark);
 * - a failed list → list again after the reconnect backoff; see {@link ListHealth} for when the
 *   follows are told that the namespace cannot be observed;
 * - error → wait the reconnect backoff (reset once events flow), then watch again;
 * - 410 Gone → sync again and diff against the cache: what changed and what was deleted during the
 *   gap is reported;
 * - 3 failures in a row, or an error that retrying cannot fix (403) → also list every
 *   `pollIntervalMs` through the same diff, until the watch works again (see {@link WatchRecovery}).
 *
 * Objects are deduplicated by resourceVersion (see {@link ObjectCache}).
 */
export class Reflector<T extends { metadata: ObjectMeta }> {
  private readonly cache: ObjectCache<T>;
  private resourceVersion: string | undefined;
  private eventsInWatch = 0;
  private heardAt = 0;
  private readonly recovery: WatchRecovery;
  /** Whether a sync (list or streaming list) ever worked: the first list may come from the watch cache. */
  private everSynced = false;
  /** Whether a list failed before any sync worked. */
  private firstSyncFailed = false;
  private lastRefusal: Refusal | undefined;
  /** Whether a list or watch failed since the cache was last brought up to date (see {@link current}). */
  private failedSinceUpdate = true;
  /** The signal of the running loop, for lists asked from outside it ({@link syncNow}). */
  private running: AbortSignal | undefined;
  /** The latest list on its way (the loop's, a poll's, or one {@link syncNow} made). */
  private listing: Promise<void> | undefined;
  /** Whether a plain list ever worked (a resource synced only by streaming lists may lack `list`). */
  private listedPlainly = false;
  private lastSyncAt = Number.NEGATIVE_INFINITY;
  /** Per list on its way: the objects the watch saw deleted meanwhile, by name. */
  private readonly deletionsDuringLists = new Set<Map<string, Deletion>>();
  /** The initial phase of the streaming list being read, until its end bookmark. */
  private initial: InitialEvents | undefined;

  constructor(private readonly options: ReflectorOptions<T>) {
    this.cache = new ObjectCache(options.onChange, options.groupOf);
    this.recovery = new WatchRecovery({
      clock: options.clock,
      reconnect: options.reconnect,
      pollIntervalMs: options.pollIntervalMs,
      poll: (signal) => this.list(signal, undefined),
      onPollError: (error) => {
        this.report({ type: 'error', detail: 'poll failed', error });
        this.listFailed(error);
      },
      report: (event) => this.report(event),
      count: (stat) => options.count(stat),
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

  /** The cached objects of one group (see {@link ReflectorOptions.groupOf}). */
  inGroup(group: string): T[] {
    return this.cache.inGroup(group);
  }

  /** How many objects are cached. */
  get size(): number {
    return this.cache.size;
  }

  /** Whether a list or streaming list ever worked. */
  get synced(): boolean {
    return this.everSynced;
  }

  /** Whether the first sync is over: it worked, or a list failed (it is retried). */
  get firstSyncOver(): boolean {
    return this.everSynced || this.firstSyncFailed;
  }

  /**
   * Whether the cache is up to date as far as the reflector knows: the last list worked, or the watch
   * delivered an event or bookmark, and nothing failed since. False during an outage (the cache then
   * shows the last state seen, which may be old) and before the first sync.
   */
  get current(): boolean {
    return !this.failedSinceUpdate;
  }

  /**
   * The last refusal the follows were told about (see `onUnlistable`), while no list has worked since:
   * a new follow is told at once instead of at the next refused list.
   */
  get refusal(): Refusal | undefined {
    return this.lastRefusal;
  }

  /**
   * Lists now, in the background, when the cache is not current: a follow whose waiting bound was
   * reached needs what the cache may not show (see `followJob`). Coalesced: it joins any list on its
   * way (the loop's relist, a poll), and makes at most one per `pollIntervalMs` otherwise, whatever the
   * number of follows asking; its outcome is that of any list (the diff delivered, `current` again, or a
   * failure counted as a refused list is). None before the first sync is over (the loop lists then),
   * during a streaming list, or for a resource never listed plainly (synced by streaming lists only: its
   * Role may lack `list`; its watch catches it up). Resolves when that list settled (at once when none is
   * made); never rejects.
   */
  syncNow(): Promise<void> {
    const signal = this.running;
    if (this.current || !this.firstSyncOver || !this.listedPlainly || !signal || signal.aborted) {
      return Promise.resolve();
    }
    if (this.listing) return this.listing.then(noop, noop);
    if (this.initial && !this.initial.done) return Promise.resolve();
    const now = this.options.clock.now();
    if (now - this.lastSyncAt < this.options.pollIntervalMs) return Promise.resolve();
    this.lastSyncAt = now;
    this.options.count('syncs');
    return this.list(signal, undefined).catch((error: unknown) => {
      if (signal.aborted) return;
      this.report({ type: 'error', detail: 'a list for a reached waiting bound failed', error });
      this.listFailed(error);
    });
  }

  /** Lists and watches until `signal` aborts. Never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    this.running = signal;
    try {
      await this.loop(signal);
    } catch (error) {
      if (!signal.aborted) this.report({ type: 'error', detail: 'the watch loop stopped', error });
    } finally {
      this.recovery.stop();
    }
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.resourceVersion === undefined) {
        if (this.options.streamingLists.usable && (await this.streamingList(signal))) continue;
        if (signal.aborted) return;
        try {
          await this.list(signal, this.everSynced ? undefined : '0');
        } catch (error) {
          if (signal.aborted) return;
          this.listFailed(error);
          this.firstSyncFailed = !this.everSynced;
          this.options.onSyncOutcome();
          await this.recovery.failed(error, signal);
          continue;
        }
      }
      await this.watchOnce(this.resourceVersion ?? '', signal);
    }
  }

  /**
   * A streaming list, whose stream then goes on as the watch: true once its initial events were
   * delivered (whenever the stream ends after that), false when it ended before (the caller lists).
   */
  private async streamingList(signal: AbortSignal): Promise<boolean> {
    const initial = new InitialEvents();
    this.initial = initial;
    this.options.count('watchLists');
    const bound = new AbortController();
    this.options.clock.sleep(STREAMING_LIST_BOUND_MS, AbortSignal.any([signal, bound.signal])).then(
      () => {
        if (!initial.done)
          this.giveUpStreaming(
            initial,
            `no initial-events-end bookmark within ${STREAMING_LIST_BOUND_MS} ms`,
          );
      },
      () => undefined,
    );
    try {
      await this.watchOnce('', signal, initial);
    } finally {
      bound.abort();
      this.initial = undefined;
    }
    return initial.done;
  }

  /** The server refused or ignored a streaming list: stop this one, and list from now on. */
  private giveUpStreaming(initial: InitialEvents, why: string, error?: unknown): void {
    this.options.streamingLists.giveUp();
    this.report({
      type: 'watch-list-fallback',
      detail: `streaming lists not used any more (${why}): list, then watch`,
      ...(error !== undefined ? { error } : {}),
    });
    initial.stop.abort(new Error(why));
  }

  private async watchOnce(from: string, signal: AbortSignal, initial?: InitialEvents): Promise<void> {
    const started = this.options.clock.now();
    this.eventsInWatch = 0;
    this.heardAt = started;
    this.options.count('watches');
    this.report({
      type: 'watch-started',
      detail: initial ? 'streaming list of the latest state' : `from resourceVersion ${from}`,
    });
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
        AbortSignal.any([signal, silence.signal, ...(initial ? [initial.stop.signal] : [])]),
        initial !== undefined,
      );
    } catch (error) {
      if (signal.aborted) return;
      this.failedSinceUpdate = true;
      if (initial && !initial.done) {
        // Whatever stopped it, the caller lists now; only a refusal says the server cannot stream.
        if (isInvalid(error)) this.giveUpStreaming(initial, 'the server refused it', error);
        else if (!initial.stop.signal.aborted)
          this.report({ type: 'error', detail: 'the streaming list failed: listing instead', error });
        return;
      }
      if (silence.signal.aborted) {
        // No event and no bookmark for too long: the connection is dead without saying so. Resume.
        this.report({
          type: 'watch-silent',
          detail: `no event or bookmark for ${this.options.silentWatchMs} ms`,
        });
        return;
      }
      if (isGone(error)) {
        this.options.count('relists');
        this.report({
          type: 'relist',
          detail: `resourceVersion ${this.resourceVersion} is too old (410 Gone)`,
        });
        this.resourceVersion = undefined;
        await this.recovery.gone(signal);
        return;
      }
      await this.recovery.failed(error, signal);
      return;
    } finally {
      stopWatchdog.abort();
    }
    if (signal.aborted) return;
    this.report({ type: 'watch-ended', detail: `after ${this.eventsInWatch} events` });
    if (initial && !initial.done) return;
    if (this.eventsInWatch === 0 && this.options.clock.now() - started < MIN_HEALTHY_WATCH_MS) {
      this.failedSinceUpdate = true; // it delivered nothing: what happened since is not known
      await this.recovery.waitBackoff(signal, 'the watch ended at once without events');
      return;
    }
    this.recovery.healthy();
  }

  private onWatchEvent(event: WatchEvent<T>, signal: AbortSignal): void {
    if (signal.aborted) return;
    this.heardAt = this.options.clock.now();
    this.eventsInWatch++;
    const version = event.object.metadata.resourceVersion;
    const initial = this.initial;
    if (initial && !initial.done) {
      if (isInitialEventsEnd(event)) this.initialEventsDone(initial, version);
      else if (event.type === 'BOOKMARK')
        this.giveUpStreaming(initial, 'the server sent a bookmark that does not end the initial events');
      else if (event.type === 'DELETED') this.cache.remove(event.object);
      else {
        initial.seen.add(nameOf(event.object));
        this.cache.upsert(this.options.transform(event.object));
      }
      return;
    }
    this.recovery.healthy();
    this.failedSinceUpdate = false;
    this.options.listHealth.observed();
    if (event.type === 'DELETED') {
      const { uid, resourceVersion } = event.object.metadata;
      for (const deletions of this.deletionsDuringLists) {
        deletions.set(nameOf(event.object), { uid, resourceVersion });
      }
      this.cache.remove(event.object);
    } else if (event.type !== 'BOOKMARK') this.cache.upsert(this.options.transform(event.object));
    if (version) this.resourceVersion = version;
  }

  /**
   * The initial events of a streaming list are all in: like a list at `version`, cached objects it did
   * not deliver were deleted (unless a newer event delivered them).
   */
  private initialEventsDone(initial: InitialEvents, version: string | undefined): void {
    initial.done = true;
    this.cache.forgetUnlisted(initial.seen, version);
    this.resourceVersion = version ?? this.resourceVersion;
    this.listWorked();
    this.recovery.healthy();
    this.report({
      type: 'listed',
      detail: `${initial.seen.size} objects by streaming list at resourceVersion ${version}`,
    });
  }

  /** Tells the follows when a failed list makes the resource unobservable (see {@link ListHealth}). */
  private listFailed(error: unknown): void {
    this.failedSinceUpdate = true;
    const why = this.options.listHealth.failed(error, this.options.clock.now());
    if (!why) return;
    this.lastRefusal = { error, why };
    this.options.onUnlistable(error, why);
  }

  /** A list or streaming list worked: the resource is listable. */
  private listWorked(): void {
    this.options.listHealth.listed();
    this.everSynced = true;
    this.failedSinceUpdate = false;
    this.lastRefusal = undefined;
    this.options.onSyncOutcome();
  }

  /** Lists at `resourceVersion` and diffs the result against the cache (see {@link listAndDiff}). */
  private list(signal: AbortSignal, resourceVersion: string | undefined): Promise<void> {
    const listing = this.listAndDiff(signal, resourceVersion);
    this.listing = listing;
    const settled = () => {
      if (this.listing === listing) this.listing = undefined;
    };
    listing.then(settled, settled);
    return listing;
  }

  /**
   * One list and its diff. An object the watch saw deleted while the list was on its way is not brought
   * back by it (the list may have been served before the deletion; the cache keeps no record of
   * deletions otherwise): the same object by uid, or, without uids, one not newer than the deletion.
   */
  private async listAndDiff(signal: AbortSignal, resourceVersion: string | undefined): Promise<void> {
    this.options.count('lists');
    const deletions = new Map<string, Deletion>();
    this.deletionsDuringLists.add(deletions);
    let result: ListResult<T>;
    try {
      result = await this.options.list(signal, resourceVersion);
    } finally {
      this.deletionsDuringLists.delete(deletions);
    }
    if (signal.aborted) return;
    const listed = new Set<string>();
    for (const object of result.items) {
      const name = nameOf(object);
      const deleted = deletions.get(name);
      if (deleted && sameOrOlder(object.metadata, deleted)) continue;
      listed.add(name);
      this.cache.upsert(this.options.transform(object));
    }
    this.cache.forgetUnlisted(listed, result.resourceVersion);
    this.listedPlainly = true;
    this.listWorked();
    if (this.resourceVersion === undefined || !isNewerVersion(this.resourceVersion, result.resourceVersion)) {
      this.resourceVersion = result.resourceVersion;
    }
    this.report({
      type: 'listed',
      detail: `${result.items.length} objects at resourceVersion ${result.resourceVersion}`,
    });
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

function isGone(error: unknown): boolean {
  return isK8sExecutorError(error) && error.code === 'API_GONE';
}

/** 400/422: the server refuses the request as such (a streaming list it does not serve). */
function isInvalid(error: unknown): boolean {
  return isK8sExecutorError(error) && error.code === 'API_INVALID';
}

/** What a list needs to know of an object the watch saw deleted while the list was on its way. */
type Deletion = Pick<ObjectMeta, 'uid' | 'resourceVersion'>;

/** Whether `listed` is the object that `deleted` was (by uid), or, without uids, not newer than it. */
function sameOrOlder(listed: ObjectMeta, deleted: Deletion): boolean {
  if (listed.uid && deleted.uid) return listed.uid === deleted.uid;
  return !isNewerVersion(listed.resourceVersion, deleted.resourceVersion);
}

function noop(): void {}
