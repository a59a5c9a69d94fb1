/**
 * The index a document without aliases is located by answers every path exactly as a walk of its tree
 * does (keys written twice, missing segments, numbers on maps and strings on lists included), and does
 * not keep the tree.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Document, LineCounter, type Node, parseDocument, stringify } from 'yaml';
import { parseYamlDocument } from '../../../src/adapters/fs/parse-yaml-document.js';
import { indexLocator, treeLocator } from '../../../src/adapters/fs/yaml-locator.js';
import type { DocumentPath } from '../../../src/ports/config-source.js';

function parsed(text: string): { document: Document; at: (offset: number | undefined) => unknown } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: false });
  const at = (offset: number | undefined) => (offset === undefined ? undefined : lineCounter.linePos(offset));
  return { document, at } as never;
}

/** Both locators of `text`, answering `path`. */
function both(text: string, path: DocumentPath) {
  const { document, at } = parsed(text);
  const root = document.contents as Node;
  return {
    index: indexLocator(root, at as never)(path),
    tree: treeLocator(document, root, at as never)(path),
  };
}

// Keys that look like the index's own separators too (NUL, then `k` or `i`).
const KEYS = ['a', 'b', '1', 'null', 'x y', 'k', 'i0', 'a\u0000kb', 'a\u0000i0', '0\u0000ka'];
const value = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.boolean(), fc.constant(null)),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 4 }),
  ),
})).value;
const segment = fc.oneof(fc.constantFrom(...KEYS, 'missing'), fc.integer({ min: -1, max: 3 }));

describe('locating by the index of a document without aliases', () => {
  it('answers every path as the walk of the tree does', () => {
    fc.assert(
      fc.property(value, fc.array(segment, { maxLength: 5 }), fc.boolean(), (v, path, flow) => {
        const text = stringify(v, flow ? { collectionStyle: 'flow' } : {});
        const { index, tree } = both(text, path);
        expect(index).toEqual(tree);
      }),
      { numRuns: 2000 },
    );
  });

  it('finds the last of a key written twice, and nothing under the first one', () => {
    const text = 'a:\n  x: 1\nb: 2\na:\n  y: 3\n';
    for (const path of [['a'], ['a', 'x'], ['a', 'y'], ['b'], ['a', 'y', 0]]) {
      const { index, tree } = both(text, path);
      expect(index, path.join('.')).toEqual(tree);
    }
    expect(both(text, ['a', 'x']).index).toEqual({ line: 4, col: 1 });
  });

  it('reads a key holding NUL, k or i one way only', () => {
    const text = 'a:\n  b: 1\n"a\\0kb": 2\nl: [x]\n"l\\0i0": 3\n';
    for (const path of [['a', 'b'], ['a\u0000kb'], ['l', 0], ['l\u0000i0']]) {
      const { index, tree } = both(text, path);
      expect(index, JSON.stringify(path)).toEqual(tree);
    }
    expect(both(text, ['a', 'b']).index).toEqual({ line: 2, col: 3 });
  });

  it('takes a number on a map as its key and a string on a list as missing', () => {
    const text = '1: one\nl:\n  - a\n  - b\n';
    expect(both(text, [1])).toEqual({ index: { line: 1, col: 1 }, tree: { line: 1, col: 1 } });
    expect(both(text, ['l', '1']).index).toEqual({ line: 2, col: 1 });
    expect(both(text, ['l', 1]).index).toEqual({ line: 4, col: 5 });
  });

  it('is what a parsed file is located by, and a file with aliases still follows them', () => {
    const plain = parseYamlDocument('blocks:\n  - uuid: a\n  - uuid: b\n', 'p.yaml').doc;
    expect(plain.locate(['blocks', 1, 'uuid'])).toEqual({ file: 'p.yaml', line: 3, column: 5 });
    const aliased = parseYamlDocument('d: &d\n  x: 1\nblocks:\n  - *d\n', 'p.yaml').doc;
    expect(aliased.locate(['blocks', 0, 'x'])).toEqual({ file: 'p.yaml', line: 2, column: 3 });
    const merged = parseYamlDocument('d: &d\n  x: 1\ne:\n  <<: *d\n  y: 2\n', 'p.yaml').doc;
    expect(merged.locate(['e', 'x'])).toEqual({ file: 'p.yaml', line: 2, column: 3 });
  });
});
