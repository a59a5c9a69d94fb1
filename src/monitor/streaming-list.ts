import type { ObjectMeta, WatchEvent } from '../types/kube.js';

/** The annotation of the BOOKMARK that ends the initial events of a streaming list. */
export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';

/**
 * How long a streaming list may take to deliver its initial events (up to the initial-events-end
 * bookmark) before the server is taken not to know streaming lists. The API server waits at most
 * about 3 s for its watch cache, then sends the cached objects at memory speed.
 */
export const STREAMING_LIST_BOUND_MS = 10_000;

/**
 * Whether a hub syncs with streaming lists (`WatchOptions.sendInitialEvents`, the API server's
 * "watch-list") instead of lists: when its JobClient passes them on, until the server refuses one
 * (422, the feature off) or ignores one (no initial-events-end bookmark). Remembered for the hub's
 * life, shared by its Jobs and Pods watches: one refusal is enough.
 */
export class StreamingLists {
  private givenUp = false;

  /** @param supported whether the JobClient passes `sendInitialEvents` on (`JobClient.supportsWatchList`). */
  constructor(private readonly supported: boolean) {}

  /** Whether the next sync tries a streaming list. */
  get usable(): boolean {
    return this.supported && !this.givenUp;
  }

  /** The server refused or ignored one: list then watch from now on. */
  giveUp(): void {
    this.givenUp = true;
  }
}

/** The initial phase of one streaming list: what it delivered, and whether its end was seen. */
export class InitialEvents {
  /** Names delivered by the initial events: cached objects not among them were deleted. */
  readonly seen = new Set<string>();
  /** Aborted to give the stream up (the server ignores streaming lists). */
  readonly stop = new AbortController();
  /** Set once the initial-events-end bookmark arrived. */
  done = false;
}

/** Whether `event` is the BOOKMARK that ends a streaming list's initial events. */
export function isInitialEventsEnd(event: WatchEvent<{ metadata: ObjectMeta }>): boolean {
  return (
    event.type === 'BOOKMARK' && event.object.metadata.annotations?.[INITIAL_EVENTS_END_ANNOTATION] === 'true'
  );
}
