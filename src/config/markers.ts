/**
 * The two explicit ways to undo what a lower layer set (an empty value, YAML `null`, means "not set" and
 * never removes anything). In YAML they are the tags `!remove` and `!replace`; in code, {@link REMOVE} and
 * {@link replaceWith}. See docs/configuration.md §5.
 */

/**
 * Removes the key, and what every lower layer (built-in defaults and the server pod included) set there.
 * YAML: `node_selector: !remove`. A higher layer may set the key again.
 */
export const REMOVE: unique symbol = Symbol.for('k8s-executor.remove');

/** The type of {@link REMOVE}. */
export type Remove = typeof REMOVE;

// A registered symbol brands replacements, so that two copies of this module (ESM and CJS) agree.
const REPLACEMENT = Symbol.for('k8s-executor.replace');

/**
 * A value that replaces what lower layers set whole, instead of being merged into it. A class (not a plain
 * object), so that merging treats it as one leaf.
 */
export class Replacement {
  /** Brand. */
  readonly [REPLACEMENT] = true;
  /** @param value the map or list, in the same spellings as anywhere else */
  constructor(
    /** The map or list, in the same spellings as anywhere else. */
    readonly value: unknown,
  ) {
    Object.freeze(this);
  }
}

/**
 * Marks `value` (a map or a list) as replacing what lower layers set there whole: no key-by-key or
 * item-by-item merge. YAML: `env: !replace [{name: A, value: "1"}]`.
 */
export function replaceWith(value: unknown): Replacement {
  return new Replacement(value);
}

/** True for {@link REMOVE}. */
export function isRemove(value: unknown): value is Remove {
  return value === REMOVE;
}

/** True for a value made by {@link replaceWith}. */
export function isReplacement(value: unknown): value is Replacement {
  return typeof value === 'object' && value !== null && (value as Replacement)[REPLACEMENT] === true;
}
