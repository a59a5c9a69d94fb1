import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  visit,
  type YAMLMap,
} from 'yaml';
import type { SourceLocation } from '../../errors/config-error.js';
import type { DocumentPath } from '../../ports/config-source.js';

/** Where the value (or key) at a path of a parsed document is: see {@link locatorOf}. */
export type Locate = (path: DocumentPath) => SourceLocation | undefined;

/**
 * The `locate` of a parsed YAML document: the file:line:column of the key (map entries) or item (list
 * entries) at a path, else of its deepest ancestor found. A document without aliases and merge keys (as
 * Mage writes its pipelines) is indexed once into one map of paths to offsets, and its syntax tree is left
 * to the garbage collector: a tree keeps about 1 KiB per block of a pipeline, for the whole life of the
 * snapshot, where the index keeps a few strings. A document with aliases or merge keys (whose paths can
 * multiply) keeps its tree and is walked on each call.
 */
export function locatorOf(document: Document, lineCounter: LineCounter, file: string): Locate {
  const root = document.contents as Node | null;
  const at = (offset: number | undefined): SourceLocation | undefined => {
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  if (!root) return () => undefined;
  // Each kind is made by a function of its own, so that the index's closure cannot hold the tree.
  return referencesOthers(document) ? treeLocator(document, root, at) : indexLocator(root, at);
}

/** Walks the tree on each call, aliases and merge keys followed. */
export function treeLocator(
  document: Document,
  root: Node,
  at: (offset: number | undefined) => SourceLocation | undefined,
): Locate {
  const deref = (node: Node) => (isAlias(node) ? (node.resolve(document) as Node | undefined) : node);
  return (path) => at(offsetOf(root, path, deref));
}

/** Looks paths up in an index of the tree, made once. */
export function indexLocator(
  root: Node,
  at: (offset: number | undefined) => SourceLocation | undefined,
): Locate {
  const index = indexOf(root);
  return (path) => {
    let key = '';
    let entry = index.get(key);
    for (const segment of path) {
      if (entry === undefined) break;
      const kind = entry % (1 << KIND_BITS);
      const next =
        kind === MAP
          ? `${key}\u0000k${String(segment)}`
          : kind === SEQ && typeof segment === 'number'
            ? `${key}\u0000i${segment}`
            : undefined;
      const found = next === undefined ? undefined : index.get(next);
      if (found === undefined) break;
      key = next!;
      entry = found;
    }
    return at(entry === undefined || entry < 0 ? undefined : Math.floor(entry / (1 << KIND_BITS)));
  };
}

/** Whether the document has an alias or a merge key: paths that lead through another part of it. */
function referencesOthers(document: Document): boolean {
  let found = false;
  visit(document, {
    Alias() {
      found = true;
      return visit.BREAK;
    },
    Pair(_, pair) {
      if (!isMergeKey(pair.key) && (pair.key === null || isScalar(pair.key))) return undefined;
      found = true; // a merge key, or a key that is itself a collection
      return visit.BREAK;
    },
  });
  return found;
}

/** An index entry: the node's offset shifted left, its kind in the low bits; -1 when it has no offset. */
const KIND_BITS = 2;
const MAP = 1;
const SEQ = 2;

/**
 * Every path of a document without aliases or merge keys, to its offset and the kind of its node:
 * `""` the root, `"\0k<key>"` a map's entry (the last one written, as yaml reads it), `"\0i<n>"` a list's item.
 */
function indexOf(root: Node): Map<string, number> {
  const index = new Map<string, number>();
  const add = (key: string, node: Node | null | undefined, offset: number | undefined) => {
    const kind = isMap(node) ? MAP : isSeq(node) ? SEQ : 0;
    // An entry whose node has no offset takes its parent's, as a walk of the tree would.
    index.set(key, offset === undefined ? -1 : offset * (1 << KIND_BITS) + kind);
    if (isMap(node)) {
      // Only the last pair of a key written twice: the earlier one's entries must not be found.
      const last = new Map<string, YAMLMap['items'][number]>();
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        last.set(String(isScalar(keyNode) ? keyNode.value : keyNode), pair);
      }
      for (const [name, pair] of last) {
        const keyNode = pair.key as Node | null;
        add(`${key}\u0000k${name}`, pair.value as Node | null, keyNode?.range?.[0] ?? offset);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        add(`${key}\u0000i${i}`, item as Node, (item as Node | null)?.range?.[0] ?? offset);
      });
    }
  };
  add('', root, root.range?.[0]);
  return index;
}

/** Offset of the key (for map entries) or item at `path`; the deepest found ancestor when it is missing. */
function offsetOf(
  root: Node,
  path: DocumentPath,
  deref: (node: Node) => Node | undefined,
): number | undefined {
  let node: Node | undefined = deref(root);
  let offset = node?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = findPair(node, String(segment), deref);
      if (!pair) break;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value ? deref(pair.value as Node) : undefined;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = deref(item);
    } else break;
  }
  return offset;
}

/** The pair of `key` in `map`: the last one written (as yaml reads it), else one brought in by `<<`. */
function findPair(
  map: YAMLMap,
  key: string,
  deref: (node: Node) => Node | undefined,
): YAMLMap['items'][number] | undefined {
  const own = map.items.filter((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === key);
  if (own.length > 0) return own.at(-1);
  for (const pair of map.items) {
    if (!isMergeKey(pair.key) || !pair.value) continue;
    const source = deref(pair.value as Node);
    const sources = isSeq(source) ? source.items.map((item) => deref(item as Node)) : [source];
    for (const merged of sources) {
      if (!isMap(merged)) continue;
      const found: YAMLMap['items'][number] | undefined = findPair(merged, key, deref);
      if (found) return found;
    }
  }
  return undefined;
}

/** The `<<` key of a YAML merge (yaml turns its value into a symbol). */
export function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  const value = key.value;
  return key.source === '<<' || value === '<<' || (typeof value === 'symbol' && value.description === '<<');
}
