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
  return sortValue(value, '$') as T;
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

function sortValue(value: unknown, path: string): unknown {
  if (Array.isArray(value)) {
    // Array.from visits holes of sparse arrays too (map would skip them and leave `null`s in the JSON)
    return Array.from(value, (item: unknown, index) => {
      const itemPath = `${path}[${index}]`;
      if (item === null || item === undefined) throw notJson(itemPath, 'is an empty list entry');
      return sortValue(item, itemPath);
    });
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw notJson(path, `is ${value}, which JSON cannot carry`);
      return value;
    case 'object':
      if (value === null) return value;
      return sortObject(value, path);
    default:
      throw notJson(path, `is a ${typeof value}, which JSON cannot carry`);
  }
}

function sortObject(value: object, path: string): Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw notJson(path, `is a ${value.constructor?.name ?? 'non-plain'} object, not plain JSON`);
  }
  const source = value as Record<string, unknown>;
  const entries: [string, unknown][] = [];
  for (const key of Object.keys(source).sort()) {
    const item = source[key];
    if (item === undefined || item === null) continue;
    entries.push([key, sortValue(item, childPath(path, key))]);
  }
  // fromEntries defines own properties, so even a `__proto__` key stays plain data
  return Object.fromEntries(entries);
}

/** `$.a.b`, or `$.a["nvidia.com/gpu"]` for keys that are not identifiers. */
function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function notJson(path: string, problem: string): K8sExecutorError {
  return new K8sExecutorError('CONFIG_INVALID', `${path} ${problem}.`, {
    hint: 'Give plain YAML/JSON values (strings, numbers, booleans, lists and maps) with no empty list entries.',
  });
}
