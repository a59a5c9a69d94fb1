import type { ObjectMeta, WatchEvent } from '../../../types/kube.js';
import { type LabelSelector, matchesSelector } from './label-selector.js';

/** Any namespaced API object. */
export interface StoredObject {
  metadata: ObjectMeta;
}

/** The cluster-wide resourceVersion sequence (one for every kind, as etcd has). */
export class RevisionCounter {
  // Never "0": a list's version must be resumable, and "0" means "any version" to a watch.
  private value = 100;

  /** The newest version handed out. */
  get current(): number {
    return this.value;
  }

  /** Hands out the next version. */
  next(): number {
    this.value += 1;
    return this.value;
  }
}

interface HistoryEntry<T> {
  rv: number;
  event: WatchEvent<T>;
}

/** What a watcher wants to see. */
export interface WatchFilter {
  /** Only this namespace; all when undefined. */
  namespace?: string;
  /** Only objects whose labels match. */
  selector: LabelSelector;
}

/** An open watch stream. */
export interface WatchStream<T> {
  /** Resolves when the stream ends; rejects with the abort reason, or with what `onEvent` threw. */
  done: Promise<void>;
  /** Ends the stream after the events already queued (as a server closing the connection). */
  end(): void;
  /** Sends a BOOKMARK (an object with only a kind and a resourceVersion) after the events already queued. */
  bookmark(object: T): void;
  /** Ends the stream at once, rejecting `done` with `error` (the caller aborted). */
  fail(error: unknown): void;
}

class Watcher<T> {
  private readonly queue: WatchEvent<T>[] = [];
  private draining = false;
  private ending = false;
  private finished = false;
  readonly done: Promise<void>;
  private settle!: (error?: unknown) => void;

  constructor(
    readonly filter: WatchFilter,
    private readonly onEvent: (event: WatchEvent<T>) => void,
    private readonly onFinish: () => void,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (error) => (error === undefined ? resolve() : reject(error));
    });
  }

  push(event: WatchEvent<T>): void {
    if (this.ending || this.finished) return;
    this.queue.push(event);
    this.scheduleDrain();
  }

  end(): void {
    this.ending = true;
    this.scheduleDrain();
  }

  fail(error: unknown): void {
    this.finish(error);
  }

  // Delivery is deferred to a microtask so a listener never runs inside the store's own update.
  private scheduleDrain(): void {
    if (this.draining || this.finished) return;
    this.draining = true;
    queueMicrotask(() => {
      this.draining = false;
      while (!this.finished && this.queue.length > 0) {
        const event = this.queue.shift()!;
        try {
          this.onEvent(event);
        } catch (error) {
          this.finish(error);
        }
      }
      if (this.ending) this.finish();
    });
  }

  private finish(error?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.queue.length = 0;
    this.onFinish();
    this.settle(error);
  }
}

/**
 * A store of one kind of object, with monotonic resourceVersions, label-selected lists and watches that
 * resume from a resourceVersion. The watch history is bounded: a watch from a version older than the
 * oldest kept event must be refused (the caller turns {@link tooOld} into `410 Gone`).
 * Objects are copied on the way in and out, so no caller can change what is stored.
 */
export class VersionedStore<T extends StoredObject> {
  private readonly objects = new Map<string, T>();
  private readonly history: HistoryEntry<T>[] = [];
  private readonly watchers = new Set<Watcher<T>>();
  /** Watches must start at or after this version: every event after it is still in {@link history}. */
  private compactedAt = 0;

  /**
   * @param revisions the shared version sequence.
   * @param historyLimit how many events are kept for watches that resume. @default 1000
   */
  constructor(
    private readonly revisions: RevisionCounter,
    private readonly historyLimit = 1000,
  ) {}

  /** A copy of the object, or undefined. */
  get(namespace: string, name: string): T | undefined {
    const found = this.objects.get(key(namespace, name));
    return found ? structuredClone(found) : undefined;
  }

