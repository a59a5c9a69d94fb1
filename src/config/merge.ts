import lodashMerge from 'lodash.merge';
import type { JsonObject } from '../types/kube.js';
import { isRemove, isReplacement, replaceWith } from './markers.js';
import { isAtOrBelow, joinIndex, joinItem, joinKey } from './paths.js';

/**
 * The one merge used everywhere: between layers (`override`: the upper value wins), inside one layer for
 * `container_config` over `container` (`overlay`: the same, but `!replace` markers are kept for the merge
 * between layers), and between two spellings of one field inside one layer (`conflict`: differing values
 * are reported, the first one stays). Inputs are never mutated.
 *
 * The deep merge itself is `lodash.merge`; around it, what lodash does not do:
 * - lists merged by key (env by name, ...) are turned into objects keyed by item key before the merge and
 *   back after, so lodash merges them key by key (it would merge lists index by index);
 * - what is replaced whole (an item of a keyed list, any other list, a scalar, a `!replace` value, a
 *   `!remove`, a value of another type) is first taken out of the lower side, keeping its place;
 * - provenance is merged the same way, as a parallel tree whose leaves are `OriginLeaf` instances, which
 *   lodash assigns instead of merging into.
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
  return Object.hasOwn(LIST_KEYS, path);
}

/** The merge key of `item` in the keyed list at `path`, or undefined when it has none. */
export function itemKeyOf(path: string, item: unknown): string | undefined {
  const keyOf = LIST_KEYS[path];
  return keyOf && isPlainObject(item) ? keyOf(item) : undefined;
}

/** A plain object as parsed from YAML or JSON (not a list, not null, not a class instance). */
export function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Structural equality of JSON values (key order ignored; `!replace` values compare by content). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isReplacement(a) && isReplacement(b)) return deepEqual(a.value, b.value);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** How a collision is settled (see the module comment). */
export type MergeMode = 'override' | 'overlay' | 'conflict';

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
 * holds the origins of the result (at and below `path`; others are left alone).
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
  const box = (value: unknown) => ({ [ROOT]: toKeyed(value, path) });
  const lowerBox = box(lower);
  const upperBox = box(upper);
  const lowerOrigins = boxOrigins(lower, path, origins.out);
  const upperOrigins = boxOrigins(upper, path, origins.upper);
  prepare(lowerBox, upperBox, lowerOrigins, upperOrigins, { mode, onConflict, parent: path, root: true });
  const merged = lodashMerge(lowerBox, upperBox)[ROOT];
  const mergedOrigins = lodashMerge(lowerOrigins, upperOrigins).kids?.[ROOT];
  const value = fromKeyed(merged, path);
  dropOrigins(origins.out, path);
  writeOrigins(mergedOrigins, value, path, origins.out);
  return value;
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

/**
 * Merges trees in order, each over the ones before it (`override`), as `mergeTrees` one after the other
 * would, but keeping the result in lodash's form between the merges (converted once, at the end).
 */
export function mergeAll<O>(trees: readonly Tree<O>[]): Tree<O> {
  const value: JsonObject = { [ROOT]: {} };
  const origins: OriginNode<O> = { kids: { [ROOT]: {} } };
  for (const tree of trees) {
    const upper = { [ROOT]: toKeyed(tree.value, '') };
    const upperOrigins = boxOrigins(tree.value, '', tree.origins);
    prepare(value, upper, origins, upperOrigins, { mode: 'override', parent: '', root: true });
    lodashMerge(value, upper);
    lodashMerge(origins, upperOrigins);
  }
  const merged = fromKeyed(value[ROOT], '') as JsonObject;
  const out = new Map<string, O>();
  writeOrigins(origins.kids?.[ROOT], merged, '', out);
  return { value: merged, origins: out };
}

/**
 * Removes every `!remove` marker (and `null`) and unwraps `!replace`. The origin of a `!remove` stays (for
 * messages about what it removed; provenance rows come from values only). A map that a removal left empty
 * goes too (outside list items, whose shape is the user's).
 */
