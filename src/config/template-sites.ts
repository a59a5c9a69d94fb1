import type { JsonObject } from '../types/kube.js';
import { isPlainObject } from './merge.js';
import { joinIndex, joinKey } from './paths.js';
import { isTemplated } from './template.js';

/**
 * The templated fields of a merged config, found once, and a run's rendered values put back in without
 * copying what did not change.
 */

/** One templated string of the merged config: its canonical path and where it sits. */
export interface TemplateSite {
  readonly path: string;
  readonly at: readonly (string | number)[];
  readonly text: string;
}

/** The templated fields, and how many of them come before the prefix's placeholder check. */
export interface TemplateSites {
  readonly sites: readonly TemplateSite[];
  /** The namespace and prefix sites come first: the prefix is checked once they are rendered. */
  readonly beforePrefixCheck: number;
}

/**
 * The templated fields: namespace, prefix, image, command and args items, label and annotation values.
 * A string with nothing to render is left out: it renders to itself in every run.
 */
export function findSites(config: JsonObject): TemplateSites {
  const sites: TemplateSite[] = [];
  const add = (path: string, at: (string | number)[], text: unknown) => {
    if (typeof text === 'string' && isTemplated(text)) sites.push({ path, at, text });
  };
  for (const key of ['namespace', 'jobNamePrefix'] as const) add(key, [key], config[key]);
  const beforePrefixCheck = sites.length;
  const container = config.container;
  if (isPlainObject(container)) {
    add('container.image', ['container', 'image'], container.image);
    for (const list of ['command', 'args'] as const) {
      const items = container[list];
      if (!Array.isArray(items)) continue;
      for (const [i, item] of items.entries())
        add(joinIndex(`container.${list}`, i), ['container', list, i], item);
    }
  }
  const metadata = config.metadata;
  if (isPlainObject(metadata)) {
    for (const map of ['labels', 'annotations'] as const) {
      const entries = metadata[map];
      if (!isPlainObject(entries)) continue;
      for (const [key, text] of Object.entries(entries))
        add(joinKey(`metadata.${map}`, key), ['metadata', map, key], text);
    }
  }
  return { sites, beforePrefixCheck };
}

/** A new value for the node at `at` (keys and list indexes from the root). */
export interface Edit {
  readonly at: readonly (string | number)[];
  readonly value: unknown;
}

/**
 * `base` with each edit applied, copying only the objects and lists on the way to an edited node (each
 * once); everything else is shared with `base`, which is never changed.
 */
export function edited(base: JsonObject, edits: readonly Edit[]): JsonObject {
  if (edits.length === 0) return base;
  const root: JsonObject = { ...base };
  const copies = new Map<unknown, Record<string | number, unknown>>([[base, root]]);
  for (const { at, value } of edits) {
    let original = base as Record<string | number, unknown>;
    let copy = root as Record<string | number, unknown>;
    for (let depth = 0; depth < at.length - 1; depth++) {
      const step = at[depth]!;
      const child = original[step] as Record<string | number, unknown>;
      let childCopy = copies.get(child);
      if (!childCopy) {
        childCopy = (Array.isArray(child) ? [...child] : { ...child }) as Record<string | number, unknown>;
        copies.set(child, childCopy);
        defineField(copy, step, childCopy);
      }
      original = child;
      copy = childCopy;
    }
    defineField(copy, at[at.length - 1]!, value);
  }
  return root;
}

/** `target[key] = value`, as data even for a `__proto__` key (a label may be named anything). */
function defineField(target: Record<string | number, unknown>, key: string | number, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}
