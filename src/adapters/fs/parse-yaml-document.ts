import {
  type CollectionTag,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type ScalarTag,
  visit,
  YAMLMap,
  YAMLSeq,
} from 'yaml';
import { REMOVE, replaceWith } from '../../config/markers.js';
import type { ConfigIssue, SourceLocation } from '../../errors/config-error.js';
import type { DocumentPath, RawDocument } from '../../ports/config-source.js';

/**
 * Parses YAML text into a {@link RawDocument} that knows the file:line:column of every key and value.
 * Never throws: syntax errors come back as `YAML_SYNTAX` issues (the first one of each line, so that one
 * mistake is one problem; a duplicate key names the key and both lines), and the value is whatever could
 * be read (or `null`). Read as PyYAML reads Mage's files where the two differ in structure: merge keys
 * (`<<: *defaults`) are applied. Scalars follow YAML 1.2 (`yes` is a string here; normalization reads it as
 * a boolean where a boolean is expected). The tags `!remove` and `!replace` become {@link REMOVE} and
 * `replaceWith(...)` (docs/configuration.md §5).
 *
 * @example
 * const { doc } = parseYamlDocument('a:\n  b: 1\n', 'metadata.yaml');
 * doc.locate(['a', 'b']); // { file: 'metadata.yaml', line: 2, column: 3 }
 */
export function parseYamlDocument(text: string, file: string): { doc: RawDocument; issues: ConfigIssue[] } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, merge: true, uniqueKeys: false, customTags: TAGS });
  const issues: ConfigIssue[] = [];
  const lines = text.split(/\r?\n/);
  const reported = new Set<number>();
  const add = (offset: number | undefined, message: string): void => {
    const at = offset === undefined ? undefined : lineCounter.linePos(offset);
    if (at) {
      if (reported.has(at.line)) return;
      reported.add(at.line);
    }
    issues.push({
      code: 'YAML_SYNTAX',
      path: '',
      message,
      location: at ? { file, line: at.line, column: at.col } : { file },
    });
  };
  for (const error of document.errors) {
    const offset = error.pos[0];
    const line = lines[lineCounter.linePos(offset).line - 1] ?? '';
    add(
      offset,
      `${firstLine(error.message)} (${error.code})${hintFor(error.code, line)}: fix the YAML syntax.`,
    );
  }
  // A key that is itself a map or list (`[a]: 1`, `? {a: 1}`) has no meaning in a config; yaml would
  // stringify it and print a process warning. Report it where it stands instead.
  let collectionKeys = false;
  visit(document, {
    Pair(_, pair) {
      if (!isCollection(pair.key)) return;
      collectionKeys = true;
      add(pair.key.range?.[0], 'a key that is a map or a list is not allowed here: use a plain string key.');
    },
    Map(_, map) {
      const first = new Map<string, number | undefined>();
      for (const pair of map.items) {
        if (!isScalar(pair.key) || isMergeKey(pair.key)) continue;
        const key = String(pair.key.value);
        const offset = pair.key.range?.[0];
        if (!first.has(key)) {
          first.set(key, offset);
          continue;
        }
        const firstLine = lineOf(lineCounter, first.get(key));
        add(
          offset,
          `duplicate key "${key}": it is already set on line ${firstLine}; keep one of the two (DUPLICATE_KEY)`,
        );
      }
    },
  });
  issues.sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0));
  let value: unknown = null;
  try {
    value = collectionKeys ? null : (document.toJS({ maxAliasCount: 1000 }) ?? null);
  } catch (error) {
    issues.push({
      code: 'YAML_SYNTAX',
      path: '',
      message: `${firstLine(String(error))}: fix the YAML.`,
      location: { file },
    });
  }
  const locate = (path: DocumentPath): SourceLocation | undefined => {
    const offset = offsetOf(document.contents as Node | null, path, (node) =>
      isAlias(node) ? (node.resolve(document) as Node | undefined) : node,
    );
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  return { doc: { file, value, locate }, issues };
}

/** `!replace` on a map or a list: the value replaces lower layers' value whole (see markers.ts). */
// yaml types toJSON as returning the collection's own JS type; the replacement wraps it instead.
class ReplacingMap extends YAMLMap {
  override toJSON(key?: unknown, ctx?: Parameters<YAMLMap['toJSON']>[1]): never {
    return replaceWith(super.toJSON(key, ctx)) as never;
  }
}
class ReplacingSeq extends YAMLSeq {
  override toJSON(key?: unknown, ctx?: Parameters<YAMLSeq['toJSON']>[1]): never {
    return replaceWith(super.toJSON(key, ctx)) as never;
  }
}

const noValue = (tag: string) => `${tag} takes no value: write \`key: ${tag}\``;
const TAGS: (ScalarTag | CollectionTag)[] = [
  {
    tag: '!remove',
    resolve(source: string, onError: (message: string) => void) {
      if (source !== '') onError(noValue('!remove'));
      return REMOVE;
    },
  },
  ...(['map', 'seq'] as const).map(
    (collection): CollectionTag => ({
      tag: '!remove',
      collection,
      resolve(_node, onError) {
        onError(noValue('!remove'));
        return REMOVE as unknown as YAMLMap;
      },
    }),
  ),
  { tag: '!replace', collection: 'map', nodeClass: ReplacingMap, resolve: (node) => node },
  { tag: '!replace', collection: 'seq', nodeClass: ReplacingSeq, resolve: (node) => node },
  {
    tag: '!replace',
    resolve(source: string, onError: (message: string) => void) {
      onError('!replace takes a map or a list (a plain value replaces the lower one anyway)');
      return source;
    },
  },
];

/** The `<<` key of a YAML merge (yaml turns its value into a symbol). */
function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  const value = key.value;
  return key.source === '<<' || value === '<<' || (typeof value === 'symbol' && value.description === '<<');
}

function lineOf(lineCounter: LineCounter, offset: number | undefined): number | string {
  return offset === undefined ? '?' : lineCounter.linePos(offset).line;
}

/** A likelier cause than yaml's words for the usual mistakes. */
function hintFor(code: string, line: string): string {
  const text = line.trim();
  if (
    ['MULTILINE_IMPLICIT_KEY', 'BLOCK_AS_IMPLICIT_KEY', 'MISSING_CHAR'].includes(code) &&
    text !== '' &&
    !text.includes(':') &&
    !text.startsWith('-') &&
    !text.startsWith('#')
  ) {
    return `; "${text}" has no ":" — a setting is written \`key: value\``;
  }
  if (code === 'TAB_AS_INDENT') return '; indent with spaces';
  return '';
}

/** The first line of a yaml message, without its own "at line N, column M" (the location says it). */
function firstLine(message: string): string {
  return message
    .split('\n')[0]!
    .replace(/ at line \d+, column \d+:?$/, '')
    .trim();
}

/** Offset of the key (for map entries) or item at `path`; the deepest found ancestor when it is missing. */
function offsetOf(
  root: Node | null,
  path: DocumentPath,
  deref: (node: Node) => Node | undefined,
): number | undefined {
  let node: Node | undefined = root ? deref(root) : undefined;
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