export function stripRemovals<O>(tree: Tree<O>): Tree<O> {
  const origins = new Map(tree.origins);
  const GONE = Symbol('gone');
  // Paths are tracked outside lists only: inside list items a marker is simply dropped.
  const strip = (value: unknown, path: string | undefined): unknown => {
    const plain = isReplacement(value) ? value.value : value;
    if (Array.isArray(plain))
      return plain.filter((item) => item !== null && !isRemove(item)).map((item) => strip(item, undefined));
    if (!isPlainObject(plain)) return plain;
    const out: JsonObject = {};
    let removed = false;
    for (const [key, child] of Object.entries(plain)) {
      const childPath = path === undefined ? undefined : joinKey(path, key);
      const marker = child === null || isRemove(child);
      const stripped = marker ? GONE : strip(child, childPath);
      if (stripped === GONE) {
        removed = true;
        // A `!remove` keeps its own origin, so that a required field it removed is reported where it was.
        if (childPath !== undefined && !marker) dropOrigins(origins, childPath);
        continue;
      }
      out[key] = stripped;
    }
    if (removed && path !== undefined && path !== '' && Object.keys(out).length === 0) return GONE;
    return out;
  };
  const value = strip(tree.value, '');
  return { value: (value === GONE ? {} : value) as JsonObject, origins };
}

/** Records `origin` for `value` at canonical `path` and for every node below it. */
export function recordOrigins<O>(path: string, value: unknown, origin: O, origins: Map<string, O>): void {
  origins.set(path, origin);
  for (const [, childPath, child] of childrenOf(value, path))
    recordOrigins(childPath, child, origin, origins);
}

/** `['a', 'b']`, v → `{ a: { b: v } }`. */
export function nest(segments: readonly string[], value: unknown): JsonObject {
  return segments.reduceRight<unknown>((inner, segment) => ({ [segment]: inner }), value) as JsonObject;
}

// ---- the keyed form, the origin tree and the preparation for lodash ---------------------------------

const ROOT = '\u0000';

/** An origin as a leaf of the origin tree: a class instance, which lodash assigns and never merges into. */
class OriginLeaf<O> {
  constructor(readonly origin: O) {}
}

/** One node of the origin tree: its own origin and its children, under the same keys as the keyed value. */
interface OriginNode<O> {
  own?: OriginLeaf<O> | undefined;
  kids?: Record<string, OriginNode<O> | undefined>;
}

/** The slot of a keyed-list item in its keyed object (prefixed, so no key looks like an array index). */
function slotOf(key: string): string {
  return `=${key}`;
}

/** The children of a value: [slot in the keyed form, canonical path, child]. */
function childrenOf(value: unknown, path: string): [string, string, unknown][] {
  const plain = isReplacement(value) ? value.value : value;
  if (Array.isArray(plain)) {
    if (!isKeyedList(path))
      return plain.map((item, i) => [String(i), joinIndex(path, i), item] as [string, string, unknown]);
    return plain.map((item, i) => {
      const key = itemKeyOf(path, item);
      return [key === undefined ? `?${i}` : slotOf(key), joinItem(path, key ?? `#${i}`), item];
    });
  }
  if (!isPlainObject(plain)) return [];
  return Object.entries(plain).map(([key, child]) => [key, joinKey(path, key), child]);
}

/** A copy of `value` with every list merged by key turned into an object keyed by {@link slotOf}. */
function toKeyed(value: unknown, path: string): unknown {
  if (isReplacement(value)) return replaceWith(toKeyed(value.value, path));
  if (Array.isArray(value) && isKeyedList(path)) {
    const out: JsonObject = {};
    for (const [slot, childPath, child] of childrenOf(value, path)) out[slot] = toKeyed(child, childPath);
    return out;
  }
  if (!isPlainObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) out[key] = toKeyed(child, joinKey(path, key));
  return out;
}

/** The inverse of {@link toKeyed}; slots emptied by {@link prepare} are dropped. */
function fromKeyed(value: unknown, path: string): unknown {
  if (isReplacement(value)) return replaceWith(fromKeyed(value.value, path));
  if (isKeyedList(path) && isPlainObject(value)) {
    return Object.values(value)
      .filter((item) => item !== undefined)
      .map((item) => fromKeyed(item, joinItem(path, itemKeyOf(path, item) ?? '')));
  }
  if (!isPlainObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value))
    if (child !== undefined) out[key] = fromKeyed(child, joinKey(path, key));
  return out;
}

