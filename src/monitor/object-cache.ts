import type { ObjectMeta } from '../types/kube.js';
import type { CacheChange } from './hub-event.js';
import { isNewerVersion } from './resource-version.js';

/**
 * The cached objects of one resource, by name, deduplicated by resourceVersion: replays and relists
 * never report a stale object, and each change is reported once.
 */
export class ObjectCache<T extends { metadata: ObjectMeta }> {
  private readonly objects = new Map<string, T>();

  /** @param onChange told of each change, once. Must not throw. */
  constructor(private readonly onChange: (change: CacheChange<T>) => void) {}

  /** The cached object of that name. */
  get(name: string): T | undefined {
    return this.objects.get(name);
  }

  /** Every cached object. */
  values(): IterableIterator<T> {
    return this.objects.values();
  }

  /** How many objects are cached. */
  get size(): number {
    return this.objects.size;
  }

  /** Caches `object` unless the cached one of its name is as new or newer. */
  upsert(object: T): void {
    const name = nameOf(object);
    const cached = this.objects.get(name);
    const version = object.metadata.resourceVersion;
    if (
      cached &&
      (version === cached.metadata.resourceVersion ||
        isNewerVersion(cached.metadata.resourceVersion, version))
    ) {
      return;
    }
    this.objects.set(name, object);
    this.onChange({ type: 'upsert', object });
  }

  /** Forgets the object of `object`'s name; the change carries the cached one. */
  remove(object: { metadata: ObjectMeta }): void {
    const name = nameOf(object);
    const cached = this.objects.get(name);
    if (!cached) return;
    this.objects.delete(name);
    this.onChange({ type: 'delete', object: cached });
  }

  /**
   * After a list at `version` that had the objects named `listed`: forgets the others, but those newer
   * than the list (a watch event beat it).
   */
  forgetUnlisted(listed: ReadonlySet<string>, version: string | undefined): void {
    for (const cached of [...this.objects.values()]) {
      if (!listed.has(nameOf(cached)) && !isNewerVersion(cached.metadata.resourceVersion, version)) {
        this.remove(cached);
      }
    }
  }
}

/** The name of an object (`""` when it has none). */
export function nameOf(object: { metadata: ObjectMeta }): string {
  return object.metadata.name ?? '';
}
