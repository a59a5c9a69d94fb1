import type { Clock } from '../ports/clock.js';
import type { JobClient } from '../ports/job-client.js';
import type { HubEvent } from './hub-event.js';

/** Settings of a `WatchHub`. */
export interface WatchHubOptions {
  /** Where the Jobs and pods are listed and watched. */
  jobClient: JobClient;
  /** Every wait (backoff, polling) goes through it. */
  clock: Clock;
  /** The namespace watched. */
  namespace: string;
  /** Which Jobs and pods, e.g. `app.kubernetes.io/managed-by=k8s-executor`. */
  labelSelector: string;
  /**
   * How long the shared watches stay open after the last subscriber left, waiting for the next one
   * (the next block of a pipeline, the next run of an orchestrator): a chain of blocks lists and
   * watches once, not once per block. `0` stops them with the last subscriber. `close()` stops them at
   * once. While they are open, the process does not exit by itself: call `close()` (the executors'
   * and `createExecutors`' `close()` do). @default 60_000
   */
  idleTimeoutMs?: number;
  /** Reconnect backoff after a failed watch. @default { initialMs: 1000, maxMs: 30_000 } */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** How often lists are polled while the watch keeps failing. @default 10_000 */
  pollIntervalMs?: number;
  /** Server-side timeout of each watch request, after which it is resumed. @default 300 */
  watchTimeoutSeconds?: number;
  /**
   * A watch that delivers no event and no bookmark this long is treated as broken (a connection that
   * died without closing) and resumed. The API server sends a bookmark about once a minute to watches
   * that ask for them, as ours do. @default 75_000
   */
  silentWatchMs?: number;
  /**
   * How long a namespace that was listable may have every list refused (401, 403, 404) before the
   * blocks followed there fail; a single refused list is only retried. A namespace never listed fails
   * them at the first refusal (RBAC missing). @default 300_000 (5 min)
   */
  unlistableTimeoutMs?: number;
  /** Reports lists, (re)watches, waits and errors: for logs and metrics. A throw is reported once and ignored. */
  onHubEvent?: (event: HubEvent) => void;
}

/** The default of {@link WatchHubOptions.silentWatchMs}: the API server's one-minute bookmarks, plus slack. */
export const DEFAULT_SILENT_WATCH_MS = 75_000;

/** The default of {@link WatchHubOptions.unlistableTimeoutMs}. */
export const DEFAULT_UNLISTABLE_TIMEOUT_MS = 300_000;

/**
 * The default of {@link WatchHubOptions.idleTimeoutMs}: a minute covers the hand-offs of a pipeline
 * (an upstream's log drain and delete, the scheduler, a retry delay of Mage's default 5 s ... 60 s).
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/**
 * The settings of the hubs that an executor (or `createExecutors`) makes: everything but what it
 * supplies itself.
 */
export type WatchHubSettings = Omit<WatchHubOptions, 'jobClient' | 'clock' | 'namespace' | 'labelSelector'>;

/** Counters of a hub's API traffic. */
export interface WatchHubStats {
  /** List calls of any kind (first list, relists, polls). */
  lists: number;
  /** Watch requests started (streaming lists included). */
  watches: number;
  /** Of the watches, the streaming lists (`sendInitialEvents`), each standing for a list. */
  watchLists: number;
  /** Relists forced by 410 Gone. */
  relists: number;
  /** Backoff waits before a watch was retried. */
  reconnects: number;
  /** Lists made by the polling fallback. */
  polls: number;
  /**
   * Lists made because a follow's waiting bound was reached while that cache was not current (see
   * `followJob`): at most one per resource and `pollIntervalMs`, whatever the number of follows.
   */
  syncs: number;
}

/** What a hub holds now: nothing per block once the block's follow ended and its Job was deleted. */
export interface WatchHubSizes {
  /** Job names with at least one subscriber. */
  subscribedJobs: number;
  /** Jobs in the cache (those of the namespace that match the selector). */
  cachedJobs: number;
  /** Pods in the cache. */
  cachedPods: number;
  /** Whether the shared watches run (with subscribers, or idle within `idleTimeoutMs`). */
  watching: boolean;
}

/** A subscription; `dispose()` is idempotent. */
export interface HubSubscription {
  /** Stops the listener; the hub's watches stop `idleTimeoutMs` after its last subscriber left. */
  dispose(): void;
}
