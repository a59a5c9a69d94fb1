import { K8sExecutorError } from '../errors/base.js';

/**
 * A deep copy of a JSON-like value with every object's keys in sorted order, `undefined` and `null` object
 * values dropped (in the config an empty value means "not set"), and arrays kept in their order. Empty objects are
 * kept: some are meaningful to Kubernetes (`emptyDir: {}`). The input is never mutated and the copy shares
 * nothing with it.
 *
 * Integer-like keys (`"10"`, `"9"`) are enumerated by JavaScript in numeric order before the others whatever
 * the insertion order, so the output is still deterministic.
 *
 * @throws K8sExecutorError `CONFIG_INVALID` for a value JSON cannot carry faithfully: a function, symbol,
 *   bigint, non-finite number, a non-plain object (Date, Map, class instance), or an array entry that is
 *   `null`/`undefined`. The message names the path, e.g. `$.spec.template.spec.containers[0].args[1]`.
 * @example sortKeys({ b: 1, a: { d: undefined, c: [2, 1] } }) // { a: { c: [2, 1] }, b: 1 }
 */
export function sortKeys<T>(value: T): T {
  return sortValue(value, []) as T;
}

/**
 * `JSON.stringify` of {@link sortKeys}: the same value always gives the same string, whatever the key order
 * of the input.
 *
 * @param indent passed to `JSON.stringify`. @default undefined (compact)
 * @throws K8sExecutorError `CONFIG_INVALID`, as {@link sortKeys}.
 * @example stableJson({ b: 1, a: 2 }) // '{"a":2,"b":1}'
 */
export function stableJson(value: unknown, indent?: number): string {
  return JSON.stringify(sortKeys(value), null, indent);
}

// The path of the value being copied, kept as a stack of keys and indexes: it is only turned into text
// for an error message, so copying a valid value never builds a path string.
type Trail = (string | number)[];

function sortValue(value: unknown, trail: Trail): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw notJson(trail, `is ${value}, which JSON cannot carry`);
      return value;
    case 'object':
      if (value === null) return value;
      return Array.isArray(value) ? sortArray(value, trail) : sortObject(value, trail);
    default:
      throw notJson(trail, `is a ${typeof value}, which JSON cannot carry`);
  }
}

function sortArray(value: readonly unknown[], trail: Trail): unknown[] {
  const out: unknown[] = new Array(value.length);
  // An index loop visits the holes of sparse arrays too (map would skip them and leave `null`s in the JSON).
  for (let index = 0; index < value.length; index++) {
    const item = value[index];
    trail.push(index);
    if (item === null || item === undefined) throw notJson(trail, 'is an empty list entry');
    out[index] = sortValue(item, trail);
    trail.pop();
  }
  return out;
}

function sortObject(value: object, trail: Trail): Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw notJson(trail, `is a ${value.constructor?.name ?? 'non-plain'} object, not plain JSON`);
  }
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of sortedKeys(source)) {
    const item = source[key];
    if (item === undefined || item === null) continue;
    trail.push(key);
    const copy = sortValue(item, trail);
    trail.pop();
    // A `__proto__` key is defined as an own property, so it stays plain data.
    if (key === '__proto__')
      Object.defineProperty(out, key, { value: copy, writable: true, enumerable: true, configurable: true });
    else out[key] = copy;
  }
  return out;
}

/** The sorted own keys of frozen objects, which never change (the resolved config is frozen and shared). */
const frozenKeys = new WeakMap<object, readonly string[]>();

function sortedKeys(source: object): readonly string[] {
  if (!Object.isFrozen(source)) return sortStrings(Object.keys(source));
  let keys = frozenKeys.get(source);
  if (!keys) {
    keys = sortStrings(Object.keys(source));
    frozenKeys.set(source, keys);
  }
  return keys;
}

/**
 * `keys.sort()` (UTF-16 code unit order, as `<` compares strings), in place. Most objects of a Job have
 * a few keys, which an insertion sort orders faster than the built-in sort's generic comparison.
 */
function sortStrings(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/** `$.a.b[0]`, or `$.a["nvidia.com/gpu"]` for keys that are not identifiers. */
function pathOf(trail: Trail): string {
  let path = '$';
  for (const step of trail) {
    if (typeof step === 'number') path += `[${step}]`;
    else path += /^[A-Za-z_$][\w$]*$/.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
  }
  return path;
}

function notJson(trail: Trail, problem: string): K8sExecutorError {
  return new K8sExecutorError('CONFIG_INVALID', `${pathOf(trail)} ${problem}.`, {
    hint: 'Give plain YAML/JSON values (strings, numbers, booleans, lists and maps) with no empty list entries.',
  });
}
