import type { ObjectMeta } from '../types/kube.js';
import type { CacheChange } from './hub-event.js';
import { isNewerVersion } from './resource-version.js';

/**
 * The cached objects of one resource, by name, deduplicated by resourceVersion: replays and relists
 * never report a stale object, and each change is reported once.
 */
export class ObjectCache<T extends { metadata: ObjectMeta }> {
  private readonly objects = new Map<string, T>();
  /**
   * The names in each group (see the constructor), so that a group is found without a scan of all: one
   * name as itself (a Job's one pod, almost always), more as a set (a retried Job's pods). A set per
   * group would cost 150 bytes for each of thousands of running Jobs.
   */
  private readonly groups = new Map<string, string | Set<string>>();

  /**
   * @param onChange told of each change, once. Must not throw.
   * @param groupOf the group of an object (the pods of one Job): {@link inGroup} finds a group's objects
   *   in the time of their number, not of the whole cache's.
   */
  constructor(
    private readonly onChange: (change: CacheChange<T>) => void,
    private readonly groupOf?: (object: T) => string | undefined,
  ) {}

  /** The cached object of that name. */
  get(name: string): T | undefined {
    return this.objects.get(name);
  }

  /** Every cached object. */
  values(): IterableIterator<T> {
    return this.objects.values();
  }

  /** The cached objects of `group`, in the order they were first cached (none without `groupOf`). */
  inGroup(group: string): T[] {
    const names = this.groups.get(group);
    if (names === undefined) return [];
    if (typeof names === 'string') {
      const only = this.objects.get(names);
      return only ? [only] : [];
    }
    return [...names].flatMap((name) => this.objects.get(name) ?? []);
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
    if (cached && this.groupOf?.(cached) !== this.groupOf?.(object)) this.ungroup(name, cached);
    this.objects.set(name, object);
    this.group(name, object);
    this.onChange({ type: 'upsert', object });
  }

  /** Forgets the object of `object`'s name; the change carries the cached one. */
  remove(object: { metadata: ObjectMeta }): void {
    const name = nameOf(object);
    const cached = this.objects.get(name);
    if (!cached) return;
    this.objects.delete(name);
    this.ungroup(name, cached);
    this.onChange({ type: 'delete', object: cached });
  }

  private group(name: string, object: T): void {
    const group = this.groupOf?.(object);
    if (group === undefined) return;
    const names = this.groups.get(group);
    if (names === undefined || names === name) this.groups.set(group, name);
    else if (typeof names === 'string') this.groups.set(group, new Set([names, name]));
    else names.add(name);
  }

  private ungroup(name: string, object: T): void {
    const group = this.groupOf?.(object);
    if (group === undefined) return;
    const names = this.groups.get(group);
    if (names === name) this.groups.delete(group);
    else if (typeof names === 'object') {
      names.delete(name);
      if (names.size === 0) this.groups.delete(group);
    }
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