  /** Copies of the matching objects, sorted by namespace and name. */
  list(filter: WatchFilter): T[] {
    return [...this.objects.values()]
      .filter((o) => matches(filter, o))
      .sort((a, b) =>
        key(a.metadata.namespace, a.metadata.name).localeCompare(key(b.metadata.namespace, b.metadata.name)),
      )
      .map((o) => structuredClone(o));
  }

  /** Stores a new object (ADDED) and returns the stored copy with its resourceVersion. */
  add(object: T): T {
    return this.write('ADDED', object);
  }

  /** Replaces an existing object (MODIFIED) and returns the stored copy. */
  update(object: T): T {
    return this.write('MODIFIED', object);
  }

  /** Removes an object (DELETED, carrying its last state); undefined when it was not there. */
  remove(namespace: string, name: string): T | undefined {
    const found = this.objects.get(key(namespace, name));
    if (!found) return undefined;
    this.objects.delete(key(namespace, name));
    const rv = this.revisions.next();
    const last = { ...found, metadata: { ...found.metadata, resourceVersion: String(rv) } };
    this.record(rv, { type: 'DELETED', object: last });
    return structuredClone(last);
  }

  /** The oldest resourceVersion a watch may resume from, when `requested` is older than it; else undefined. */
  tooOld(requested: number): number | undefined {
    return requested < this.compactedAt ? this.compactedAt : undefined;
  }

  /**
   * Opens a watch. With `fromVersion`, replays the kept events after it first (check {@link tooOld}
   * before); without, starts with a synthetic ADDED per matching object, as the API server does.
   */
  watch(
    filter: WatchFilter,
    fromVersion: number | undefined,
    onEvent: (event: WatchEvent<T>) => void,
  ): WatchStream<T> {
    const watcher: Watcher<T> = new Watcher(filter, onEvent, () => this.watchers.delete(watcher));
    if (fromVersion === undefined) {
      for (const object of this.list(filter)) watcher.push({ type: 'ADDED', object });
    } else {
      for (const entry of this.history) {
        if (entry.rv > fromVersion && matches(filter, entry.event.object))
          watcher.push(structuredClone(entry.event));
      }
    }
    this.watchers.add(watcher);
    return {
      done: watcher.done,
      end: () => watcher.end(),
      bookmark: (object) => watcher.push({ type: 'BOOKMARK', object }),
      fail: (error) => watcher.fail(error),
    };
  }

  /** Forgets the watch history: every version handed out so far becomes too old to resume from. */
  compact(): void {
    this.history.length = 0;
    this.compactedAt = this.revisions.current;
  }

  /** Ends every open watch, as a server dropping its connections. */
  endWatches(): void {
    for (const watcher of [...this.watchers]) watcher.end();
  }

  /** Rejects every open watch with `error` (shutdown). */
  failWatches(error: unknown): void {
    for (const watcher of [...this.watchers]) watcher.fail(error);
  }

  private write(type: 'ADDED' | 'MODIFIED', object: T): T {
    const rv = this.revisions.next();
    const stored = structuredClone({
      ...object,
      metadata: { ...object.metadata, resourceVersion: String(rv) },
    });
    this.objects.set(key(stored.metadata.namespace, stored.metadata.name), stored);
    this.record(rv, { type, object: stored });
    return structuredClone(stored);
  }

  private record(rv: number, event: WatchEvent<T>): void {
    this.history.push({ rv, event: structuredClone(event) });
    while (this.history.length > this.historyLimit) {
      const dropped = this.history.shift()!;
      this.compactedAt = dropped.rv;
    }
    for (const watcher of this.watchers) {
      if (matches(watcher.filter, event.object)) watcher.push(structuredClone(event));
    }
  }
}

function key(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}

function matches(filter: WatchFilter, object: StoredObject): boolean {
  return (
    (filter.namespace === undefined || object.metadata.namespace === filter.namespace) &&
    matchesSelector(filter.selector, object.metadata.labels)
  );
}
