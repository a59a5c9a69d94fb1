import type { JsonObject } from '../types/kube.js';
import { isAtOrBelow, joinIndex, joinItem, joinKey } from './paths.js';

/**
 * The one merge used everywhere: between layers (`override`: the upper value wins) and between two
 * spellings of the same field inside one layer (`conflict`: differing values are reported, the first
 * one stays). Maps merge key by key at every depth; the lists below merge item by item on their key,
 * the upper item replacing the lower one whole; every other list is replaced whole; `null` stays as a
 * removal marker until {@link stripNulls}. Inputs are never mutated.
 */

/** The lists merged by key, and how each item's key is read (canonical paths). */
const LIST_KEYS: Readonly<Record<string, (item: JsonObject) => string | undefined>> = {
  'container.env': (item) => stringOf(item.name),
  'container.envFrom': envFromKey,
  'container.volumeMounts': (item) => stringOf(item.mountPath),
  'container.ports': (item) => stringOf(item.containerPort),
  'pod.volumes': (item) => stringOf(item.name),
  'pod.imagePullSecrets': (item) => stringOf(item.name),
};

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/** `secretRef:name` / `configMapRef:name`, plus `:prefix` when a prefix is set. */
function envFromKey(item: JsonObject): string | undefined {
  for (const kind of ['secretRef', 'configMapRef'] as const) {
    const ref = item[kind];
    if (isPlainObject(ref) && typeof ref.name === 'string') {
      const prefix = typeof item.prefix === 'string' && item.prefix !== '' ? `:${item.prefix}` : '';
      return `${kind}:${ref.name}${prefix}`;
    }
  }
  return undefined;
}

/** True when the list at canonical `path` merges by key. */
export function isKeyedList(path: string): boolean {
  return path in LIST_KEYS;
}

/** The merge key of `item` in the keyed list at `path`, or undefined when it has none. */
export function itemKeyOf(path: string, item: unknown): string | undefined {
  const keyOf = LIST_KEYS[path];
  return keyOf && isPlainObject(item) ? keyOf(item) : undefined;
}

/** A plain object (not a list, not null). */
export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality of JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** How a collision is settled. */
export type MergeMode = 'override' | 'conflict';

/** Origins taking part in one merge: `out` holds the lower side's origins and receives the result. */
export interface MergeOrigins<O> {
  readonly upper: ReadonlyMap<string, O>;
  readonly out: Map<string, O>;
}

/** Called in `conflict` mode when both sides set `path` to different values. */
export type ConflictHandler<O> = (path: string, kept: O | undefined, dropped: O | undefined) => void;

/** Removes every origin at or below `path`. */
export function dropOrigins<O>(origins: Map<string, O>, path: string): void {
  for (const key of [...origins.keys()]) if (isAtOrBelow(key, path)) origins.delete(key);
}

/** Copies every origin of `from` at or below `path` into `to`, optionally moving them to `toPath`. */
export function copyOrigins<O>(
  from: ReadonlyMap<string, O>,
  to: Map<string, O>,
  path: string,
  toPath = path,
): void {
  for (const [key, origin] of from) {
    if (isAtOrBelow(key, path)) to.set(toPath + key.slice(path.length), origin);
  }
}

/**
 * Merges `upper` over `lower` at canonical `path`. `origins.out` must hold the lower origins; on return it
 * holds the origins of the result.
 */
export function mergeValue<O>(
  path: string,
  lower: unknown,
  upper: unknown,
  origins: MergeOrigins<O>,
  mode: MergeMode,
  onConflict?: ConflictHandler<O>,
): unknown {
  if (upper === undefined) return lower;
  const replace = (): unknown => {
    dropOrigins(origins.out, path);
    copyOrigins(origins.upper, origins.out, path);
    return upper;
  };
  if (lower === undefined) return replace();
  if (isPlainObject(lower) && isPlainObject(upper))
    return mergeObjects(path, lower, upper, origins, mode, onConflict);
  if (Array.isArray(lower) && Array.isArray(upper) && isKeyedList(path)) {
    return mergeKeyedLists(path, lower, upper, origins, mode, onConflict);
  }
  if (mode === 'override') return replace();
  if (!deepEqual(lower, upper)) onConflict?.(path, origins.out.get(path), origins.upper.get(path));
  return lower;
}

