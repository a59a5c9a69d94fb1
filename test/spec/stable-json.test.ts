import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isK8sExecutorError } from '../../src/errors/base.js';
import { sortKeys, stableJson } from '../../src/spec/stable-json.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('sortKeys', () => {
  it('sorts keys at every depth, keeps array order, drops undefined and null values', () => {
    const out = sortKeys({ b: 1, a: { z: [3, { y: 1, x: null }, 1], w: undefined, v: 'v' }, c: null });
    expect(out).toStrictEqual({ a: { v: 'v', z: [3, { y: 1 }, 1] }, b: 1 });
    expect(JSON.stringify(out)).toBe('{"a":{"v":"v","z":[3,{"y":1},1]},"b":1}');
  });

  it('keeps empty objects and arrays, which can mean something to Kubernetes (emptyDir: {})', () => {
    expect(sortKeys({ emptyDir: {}, args: [] })).toStrictEqual({ args: [], emptyDir: {} });
  });

  it('returns a copy that shares nothing with the input', () => {
    const input = { a: { b: [{ c: 1 }] } };
    const out = sortKeys(input);
    out.a.b[0]!.c = 2;
    expect(input.a.b[0]!.c).toBe(1);
  });

  it('keeps a `__proto__` key as plain data', () => {
    const out = sortKeys(JSON.parse('{"__proto__":{"x":1},"a":1}') as object);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
  });

  it.each([
    ['a function', { a: { f: () => 1 } }, '$.a.f is a function'],
    ['a Date', { when: new Date(0) }, '$.when is a Date object'],
    ['NaN', { n: Number.NaN }, '$.n is NaN'],
    ['a hole in a list', { args: ['a', null] }, '$.args[1] is an empty list entry'],
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    ['a sparse list', { args: ['a', , 'b'] }, '$.args[1] is an empty list entry'],
    [
      'a bigint under a key that is not an identifier',
      { 'nvidia.com/gpu': 1n },
      '$["nvidia.com/gpu"] is a bigint',
    ],
  ])('rejects %s with CONFIG_INVALID and the path', (_what, value, message) => {
    const error = thrown(() => sortKeys(value));
    expect(isK8sExecutorError(error) && error.code).toBe('CONFIG_INVALID');
    expect((error as Error).message).toContain(message);
  });
});

/** JSON-like values as a resolved config holds them: no null list entries. */
const { object: jsonObject } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.integer(),
    fc.boolean(),
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fc.string(), tie('value'), { maxKeys: 5 }),
}));

describe('stableJson', () => {
  it('gives one string for equal values whatever their key order', () => {
    fc.assert(
      fc.property(jsonObject, (dict) => {
        const reversed = Object.fromEntries(Object.entries(dict).reverse());
        expect(stableJson(reversed)).toBe(stableJson(dict));
        expect(JSON.parse(stableJson(dict))).toStrictEqual(sortKeys(dict));
      }),
    );
  });

  it('indents when asked', () => {
    expect(stableJson({ b: 1, a: 2 }, 2)).toBe('{\n  "a": 2,\n  "b": 1\n}');
  });
});
