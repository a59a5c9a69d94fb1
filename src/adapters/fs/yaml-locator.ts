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
 * Mage writes its pipelines) is indexed once (its nodes numbered, their offsets, one map from a parent
 * and a key to the child), and its syntax tree is left to the garbage collector: the tree keeps about 1
 * KiB per block of a pipeline for the whole life of the snapshot. A document with aliases or merge keys (whose paths can
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
  const { children, offsets, kinds } = indexOf(root);
  return (path) => {
    let node = 0;
    for (const segment of path) {
      const kind = kinds[node];
      const key =
        kind === MAP
          ? `${node}\u0000k${String(segment)}`
          : kind === SEQ && typeof segment === 'number'
            ? `${node}\u0000i${segment}`
            : undefined;
      const child = key === undefined ? undefined : children.get(key);
      if (child === undefined) break;
      node = child;
    }
    const offset = offsets[node]!;
    return at(offset < 0 ? undefined : offset);
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

const MAP = 1;
const SEQ = 2;

/**
 * The index of a document without aliases or merge keys. Its nodes are numbered (the root is 0);
 * `children` maps `"<parent>\0k<key>"` (a map's entry: the last one written, as yaml reads it) and
 * `"<parent>\0i<n>"` (a list's item) to the child's number, so that a key is read one way only,
 * whatever characters it holds, and no key string grows with the depth of the path. `offsets` gives
 * where each node's key or item starts (-1: unknown), `kinds` whether it is a map, a list, or neither.
 */
function indexOf(root: Node): { children: Map<string, number>; offsets: number[]; kinds: number[] } {
  const children = new Map<string, number>();
  const offsets: number[] = [];
  const kinds: number[] = [];
  const add = (node: Node | null | undefined, offset: number | undefined): number => {
    const id = offsets.length;
    // An entry whose node has no offset takes its parent's, as a walk of the tree would.
    offsets.push(offset ?? -1);
    kinds.push(isMap(node) ? MAP : isSeq(node) ? SEQ : 0);
    if (isMap(node)) {
      // Only the last pair of a key written twice: the earlier one's entries must not be found.
      const last = new Map<string, YAMLMap['items'][number]>();
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        last.set(String(isScalar(keyNode) ? keyNode.value : keyNode), pair);
      }
      for (const [name, pair] of last) {
        const keyNode = pair.key as Node | null;
        const child = add(pair.value as Node | null, keyNode?.range?.[0] ?? offset);
        children.set(`${id}\u0000k${name}`, child);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const child = add(item as Node, (item as Node | null)?.range?.[0] ?? offset);
        children.set(`${id}\u0000i${i}`, child);
      });
    }
    return id;
  };
  add(root, root.range?.[0]);
  return { children, offsets, kinds };
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