function mergeObjects<O>(
  path: string,
  lower: JsonObject,
  upper: JsonObject,
  origins: MergeOrigins<O>,
  mode: MergeMode,
  onConflict?: ConflictHandler<O>,
): JsonObject {
  const out: JsonObject = { ...lower };
  const own = origins.upper.get(path);
  if (own !== undefined && (mode === 'override' || !origins.out.has(path))) origins.out.set(path, own);
  for (const [key, value] of Object.entries(upper)) {
    out[key] = mergeValue(joinKey(path, key), lower[key], value, origins, mode, onConflict);
  }
  return out;
}

function mergeKeyedLists<O>(
  path: string,
  lower: readonly unknown[],
  upper: readonly unknown[],
  origins: MergeOrigins<O>,
  mode: MergeMode,
  onConflict?: ConflictHandler<O>,
): unknown[] {
  const out = [...lower];
  const own = origins.upper.get(path);
  if (own !== undefined && mode === 'override') origins.out.set(path, own);
  for (const item of upper) {
    const key = itemKeyOf(path, item);
    const at = key === undefined ? -1 : out.findIndex((x) => itemKeyOf(path, x) === key);
    if (key === undefined || at < 0) {
      out.push(item);
      if (key !== undefined) copyOrigins(origins.upper, origins.out, joinItem(path, key));
      continue;
    }
    const itemPath = joinItem(path, key);
    if (mode === 'override') {
      dropOrigins(origins.out, itemPath);
      copyOrigins(origins.upper, origins.out, itemPath);
      out[at] = item;
    } else if (!deepEqual(out[at], item)) {
      onConflict?.(itemPath, origins.out.get(itemPath), origins.upper.get(itemPath));
    }
  }
  return out;
}

/** A canonical config tree with the origin of each of its nodes, keyed by canonical path. */
export interface Tree<O> {
  readonly value: JsonObject;
  readonly origins: ReadonlyMap<string, O>;
}

/** Merges `upper` over `lower` (whole trees). */
export function mergeTrees<O>(
  lower: Tree<O>,
  upper: Tree<O>,
  mode: MergeMode,
  onConflict?: ConflictHandler<O>,
): Tree<O> {
  const out = new Map(lower.origins);
  const value = mergeValue('', lower.value, upper.value, { upper: upper.origins, out }, mode, onConflict);
  return { value: value as JsonObject, origins: out };
}

/** Removes every `null` (a removal marker) and the origins of what it removed. */
export function stripNulls<O>(tree: Tree<O>): Tree<O> {
  const origins = new Map(tree.origins);
  // Paths are tracked outside lists only: inside list items a null is simply dropped.
  const strip = (value: unknown, path: string | undefined): unknown => {
    if (Array.isArray(value))
      return value.filter((item) => item !== null).map((item) => strip(item, undefined));
    if (!isPlainObject(value)) return value;
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(value)) {
      const childPath = path === undefined ? undefined : joinKey(path, key);
      if (child === null) {
        if (childPath !== undefined) dropOrigins(origins, childPath);
        continue;
      }
      out[key] = strip(child, childPath);
    }
    return out;
  };
  return { value: strip(tree.value, '') as JsonObject, origins };
}

/** Records `origin` for `value` at canonical `path` and for every node below it. */
export function recordOrigins<O>(path: string, value: unknown, origin: O, origins: Map<string, O>): void {
  origins.set(path, origin);
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      const key = itemKeyOf(path, item);
      recordOrigins(key === undefined ? joinIndex(path, i) : joinItem(path, key), item, origin, origins);
    });
  } else if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value))
      recordOrigins(joinKey(path, key), child, origin, origins);
  }
}

/** `['a', 'b']`, v → `{ a: { b: v } }`. */
export function nest(segments: readonly string[], value: unknown): JsonObject {
  return segments.reduceRight<unknown>((inner, segment) => ({ [segment]: inner }), value) as JsonObject;
}
