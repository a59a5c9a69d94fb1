/**
 * The small caches of the pure core, and the one rule their keys follow.
 *
 * A cached function is keyed on the exact inputs object it computes from, field by field, with no list of
 * fields written anywhere: {@link inputsKey} reads every own field of that object. A field added to an
 * input type tomorrow is therefore part of the key the moment it is passed, and can never be forgotten
 * silently. Primitives are keyed by value; objects (the snapshot, its documents and env, the server pod)
 * by identity and by the identity or value of each of their own fields, one level down. That is exact
 * for immutable values, which these inputs are (a `ConfigSnapshot` and what it holds never change
 * once loaded: `FsConfigSource` freezes its env, parsed documents are never written to): replacing any
 * part of an input with another object is seen, changing an object in place below its first level is not.
 */

/**
 * A map that keeps the entries used lately, at most `2 × limit` of them: two generations, the newest
 * (where every entry found or stored goes) and the one before; when the newest is full it becomes the
 * older one and the older one is dropped. A hit in the newest generation costs one lookup.
 */
export class BoundedCache<K, V> {
  private newest = new Map<K, V>();
  private older = new Map<K, V>();

  /** @param limit how many entries one generation holds (at least 1) */
  constructor(private readonly limit: number) {}

  /** The value at `key`, else the one `compute` returns, stored. */
  getOrCompute(key: K, compute: () => V): V {
    const found = this.newest.get(key);
    if (found !== undefined || this.newest.has(key)) return found as V;
    const value = this.older.has(key) ? (this.older.get(key) as V) : compute();
    if (this.newest.size >= this.limit) {
      this.older = this.newest;
      this.newest = new Map();
    }
    this.newest.set(key, value);
    return value;
  }

  /** How many entries are kept. */
  get size(): number {
    return this.newest.size + this.older.size;
  }
}

const ids = new WeakMap<object, number>();
let nextId = 1;

/** A number that stands for one object for as long as it lives (never reused). */
function idOf(value: object): number {
  let id = ids.get(value);
  if (id === undefined) {
    id = nextId++;
    ids.set(value, id);
  }
  return id;
}

/**
 * The cache key of an inputs object: every own field, by name, in name order (see the module comment).
 * Fields whose value is `undefined` are left out, as if absent, so `{ a: undefined }` and `{}` agree.
 *
 * @example inputsKey({ mode: 'block', blockUuid: 'load', snapshot }) // 'blockUuid="load"|mode="block"|snapshot=#3{env=#4,...}'
 */
export function inputsKey(inputs: object): string {
  let key = '';
  for (const name of Object.keys(inputs).sort()) {
    const value = (inputs as Record<string, unknown>)[name];
    if (value === undefined) continue;
    key += `${key === '' ? '' : '|'}${name}=${typeof value === 'object' && value !== null ? objectKey(value) : scalarKey(value)}`;
  }
  return key;
}

/** An object by identity, and each of its own fields by identity or value (arrays with their length). */
function objectKey(value: object): string {
  let key = `#${idOf(value)}${Array.isArray(value) ? `[${value.length}]` : ''}{`;
  for (const name of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[name];
    if (field === undefined) continue;
    const part =
      typeof field === 'object' && field !== null
        ? `#${idOf(field)}${Array.isArray(field) ? `[${field.length}]` : ''}`
        : scalarKey(field);
    key += `${name}=${part},`;
  }
  return `${key}}`;
}

function scalarKey(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'function':
      return `@${idOf(value)}`;
    case 'symbol':
      // No input is a symbol today. Boxing one makes a new object each time: a key never shared (a miss).
      return `@${idOf(Object(value) as object)}`;
    default:
      return String(value);
  }
}
