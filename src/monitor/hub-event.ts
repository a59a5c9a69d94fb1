/** Something the hub reports about its watches. Never thrown: the hub keeps going. */
export interface HubEvent {
  /**
   * What happened: a list done (or a streaming list's initial events received), a watch started or
   * ended, a watch silent past `silentWatchMs` (stopped and resumed), a 410 relist, a backoff wait,
   * polling started, streaming lists given up for this hub (the server refused or ignored one), an
   * error.
   */
  type:
    | 'listed'
    | 'watch-started'
    | 'watch-ended'
    | 'watch-silent'
    | 'relist'
    | 'reconnect-wait'
    | 'poll-fallback'
    | 'watch-list-fallback'
    | 'error';
  /** Which of the two shared watches. */
  resource: 'jobs' | 'pods';
  /** One line for a log. */
  detail?: string;
  /** The error, for `error` events (and for a streaming list the server refused). */
  error?: unknown;
}

/** A change of one cached object. */
export type CacheChange<T> = { type: 'upsert'; object: T } | { type: 'delete'; object: T };

/** The counters a reflector bumps. */
export type ReflectorStat = 'lists' | 'watches' | 'watchLists' | 'relists' | 'reconnects' | 'polls' | 'syncs';