/** The origin tree of `value` at `path`, read from a map of origins by canonical path. */
function originTree<O>(value: unknown, path: string, origins: ReadonlyMap<string, O>): OriginNode<O> {
  const node: OriginNode<O> = {};
  const own = origins.get(path);
  if (own !== undefined) node.own = new OriginLeaf(own);
  const children = childrenOf(value, path);
  if (children.length > 0) {
    node.kids = {};
    for (const [slot, childPath, child] of children) node.kids[slot] = originTree(child, childPath, origins);
  }
  return node;
}

function boxOrigins<O>(value: unknown, path: string, origins: ReadonlyMap<string, O>): OriginNode<O> {
  return value === undefined ? { kids: {} } : { kids: { [ROOT]: originTree(value, path, origins) } };
}

/** Writes the origins of a merged value (in list form) from its merged origin tree. */
function writeOrigins<O>(node: OriginNode<O> | undefined, value: unknown, path: string, out: Map<string, O>) {
  if (!node) return;
  if (node.own) out.set(path, node.own.origin);
  for (const [slot, childPath, child] of childrenOf(value, path))
    writeOrigins(node.kids?.[slot], child, childPath, out);
}

interface PrepareOptions<O> {
  readonly mode: MergeMode;
  readonly onConflict?: ConflictHandler<O> | undefined;
  /** The canonical path of the objects being prepared. */
  readonly parent: string;
  /** The objects are the boxes around the merged value (their one key is the value's own path). */
  readonly root?: boolean;
}

/**
 * Readies two keyed objects for `lodash.merge`: for each key of `upper`, what the upper side replaces
 * whole is taken out of `lower` (its slot kept, so an overridden item keeps its place), `!replace` values are
 * unwrapped (between layers), and in `conflict` mode differing values are reported and dropped from
 * `upper`. The origin trees are readied alongside. `lower` is undefined below a key that `lower` lacks.
 */
function prepare<O>(
  lower: JsonObject | undefined,
  upper: JsonObject,
  lowerOrigins: OriginNode<O> | undefined,
  upperOrigins: OriginNode<O> | undefined,
  options: PrepareOptions<O>,
): void {
  const { mode, parent } = options;
  const itemsAreWhole = !options.root && isKeyedList(parent);
  for (const key of Object.keys(upper)) {
    const path = options.root
      ? parent
      : itemsAreWhole
        ? joinItem(parent, key.slice(1))
        : joinKey(parent, key);
    const below = { mode, onConflict: options.onConflict, parent: path };
    const lowerKid = lowerOrigins?.kids?.[key];
    const upperKid = upperOrigins?.kids?.[key];
    let value = upper[key];
    const replaces = isReplacement(value) && mode === 'override';
    if (replaces) value = upper[key] = (value as { value: unknown }).value;
    const old = lower?.[key];
    if (old === undefined) {
      if (isPlainObject(value)) prepare(undefined, value, undefined, upperKid, below);
      continue;
    }
    if (!replaces && !itemsAreWhole && isPlainObject(old) && isPlainObject(value)) {
      prepare(old, value, lowerKid, upperKid, below);
      continue;
    }
    if (mode === 'conflict') {
      if (!deepEqual(old, value)) options.onConflict?.(path, lowerKid?.own?.origin, upperKid?.own?.origin);
      delete upper[key];
      if (upperOrigins?.kids) delete upperOrigins.kids[key];
      continue;
    }
    // Replaced whole: empty the lower slot (lodash then copies the upper value in, in the same place).
    lower![key] = undefined;
    if (lowerOrigins?.kids) lowerOrigins.kids[key] = undefined;
    if (isPlainObject(value)) prepare(undefined, value, undefined, upperKid, below);
  }
  // Two spellings that agree: the first one (the lower side) stays the source of the node itself.
  if (mode === 'conflict' && lowerOrigins?.own && upperOrigins) delete upperOrigins.own;
}
